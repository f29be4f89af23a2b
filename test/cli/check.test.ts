import { describe, expect, it } from 'vitest';
import { fixture } from '../runbook/support.ts';
import { runCli } from '../support/cli.ts';

describe('runbook check', () => {
  it('exits 0 on a clean runbook and prints no findings', async () => {
    const r = await runCli(['check', '--no-rehearse', fixture('valid.md')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
  });

  it('rehearses the runbook: a file list its code never writes is a finding at the block', async () => {
    const file = fixture('valid.md');
    const r = await runCli(['check', file]);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([`${file}:39:4 FILES_MISSING`]);
  });

  it('prints FILE:LINE:COL CODE message and exits 1', async () => {
    const file = fixture('goto-target-missing.md');
    const r = await runCli(['check', file]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([`${file}:15:13 GOTO_TARGET_MISSING`, `${file}:18:1 SECTION_UNREACHABLE`]);
  });

  it('--json gives the same findings as data', async () => {
    const file = fixture('code-type.md');
    const r = await runCli(['check', '--json', file]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { ok: boolean; diagnostics: { code: string; line: number; column: number }[] };
    expect(out.ok).toBe(false);
    expect(out.diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([['CODE_TYPE', 27, 10]]);
  });

  it('--no-typecheck skips the type-check', async () => {
    expect((await runCli(['check', '--no-typecheck', '--no-rehearse', fixture('code-type.md')])).code).toBe(0);
  });

  it('a missing file is a finding (exit 1), not a crash', async () => {
    const r = await runCli(['check', fixture('no-such-runbook.md')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(' FILE_NOT_FOUND ');
  });

  it('usage errors exit 2', async () => {
    expect((await runCli(['check', '--bogus'])).code).toBe(2);
    expect((await runCli(['check', 'a.md', 'b.md'])).code).toBe(2);
  });

  it('passes on the repository’s RUNBOOK.md, type-check included', async () => {
    const r = await runCli(['check', 'RUNBOOK.md']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
  });

  // Bad input of every kind: each one a finding with its code and line,
  // never a stack trace, never a hang.
  it.each([
    ['empty.md', 'FILE_EMPTY', 1],
    ['binary.md', 'FILE_BINARY', 3],
    ['directory.md', 'FILE_IS_DIRECTORY', 1],
    ['no-such-runbook.md', 'FILE_NOT_FOUND', 1],
    ['front-matter-yaml.md', 'FRONT_MATTER_YAML', 7],
    ['fence-unterminated.md', 'FENCE_UNTERMINATED', 25],
    ['code-syntax.md', 'CODE_SYNTAX', 26],
    ['code-type.md', 'CODE_TYPE', 27],
    ['goto-target-missing.md', 'GOTO_TARGET_MISSING', 15],
  ])('%s: %s at line %i, exit 1, no stack trace', async (name, code, line) => {
    const file = fixture(name);
    const r = await runCli(['check', file]);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:${line}:\\d+ ${code} `));
    expect(r.stdout + r.stderr).not.toMatch(/^\s+at /m);
    const json = JSON.parse((await runCli(['check', '--json', file])).stdout) as { ok: boolean; diagnostics: { code: string; line: number }[] };
    expect(json.ok).toBe(false);
    expect(json.diagnostics[0]).toMatchObject({ code, line });
  });
});
