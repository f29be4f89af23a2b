import {
  encodeLogEntriesResponse,
  LOG_DIGEST_BYTES,
  logDigest,
  type LogEntry,
} from '../protocol/log-commands.ts';

/**
 * The device's Log Store: the audit log that GET LOG ENTRIES returns
 * (Yubico command reference, "GET LOG ENTRIES Command", "SET LOG INDEX
 * Command"; "Logging and Logs"). The entry layout and the digest chain are
 * those of `../protocol/log-commands.ts`, which the host uses to read and
 * check them; this class keeps the entries the host has not yet marked as
 * read (SET LOG INDEX), at most 62.
 *
 * When the store is full the oldest entry is overwritten ("used as a
 * circular buffer"), unless forced audit is on: then the device refuses what
 * it cannot log, and counts the boots and authentications it let through
 * unlogged. That decision is the device's (device.ts); this class offers
 * `full` and the counters.
 */

export type { LogEntry };

/** Entries the Log Store holds (Yubico, "Logging and Logs": 62). */
export const LOG_CAPACITY = 62;
/** The key-id value the device logs when no key is involved. */
export const NO_KEY = 0xffff;

/** What a command contributes to its entry; the log adds the number, the tick and the digest. */
export type LogEvent = Omit<LogEntry, 'number' | 'tick' | 'digest'>;

/** Everything the Log Store holds, as the state directory keeps it. */
export interface LogSnapshot {
  readonly entries: readonly LogEntry[];
  readonly lastDigest: Uint8Array;
  readonly nextNumber: number;
  readonly unloggedBoots: number;
  readonly unloggedAuths: number;
}

export class AuditLog {
  private entries: LogEntry[] = [];
  private lastDigest: Uint8Array = new Uint8Array(LOG_DIGEST_BYTES);
  private nextNumber = 1;
  private boots = 0;
  private auths = 0;

  /**
   * Empties the store and writes what a device shows after a factory reset:
   * entry 1 is the all-ones marker of a freshly initialised log, entry 2 the
   * boot that follows (command 0x00, length 0, session key 0xffff, target and
   * second key 0, result 0, tick 0). How the real device seeds the first
   * digest is not documented; here it chains from 16 zero bytes.
   */
  initialise(): void {
    this.entries = [];
    this.lastDigest = new Uint8Array(LOG_DIGEST_BYTES);
    this.nextNumber = 1;
    this.boots = 0;
    this.auths = 0;
    this.append({ command: 0xff, length: 0xffff, sessionKey: 0xffff, targetKey: 0xffff, secondKey: 0xffff, result: 0xff }, 0xffff_ffff);
    this.boot(false);
  }

  /**
   * A power-on event, as the device logs one at every boot. With forced
   * audit on and the store full it cannot be logged, and is counted instead
   * (GET LOG ENTRIES: "number of unlogged boot events").
   */
  boot(forced: boolean): void {
    if (forced && this.full) {
      this.boots = Math.min(this.boots + 1, 0xffff);
      return;
    }
    this.append({ command: 0x00, length: 0, sessionKey: NO_KEY, targetKey: 0, secondKey: 0, result: 0 }, 0);
  }

  /** An authentication the device allowed although forced audit could not log it. */
  countUnloggedAuthentication(): void {
    this.auths = Math.min(this.auths + 1, 0xffff);
  }

  /** Appends an entry chained to the previous one, overwriting the oldest when full. `tick` is milliseconds since boot, kept to 32 bits. */
  append(event: LogEvent, tick: number): LogEntry {
    const partial = { ...event, number: this.nextNumber, tick: tick >>> 0 };
    const entry: LogEntry = { ...partial, digest: logDigest(partial, this.lastDigest) };
    this.entries.push(entry);
    if (this.entries.length > LOG_CAPACITY) this.entries.shift();
    this.lastDigest = entry.digest;
    this.nextNumber = (this.nextNumber + 1) & 0xffff;
    return entry;
  }

  /**
   * SET LOG INDEX: the host has read up to entry `number`, which the store
   * may now reuse; GET LOG ENTRIES no longer returns it or the entries
   * before it. False when no entry with that number is held (the command
   * reference does not say what the device does then; the simulator refuses).
   */
  setIndex(number: number): boolean {
    const at = this.entries.findIndex((e) => e.number === number);
    if (at === -1) return false;
    this.entries = this.entries.slice(at + 1);
    return true;
  }

  /** Entries currently held (not yet marked read), oldest first. */
  get all(): readonly LogEntry[] {
    return this.entries;
  }

  get used(): number {
    return this.entries.length;
  }

  /** True when every slot holds an entry the host has not marked read. */
  get full(): boolean {
    return this.entries.length >= LOG_CAPACITY;
  }

  /** The GET LOG ENTRIES response data: the unlogged counters and the entries held. */
  encode(): Uint8Array {
    return encodeLogEntriesResponse({ unloggedBoots: this.boots, unloggedAuths: this.auths, entries: this.entries });
  }

  snapshot(): LogSnapshot {
    return { entries: [...this.entries], lastDigest: this.lastDigest, nextNumber: this.nextNumber, unloggedBoots: this.boots, unloggedAuths: this.auths };
  }

  restore(s: LogSnapshot): void {
    this.entries = s.entries.slice(-LOG_CAPACITY);
    this.lastDigest = Uint8Array.from(s.lastDigest);
    this.nextNumber = s.nextNumber & 0xffff;
    this.boots = s.unloggedBoots;
    this.auths = s.unloggedAuths;
  }
}
