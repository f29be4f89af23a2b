/**
 * GET LOG ENTRIES and SET LOG INDEX payloads (Yubico command reference,
 * "GET LOG ENTRIES", "SET LOG INDEX"; Yubico, "Logs"). The audit log is a hash chain: each entry's digest is the
 * first 16 bytes of SHA-256(entry's first 16 bytes ‖ previous digest). The
 * ceremony transcript carries these entries.
 */
import { createHash } from 'node:crypto';
import { YubiHsmError } from '../errors.ts';
import { Reader, requestReader, Writer } from './bytes.ts';

/** Bytes of one log entry; the first 16 are its data, the last 16 its digest. */
export const LOG_ENTRY_BYTES = 32;
export const LOG_DIGEST_BYTES = 16;

export interface LogEntry {
  /** Sequence number (wraps at 65536). */
  readonly number: number;
  readonly command: number;
  /** Length of the command's data. */
  readonly length: number;
  /** The authentication key of the session (0xffff outside a session). */
  readonly sessionKey: number;
  readonly targetKey: number;
  readonly secondKey: number;
  /** The response code (command | 0x80, or 0x7f on error). */
  readonly result: number;
  /** Device tick when the command ran. */
  readonly tick: number;
  readonly digest: Uint8Array;
}

export interface LogEntries {
  /** Boot events not logged because the log was full. */
  readonly unloggedBoots: number;
  /** Authentication events not logged because the log was full. */
  readonly unloggedAuths: number;
  readonly entries: readonly LogEntry[];
}

/** The first 16 bytes of an entry: what its digest covers. */
export function logEntryData(e: Omit<LogEntry, 'digest'>): Uint8Array {
  return new Writer(LOG_ENTRY_BYTES - LOG_DIGEST_BYTES)
    .u16(e.number)
    .u8(e.command)
    .u16(e.length)
    .u16(e.sessionKey)
    .u16(e.targetKey)
    .u16(e.secondKey)
    .u8(e.result)
    .u32(e.tick)
    .finish();
}

/** The digest of an entry chained to the previous entry's digest. */
export function logDigest(e: Omit<LogEntry, 'digest'>, previousDigest: Uint8Array): Uint8Array {
  const h = createHash('sha256').update(logEntryData(e)).update(previousDigest).digest();
  return new Uint8Array(h.buffer, h.byteOffset, LOG_DIGEST_BYTES).slice();
}

/**
 * Device side: GET LOG ENTRIES response data: unlogged boots (2) ‖ unlogged
 * authentications (2) ‖ count (1) ‖ entries (32 each).
 */
export function encodeLogEntriesResponse(log: LogEntries): Uint8Array {
  const w = new Writer(5 + LOG_ENTRY_BYTES * log.entries.length)
    .u16(log.unloggedBoots)
    .u16(log.unloggedAuths)
    .u8(log.entries.length);
  for (const e of log.entries) w.bytes(logEntryData(e)).bytes(e.digest);
  return w.finish();
}

/** Host side: parses GET LOG ENTRIES response data (attacker-controlled: the count must match the bytes). */
export function decodeLogEntriesResponse(data: Uint8Array): LogEntries {
  const r = new Reader(data, 'GET LOG ENTRIES response');
  const unloggedBoots = r.u16('unlogged boots');
  const unloggedAuths = r.u16('unlogged authentications');
  const count = r.u8('entry count');
  if (r.remaining !== count * LOG_ENTRY_BYTES) {
    throw new YubiHsmError(
      'YUBIHSM_RESPONSE_MALFORMED',
      `GET LOG ENTRIES response: ${count} entries need ${count * LOG_ENTRY_BYTES} bytes, ${r.remaining} present`,
    );
  }
  const entries: LogEntry[] = [];
  for (let i = 0; i < count; i++) {
    entries.push({
      number: r.u16('number'),
      command: r.u8('command'),
      length: r.u16('length'),
      sessionKey: r.u16('session key'),
      targetKey: r.u16('target key'),
      secondKey: r.u16('second key'),
      result: r.u8('result'),
      tick: r.u32('tick'),
      digest: Uint8Array.from(r.bytesN(LOG_DIGEST_BYTES, 'digest')),
    });
  }
  r.end();
  return { unloggedBoots, unloggedAuths, entries };
}

/**
 * Index of the first entry whose digest does not follow from its
 * predecessor, or -1 when the chain holds. The first entry is checked only
 * when `previous` (the entry before it, from an earlier read) is given.
 */
export function firstBrokenLink(entries: readonly LogEntry[], previous?: LogEntry): number {
  let prev = previous;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (prev !== undefined) {
      const expected = logDigest(e, prev.digest);
      if (((e.number - prev.number) & 0xffff) !== 1 || Buffer.compare(expected, e.digest) !== 0) return i;
    }
    prev = e;
  }
  return -1;
}

/**
 * SET LOG INDEX request data: the number (2) of the last entry the host has
 * read, so the device may reuse the entries up to it (Yubico, "SET LOG
 * INDEX": mostly of use with forced audit).
 */
export function encodeSetLogIndexRequest(index: number): Uint8Array {
  return new Writer(2).u16(index).finish();
}

/** Device side: parses SET LOG INDEX request data (attacker-controlled; not exactly 2 bytes: WRONG LENGTH). */
export function decodeSetLogIndexRequest(data: Uint8Array): number {
  const r = requestReader(data, 'SET LOG INDEX');
  const index = r.u16('log index');
  r.end();
  return index;
}
