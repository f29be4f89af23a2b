// The USB transport's logic against fake WebUSB devices written here. The
// fake behaves as a YubiHSM 2 does on the wire: a request ends at a short
// packet (or a zero-length packet after a multiple of 64 bytes), and the
// response is read back from the IN endpoint, possibly over several reads.
import { beforeAll, describe, expect, it } from 'vitest';
import { YubiHsmError } from '../../lib/yubihsm/errors.ts';
import { YubiHsmClient } from '../../lib/yubihsm/client.ts';
import { makeDeviceIdentity, SimulatedYubiHsm, type DeviceIdentity } from '../../lib/yubihsm/simulator/index.ts';
import {
  openUsbTransport,
  selectYubiHsm,
  type UsbConfigurationLike,
  type UsbDeviceLike,
  type UsbLike,
} from '../../lib/yubihsm/transports/usb.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const YUBIHSM_CONFIG: UsbConfigurationLike = {
  configurationValue: 1,
  interfaces: [
    {
      interfaceNumber: 0,
      alternate: {
        interfaceClass: 0xff,
        endpoints: [
          { endpointNumber: 1, direction: 'out', type: 'bulk' },
          { endpointNumber: 1, direction: 'in', type: 'bulk' },
        ],
      },
    },
  ],
};

/** A fake YubiHSM 2 on USB. `answer` produces the response to each complete request. */
class FakeUsbDevice implements UsbDeviceLike {
  vendorId = 0x1050;
  productId = 0x0030;
  opened = false;
  configuration: UsbConfigurationLike | null = null;
  configurations = [YUBIHSM_CONFIG];
  claimed: number[] = [];
  released: number[] = [];
  /** Lengths of every OUT transfer, in order (a 0 is a zero-length packet). */
  writes: number[] = [];
  /** How the next response is cut into IN transfers (lengths); the rest comes in one piece. */
  splits: number[] = [];
  inStatus = 'ok';
  shortWrite = false;
  failOpen = false;
  private pending: number[] = [];
  private outbox: Uint8Array[] = [];

  constructor(
    readonly serialNumber: string | null,
    private readonly answer: (request: Uint8Array) => Promise<Uint8Array> = (r) => Promise.resolve(Uint8Array.from([r[0]! | 0x80, ...r.subarray(1)])),
  ) {}

  open(): Promise<void> {
    if (this.failOpen) return Promise.reject(new Error('LIBUSB_ERROR_ACCESS'));
    this.opened = true;
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.opened = false;
    return Promise.resolve();
  }
  selectConfiguration(value: number): Promise<void> {
    this.configuration = this.configurations.find((c) => c.configurationValue === value) ?? null;
    return Promise.resolve();
  }
  claimInterface(n: number): Promise<void> {
    this.claimed.push(n);
    return Promise.resolve();
  }
  releaseInterface(n: number): Promise<void> {
    this.released.push(n);
    return Promise.resolve();
  }
  async transferOut(endpoint: number, data: Uint8Array): Promise<{ bytesWritten: number; status: string }> {
    expect(endpoint).toBe(1);
    this.writes.push(data.length);
    if (this.shortWrite) return { bytesWritten: data.length - 1, status: 'ok' };
    this.pending.push(...data);
    // USB: a transfer ends with a short packet; a full last packet needs a ZLP.
    if (data.length % 64 !== 0 || data.length === 0) {
      const request = Uint8Array.from(this.pending);
      this.pending = [];
      const response = await this.answer(request);
      let at = 0;
      for (const n of this.splits) {
        this.outbox.push(response.subarray(at, at + n));
        at += n;
      }
      if (at < response.length) this.outbox.push(response.subarray(at));
      this.splits = [];
    }
    return { bytesWritten: data.length, status: 'ok' };
  }
  transferIn(endpoint: number, length: number): Promise<{ data?: DataView; status: string }> {
    expect(endpoint).toBe(1);
    if (this.inStatus !== 'ok') return Promise.resolve({ status: this.inStatus });
    const next = this.outbox.shift();
    if (next === undefined) return Promise.reject(new Error('LIBUSB_ERROR_TIMEOUT: the device has no complete request to answer'));
    expect(next.length).toBeLessThanOrEqual(length);
    // Hand back a view into a larger buffer, as native code may.
    const backing = new Uint8Array(next.length + 8);
    backing.set(next, 4);
    return Promise.resolve({ data: new DataView(backing.buffer, 4, next.length), status: 'ok' });
  }
}

