import { createHash } from 'node:crypto';
import { Writer } from '../protocol/bytes.ts';

/**
 * The device's Log Store: the audit log that GET LOG ENTRIES returns
 * (Yubico command reference, "GET LOG ENTRIES Command"; "Logging and Logs").
 *
 * Each entry is 32 bytes on the wire:
 *
 *   number (2) | command (1) | length (2) | session key (2) | target key (2) |
 *   second key (2) | result (1) | systick (4) | digest (16)
 *
 * and the entries form a hash chain: an entry's digest is the first 16 bytes
 * of SHA-256 over its own first 16 bytes followed by the previous entry's
 * digest. (Checked against entries published from a real device: see
 * test/yubihsm/simulator/audit-log.test.ts.) The store keeps the last 62
 * entries; when it is full the oldest is overwritten.
 */

/** Entries the Log Store holds (Yubico, "Logging and Logs": 62). */
export const LOG_CAPACITY = 62;
/** Bytes of one entry on the wire. */
export const LOG_ENTRY_BYTES = 32;
/** Bytes of an entry's fields before the digest (what the digest covers). */
export const LOG_FIELDS_BYTES = 16;
/** The key-id value the device logs when no key is involved. */
export const NO_KEY = 0xffff;

export interface LogEvent {
  /** The command code (0x00 for a boot event, 0xff for the log-initialised marker). */
  readonly command: number;
  /** The command's data length, as it arrived. */
  readonly length: number;
  /** Id of the authentication key of the session the command came in, or 0xffff outside a session. */
  readonly sessionKey: number;
  /** The object the command acted on, or 0xffff. */
  readonly targetKey: number;
  /** A second object (the attestation key of SIGN ATTESTATION CERTIFICATE), or 0xffff. */
  readonly secondKey: number;
  /** The response code the device sent: `command | 0x80`, or 0x7f for an error. */
  readonly result: number;
}

export interface LogEntry extends LogEvent {
  /** 1, 2, 3, ... since the log was last initialised (16-bit, wraps). */
  readonly number: number;
  /** Milliseconds since the device booted, 32-bit. */
  readonly systick: number;
  /** Truncated SHA-256 chaining this entry to the previous one. */
  readonly digest: Uint8Array;
}

/** The first 16 bytes of an entry (everything the digest covers). */
export function entryFields(e: Omit<LogEntry, 'digest'>): Uint8Array {
  return new Writer(LOG_FIELDS_BYTES)
    .u16(e.number)
    .u8(e.command)
    .u16(e.length)
    .u16(e.sessionKey)
    .u16(e.targetKey)
    .u16(e.secondKey)
    .u8(e.result)
    .u32(e.systick)
    .finish();
}

/** digest(n) = SHA-256(fields(n) ‖ digest(n-1))[0..16]. */
export function chainDigest(fields: Uint8Array, previous: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(fields).update(previous).digest().subarray(0, 16));
}

export class AuditLog {
  private entries: LogEntry[] = [];
  private lastDigest: Uint8Array = new Uint8Array(16);
  private nextNumber = 1;

  /**
   * Empties the store and writes what a device shows after a factory reset:
   * entry 1 is the all-ones marker of a freshly initialised log, entry 2 the
   * boot that follows (command 0x00, length 0, session key 0xffff, target and
   * second key 0, result 0, systick 0). How the real device seeds the first
   * digest is not documented; here it chains from 16 zero bytes.
   */
  initialise(): void {
    this.entries = [];
    this.lastDigest = new Uint8Array(16);
    this.nextNumber = 1;
    this.append({ command: 0xff, length: 0xffff, sessionKey: 0xffff, targetKey: 0xffff, secondKey: 0xffff, result: 0xff }, 0xffff_ffff);
    this.boot();
  }

  /** A power-on event, as the device logs one at every boot. */
  boot(): void {
    this.append({ command: 0x00, length: 0, sessionKey: NO_KEY, targetKey: 0, secondKey: 0, result: 0 }, 0);
  }

  append(event: LogEvent, systick: number): LogEntry {
    const partial = { ...event, number: this.nextNumber, systick: systick >>> 0 };
    const digest = chainDigest(entryFields(partial), this.lastDigest);
    const entry: LogEntry = { ...partial, digest };
    this.entries.push(entry);
    if (this.entries.length > LOG_CAPACITY) this.entries.shift();
    this.lastDigest = digest;
    this.nextNumber = (this.nextNumber + 1) & 0xffff;
    return entry;
  }

  /** Entries currently held, oldest first. */
  get all(): readonly LogEntry[] {
    return this.entries;
  }

  get used(): number {
    return this.entries.length;
  }

  /**
   * The GET LOG ENTRIES response data:
   * unlogged boots (2) | unlogged authentications (2) | N (1) | N entries.
   * Forced audit is not simulated, so nothing ever goes unlogged.
   */
  encode(): Uint8Array {
    const w = new Writer(5 + this.entries.length * LOG_ENTRY_BYTES).u16(0).u16(0).u8(this.entries.length);
    for (const e of this.entries) w.bytes(entryFields(e)).bytes(e.digest);
    return w.finish();
  }
}
