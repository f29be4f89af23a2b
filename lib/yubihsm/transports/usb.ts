/**
 * USB transport: the host talks to the YubiHSM 2 directly, as Yubico's
 * connector does, through the `usb` package (v3, WebUSB-style API over
 * nusb). The YubiHSM 2 is not a HID device (it presents one vendor-class
 * interface with two bulk endpoints), so HID libraries such as node-hid
 * cannot open it.
 *
 * What a real device does, and what this module relies on:
 *  - it enumerates as VID 0x1050, PID 0x0030, with configuration 1 holding
 *    interface 0 of class 0xff (vendor specific), bulk OUT endpoint 0x01
 *    and bulk IN endpoint 0x81, 64-byte packets (full speed);
 *  - a request is one bulk OUT transfer of the whole frame. USB ends a bulk
 *    transfer at a short packet, so when the frame's length is a multiple of
 *    64 the device cannot tell it has ended: the host then sends a
 *    zero-length packet (libyubihsm and the connector do the same);
 *  - the response is read from the IN endpoint; a large one may arrive over
 *    several transfers, so reads continue until the frame's announced length
 *    has arrived;
 *  - the string descriptor iSerialNumber holds the serial printed on the
 *    device, zero-padded to 10 digits (the PSF runbook's "0007550054").
 *
 * The logic (device selection, ZLP rule, response assembly) is written
 * against the small `UsbDeviceLike`/`UsbLike` interfaces below, so tests run
 * it against a fake device; `openUsbTransport` plugs in the real `usb`
 * package.
 */
import { untrustedText } from '../../untrusted-text.ts';
import { YubiHsmError } from '../errors.ts';
import { FrameAssembler, MAX_MESSAGE_BYTES } from '../protocol/frame.ts';
import type { Transport } from './transport.ts';

export const YUBIHSM_VENDOR_ID = 0x1050;
export const YUBIHSM_PRODUCT_ID = 0x0030;
/** Bulk OUT endpoint 0x01 and bulk IN endpoint 0x81 are both endpoint number 1. */
export const YUBIHSM_ENDPOINT = 1;
/** Full-speed bulk packet size. */
export const USB_PACKET_BYTES = 64;
/** Vendor-specific interface class. */
const VENDOR_CLASS = 0xff;
/** How long the drain read on open waits for stale bytes. */
const FLUSH_TIMEOUT_MS = 10;
/** Reads ask for more than a message so that nothing is ever left behind in the endpoint. */
const READ_BYTES = MAX_MESSAGE_BYTES + USB_PACKET_BYTES;

/** The subset of a WebUSB `USBDevice` this transport uses (the `usb` package's devices have it). */
export interface UsbDeviceLike {
  readonly vendorId: number;
  readonly productId: number;
  readonly serialNumber: string | null | undefined;
  readonly opened: boolean;
  readonly configuration: UsbConfigurationLike | null | undefined;
  readonly configurations: readonly UsbConfigurationLike[];
  open(): Promise<void>;
  close(): Promise<void>;
  selectConfiguration(configurationValue: number): Promise<void>;
  claimInterface(interfaceNumber: number): Promise<void>;
  releaseInterface(interfaceNumber: number): Promise<void>;
  /** `timeout` (ms) is the `usb` package's extension of WebUSB. */
  transferOut(endpointNumber: number, data: Uint8Array, timeout?: number): Promise<{ bytesWritten: number; status: string }>;
  transferIn(endpointNumber: number, length: number, timeout?: number): Promise<{ data?: DataView | undefined; status: string }>;
}

export interface UsbConfigurationLike {
  readonly configurationValue: number;
  readonly interfaces: readonly {
    readonly interfaceNumber: number;
    readonly alternate: {
      readonly interfaceClass: number;
      readonly endpoints: readonly { readonly endpointNumber: number; readonly direction: string; readonly type: string }[];
    };
  }[];
}

/** Lists attached devices (the `usb` package's `usb` object, or a fake). */
export interface UsbLike {
  getDevices(): Promise<readonly UsbDeviceLike[]>;
}

