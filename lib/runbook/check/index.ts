/**
 * `runbook check`: parse, then every checker, findings sorted by line. Also
 * `readRunbook`, for the commands that use a runbook (run, rehearse): they
 * must refuse one that the check would reject.
 */
import { sortDiagnostics, toError, type Diagnostic } from '../diagnostics.ts';
import type { Runbook } from '../model.ts';
import { loadRunbook } from '../parse.ts';
import type { Checker } from './checker.ts';
import { STATIC_RULES } from './rules.ts';
import { typecheckChecker, type TypecheckOptions } from './typecheck.ts';

export type { Checker, CheckerOptions } from './checker.ts';

export interface CheckOptions extends TypecheckOptions {
  /** Type-check the code blocks (default true). */
  readonly typecheck?: boolean;
  /** More checkers after the built-in ones (the dynamic check plugs in here). */
  readonly checkers?: readonly Checker[];
  readonly signal?: AbortSignal;
  /** The runbook's bytes, already read by the caller; read from `file` otherwise. */
  readonly bytes?: Uint8Array;
  /**
   * Run the extra `checkers` only when the built-in ones found nothing: a
   * rehearsal of a runbook that does not parse or type-check would only
   * repeat those findings.
   */
  readonly staticFindingsStop?: boolean;
}

export interface CheckResult {
  /** Undefined when the file could not be read at all. */
  readonly runbook?: Runbook;
  readonly diagnostics: readonly Diagnostic[];
}

export async function checkRunbook(file: string, options: CheckOptions = {}): Promise<CheckResult> {
  const { runbook, diagnostics } = await loadRunbook(file, options.bytes);
  if (!runbook) return { diagnostics };
  return { runbook, diagnostics: await checkParsed(runbook, diagnostics, options) };
}

/** The checkers over an already parsed runbook, after the parse's own findings. */
export async function checkParsed(runbook: Runbook, parsed: readonly Diagnostic[], options: CheckOptions = {}): Promise<Diagnostic[]> {
  const found = [...parsed];
  const builtIn = [...STATIC_RULES, ...(options.typecheck === false ? [] : [typecheckChecker(options)])];
  const run = async (checkers: readonly Checker[]) => {
    for (const checker of checkers) {
      options.signal?.throwIfAborted();
      await checker.check(runbook, (d) => found.push(d), options.signal ? { signal: options.signal } : {});
    }
  };
  await run(builtIn);
  if (!(options.staticFindingsStop === true && found.length > 0)) await run(options.checkers ?? []);
  return sortDiagnostics(found);
}

/**
 * A runbook ready to execute: parsed and statically checked (the type-check
 * is left to `runbook check`, which CI runs; pass `typecheck: true` to
 * repeat it). Throws a RunbookFormatError for the first finding.
 */
export async function readRunbook(file: string, options: CheckOptions = {}): Promise<Runbook> {
  const { runbook, diagnostics } = await checkRunbook(file, { typecheck: false, ...options });
  // No runbook means the file could not be read, which is always a finding.
  const [first] = diagnostics;
  if (first) throw toError(first);
  if (runbook) return runbook;
  throw toError({ code: 'FILE_UNREADABLE', file, line: 1, column: 1, message: 'cannot read the file' });
}
