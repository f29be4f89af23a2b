import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readRunbook } from '../../lib/runbook/check/index.ts';
import { fixture } from './support.ts';

describe('readRunbook', () => {
  it('parses the bytes the caller already read, not the file as it is now', async () => {
    // `runbook run` reads the file once and both parses and hashes that
    // reading; the file on disk (here an empty one) no longer matters.
    const bytes = readFileSync(fixture('valid.md'));
    const runbook = await readRunbook(fixture('empty.md'), { bytes });
    expect(runbook.source).toBe(bytes.toString('utf8'));
    await expect(readRunbook(fixture('empty.md'))).toThrowWithCode('FILE_EMPTY');
  });
});
