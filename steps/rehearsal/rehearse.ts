/**
 * `runbook rehearse`: the whole ceremony, unattended, on the bench's
 * simulated devices, then its products proven as `runbook verify` proves
 * published ones. The engine, the steps, the prompts' ids and the runbook are
 * those of the real ceremony; only the hardware and the operator's answers
 * are stand-ins (bench.ts, answers.ts).
 *
 * Everything goes into one directory: the products (under the front matter's
 * `products` name), the transcript, and with SoftHSM2 the tokens and their
 * softhsm2.conf.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AnswersFile } from '../../lib/runbook/answers.ts';
import type { TypecheckOptions } from '../../lib/runbook/check/typecheck.ts';
import type { RunObserver } from '../../lib/runbook/events.ts';
import type { Inventory } from '../../lib/runbook/inventory-types.ts';
import type { OutputMismatch } from '../../lib/runbook/output-check.ts';
import type { PromptSource } from '../../lib/runbook/prompts.ts';
import { performRunbook, type Performance } from '../../lib/runbook/perform.ts';
import { readRunbook } from '../../lib/runbook/check/index.ts';
import { verifyProducts, type VerificationReport } from '../../lib/products/verify/index.ts';
import { ceremonySteps } from '../index.ts';
import { StepError } from '../errors.ts';
import { RehearsalPromptSource } from './answers.ts';
import { Bench } from './bench.ts';

export interface RehearseOptions {
  /** The runbook file. */
  readonly file: string;
  /** A new or empty directory for everything the rehearsal makes. */
  readonly out: string;
  /** A SoftHSM2 module: the Nitrokey HSMs are SoftHSM2 tokens kept in `out`. */
  readonly pkcs11Module?: string;
  /** Answers that take precedence over the rehearsal's own, secrets included. */
  readonly answers?: AnswersFile;
  readonly observers?: readonly RunObserver[];
  readonly signal?: AbortSignal;
  readonly typecheck?: TypecheckOptions;
  /** Record the run in `out/transcript.jsonl` (default true). */
  readonly transcript?: boolean;
  readonly onStart?: (start: { readonly digest: string; readonly productsDir: string }) => void | Promise<void>;
  readonly onOutputMismatch?: (mismatch: OutputMismatch) => void;
  /** A bench made beforehand (tests reach its devices' fault hooks); one is made from the inventory otherwise. */
  readonly bench?: Bench;
  /** Stands between the rehearsal's answers and the run (tests play an operator who mistypes). */
  readonly prompts?: (rehearsal: PromptSource) => PromptSource;
}

export interface Rehearsal extends Performance {
  readonly out: string;
  readonly bench: Bench;
  /** The products proven after the run; absent when the run failed before any product could be. */
  readonly verification?: VerificationReport;
  /** Every password and PIN the rehearsal made up (for tests proving none leaked; never print it). */
  readonly secrets: readonly string[];
  /** The ceremony completed, every documented output matched, and every product verifies. */
  readonly ok: boolean;
}

export async function rehearse(options: RehearseOptions): Promise<Rehearsal> {
  const out = resolve(options.out);
  await mkdir(out, { recursive: true });
  if ((await readdir(out)).length > 0) {
    throw new StepError('STEP_PRODUCTS_EXIST', `${out} is not empty: a rehearsal starts in a new or empty directory, and never overwrites one`);
  }
  // The inventory decides the bench; the run reads the file again (once, with its digest).
  const inventory: Inventory = (await readRunbook(options.file)).frontMatter;
  const bench = options.bench ?? (await Bench.create({
    inventory,
    ...(options.pkcs11Module === undefined ? {} : { softhsm: { module: options.pkcs11Module, dir: out } }),
  }));
  const prompts = new RehearsalPromptSource(bench, options.answers);
  const productsDir = join(out, inventory.products);
  let performance: Performance;
  try {
    performance = await performRunbook({
      file: options.file,
      prompts: options.prompts ? options.prompts(prompts) : prompts,
      productsDir,
      steps: ceremonySteps(bench),
      observers: [bench.observer, ...(options.observers ?? [])],
      ...(options.transcript === false ? {} : { transcript: join(out, 'transcript.jsonl') }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.typecheck === undefined ? {} : { typecheck: options.typecheck }),
      ...(options.onStart === undefined ? {} : { onStart: options.onStart }),
      ...(options.onOutputMismatch === undefined ? {} : { onOutputMismatch: options.onOutputMismatch }),
    });
  } finally {
    await bench.laidOut();
  }
  // A runbook that wrote no product (one that is not a key ceremony) has nothing to verify.
  const wroteProducts = (await readdir(productsDir).catch(() => [])).length > 0;
  const verification =
    performance.result === undefined || !wroteProducts
      ? undefined
      : await verifyProducts([productsDir], { inventory, allowSimulated: true, requireAttestation: bench.kind !== 'softhsm2' });
  const ok = performance.result !== undefined && performance.output.mismatches.length === 0 && (verification === undefined ? !wroteProducts : verification.ok);
  return { ...performance, out, bench, secrets: prompts.secretsMadeUp(), ok, ...(verification ? { verification } : {}) };
}
