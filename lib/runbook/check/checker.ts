import type { Diagnostic } from '../diagnostics.ts';
import type { Runbook } from '../model.ts';

/**
 * One pass of `runbook check` over a parsed runbook. The static rules
 * (rules.ts) and the TypeScript type-check (typecheck.ts) are checkers; the
 * dynamic check plugs in the same way: a rehearsal checker runs the whole
 * ceremony against simulated HSMs and reports, through `report`, every step
 * whose real output or files do not match its `{output}` / `{files}` blocks
 * (compared with `matchExpected` / `matchFiles` from expected.ts), at the
 * block's line.
 *
 * A checker must not throw for a problem in the runbook: it reports it. A
 * throw means the checker itself failed and aborts the check.
 */
export interface Checker {
  /** Short name, shown with `--debug` and used to select checkers. */
  readonly name: string;
  check(runbook: Runbook, report: (finding: Diagnostic) => void, options: CheckerOptions): void | Promise<void>;
}

export interface CheckerOptions {
  /** Aborted when the check is cancelled (a rehearsal may take a while). */
  readonly signal?: AbortSignal;
}