export interface UsbTransportOptions {
  /** Pick the device with this serial (as printed, with or without leading zeros). */
  readonly serial?: string | number;
  /** Per-transfer timeout in milliseconds (default 30 s). */
  readonly timeoutMs?: number;
  /** The USB backend; defaults to the `usb` package, loaded on first use. */
  readonly usb?: UsbLike;
}

/** The serial number as the device reports it, as a number (decimal; leading zeros dropped). */
function serialValue(s: string | number | null | undefined): number | undefined {
  if (typeof s === 'number') return Number.isSafeInteger(s) && s >= 0 ? s : undefined;
  if (typeof s !== 'string' || !/^\d{1,10}$/.test(s.trim())) return undefined;
  return Number(s.trim());
}

/**
 * Chooses the one YubiHSM 2 to talk to: exactly one attached, or the one
 * whose serial matches. Several without a serial, or none, is a refusal
 * (runbook "Provisioning the YubiHSM 2", step 4: exactly one device).
 */
export function selectYubiHsm(devices: readonly UsbDeviceLike[], serial?: string | number): UsbDeviceLike {
  const hsms = devices.filter((d) => d.vendorId === YUBIHSM_VENDOR_ID && d.productId === YUBIHSM_PRODUCT_ID);
  if (serial !== undefined) {
    const wanted = serialValue(serial);
    if (wanted === undefined) throw new YubiHsmError('YUBIHSM_REQUEST_INVALID', `"${serial}" is not a YubiHSM serial number`);
    const match = hsms.filter((d) => serialValue(d.serialNumber) === wanted);
    if (match.length === 0) {
      throw new YubiHsmError('YUBIHSM_USB_NO_DEVICE', `no YubiHSM 2 with serial ${wanted} is attached (${hsms.length} other${hsms.length === 1 ? '' : 's'} found)`);
    }
    if (match.length > 1) throw new YubiHsmError('YUBIHSM_USB_SEVERAL_DEVICES', `${match.length} attached YubiHSM 2 devices report serial ${wanted}`);
    return match[0]!;
  }
  if (hsms.length === 0) throw new YubiHsmError('YUBIHSM_USB_NO_DEVICE', 'no YubiHSM 2 is attached over USB');
  if (hsms.length > 1) {
    // Serial strings come from the devices' descriptors: attacker-controlled text.
    const serials = hsms.map((d) => (d.serialNumber == null ? '?' : untrustedText(d.serialNumber, 12))).join(', ');
    throw new YubiHsmError(
      'YUBIHSM_USB_SEVERAL_DEVICES',
      `${hsms.length} YubiHSM 2 devices are attached (serials ${serials}); the ceremony works with exactly one at a time`,
    );
  }
  return hsms[0]!;
}

/** The vendor-class interface with bulk endpoints 1 in and out, in the active configuration. */
function findInterface(config: UsbConfigurationLike | null | undefined): number | undefined {
  for (const iface of config?.interfaces ?? []) {
    const alt = iface.alternate;
    if (alt.interfaceClass !== VENDOR_CLASS) continue;
    const has = (direction: string) =>
      alt.endpoints.some((e) => e.endpointNumber === YUBIHSM_ENDPOINT && e.direction === direction && e.type === 'bulk');
    if (has('out') && has('in')) return iface.interfaceNumber;
  }
  return undefined;
}

/** Opens the YubiHSM 2 on USB (the real `usb` package unless `options.usb` is given). */
export async function openUsbTransport(options: UsbTransportOptions = {}): Promise<UsbTransport> {
  const backend = options.usb ?? (await loadUsb());
  let devices: readonly UsbDeviceLike[];
  try {
    devices = await backend.getDevices();
  } catch (err) {
    throw new YubiHsmError('YUBIHSM_USB_UNAVAILABLE', 'cannot list USB devices', { cause: err });
  }
  const device = selectYubiHsm(devices, options.serial);
  const serial = device.serialNumber ?? undefined;
  // The descriptor is attacker-controlled text; it names the device in every later message.
  const name = serial !== undefined ? `YubiHSM 2 serial ${/^\d{1,10}$/.test(serial) ? serial : untrustedText(serial, 12)}` : 'the YubiHSM 2';
  let iface: number | undefined;
  try {
    if (!device.opened) await device.open();
    if (device.configuration?.configurationValue !== 1) await device.selectConfiguration(1);
    iface = findInterface(device.configuration);
    if (iface === undefined) throw new Error('no vendor-class interface with bulk endpoints 0x01/0x81');
    await device.claimInterface(iface);
  } catch (err) {
    await device.close().catch(() => undefined);
    throw new YubiHsmError('YUBIHSM_USB_OPEN_FAILED', `cannot open ${name} (permissions, or another program such as yubihsm-connector holds it)`, {
      cause: err,
    });
  }
  // Drain a response left in the IN endpoint by a host that stopped
  // mid-exchange (the connector does the same on open), so the first answer
  // read is the answer to our first request. Nothing pending is the normal
  // case: the short read times out and is ignored.
  await device.transferIn(YUBIHSM_ENDPOINT, READ_BYTES, FLUSH_TIMEOUT_MS).catch(() => undefined);
  return new UsbTransport(device, iface, name, serial, options.timeoutMs ?? 30_000);
}

