// The dynamic half of `runbook check`: RUNBOOK.md rehearsed on the bench, and
// each disagreement between the document and the code reported at its line.
// Each case edits one thing in a copy of RUNBOOK.md.
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectPath } from '../../lib/paths.ts';
import { checkRunbook } from '../../lib/runbook/check/index.ts';
import { rehearsalChecker } from '../../steps/rehearsal/checker.ts';

const original = readFileSync(projectPath('RUNBOOK.md'), 'utf8');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A copy of RUNBOOK.md with `from` replaced by `to`, and the line `to` starts on. */
async function edited(from: string, to: string): Promise<{ file: string; line: number }> {
  expect(original).toContain(from);
  const text = original.replace(from, to);
  const dir = await mkdtemp(join(tmpdir(), 'runbook-dynamic-'));
  dirs.push(dir);
  const file = join(dir, 'RUNBOOK.md');
  writeFileSync(file, text);
  return { file, line: text.slice(0, text.indexOf(to)).split('\n').length };
}

async function findings(file: string) {
  const { diagnostics } = await checkRunbook(file, { typecheck: false, checkers: [rehearsalChecker()] });
  return diagnostics.map((d) => [d.code, d.line]);
}

describe('runbook check, dynamic half', () => {
  it('RUNBOOK.md as it is: the document and the code agree', async () => {
    expect(await findings(projectPath('RUNBOOK.md'))).toEqual([]);
  });

  it('OUTPUT_MISMATCH at the documented line the code does not print', async () => {
    const { file, line } = await edited('   Success! Reinitialized the HSM.\n', '   Success! The HSM was wiped.\n');
    expect(await findings(file)).toEqual([['OUTPUT_MISMATCH', line]]);
  });

  it('FILES_MISSING at a file list naming a file no step writes', async () => {
    const from = '    ceremony-products/{{serial}}/{{serial}}_targets_pubkey.pem\n    ```\n15. **DO** unplug the YubiHSM 2.';
    const { file, line } = await edited(from, `    ceremony-products/{{serial}}/{{serial}}_targets_pubkey.pem\n    ceremony-products/{{serial}}/{{serial}}_backup.bin\n    \`\`\`\n15. **DO** unplug the YubiHSM 2.`);
    // The block starts one line above the edit; the finding names the block.
    expect(await findings(file)).toEqual([['FILES_MISSING', line - 1]]);
  });

  it('REHEARSAL_FAILED at the line of a block that stops the run', async () => {
    const from = '   await ctx.steps.nitrokey.connect();\n';
    const { file, line } = await edited(from, "   ctx.abort('the reader is broken');\n");
    expect(await findings(file)).toEqual([['REHEARSAL_FAILED', line]]);
  });

  it('REHEARSAL_PRODUCTS_INVALID when what the ceremony wrote does not verify', async () => {
    // A stray file among the products, and no verification step left inside the ceremony to catch it first.
    const from = '    ```ts {id=prepare.verify}\n    await ctx.steps.verifyProducts();\n    ```\n';
    const { file } = await edited(from, "    ```ts {id=prepare.verify}\n    await ctx.writeProduct('notes.txt', 'a stray file');\n    ```\n");
    expect(await findings(file)).toEqual([['REHEARSAL_PRODUCTS_INVALID', 1]]);
  });
});
