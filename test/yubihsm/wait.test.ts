// waitForDevice: after RESET DEVICE, find the device again by asking GET
// DEVICE INFO at short, growing intervals, against the simulator in process
// and through the connector HTTP server, and give up typed on time-out or
// abort.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { YubiHsmClient } from '../../lib/yubihsm/client.ts';
import { YubiHsmError } from '../../lib/yubihsm/errors.ts';
import { ConnectorServer, identityForSerial, SimulatedYubiHsm, type DeviceIdentity, type SimulatorOptions } from '../../lib/yubihsm/simulator/index.ts';
import { InProcessTransport } from '../../lib/yubihsm/transports/in-process.ts';
import type { Transport } from '../../lib/yubihsm/transports/transport.ts';
import { waitForDevice } from '../../lib/yubihsm/wait.ts';

const SERIAL = 7550054;
let identity: DeviceIdentity;
beforeAll(async () => {
  identity = await identityForSerial(SERIAL);
});

const servers: ConnectorServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** A transport that counts its closing, around another. */
class Counted implements Transport {
  closed = false;
  constructor(private readonly inner: Transport) {}
  send(request: Uint8Array): Promise<Uint8Array> {
    return this.inner.send(request);
  }
  async close(): Promise<void> {
    this.closed = true;
    await this.inner.close();
  }
}

interface Opener {
  open(): Promise<YubiHsmClient>;
  /** Clients opened (a connector without a device refuses before there is one). */
  readonly opened: Counted[];
  /** Calls of `open`. */
  readonly tries: { count: number };
}

function inProcess(device: SimulatedYubiHsm): Opener {
  const opened: Counted[] = [];
  const tries = { count: 0 };
  return {
    opened,
    tries,
    open: () => {
      tries.count++;
      const t = new Counted(new InProcessTransport(device));
      opened.push(t);
      return Promise.resolve(new YubiHsmClient(t));
    },
  };
}

async function overHttp(device: SimulatedYubiHsm): Promise<Opener> {
  const server = await ConnectorServer.start(device);
  servers.push(server);
  const opened: Counted[] = [];
  const tries = { count: 0 };
  return {
    opened,
    tries,
    open: async () => {
      tries.count++;
      // As YubiHsmClient.connector does: the status must say OK before the device is used.
      const connected = await YubiHsmClient.connector(server.url);
      const t = new Counted(connected.transport);
      opened.push(t);
      return new YubiHsmClient(t);
    },
  };
}

/** A device that has just been reset through a session, rebooting for `rebootMs`. */
async function justReset(options: SimulatorOptions = {}): Promise<SimulatedYubiHsm> {
  const device = await SimulatedYubiHsm.create({ serial: SERIAL, identity, ...options });
  const client = new YubiHsmClient(new InProcessTransport(device));
  await (await client.openSession(1, { password: 'password' })).resetDevice();
  expect(device.isRebooting).toBe(true);
  return device;
}

const codeOf = (err: unknown) => (err instanceof YubiHsmError ? err.code : undefined);

