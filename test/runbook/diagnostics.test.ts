// One fixture per diagnostic code: `runbook check` must report that code at
// that line, and nothing else (a cascade of echoes would bury the cause).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectPath } from '../../lib/paths.ts';
import { checkRunbook } from '../../lib/runbook/check/index.ts';
import { FORMAT_CODES, type FormatCode } from '../../lib/runbook/errors.ts';
import { MAX_RUNBOOK_BYTES } from '../../lib/runbook/source.ts';
import { fixture } from './support.ts';

interface Case {
  readonly code: FormatCode;
  readonly file: string;
  readonly line: number;
  readonly column?: number;
}

const CASES: readonly Case[] = [
  { code: 'FILE_NOT_FOUND', file: fixture('no-such-runbook.md'), line: 1 },
  { code: 'FILE_IS_DIRECTORY', file: fixture('directory.md'), line: 1 },
  { code: 'FILE_EMPTY', file: fixture('empty.md'), line: 1 },
  { code: 'FILE_BINARY', file: fixture('binary.md'), line: 3 },
  { code: 'FRONT_MATTER_MISSING', file: fixture('front-matter-missing.md'), line: 1 },
  { code: 'FRONT_MATTER_UNTERMINATED', file: fixture('front-matter-unterminated.md'), line: 1 },
  { code: 'FRONT_MATTER_YAML', file: fixture('front-matter-yaml.md'), line: 7 },
  { code: 'FRONT_MATTER_UNKNOWN_KEY', file: fixture('front-matter-unknown-key.md'), line: 7, column: 5 },
  { code: 'FRONT_MATTER_INVALID', file: fixture('front-matter-invalid.md'), line: 9, column: 14 },
  { code: 'INVENTORY_DUPLICATE_ID', file: fixture('inventory-duplicate-id.md'), line: 7 },
  { code: 'RUNBOOK_NO_STEPS', file: fixture('runbook-no-steps.md'), line: 11 },
  { code: 'STEP_OUTSIDE_SECTION', file: fixture('step-outside-section.md'), line: 11 },
  { code: 'STEP_VERB_MISSING', file: fixture('step-verb-missing.md'), line: 28 },
  { code: 'IF_WITHOUT_THEN', file: fixture('if-without-then.md'), line: 28 },
  { code: 'STEP_AFTER_END', file: fixture('step-after-end.md'), line: 17 },
  { code: 'SECTION_UNREACHABLE', file: fixture('section-unreachable.md'), line: 29 },
  { code: 'GOTO_MALFORMED', file: fixture('goto-malformed.md'), line: 15, column: 13 },
  { code: 'GOTO_TARGET_MISSING', file: fixture('goto-target-missing.md'), line: 15, column: 13 },
  { code: 'GOTO_PARAM_MALFORMED', file: fixture('goto-param-malformed.md'), line: 15, column: 78 },
  { code: 'GOTO_PARAM_MISSING', file: fixture('goto-param-missing.md'), line: 15 },
  { code: 'GOTO_PARAM_UNKNOWN', file: fixture('goto-param-unknown.md'), line: 15 },
  { code: 'GOTO_HSM_UNKNOWN', file: fixture('goto-hsm-unknown.md'), line: 15 },
  { code: 'GOTO_CYCLE', file: fixture('goto-cycle.md'), line: 37, column: 44 },
  { code: 'BLOCK_OUTSIDE_STEP', file: fixture('block-outside-step.md'), line: 24, column: 1 },
  { code: 'BLOCK_ID_MISSING', file: fixture('block-id-missing.md'), line: 25, column: 4 },
  { code: 'BLOCK_ROLE_MISSING', file: fixture('block-role-missing.md'), line: 29 },
  { code: 'BLOCK_EXTRA', file: fixture('block-extra.md'), line: 28 },
  { code: 'WHEN_OUTSIDE_IF', file: fixture('when-outside-if.md'), line: 25 },
  { code: 'ID_DUPLICATE', file: fixture('id-duplicate.md'), line: 29 },
  { code: 'ATTR_MALFORMED', file: fixture('attr-malformed.md'), line: 25, column: 27 },
  { code: 'ATTR_UNKNOWN', file: fixture('attr-unknown.md'), line: 25, column: 35 },
  { code: 'FENCE_UNTERMINATED', file: fixture('fence-unterminated.md'), line: 25, column: 4 },
  { code: 'PLACEHOLDER_MALFORMED', file: fixture('placeholder-malformed.md'), line: 30, column: 51 },
  { code: 'CODE_SYNTAX', file: fixture('code-syntax.md'), line: 26, column: 50 },
  // `const serial: number = ctx.hsm.serial;` on line 27: the error is at `serial`, past the list indentation.
  { code: 'CODE_TYPE', file: fixture('code-type.md'), line: 27, column: 10 },
];