async function loadUsb(): Promise<UsbLike> {
  try {
    const mod = await import('usb');
    return mod.usb as unknown as UsbLike;
  } catch (err) {
    throw new YubiHsmError('YUBIHSM_USB_UNAVAILABLE', 'the native USB module (usb) could not be loaded', { cause: err });
  }
}

export class UsbTransport implements Transport {
  private closed = false;
  /** One exchange at a time: USB has no request ids, answers are matched by order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly device: UsbDeviceLike,
    private readonly interfaceNumber: number,
    /** Names the device in messages. */
    readonly name: string,
    /** The serial from the string descriptor, as the device reports it. */
    readonly serial: string | undefined,
    private readonly timeoutMs: number,
  ) {}

  send(request: Uint8Array): Promise<Uint8Array> {
    const run = this.queue.then(() => this.exchange(request));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async exchange(request: Uint8Array): Promise<Uint8Array> {
    if (this.closed) throw new YubiHsmError('YUBIHSM_TRANSPORT_CLOSED', `the USB transport to ${this.name} is closed`);
    await this.write(request);
    // A zero-length packet marks the end of a transfer that filled its last packet.
    if (request.length % USB_PACKET_BYTES === 0) await this.write(new Uint8Array(0));
    const assembler = new FrameAssembler(`response from ${this.name}`);
    // Attacker-controlled: the device decides how many bytes come back. The
    // assembler refuses more than one frame; the loop is bounded because
    // every turn must bring at least one byte (or be a ZLP, counted).
    let emptyReads = 0;
    for (;;) {
      const chunk = await this.read();
      if (chunk.length === 0) {
        if (++emptyReads > 2) throw new YubiHsmError('YUBIHSM_USB_TRANSFER_FAILED', `${this.name} sent empty transfers instead of a response`);
        continue;
      }
      const frame = assembler.push(chunk);
      if (frame !== undefined) return frame;
    }
  }

  private async write(data: Uint8Array): Promise<void> {
    let result: { bytesWritten: number; status: string };
    try {
      result = await this.device.transferOut(YUBIHSM_ENDPOINT, data, this.timeoutMs);
    } catch (err) {
      throw new YubiHsmError('YUBIHSM_USB_TRANSFER_FAILED', `writing to ${this.name} failed`, { cause: err });
    }
    if (result.status !== 'ok' || result.bytesWritten !== data.length) {
      throw new YubiHsmError(
        'YUBIHSM_USB_TRANSFER_FAILED',
        `writing to ${this.name}: ${result.bytesWritten} of ${data.length} bytes sent (status ${result.status})`,
      );
    }
  }

  private async read(): Promise<Uint8Array> {
    let result: { data?: DataView | undefined; status: string };
    try {
      result = await this.device.transferIn(YUBIHSM_ENDPOINT, READ_BYTES, this.timeoutMs);
    } catch (err) {
      throw new YubiHsmError('YUBIHSM_USB_TRANSFER_FAILED', `reading from ${this.name} failed`, { cause: err });
    }
    if (result.status !== 'ok' || result.data === undefined) {
      throw new YubiHsmError('YUBIHSM_USB_TRANSFER_FAILED', `reading from ${this.name}: status ${result.status}`);
    }
    const view = result.data;
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.device.releaseInterface(this.interfaceNumber);
    } finally {
      await this.device.close();
    }
  }
}