const usbWith = (...devices: UsbDeviceLike[]): UsbLike => ({ getDevices: () => Promise.resolve(devices) });

describe('device selection', () => {
  const other = Object.assign(new FakeUsbDevice('1'), { vendorId: 0x1050, productId: 0x0407 }); // a YubiKey

  it('takes the one YubiHSM 2 and ignores other devices', () => {
    const hsm = new FakeUsbDevice('0007550054');
    expect(selectYubiHsm([other, hsm])).toBe(hsm);
  });

  it('refuses when none is attached', () => {
    expect(() => selectYubiHsm([other])).toThrowWithCode('YUBIHSM_USB_NO_DEVICE');
  });

  it('refuses when several are attached and no serial is given', () => {
    expect(() => selectYubiHsm([new FakeUsbDevice('0007550054'), new FakeUsbDevice('0007550055')])).toThrowWithCode('YUBIHSM_USB_SEVERAL_DEVICES');
    // Serial descriptors are attacker-controlled text: they reach the message escaped.
    try {
      selectYubiHsm([new FakeUsbDevice('\u001b[2J'), new FakeUsbDevice('0007550055')]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(YubiHsmError);
      // eslint-disable-next-line no-control-regex
      expect((err as YubiHsmError).message).not.toMatch(/[\u0000-\u001f]/);
    }
  });

  it('picks by serial, with or without the zero padding, and refuses an absent serial', () => {
    const a = new FakeUsbDevice('0007550054');
    const b = new FakeUsbDevice('0007550055');
    expect(selectYubiHsm([a, b], 7550055)).toBe(b);
    expect(selectYubiHsm([a, b], '7550054')).toBe(a);
    expect(selectYubiHsm([a, b], '0007550054')).toBe(a);
    expect(() => selectYubiHsm([a, b], 1234)).toThrowWithCode('YUBIHSM_USB_NO_DEVICE');
    expect(() => selectYubiHsm([a, b], 'abc')).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
  });
});

describe('opening', () => {
  it('selects configuration 1 and claims the vendor-class interface, and releases it on close', async () => {
    const dev = new FakeUsbDevice('0007550054');
    const t = await openUsbTransport({ usb: usbWith(dev) });
    expect(dev.opened).toBe(true);
    expect(dev.claimed).toEqual([0]);
    expect(t.serial).toBe('0007550054');
    await t.close();
    expect(dev.released).toEqual([0]);
    expect(dev.opened).toBe(false);
    await expect(t.send(hex('010000'))).toThrowWithCode('YUBIHSM_TRANSPORT_CLOSED');
  });

  it('drains a stale response left in the IN endpoint before the first request', async () => {
    const dev = new FakeUsbDevice('1');
    await dev.transferOut(1, hex('010001ee')); // an earlier host's request, never read back
    dev.writes = [];
    const t = await openUsbTransport({ usb: usbWith(dev) });
    expect(toHex(await t.send(hex('010001aa')))).toBe('810001aa');
  });

  it('reports a device it cannot open (permissions, or held by the connector)', async () => {
    const dev = Object.assign(new FakeUsbDevice('1'), { failOpen: true });
    await expect(openUsbTransport({ usb: usbWith(dev) })).toThrowWithCode('YUBIHSM_USB_OPEN_FAILED');
  });

  it('refuses a device without the vendor interface and its bulk endpoints', async () => {
    const dev = new FakeUsbDevice('1');
    dev.configurations = [{ configurationValue: 1, interfaces: [{ interfaceNumber: 0, alternate: { interfaceClass: 0x03, endpoints: [] } }] }];
    await expect(openUsbTransport({ usb: usbWith(dev) })).toThrowWithCode('YUBIHSM_USB_OPEN_FAILED');
  });

  it('reports a USB backend that cannot list devices', async () => {
    const broken: UsbLike = { getDevices: async () => Promise.reject(new Error('libusb init failed')) };
    await expect(openUsbTransport({ usb: broken })).toThrowWithCode('YUBIHSM_USB_UNAVAILABLE');
  });
});

describe('transfers', () => {
  it.each([
    [3, [3]],
    [63, [63]],
    [64, [64, 0]],
    [65, [65]],
    [128, [128, 0]],
    [2048, [2048, 0]],
  ])('a %i-byte request is written as transfers of %j (a zero-length packet after a multiple of 64)', async (size, writes) => {
    const dev = new FakeUsbDevice('1');
    const t = await openUsbTransport({ usb: usbWith(dev) });
    const req = new Uint8Array(size);
    req[0] = 0x01;
    req[1] = (size - 3) >> 8;
    req[2] = (size - 3) & 0xff;
    const res = await t.send(req);
    expect(dev.writes).toEqual(writes);
    expect(res).toHaveLength(size);
    expect(res[0]).toBe(0x81);
  });

  it('assembles a response cut across two IN transfers at every byte boundary', async () => {
    const dev = new FakeUsbDevice('1');
    const t = await openUsbTransport({ usb: usbWith(dev) });
    const req = hex('010008' + '0001020304050607');
    for (let cut = 1; cut < req.length; cut++) {
      dev.splits = [cut];
      expect(toHex(await t.send(req))).toBe('810008' + '0001020304050607');
    }
  });

  it('assembles a response arriving in 64-byte packets', async () => {
    const dev = new FakeUsbDevice('1');
    const t = await openUsbTransport({ usb: usbWith(dev) });
    const req = new Uint8Array(300);
    req.set([0x01, 0x01, 0x29]);
    dev.splits = [64, 64, 64, 64];
    expect(await t.send(req)).toHaveLength(300);
  });

  it('reports a stalled IN endpoint, a short write, and a response too long', async () => {
    const stalled = new FakeUsbDevice('1');
    const t = await openUsbTransport({ usb: usbWith(stalled) });
    stalled.inStatus = 'stall';
    await expect(t.send(hex('010000'))).toThrowWithCode('YUBIHSM_USB_TRANSFER_FAILED');

    const short = new FakeUsbDevice('2');
    const t2 = await openUsbTransport({ usb: usbWith(short) });
    short.shortWrite = true;
    await expect(t2.send(hex('010000'))).toThrowWithCode('YUBIHSM_USB_TRANSFER_FAILED');

    const chatty = new FakeUsbDevice('3', () => Promise.resolve(hex('810001aabb')));
    const t3 = await openUsbTransport({ usb: usbWith(chatty) });
    await expect(t3.send(hex('010000'))).toThrowWithCode('YUBIHSM_FRAME_MALFORMED');
  });
});

describe('a session over USB', () => {
  let identity: DeviceIdentity;
  beforeAll(async () => {
    identity = await makeDeviceIdentity(7550054);
  });

  it('runs SCP03 with the simulated device behind a fake USB link, responses in 64-byte packets', async () => {
    const sim = await SimulatedYubiHsm.create({ identity });
    const dev = new FakeUsbDevice('0007550054', async (req) => {
      const res = await sim.transmit(req);
      dev.splits = Array.from({ length: Math.floor(res.length / 64) }, () => 64);
      return res;
    });
    const client = new YubiHsmClient(await openUsbTransport({ usb: usbWith(dev) }), { device: 'YubiHSM 2 serial 0007550054' });
    expect((await client.getDeviceInfo()).serial).toBe(7550054);
    const s = await client.openSession(1, { password: 'password' });
    for (const n of [1, 45, 61, 500, 1900]) {
      const data = Uint8Array.from({ length: n }, (_, i) => i & 0xff);
      expect(toHex(await s.echo(data))).toBe(toHex(data));
    }
    // A sealed message is 12 + 16k bytes, never a multiple of 64; a plain ECHO of 61 bytes is 64.
    const before = dev.writes.length;
    expect(await client.echo(new Uint8Array(61))).toHaveLength(61);
    expect(dev.writes.slice(before)).toEqual([64, 0]);
    await s.close();
  });
});