/** Fixtures whose one mistake legitimately causes a second finding. */
const ALSO: Partial<Record<FormatCode, FormatCode[]>> = {
  // Without a valid link, the GO TO reaches nothing.
  GOTO_MALFORMED: ['SECTION_UNREACHABLE'],
  GOTO_TARGET_MISSING: ['SECTION_UNREACHABLE'],
  // The malformed declaration declares nothing, so the GO TO's `hsm` is unknown.
  SECTION_PARAMS_MALFORMED: ['GOTO_PARAM_UNKNOWN'],
};

describe('runbook check: one fixture per code', () => {
  it('valid.md has no findings, type-check included', async () => {
    const { diagnostics } = await checkRunbook(fixture('valid.md'));
    expect(diagnostics).toEqual([]);
  });

  for (const c of CASES) {
    it(`${c.code} at line ${c.line}`, async () => {
      const { diagnostics } = await checkRunbook(c.file);
      const hit = diagnostics.find((d) => d.code === c.code);
      expect(hit, JSON.stringify(diagnostics)).toBeDefined();
      expect(hit?.line).toBe(c.line);
      if (c.column !== undefined) expect(hit?.column).toBe(c.column);
      expect(hit?.file).toBe(c.file);
      const codes = new Set(diagnostics.map((d) => d.code));
      expect([...codes].sort()).toEqual([c.code, ...(ALSO[c.code] ?? [])].sort());
    });
  }

  it('SECTION_PARAMS_MALFORMED at the offending parameter item', async () => {
    const { diagnostics } = await checkRunbook(fixture('section-params-malformed.md'));
    expect(diagnostics.find((d) => d.code === 'SECTION_PARAMS_MALFORMED')?.line).toBe(22);
  });

  // Files that cannot be fixtures in the repository: made in a temporary directory.
  describe('special files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbook-special-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('FILE_UNREADABLE: a FIFO is refused, not read (a read would block forever)', async () => {
      const fifo = join(dir, 'fifo.md');
      execFileSync('mkfifo', [fifo]);
      const { diagnostics } = await checkRunbook(fifo);
      expect(diagnostics.map((d) => [d.code, d.line])).toEqual([['FILE_UNREADABLE', 1]]);
    });

    it('FILE_TOO_LARGE: a file over the limit is refused before it is read', async () => {
      const big = join(dir, 'big.md');
      writeFileSync(big, '');
      // Sparse: only the size is looked at.
      truncateSync(big, MAX_RUNBOOK_BYTES + 1);
      const { diagnostics } = await checkRunbook(big);
      expect(diagnostics.map((d) => [d.code, d.line])).toEqual([['FILE_TOO_LARGE', 1]]);
    });
  });

  it('every code has a case above', () => {
    // The dynamic check's codes have their cases in test/steps/check.test.ts.
    const dynamic = ['OUTPUT_MISMATCH', 'FILES_MISSING', 'REHEARSAL_FAILED', 'REHEARSAL_PRODUCTS_INVALID'];
    const covered = new Set<string>([...CASES.map((c) => c.code), 'SECTION_PARAMS_MALFORMED', 'FILE_UNREADABLE', 'FILE_TOO_LARGE', ...dynamic]);
    expect(FORMAT_CODES.filter((code) => !covered.has(code))).toEqual([]);
  });

  it('docs/FORMAT.md gives every code its meaning', () => {
    const doc = readFileSync(projectPath('docs', 'FORMAT.md'), 'utf8');
    expect(FORMAT_CODES.filter((code) => !doc.includes(`| \`${code}\` |`))).toEqual([]);
  });
});
