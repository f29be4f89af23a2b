import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestRunbook } from '../../lib/runbook/digest.ts';

const hex = (text: string) => createHash('sha256').update(text).digest('hex');

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'runbook-digest-'));
  mkdirSync(join(root, 'lib', 'runbook'), { recursive: true });
  mkdirSync(join(root, 'steps'));
  mkdirSync(join(root, 'node_modules', 'x'), { recursive: true });
  writeFileSync(join(root, 'RUNBOOK.md'), '# ceremony\n');
  writeFileSync(join(root, 'lib', 'runbook', 'parse.ts'), 'parse\n');
  writeFileSync(join(root, 'lib', 'errors.ts'), 'errors\n');
  writeFileSync(join(root, 'steps', 'yubihsm.ts'), 'yubihsm\n');
  writeFileSync(join(root, 'package-lock.json'), '{}\n');
  writeFileSync(join(root, 'package.json'), '{"type":"module"}\n');
  mkdirSync(join(root, 'bin'));
  writeFileSync(join(root, 'bin', 'runbook.js'), 'main\n');
  writeFileSync(join(root, 'node_modules', 'x', 'index.js'), 'not covered: the lock pins it\n');
  writeFileSync(join(root, 'README.md'), 'not executed\n');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('digestRunbook', () => {
  it('hashes a sha256sum manifest of the executed files, sorted by path', async () => {
    const d = await digestRunbook(join(root, 'RUNBOOK.md'), root);
    // Built by hand: the manifest format is part of the contract (sha256sum -c).
    const manifest = [
      ['RUNBOOK.md', '# ceremony\n'],
      ['bin/runbook.js', 'main\n'],
      ['lib/errors.ts', 'errors\n'],
      ['lib/runbook/parse.ts', 'parse\n'],
      ['package-lock.json', '{}\n'],
      ['package.json', '{"type":"module"}\n'],
      ['steps/yubihsm.ts', 'yubihsm\n'],
    ]
      .map(([path, text]) => `${hex(text!)}  ${path}\n`)
      .join('');
    expect(d.manifest).toBe(manifest);
    expect(d.sha256).toBe(hex(manifest));
  });

  // Regression: the command that starts the run, and the manifest that says
  // how modules load, execute too; a change to either changed nothing.
  it.each([['bin/runbook.js'], ['package.json']])('changes when %s changes', async (path) => {
    const before = (await digestRunbook(join(root, 'RUNBOOK.md'), root)).sha256;
    writeFileSync(join(root, path), 'changed\n');
    expect((await digestRunbook(join(root, 'RUNBOOK.md'), root)).sha256).not.toBe(before);
  });

  it('changes when a file changes, and when a file is only renamed', async () => {
    const before = (await digestRunbook(join(root, 'RUNBOOK.md'), root)).sha256;
    writeFileSync(join(root, 'steps', 'yubihsm.ts'), 'yubihsm!\n');
    const edited = (await digestRunbook(join(root, 'RUNBOOK.md'), root)).sha256;
    expect(edited).not.toBe(before);
    renameSync(join(root, 'steps', 'yubihsm.ts'), join(root, 'steps', 'yubihsm2.ts'));
    expect((await digestRunbook(join(root, 'RUNBOOK.md'), root)).sha256).not.toBe(edited);
  });

  it('is the same for the same tree', async () => {
    const a = await digestRunbook(join(root, 'RUNBOOK.md'), root);
    const b = await digestRunbook(join(root, 'RUNBOOK.md'), root);
    expect(a).toEqual(b);
  });

  it('names a runbook outside the tree by its base name', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'runbook-elsewhere-'));
    try {
      writeFileSync(join(elsewhere, 'RUNBOOK.md'), '# ceremony\n');
      const outside = await digestRunbook(join(elsewhere, 'RUNBOOK.md'), root);
      expect(outside.sha256).toBe((await digestRunbook(join(root, 'RUNBOOK.md'), root)).sha256);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('follows links into the code, but ends on a link loop', async () => {
    // lib/shared -> ../steps (followed: that code runs), lib/runbook/loop -> .. (a loop).
    symlinkSync(join('..', 'steps'), join(root, 'lib', 'shared'));
    symlinkSync('..', join(root, 'lib', 'runbook', 'loop'));
    const paths = (await digestRunbook(join(root, 'RUNBOOK.md'), root)).files.map((f) => f.path);
    expect(paths).toContain('lib/shared/yubihsm.ts');
    expect(paths.filter((p) => p.includes('/loop/'))).toEqual([]);
  });

  it('hashes the bytes the caller already read, not the file as it is now', async () => {
    // `runbook run` parses and hashes one reading of the file, so the digest
    // it records is of the runbook that ran even if the file changed since.
    const file = join(root, 'RUNBOOK.md');
    const read = Buffer.from('# ceremony\n');
    const before = await digestRunbook(file, root);
    writeFileSync(file, '# changed afterwards\n');
    expect((await digestRunbook(file, root, read)).sha256).toBe(before.sha256);
    expect((await digestRunbook(file, root)).sha256).not.toBe(before.sha256);
  });

  it('fails with a code for a missing runbook or a directory', async () => {
    await expect(digestRunbook(join(root, 'nope.md'), root)).toThrowWithCode('FILE_NOT_FOUND');
    await expect(digestRunbook(join(root, 'lib'), root)).toThrowWithCode('FILE_IS_DIRECTORY');
  });

  it('refuses a FIFO as the runbook rather than blocking on it, as the check does', async () => {
    const fifo = join(root, 'fifo.md');
    execFileSync('mkfifo', [fifo]);
    await expect(digestRunbook(fifo, root)).toThrowWithCode('FILE_UNREADABLE');
  });
});
