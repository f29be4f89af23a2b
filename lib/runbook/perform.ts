/**
 * Performs a runbook file: the one function behind `runbook run`,
 * `runbook rehearse` and the dynamic half of `runbook check`.
 *
 * It reads the file once (the bytes parsed are the bytes the digest
 * describes), checks it, digests what will execute, compiles every block,
 * opens the transcript (refusing an existing one before anything happens),
 * and executes it with the given prompts and ceremony steps. The output
 * check is always attached: every step's printed output is compared with
 * the `{output}` documented under it.
 */
import { dirname, resolve } from 'node:path';
import type { Inventory, RunbookContext } from './api.ts';
import { readRunbook } from './check/index.ts';
import type { TypecheckOptions } from './check/typecheck.ts';
import { compileRunbook } from './compile.ts';
import { toError } from './diagnostics.ts';
import { digestRunbook } from './digest.ts';
import type { RunObserver } from './events.ts';
import { executeRunbook, type RunResult } from './execute.ts';
import type { Runbook } from './model.ts';
import { OutputCheck, type OutputMismatch } from './output-check.ts';
import type { PromptSource } from './prompts.ts';
import { readRunbookBytes } from './source.ts';
import { TranscriptWriter } from './transcript.ts';

export interface PerformOptions {
  /** The runbook file. */
  readonly file: string;
  readonly prompts: PromptSource;
  /** The ceremony steps offered as `ctx.steps` (steps/index.ts's `ceremonySteps`). */
  readonly steps?: (ctx: RunbookContext<object>) => object;
  /** Where products are written; default: the front matter's `products`, beside the runbook. */
  readonly productsDir?: string;
  /** A new file to record the run in, hash-chained. */
  readonly transcript?: string;
  readonly observers?: readonly RunObserver[];
  /** Start at this step id (see executeRunbook). */
  readonly from?: string;
  readonly signal?: AbortSignal;
  /** Type-check the blocks first, against this API module; no type-check when absent. */
  readonly typecheck?: TypecheckOptions;
  /** Told what is about to run, before the first step: the digest is shown to the witnesses then. */
  readonly onStart?: (start: { readonly runbook: Runbook; readonly digest: string; readonly productsDir: string }) => void | Promise<void>;
  /** Perform only this section, with these parameters (see executeRunbook). */
  readonly section?: { readonly slug: string; readonly params: Readonly<Record<string, string>> };
  /** The inventory to use instead of the front matter's. */
  readonly inventory?: Inventory;
  /** Told each documented output that differs from what its step printed, as the step finishes. */
  readonly onOutputMismatch?: (mismatch: OutputMismatch) => void;
}

export interface Performance {
  readonly runbook: Runbook;
  /** The runbook digest of what ran (`runbook digest`). */
  readonly digest: string;
  readonly productsDir: string;
  /** How the run ended, when it did not fail. */
  readonly result?: RunResult;
  /** Why it failed, when it did. */
  readonly error?: Error;
  /** The documented outputs compared, and those that differed. */
  readonly output: OutputCheck;
  readonly transcript?: { readonly path: string; readonly records: number; readonly head: string };
}

/**
 * Performs `options.file`. Throws only when the run cannot start (the file
 * cannot be read or does not check, a block does not compile, the transcript
 * exists); a run that starts and fails resolves with `error` set, after the
 * transcript is closed.
 */
export async function performRunbook(options: PerformOptions): Promise<Performance> {
  const read = await readRunbookBytes(options.file);
  if ('problem' in read) throw toError(read.problem);
  const runbook = await readRunbook(options.file, {
    bytes: read.bytes,
    typecheck: options.typecheck !== undefined,
    ...(options.typecheck ?? {}),
  });
  const digest = (await digestRunbook(options.file, undefined, read.bytes)).sha256;
  const productsDir = resolve(options.productsDir ?? resolve(dirname(options.file), runbook.frontMatter.products));
  // Compiled before the transcript is created: a block that does not compile
  // stops everything before any record exists.
  const blocks = await compileRunbook(runbook);
  const transcript = options.transcript === undefined ? undefined : await TranscriptWriter.create(options.transcript);
  const output = new OutputCheck(runbook, options.onOutputMismatch);
  let result: RunResult | undefined;
  let error: Error | undefined;
  try {
    await options.onStart?.({ runbook, digest, productsDir });
    result = await executeRunbook({
      runbook,
      prompts: options.prompts,
      productsDir,
      blocks,
      digest,
      observers: [...(transcript ? [transcript] : []), ...(options.observers ?? []), output],
      ...(options.steps === undefined ? {} : { steps: options.steps }),
      ...(options.from === undefined ? {} : { from: options.from }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.section === undefined ? {} : { section: options.section }),
      ...(options.inventory === undefined ? {} : { inventory: options.inventory }),
    });
  } catch (err) {
    // The executor reports what blocks throw as ExecuteErrors; anything else is still shown as an error.
    error = err instanceof Error ? err : new Error(String(err));
  } finally {
    await transcript?.close();
  }
  return {
    runbook,
    digest,
    productsDir,
    output,
    ...(result === undefined ? { error } : { result }),
    ...(transcript ? { transcript: { path: transcript.path, records: transcript.records, head: transcript.head } } : {}),
  };
}
