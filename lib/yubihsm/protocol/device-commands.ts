/**
 * ECHO, GET DEVICE INFO and RESET DEVICE payloads (Yubico command reference,
 * sections of the same names).
 */
import { Reader, Writer } from './bytes.ts';

/** A firmware version, as GET DEVICE INFO and attestation extension .1 state it. */
export interface FirmwareVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

export interface DeviceInfo {
  /** Firmware version, e.g. 2.0.2 for the PSF ceremony's devices. */
  readonly version: FirmwareVersion;
  /** The serial number printed on the device (runbook step "Provisioning the YubiHSM 2", 1). */
  readonly serial: number;
  /** Audit log capacity (entries). */
  readonly logTotal: number;
  /** Audit log entries in use. */
  readonly logUsed: number;
  /** Algorithm identifiers the device supports. */
  readonly algorithms: readonly number[];
}

/** ECHO: the data is returned as sent; the device accepts 1..2045 bytes. */
export function encodeEchoRequest(data: Uint8Array): Uint8Array {
  return Uint8Array.from(data);
}

/** Device side: GET DEVICE INFO response data: version (3) ‖ serial (4) ‖ log total (1) ‖ log used (1) ‖ algorithms (1 each). */
export function encodeDeviceInfoResponse(info: DeviceInfo): Uint8Array {
  const w = new Writer(9 + info.algorithms.length)
    .u8(info.version.major)
    .u8(info.version.minor)
    .u8(info.version.patch)
    .u32(info.serial)
    .u8(info.logTotal)
    .u8(info.logUsed);
  for (const a of info.algorithms) w.u8(a);
  return w.finish();
}

/** Host side: parses GET DEVICE INFO response data (attacker-controlled). */
export function decodeDeviceInfoResponse(data: Uint8Array): DeviceInfo {
  const r = new Reader(data, 'GET DEVICE INFO response');
  const version: FirmwareVersion = { major: r.u8('major version'), minor: r.u8('minor version'), patch: r.u8('patch version') };
  const serial = r.u32('serial');
  const logTotal = r.u8('log total');
  const logUsed = r.u8('log used');
  const algorithms = Array.from(r.rest());
  return { version, serial, logTotal, logUsed, algorithms };
}
