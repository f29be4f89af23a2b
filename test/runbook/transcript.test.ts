// The hash-chained transcript: written through the run's observer, and
// verified so that a changed, removed, added or moved record is found.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENESIS, TranscriptWriter, verifyTranscript, verifyTranscriptText } from '../../lib/runbook/transcript.ts';
import { ceremony, ceremonyAnswers, rethrow, run, runbookOf } from '../fixtures/execute/harness.ts';

/** Runs the fixture ceremony with a transcript; returns its path, text and the writer. */
async function recordedRun() {
  const dir = await mkdtemp(join(tmpdir(), 'runbook-transcript-'));
  const path = join(dir, 'transcript.jsonl');
  const writer = await TranscriptWriter.create(path);
  const { runbook } = ceremony();
  const outcome = await run(runbook, ceremonyAnswers(), { observers: [writer], productsDir: dir });
  await writer.close();
  expect(outcome.error).toBeUndefined();
  return { path, text: await readFile(path, 'utf8'), writer, events: outcome.events };
}

const sha256 = (s: string) => createHash('sha256').update(Buffer.from(s, 'utf8')).digest('hex');

/** Verifies `text` and returns the error, for asserting its code and line. */
function failure(text: string, options: { head?: string } = {}): unknown {
  try {
    verifyTranscriptText(text, 'transcript.jsonl', options);
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('TranscriptWriter', () => {
  it('writes one record per event, each chained to the line before', async () => {
    const { text, writer, events } = await recordedRun();
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(events.length);
    expect(writer.records).toBe(events.length);
    const records = lines.map((l) => JSON.parse(l) as { n: number; prev: string; event: unknown });
    expect(records.map((r) => r.n)).toEqual(events.map((_, i) => i + 1));
    expect(records[0]?.prev).toBe(GENESIS);
    for (let i = 1; i < lines.length; i++) expect(records[i]?.prev).toBe(sha256(lines[i - 1]!));
    expect(records.map((r) => r.event)).toEqual(events);
    expect(writer.head).toBe(sha256(lines.at(-1)!));
  });

  it('verifies, and returns the head a witness writes down', async () => {
    const { path, writer, events } = await recordedRun();
    const verified = await verifyTranscript(path, { head: writer.head });
    expect(verified.records).toBe(events.length);
    expect(verified.head).toBe(writer.head);
    expect(verified.events).toEqual(events);
  });

  it('never records a secret', async () => {
    const { text } = await recordedRun();
    expect(text).not.toContain('rehearsal-password');
  });

  it('never writes over an existing transcript', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runbook-transcript-'));
    const path = join(dir, 'transcript.jsonl');
    await writeFile(path, 'an earlier ceremony\n');
    await expect(TranscriptWriter.create(path)).toThrowWithCode('TRANSCRIPT_EXISTS');
    expect(await readFile(path, 'utf8')).toBe('an earlier ceremony\n');
  });

  it('stops the run when a record cannot be written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runbook-transcript-'));
    const writer = await TranscriptWriter.create(join(dir, 'transcript.jsonl'));
    await writer.close();
    const rb = runbookOf(`
# Start

1. **DO** never runs:

   \`\`\`ts {id=start.never}
   ctx.say('must not run');
   \`\`\`
`);
    const { events, error } = await run(rb, '', { observers: [writer] });
    expect(rethrow(error)).toThrowWithCode('TRANSCRIPT_WRITE_FAILED');
    expect(events.some((e) => e.type === 'output')).toBe(false);
  });
});

describe('verifyTranscriptText', () => {
  it('accepts an empty transcript', () => {
    expect(verifyTranscriptText('', 't')).toEqual({ records: 0, head: GENESIS, events: [] });
  });

  it('finds a changed record at the record after it', async () => {
    const { text } = await recordedRun();
    const lines = text.split('\n');
    const original = lines[4]!;
    lines[4] = original.replace('"text":"DO start streaming the ceremony."', '"text":"DO skip the stream."');
    expect(lines[4]).not.toBe(original);
    const err = failure(lines.join('\n'));
    expect(rethrow(err)).toThrowWithCode('TRANSCRIPT_CHAIN_BROKEN');
    expect(err).toMatchObject({ line: 6 });
  });

  it('finds a changed last record only against the head written down', async () => {
    const { text, writer } = await recordedRun();
    const lines = text.trimEnd().split('\n');
    lines[lines.length - 1] = lines.at(-1)!.replace('"ended"', '"completed"');
    const changed = `${lines.join('\n')}\n`;
    expect(failure(changed)).toBeUndefined();
    expect(rethrow(failure(changed, { head: writer.head }))).toThrowWithCode('TRANSCRIPT_HEAD_MISMATCH');
  });

  it('finds a removed record', async () => {
    const { text } = await recordedRun();
    const lines = text.split('\n');
    lines.splice(6, 1);
    const err = failure(lines.join('\n'));
    expect(rethrow(err)).toThrowWithCode('TRANSCRIPT_SEQUENCE_BROKEN');
    expect(err).toMatchObject({ line: 7 });
  });

  it('finds a removed record even when the rest is renumbered', async () => {
    const { text } = await recordedRun();
    const lines = text.trimEnd().split('\n');
    lines.splice(6, 1);
    const renumbered = lines.map((l, i) => l.replace(/^\{"n":\d+,/, `{"n":${i + 1},`));
    const err = failure(`${renumbered.join('\n')}\n`);
    expect(rethrow(err)).toThrowWithCode('TRANSCRIPT_CHAIN_BROKEN');
    expect(err).toMatchObject({ line: 7 });
  });

  it('finds two records swapped', async () => {
    const { text } = await recordedRun();
    const lines = text.split('\n');
    [lines[3], lines[4]] = [lines[4]!, lines[3]!];
    const err = failure(lines.join('\n'));
    expect(rethrow(err)).toThrowWithCode('TRANSCRIPT_SEQUENCE_BROKEN');
    expect(err).toMatchObject({ line: 4 });
  });

  it('finds records cut off the end only against the head written down', async () => {
    const { text, writer } = await recordedRun();
    const lines = text.trimEnd().split('\n');
    const cut = `${lines.slice(0, -3).join('\n')}\n`;
    expect(failure(cut)).toBeUndefined();
    expect(rethrow(failure(cut, { head: writer.head }))).toThrowWithCode('TRANSCRIPT_HEAD_MISMATCH');
  });

  it('finds a record cut short by a crash, and lines that are not records', async () => {
    const { text } = await recordedRun();
    expect(rethrow(failure(text.slice(0, -20)))).toThrowWithCode('TRANSCRIPT_MALFORMED');
    const garbage: [string, string][] = [
      ['not JSON', 'not json\n'],
      ['a JSON array', '[1,2]\n'],
      ['a blank line', '\n'],
      ['no record number', `{"prev":"${GENESIS}","event":{"type":"run.started"}}\n`],
      ['a bad prev', '{"n":1,"prev":"abc","event":{"type":"run.started"}}\n'],
      ['no event', `{"n":1,"prev":"${GENESIS}"}\n`],
    ];
    for (const [, bad] of garbage) expect(rethrow(failure(bad))).toThrowWithCode('TRANSCRIPT_MALFORMED');
  });

  it('reports an unreadable file', async () => {
    await expect(verifyTranscript(join(tmpdir(), 'no-such-transcript.jsonl'))).toThrowWithCode('TRANSCRIPT_UNREADABLE');
  });
});
