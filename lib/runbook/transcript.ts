/**
 * The transcript: what happened during a run, as an append-only, hash-chained
 * file of JSON lines, one record per event (events.ts).
 *
 *     {"n":1,"prev":"0000…0000","event":{"type":"run.started",…}}
 *     {"n":2,"prev":"<sha256 of line 1>","event":{"type":"section.entered",…}}
 *
 * Each record names its place (`n`, from 1) and carries the SHA-256 of the
 * line before it (`prev`; 64 zeros for the first), taken over the line's
 * UTF-8 bytes without its newline. Changing a record breaks the next
 * record's `prev`; removing, adding or moving one breaks the numbering. The
 * hash of the last line (the head) is printed when the run ends so that a
 * witness can write it down: checked against it, the transcript also shows
 * that nothing was cut off its end. The PSF runbook's ceremony relied on a video
 * stream for this; the transcript is the record a third party can check.
 *
 * Every record is flushed to disk (fsync) before the run goes on, so a
 * crash loses at most the event being written. Events never carry secrets,
 * so neither does the transcript.
 */
import { createHash } from 'node:crypto';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RunEvent, RunObserver } from './events.ts';
import { TranscriptError } from './execute-errors.ts';
import { syncDir } from '../products/write.ts';

/** `prev` of the first record. */
export const GENESIS = '0'.repeat(64);

export interface TranscriptRecord {
  /** 1, 2, 3, … */
  readonly n: number;
  /** SHA-256 (hex) of the previous line, GENESIS for the first. */
  readonly prev: string;
  readonly event: RunEvent;
}

/** SHA-256 (hex) of one transcript line, without its newline. */
export function lineHash(line: string): string {
  return createHash('sha256').update(line, 'utf8').digest('hex');
}

/** Writes a run's events to a new transcript file as they happen. */
export class TranscriptWriter implements RunObserver {
  readonly path: string;
  #handle: FileHandle | undefined;
  #n = 0;
  #head = GENESIS;

  private constructor(path: string, handle: FileHandle) {
    this.path = path;
    this.#handle = handle;
  }

  /** Creates the transcript file; an existing file is never written over (TRANSCRIPT_EXISTS). */
  static async create(path: string): Promise<TranscriptWriter> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new TranscriptError('TRANSCRIPT_EXISTS', `${path} already exists; a transcript is never written over`, { cause: err });
      }
      throw new TranscriptError('TRANSCRIPT_WRITE_FAILED', `cannot create transcript ${path}: ${(err as Error).message}`, { cause: err });
    }
    await syncDir(dirname(path));
    return new TranscriptWriter(path, handle);
  }

  /** SHA-256 of the last record written: what a witness writes down at the end. */
  get head(): string {
    return this.#head;
  }

  /** Records written so far. */
  get records(): number {
    return this.#n;
  }

  async onEvent(event: RunEvent): Promise<void> {
    const handle = this.#handle;
    if (!handle) throw new TranscriptError('TRANSCRIPT_WRITE_FAILED', `transcript ${this.path} is already closed`);
    const record: TranscriptRecord = { n: this.#n + 1, prev: this.#head, event };
    const line = JSON.stringify(record);
    try {
      // One write per record, then fsync: the record is on disk before the
      // run takes its next step.
      await handle.write(`${line}\n`);
      await handle.sync();
    } catch (err) {
      throw new TranscriptError('TRANSCRIPT_WRITE_FAILED', `cannot write transcript ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    this.#n = record.n;
    this.#head = lineHash(line);
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }
}

export interface Verified {
  readonly records: number;
  /** SHA-256 of the last line (GENESIS for an empty transcript). */
  readonly head: string;
  readonly events: readonly RunEvent[];
}

/**
 * Checks a transcript's chain: every line a record, numbered 1, 2, 3, …,
 * each `prev` the hash of the line before. With `head`, also that the last
 * line is the one whose hash was written down (nothing cut off the end).
 * Throws a TranscriptError naming the first line that does not hold.
 */
export function verifyTranscriptText(text: string, file: string, options: { head?: string } = {}): Verified {
  const events: RunEvent[] = [];
  let prev = GENESIS;
  if (text !== '' && !text.endsWith('\n')) {
    const line = text.split('\n').length;
    throw new TranscriptError('TRANSCRIPT_MALFORMED', `${file}:${line}: the last record is cut short (no newline)`, { line });
  }
  const lines = text === '' ? [] : text.slice(0, -1).split('\n');
  lines.forEach((line, i) => {
    const at = i + 1;
    const record = parseRecord(line, file, at);
    if (record.n !== at) {
      throw new TranscriptError('TRANSCRIPT_SEQUENCE_BROKEN', `${file}:${at}: record number ${record.n} where ${at} was expected`, { line: at });
    }
    if (record.prev !== prev) {
      throw new TranscriptError('TRANSCRIPT_CHAIN_BROKEN', `${file}:${at}: the record before this one is not the one this record follows`, { line: at });
    }
    prev = lineHash(line);
    events.push(record.event);
  });
  if (options.head !== undefined && options.head.toLowerCase() !== prev) {
    throw new TranscriptError('TRANSCRIPT_HEAD_MISMATCH', `${file}: the last record's hash is ${prev}, not the ${options.head} written down`, {
      line: lines.length,
    });
  }
  return { records: lines.length, head: prev, events };
}

/** Reads and verifies a transcript file (see verifyTranscriptText). */
export async function verifyTranscript(path: string, options: { head?: string } = {}): Promise<Verified> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new TranscriptError('TRANSCRIPT_UNREADABLE', `cannot read transcript ${path}: ${(err as Error).message}`, { cause: err });
  }
  return verifyTranscriptText(text, path, options);
}

function parseRecord(line: string, file: string, at: number): TranscriptRecord {
  const malformed = (what: string, cause?: unknown) =>
    new TranscriptError('TRANSCRIPT_MALFORMED', `${file}:${at}: ${what}`, { line: at, ...(cause === undefined ? {} : { cause }) });
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw malformed('not a JSON record', err);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('not a JSON object');
  const { n, prev, event } = value as Record<string, unknown>;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw malformed('`n` is not a record number');
  if (typeof prev !== 'string' || !/^[0-9a-f]{64}$/.test(prev)) throw malformed('`prev` is not a SHA-256 in hex');
  if (typeof event !== 'object' || event === null || typeof (event as { type?: unknown }).type !== 'string') {
    throw malformed('`event` is not an event');
  }
  return { n, prev, event: event as RunEvent };
}
