import {
  encodeLogEntriesResponse,
  LOG_DIGEST_BYTES,
  logDigest,
  type LogEntry,
} from '../protocol/log-commands.ts';

/**
 * The device's Log Store: the audit log that GET LOG ENTRIES returns
 * (Yubico command reference, "GET LOG ENTRIES Command"; "Logging and Logs").
 * The entry layout and the digest chain are those of
 * `../protocol/log-commands.ts`, which the host uses to read and check them;
 * this class only decides what gets logged and keeps the last 62 entries
 * (when the store is full the oldest is overwritten).
 */

export type { LogEntry };

/** Entries the Log Store holds (Yubico, "Logging and Logs": 62). */
export const LOG_CAPACITY = 62;
/** The key-id value the device logs when no key is involved. */
export const NO_KEY = 0xffff;

/** What a command contributes to its entry; the log adds the number, the tick and the digest. */
export type LogEvent = Omit<LogEntry, 'number' | 'tick' | 'digest'>;

export class AuditLog {
  private entries: LogEntry[] = [];
  private lastDigest: Uint8Array = new Uint8Array(LOG_DIGEST_BYTES);
  private nextNumber = 1;

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
    this.append({ command: 0xff, length: 0xffff, sessionKey: 0xffff, targetKey: 0xffff, secondKey: 0xffff, result: 0xff }, 0xffff_ffff);
    this.boot();
  }

  /** A power-on event, as the device logs one at every boot. */
  boot(): void {
    this.append({ command: 0x00, length: 0, sessionKey: NO_KEY, targetKey: 0, secondKey: 0, result: 0 }, 0);
  }

  /** Appends an entry chained to the previous one. `tick` is milliseconds since boot, kept to 32 bits. */
  append(event: LogEvent, tick: number): LogEntry {
    const partial = { ...event, number: this.nextNumber, tick: tick >>> 0 };
    const entry: LogEntry = { ...partial, digest: logDigest(partial, this.lastDigest) };
    this.entries.push(entry);
    if (this.entries.length > LOG_CAPACITY) this.entries.shift();
    this.lastDigest = entry.digest;
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

  /** The GET LOG ENTRIES response data. Forced audit is not simulated, so nothing ever goes unlogged. */
  encode(): Uint8Array {
    return encodeLogEntriesResponse({ unloggedBoots: 0, unloggedAuths: 0, entries: this.entries });
  }
}
