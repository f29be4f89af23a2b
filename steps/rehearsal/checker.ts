/**
 * The dynamic half of `runbook check`: the runbook is rehearsed on the
 * bench, and every place where the document and the code disagree is a
 * finding at its Markdown line.
 *
 * - a step printed something other than its `{output}` (OUTPUT_MISMATCH, at
 *   the first documented line that differs);
 * - a file a `{files}` block lists was not there (FILES_MISSING, at the block);
 * - the rehearsal stopped (REHEARSAL_FAILED, at the line it stopped at);
 * - the products do not verify (REHEARSAL_PRODUCTS_INVALID, at the front matter).
 *
 * The rehearsal happens in a temporary directory that is removed afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Checker } from '../../lib/runbook/check/checker.ts';
import { diagnostic } from '../../lib/runbook/diagnostics.ts';
import { allSteps, type Runbook, type SourcePosition } from '../../lib/runbook/model.ts';
import { rehearse } from './rehearse.ts';

export interface RehearsalCheckOptions {
  /** SoftHSM2 tokens instead of simulated SmartCard-HSMs. */
  readonly pkcs11Module?: string;
}

export function rehearsalChecker(options: RehearsalCheckOptions = {}): Checker {
  return {
    name: 'rehearsal',
    async check(runbook, report, checkerOptions) {
      const out = await mkdtemp(join(tmpdir(), 'runbook-check-'));
      try {
        const rehearsal = await rehearse({
          file: runbook.file,
          out: join(out, 'rehearsal'),
          transcript: false,
          ...(options.pkcs11Module === undefined ? {} : { pkcs11Module: options.pkcs11Module }),
          ...(checkerOptions.signal === undefined ? {} : { signal: checkerOptions.signal }),
        });
        // A section performed once per device differs once per device: one finding per line.
        const seen = new Set<string>();
        for (const m of rehearsal.output.mismatches) {
          const key = `${m.at.line}:${m.at.column}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const printed = m.printed.split('\n').slice(0, 3).join(' / ');
          report(diagnostic('OUTPUT_MISMATCH', m.at, `step ${m.step} printed something else: ${JSON.stringify(printed)}`));
        }
        if (rehearsal.error !== undefined) report(failure(runbook, rehearsal.error));
        const verification = rehearsal.verification;
        if (verification && !verification.ok) {
          report(
            diagnostic('REHEARSAL_PRODUCTS_INVALID', { file: runbook.file, line: 1, column: 1 }, `the rehearsal's products do not verify: ${verification.summary.codes.join(', ')}`),
          );
        }
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    },
  };
}

/** Where a rehearsal that stopped stopped, as a finding: at the line the error names, or at its step. */
function failure(runbook: Runbook, err: unknown): ReturnType<typeof diagnostic> {
  const e = err as { code?: unknown; message?: unknown; at?: SourcePosition; step?: string };
  const code = typeof e.code === 'string' ? e.code : 'INTERNAL';
  const message = typeof e.message === 'string' ? e.message : String(err);
  const step = e.step === undefined ? undefined : [...allSteps(runbook)].find((s) => s.id === e.step);
  const at = e.at ?? step?.position ?? { file: runbook.file, line: 1, column: 1 };
  return diagnostic(code === 'FILES_MISSING' ? 'FILES_MISSING' : 'REHEARSAL_FAILED', { file: runbook.file, line: at.line, column: at.column }, `${message} [${code}]`);
}
