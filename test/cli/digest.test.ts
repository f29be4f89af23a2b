import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../../lib/paths.ts';
import { fixture } from '../runbook/support.ts';
import { runCli } from '../support/cli.ts';

describe('runbook digest', () => {
  it('prints one SHA-256; --verbose prints the manifest it is taken over first', async () => {
    const short = await runCli(['digest', projectPath('RUNBOOK.md')]);
    expect(short.code).toBe(0);
    expect(short.stdout).toMatch(/^[0-9a-f]{64}\n$/);

    const long = await runCli(['digest', '--verbose', projectPath('RUNBOOK.md')]);
    const lines = long.stdout.trimEnd().split('\n');
    const digest = lines.pop();
    expect(digest).toBe(short.stdout.trim());
    const manifest = `${lines.join('\n')}\n`;
    expect(createHash('sha256').update(manifest).digest('hex')).toBe(digest);
    const paths = lines.map((l) => l.slice(66));
    expect(paths).toContain('RUNBOOK.md');
    expect(paths).toContain('package-lock.json');
    expect(paths).toContain('lib/runbook/digest.ts');
    expect([...paths].sort()).toEqual(paths);
  });

  it('a missing runbook exits 1 with its code', async () => {
    const r = await runCli(['digest', fixture('no-such-runbook.md')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[FILE_NOT_FOUND]');
  });
});