describe.each([
  ['in process', (d: SimulatedYubiHsm) => Promise.resolve(inProcess(d))],
  ['over the connector HTTP API', overHttp],
] as const)('waitForDevice %s', (_name, connect) => {
  it('returns an open client and the device info once the device is back, closing the clients that failed', async () => {
    const device = await justReset({ rebootMs: 300 });
    const opener = await connect(device);
    const back = await waitForDevice(() => opener.open(), { timeoutMs: 5_000, device: 'YubiHSM2-1' });
    expect(device.isRebooting).toBe(false);
    expect(back.info.serial).toBe(SERIAL);
    // The failed tries are closed, the one returned is not, and the device answers it.
    const last = opener.opened.at(-1)!;
    expect(last.closed).toBe(false);
    expect(opener.opened.slice(0, -1).every((t) => t.closed)).toBe(true);
    expect((await back.client.getDeviceInfo()).serial).toBe(SERIAL);
    // Short, growing pauses: several tries within the reboot, not one long sleep nor a busy loop.
    expect(opener.tries.count).toBeGreaterThanOrEqual(2);
    expect(opener.tries.count).toBeLessThan(30);
    // Back in factory state.
    await (await back.client.openSession(1, { password: 'password' })).close();
  });

  it('gives up with YUBIHSM_DEVICE_DID_NOT_RETURN after timeoutMs, carrying the last failure', async () => {
    const device = await justReset({ rebootMs: 60_000 });
    const opener = await connect(device);
    const started = performance.now();
    const err = await waitForDevice(() => opener.open(), { timeoutMs: 200, device: 'YubiHSM2-1' }).catch((e: unknown) => e);
    const took = performance.now() - started;
    expect(codeOf(err)).toBe('YUBIHSM_DEVICE_DID_NOT_RETURN');
    expect(['YUBIHSM_LINK_FAILED', 'YUBIHSM_CONNECTOR_NOT_READY']).toContain(codeOf((err as Error).cause));
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(2_000);
    expect(opener.opened.every((t) => t.closed)).toBe(true);
  });

  it('stops with YUBIHSM_WAIT_ABORTED when the signal aborts', async () => {
    const device = await justReset({ rebootMs: 60_000 });
    const opener = await connect(device);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('operator pressed Ctrl-C')), 60);
    const started = performance.now();
    await expect(waitForDevice(() => opener.open(), { signal: controller.signal, timeoutMs: 10_000 })).toThrowWithCode('YUBIHSM_WAIT_ABORTED');
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('waitForDevice', () => {
  it('does not start when the signal has already aborted', async () => {
    let tries = 0;
    const open = () => {
      tries++;
      return Promise.reject(new YubiHsmError('YUBIHSM_USB_NO_DEVICE', 'none'));
    };
    await expect(waitForDevice(open, { signal: AbortSignal.abort() })).toThrowWithCode('YUBIHSM_WAIT_ABORTED');
    expect(tries).toBe(0);
  });

  it('waits while no device is plugged in, and throws at once what waiting cannot change', async () => {
    let tries = 0;
    const absent = () => {
      tries++;
      return Promise.reject(new YubiHsmError('YUBIHSM_USB_NO_DEVICE', 'none'));
    };
    await expect(waitForDevice(absent, { timeoutMs: 80 })).toThrowWithCode('YUBIHSM_DEVICE_DID_NOT_RETURN');
    expect(tries).toBeGreaterThan(1);

    tries = 0;
    const two = () => {
      tries++;
      return Promise.reject(new YubiHsmError('YUBIHSM_USB_SEVERAL_DEVICES', 'two'));
    };
    await expect(waitForDevice(two, { timeoutMs: 5_000 })).toThrowWithCode('YUBIHSM_USB_SEVERAL_DEVICES');
    expect(tries).toBe(1);
  });

  it('keeps to its time when one try hangs, and closes that try’s client when it finally answers', async () => {
    const device = await SimulatedYubiHsm.create({ serial: SERIAL, identity, faults: { delayMs: 400 } });
    const opener = inProcess(device);
    const started = performance.now();
    await expect(waitForDevice(() => opener.open(), { timeoutMs: 100 })).toThrowWithCode('YUBIHSM_DEVICE_DID_NOT_RETURN');
    expect(performance.now() - started).toBeLessThan(350);
    expect(opener.opened.length).toBeGreaterThan(0);
    // The hung try answers after 400 ms; its client is closed then.
    const end = Date.now() + 5_000;
    while (!opener.opened.every((t) => t.closed) && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(opener.opened.every((t) => t.closed)).toBe(true);
  });

  it('refuses a time-out that is not a time to wait', async () => {
    const open = () => Promise.reject(new Error('not called'));
    for (const timeoutMs of [0, -5, Number.NaN]) {
      await expect(waitForDevice(open, { timeoutMs })).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
    }
  });
});
