// Hostile input is normal input: whatever bytes a runbook holds, the parser
// and the static rules answer with findings, never an exception or a hang.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runStaticRules } from '../../lib/runbook/check/rules.ts';
import { FORMAT_CODES } from '../../lib/runbook/errors.ts';
import { parseRunbook } from '../../lib/runbook/parse.ts';
import { decodeRunbook, splitLines } from '../../lib/runbook/source.ts';

const codes = new Set<string>(FORMAT_CODES);
const FRONT = '---\ntitle: T\nhsms:\n  - id: YubiHSM2-1\n    kind: yubihsm2\n    keyType: P-256\n---\n';

// Fragments of the format, so the generator reaches the parser's corners.
const fragment = fc.constantFrom(
  '# H\n', '## Start\n', '1. ', '   ', '2) ', '- ', '**DO** ', '**IF** ', '**THEN** ', '**END**', '**GO TO** ', '[H](#h)', '[x](#nowhere)',
  ' with `hsm=YubiHSM2-1`', '`a=b c`', '```ts {id=a}\n', '```text {output}\n', '```text {files}\n', '```\n', '~~~\n', '{{serial}}', '{{', '}}',
  '**Parameters:**\n\n- `hsm`: x\n', '\n', '\n\n', '---\n', 'await ctx.confirm("y");\n', '<details>\n', '> ',
);

function checkAll(source: string) {
  const { runbook, diagnostics } = parseRunbook(source, 'R.md');
  const all = [...diagnostics, ...runStaticRules(runbook)];
  // Counted as the Markdown parser counts them: a lone CR ends a line too.
  const lines = splitLines(source).length;
  for (const d of all) {
    expect(codes.has(d.code), d.code).toBe(true);
    expect(d.line).toBeGreaterThanOrEqual(1);
    expect(d.line).toBeLessThanOrEqual(lines);
    expect(d.column).toBeGreaterThanOrEqual(1);
  }
}

describe('hostile runbooks', () => {
  it('format fragments in any order', () => {
    fc.assert(fc.property(fc.array(fragment, { maxLength: 60 }), (parts) => checkAll(FRONT + parts.join(''))), { numRuns: 400 });
  });

  it('arbitrary text, with and without front matter', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.boolean(), (text, front) => checkAll(front ? FRONT + text : text)), { numRuns: 300 });
  });

  it('arbitrary bytes are decoded or refused with a code', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const decoded = decodeRunbook('R.md', bytes);
        if ('problem' in decoded) expect(['FILE_BINARY', 'FILE_EMPTY']).toContain(decoded.problem.code);
        else checkAll(decoded.source);
      }),
      { numRuns: 300 },
    );
  });

  it('deep nesting does not overflow', () => {
    const deep = Array.from({ length: 200 }, (_, n) => `${'   '.repeat(n)}1. **DO** level ${n}\n`).join('');
    checkAll(`${FRONT}# S\n\n${deep}`);
  });

  it('never evaluates front matter that names another language (gray-matter would eval `---js`)', () => {
    const marker = '__runbookFrontMatterEvaluated';
    for (const open of ['---js', '---javascript', '--- js']) {
      const { diagnostics } = parseRunbook(`${open}\n{ title: (globalThis.${marker} = true, 't') }\n---\n# S\n\n1. **END**\n`, 'R.md');
      expect(diagnostics.map((d) => d.code)).toContain('FRONT_MATTER_MISSING');
    }
    expect(marker in globalThis).toBe(false);
  });
});
