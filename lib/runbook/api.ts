/**
 * The typed API a runbook's code blocks see.
 *
 * Every fenced `ts` block in RUNBOOK.md is the body of
 *
 *     export default async function (ctx: RunbookContext, params: StepParams): Promise<unknown> { … }
 *
 * so `ctx` and `params` are in scope and nothing else is. This module is
 * type-checked with the blocks by `runbook check`, so it holds types only and
 * imports only types that import nothing heavy (inventory-types.ts): keep it
 * that way, or every block's check pays for the declarations pulled in.
 *
 * The members map onto what the operator does in the ceremony: answer a
 * yes/no question (the PSF runbook's "hit y once ready"), type a password or PIN
 * twice (the PSF runbook's "enter … re-enter"), write down a value and carry it to a
 * later step (the serial number printed on the YubiHSM 2), write a ceremony
 * product, and stop (END).
 */

import type { Secret } from '../secret.ts';
import type { HsmEntry, Inventory } from './inventory-types.ts';

export type { Secret };

export type { Curve, HsmEntry, HsmKind, Inventory } from './inventory-types.ts';

/**
 * The parameters of the current section call: what the GO TO that entered the
 * section passed, e.g. `{ hsm: 'YubiHSM2-1' }` for "remove YubiHSM2-1 … and GO
 * TO Provisioning the YubiHSM 2". Empty outside any call.
 */
export type StepParams = Readonly<Record<string, string>>;

/** Where the current step sits in the document. */
export interface StepInfo {
  /** The step's stable id: its block id, or section slug plus list ordinal. */
  readonly id: string;
  /** Slug of the section the step belongs to. */
  readonly section: string;
  /** The list ordinal path, e.g. `2.1` for the first sub-step of step 2. */
  readonly ordinal: string;
}

/** Options common to every question asked of the operator. */
export interface PromptOptions {
  /**
   * The prompt's name within its step. The prompt id, which scripted answers
   * files are keyed by, is `<step id>/<name>`. Defaults to a slug of the
   * question, so name a prompt whose wording may change.
   */
  readonly name?: string;
}

export interface ConfirmOptions extends PromptOptions {
  /** The answer when the operator just presses Enter. Defaults to no. */
  readonly default?: boolean;
}

export interface SecretOptions extends PromptOptions {
  /**
   * Ask twice and require both entries to match, as the PSF runbook does for every
   * new password and PIN ("enter", then "re-enter").
   */
  readonly confirm?: boolean;
  /** The second prompt's words when `confirm` is set, e.g. `Re-enter your NEW user PIN`. */
  readonly again?: string;
}

export interface InputOptions extends PromptOptions {
  /** The answer when the operator just presses Enter. */
  readonly default?: string;
  /**
   * The whole answer must match this pattern (e.g. `^[0-9]{1,10}$` for a
   * YubiHSM 2 serial number); the operator is asked again until it does.
   */
  readonly pattern?: RegExp;
  /**
   * What a valid answer looks like, in words, shown when one does not match
   * `pattern`: "a YubiHSM 2 serial is 1 to 10 digits".
   */
  readonly description?: string;
}

/** One choice offered by `choose`. */
export interface Choice<T extends string> {
  readonly value: T;
  /** What the operator sees; defaults to the value. */
  readonly label?: string;
}

/** A value that can be carried between steps and into the transcript. */
export type RunbookValue = string | number | boolean | Uint8Array;

/**
 * Values flowing between steps, e.g. the serial number the operator wrote
 * down in one step and compares with the program's output in another.
 *
 * Values live in the current section call: each GO TO starts a fresh scope,
 * so the second YubiHSM never sees the first one's serial number. Reads look
 * in the current call first, then in its callers; `set(…, { scope: 'run' })`
 * keeps a value for the rest of the run (e.g. to list every HSM's serial
 * number at the end). Getters check the type and fail with the key's name.
 */
export interface RunbookValues {
  has(key: string): boolean;
  set(key: string, value: RunbookValue, options?: { readonly scope?: 'call' | 'run' }): void;
  string(key: string): string;
  number(key: string): number;
  boolean(key: string): boolean;
  bytes(key: string): Uint8Array;
}

/** A runbook without ceremony steps: `ctx.steps` offers nothing. */
export type NoSteps = Readonly<Record<never, never>>;

/**
 * The context of a block. `Steps` is what `ctx.steps` offers: the operations
 * that drive HSMs, which the engine knows nothing about. The ceremony's
 * blocks are checked against steps/api.ts, which fills it in with the
 * ceremony's steps (provision a YubiHSM 2, generate Nitrokey HSM keys, …);
 * the executor is given their implementation.
 */
export interface RunbookContext<Steps extends object = NoSteps> {
  /** The ceremony's parameters from the front matter. */
  readonly inventory: Inventory;
  /** The parameters of the current section call (same object as `params`). */
  readonly params: StepParams;
  /** The current step. */
  readonly step: StepInfo;
  /**
   * The inventory entry of the HSM this section call is about, named by the
   * call's `hsm` parameter. Fails (CONTEXT_NO_HSM) when there is no such
   * parameter or the inventory does not list it.
   */
  readonly hsm: HsmEntry;
  /** Ceremony steps that drive HSMs. */
  readonly steps: Steps;
  /** Values carried between steps. */
  readonly values: RunbookValues;
  /** Where ceremony products are written (the PSF runbook's `ceremony-products/`). */
  readonly productsDir: string;
  /** Aborted when the run is interrupted; pass it to long HSM operations. */
  readonly signal: AbortSignal;

  /** A yes/no question to the operator. */
  confirm(question: string, options?: ConfirmOptions): Promise<boolean>;
  /**
   * A password or PIN, typed masked; never shown, logged or recorded. The
   * answer is a Secret: it prints as `[secret]`, and only steps/ unwraps it
   * to hand it to a device.
   */
  secret(prompt: string, options?: SecretOptions): Promise<Secret>;
  /** A line of text typed by the operator, e.g. a serial number read off a device. */
  input(prompt: string, options?: InputOptions): Promise<string>;
  /** One of a fixed set of choices. */
  choose<T extends string>(prompt: string, choices: readonly (T | Choice<T>)[], options?: PromptOptions): Promise<T>;
  /**
   * Shows text to the operator. This is the step's printed output: the
   * dynamic check compares it with the output documented under the step.
   */
  say(text: string): void;
  /**
   * Tells the operator something that depends on what just happened (a
   * device refused a PIN; type it again): shown and recorded like `say`, but
   * not part of the step's documented output.
   */
  note(text: string): void;
  /**
   * Writes a ceremony product under `productsDir`, create-exclusive and
   * atomically (never overwriting), and returns its absolute path.
   * `relativePath` must stay inside `productsDir`.
   */
  writeProduct(relativePath: string, data: Uint8Array | string): Promise<string>;
  /** END: the ceremony is complete; no later step runs. */
  end(): never;
  /** Stops the run as failed, with the reason recorded against this step. */
  abort(reason: string): never;
}
