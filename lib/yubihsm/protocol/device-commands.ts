/**
 * Device-level commands: ECHO, GET DEVICE INFO, RESET DEVICE, GET STORAGE
 * INFO, GET PSEUDO RANDOM and BLINK DEVICE payloads (Yubico command
 * reference, sections of the same names).
 */
import { YubiHsmError } from '../errors.ts';
import { BLOCK_BYTES, MAC_BYTES } from '../session/scp03.ts';
import { Reader, requestReader, Writer } from './bytes.ts';
import { FRAME_HEADER_BYTES, MAX_MESSAGE_BYTES } from './frame.ts';

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

/** What GET STORAGE INFO reports (Yubico command reference, "GET STORAGE INFO"). */
export interface StorageInfo {
  /** Object records the device has (256). */
  readonly totalRecords: number;
  /** Records not in use. */
  readonly freeRecords: number;
  /** Storage pages the device has (1024). */
  readonly totalPages: number;
  /** Pages not in use. */
  readonly freePages: number;
  /** Bytes per page (126). */
  readonly pageSize: number;
}

/** Bytes of a GET STORAGE INFO response: five 2-byte fields. */
export const STORAGE_INFO_BYTES = 10;

/** Device side: GET STORAGE INFO response data: total records (2) ‖ free records (2) ‖ total pages (2) ‖ free pages (2) ‖ page size (2). */
export function encodeStorageInfoResponse(info: StorageInfo): Uint8Array {
  return new Writer(STORAGE_INFO_BYTES)
    .u16(info.totalRecords)
    .u16(info.freeRecords)
    .u16(info.totalPages)
    .u16(info.freePages)
    .u16(info.pageSize)
    .finish();
}

/**
 * Host side: parses GET STORAGE INFO response data (attacker-controlled:
 * exactly 10 bytes, and nothing free that the device does not have).
 */
export function decodeStorageInfoResponse(data: Uint8Array): StorageInfo {
  const r = new Reader(data, 'GET STORAGE INFO response');
  const info: StorageInfo = {
    totalRecords: r.u16('total records'),
    freeRecords: r.u16('free records'),
    totalPages: r.u16('total pages'),
    freePages: r.u16('free pages'),
    pageSize: r.u16('page size'),
  };
  r.end();
  if (info.freeRecords > info.totalRecords || info.freePages > info.totalPages) {
    throw new YubiHsmError('YUBIHSM_RESPONSE_MALFORMED', 'GET STORAGE INFO response: more free than total');
  }
  return info;
}

/**
 * The most bytes GET PSEUDO RANDOM can return. The command needs a session,
 * so its answer travels as an inner frame (header ‖ data), padded to whole
 * AES blocks with at least one byte, inside a SESSION MESSAGE answer of
 * header ‖ session id ‖ ciphertext ‖ MAC that may not exceed the device's
 * 2048-byte message: 2048 − 3 − 1 − 8 = 2036 bytes of ciphertext, 2032 in
 * whole blocks, 2031 before padding, 2028 after the inner header.
 */
export const MAX_PSEUDO_RANDOM_BYTES =
  Math.floor((MAX_MESSAGE_BYTES - FRAME_HEADER_BYTES - 1 - MAC_BYTES) / BLOCK_BYTES) * BLOCK_BYTES - 1 - FRAME_HEADER_BYTES;

/** GET PSEUDO RANDOM request data: the number of bytes wanted (2). */
export function encodePseudoRandomRequest(count: number): Uint8Array {
  if (!Number.isInteger(count) || count < 0 || count > MAX_PSEUDO_RANDOM_BYTES) {
    throw new YubiHsmError('YUBIHSM_REQUEST_INVALID', `GET PSEUDO RANDOM returns 0..${MAX_PSEUDO_RANDOM_BYTES} bytes, not ${count}`);
  }
  return new Writer(2).u16(count).finish();
}

/** Device side: parses GET PSEUDO RANDOM request data (attacker-controlled; not exactly 2 bytes: WRONG LENGTH). */
export function decodePseudoRandomRequest(data: Uint8Array): number {
  const r = requestReader(data, 'GET PSEUDO RANDOM');
  const count = r.u16('byte count');
  r.end();
  return count;
}

/** Host side: checks GET PSEUDO RANDOM response data (attacker-controlled): exactly the bytes asked for. */
export function decodePseudoRandomResponse(data: Uint8Array, count: number): Uint8Array {
  if (data.length !== count) {
    throw new YubiHsmError('YUBIHSM_RESPONSE_MALFORMED', `GET PSEUDO RANDOM response: ${data.length} bytes, ${count} asked for`);
  }
  return Uint8Array.from(data);
}

/** BLINK DEVICE request data: seconds to blink (1). */
export function encodeBlinkRequest(seconds: number): Uint8Array {
  return new Writer(1).u8(seconds).finish();
}

/** Device side: parses BLINK DEVICE request data (attacker-controlled; not exactly 1 byte: WRONG LENGTH). */
export function decodeBlinkRequest(data: Uint8Array): number {
  const r = requestReader(data, 'BLINK DEVICE');
  const seconds = r.u8('seconds');
  r.end();
  return seconds;
}
