/**
 * The one context object every block of a run receives (api.ts's
 * RunbookContext), and the call frames behind it.
 *
 * The executor moves the context from step to step and from section call to
 * section call; `ctx.step`, `ctx.params` and `ctx.hsm` always describe where
 * the run is now. Values live in call frames: a GO TO starts a fresh frame,
 * so the second YubiHSM 2's section never reads the first one's serial number.
 */
import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { Secret } from '../secret.ts';
import type {
  Choice,
  ConfirmOptions,
  HsmEntry,
  InputOptions,
  Inventory,
  PromptOptions,
  RunbookContext,
  RunbookValue,
  RunbookValues,
  SecretOptions,
  StepInfo,
  StepParams,
} from './api.ts';
import type { EventBus, PromptKind } from './events.ts';
import { ExecuteError } from './execute-errors.ts';
import { promptId, promptName, type AnswerOrigin, type Answered, type PromptScope, type PromptSource } from './prompts.ts';
import type { Redactor } from './redact.ts';

/** One section call. */
export interface Frame {
  /** Numbers the calls of a run from 1 (events refer to it). */
  readonly call: number;
  readonly section: string;
  readonly params: StepParams;
  /** The call's parameters merged over its callers': what answers-file selectors match. */
  readonly scope: PromptScope;
  readonly values: Map<string, RunbookValue>;
  readonly parent: Frame | undefined;
}

/**
 * END reached (an END step, an IF … THEN END, or `ctx.end()`): unwinds every
 * call up to the executor, which ends the run as complete. Not a failure.
 */
export class EndOfRunbook extends Error {
  constructor(readonly step: string) {
    super(`END reached at step ${step}`);
    this.name = 'EndOfRunbook';
  }
}

export interface ContextOptions {
  readonly inventory: Inventory;
  readonly prompts: PromptSource;
  readonly events: EventBus;
  readonly productsDir: string;
  /** Makes what `ctx.steps` offers, once, on first use: the ceremony's steps bound to this context. */
  readonly steps: (ctx: RunbookContext<object>) => object;
  readonly signal: AbortSignal;
  /** Writes a product create-exclusive and atomically (lib/products/write.ts). */
  readonly writeProduct: (path: string, data: Uint8Array | string) => Promise<void>;
  /** Told every secret the operator types, so that no report of the run repeats it. */
  readonly redactor: Redactor;
}

/** The executor's handle on the context: where the run is. */
export class RunContext implements RunbookContext<object> {
  readonly #options: ContextOptions;
  #steps: object | undefined;
  /** Every secret handed to a block, wiped when the run ends. */
  readonly #secrets: Secret[] = [];
  #frame: Frame | undefined;
  #step: StepInfo | undefined;
  readonly values: RunbookValues;

  constructor(options: ContextOptions) {
    this.#options = options;
    this.values = new FrameValues(() => this.#frame, () => this.step.id);
  }

  // ---- where the run is (set by the executor) ----

  get frame(): Frame {
    if (!this.#frame) throw new Error('runbook: no section call is in progress');
    return this.#frame;
  }

  enter(frame: Frame): void {
    this.#frame = frame;
  }

  leave(): void {
    this.#frame = this.#frame?.parent;
  }

  at(step: StepInfo): void {
    this.#step = step;
  }

  /**
   * The current call's parameters and the text values it can read (its own
   * and its callers', nearer ones winning): what `{{name}}` placeholders in
   * documented output stand for here.
   */
  known(): Record<string, string> {
    const frames: Frame[] = [];
    for (let f = this.#frame; f; f = f.parent) frames.unshift(f);
    const known: Record<string, string> = { ...this.#frame?.scope };
    for (const frame of frames) {
      for (const [key, value] of frame.values) if (typeof value === 'string') known[key] = value;
    }
    return known;
  }

  // ---- RunbookContext ----

  get inventory(): Inventory {
    return this.#options.inventory;
  }

  get params(): StepParams {
    return this.frame.params;
  }

  get step(): StepInfo {
    if (!this.#step) throw new Error('runbook: no step is in progress');
    return this.#step;
  }

  get hsm(): HsmEntry {
    const id = this.params.hsm;
    if (id === undefined) {
      throw new ExecuteError('CONTEXT_NO_HSM', `step ${this.step.id}: section ${this.frame.section} was not called with an hsm parameter`);
    }
    const hsm = this.inventory.hsms.find((h) => h.id === id);
    if (!hsm) throw new ExecuteError('CONTEXT_NO_HSM', `step ${this.step.id}: HSM ${id} is not in the inventory`);
    return hsm;
  }

  get steps(): object {
    this.#steps ??= this.#options.steps(this);
    return this.#steps;
  }

  /** Overwrites every secret typed during the run (at its end, whatever the outcome). */
  wipeSecrets(): void {
    for (const secret of this.#secrets.splice(0)) secret.wipe();
  }

  get productsDir(): string {
    return this.#options.productsDir;
  }

  get signal(): AbortSignal {
    return this.#options.signal;
  }

  confirm(question: string, options: ConfirmOptions = {}): Promise<boolean> {
    const id = this.#promptId(question, options);
    return this.ask('confirm', id, question, (scope) =>
      this.#options.prompts.confirm({ id, message: question, scope, ...(options.default === undefined ? {} : { default: options.default }) }),
    );
  }

  async secret(prompt: string, options: SecretOptions = {}): Promise<Secret> {
    const id = this.#promptId(prompt, options);
    const value = await this.ask('secret', id, prompt, (scope) =>
      this.#options.prompts.secret({
        id,
        message: prompt,
        scope,
        confirm: options.confirm ?? false,
        ...(options.again === undefined ? {} : { again: options.again }),
      }),
    );
    const secret = Secret.of(value);
    this.#secrets.push(secret);
    return secret;
  }

  input(prompt: string, options: InputOptions = {}): Promise<string> {
    const id = this.#promptId(prompt, options);
    return this.ask('input', id, prompt, (scope) =>
      this.#options.prompts.input({
        id,
        message: prompt,
        scope,
        ...(options.default === undefined ? {} : { default: options.default }),
        ...(options.pattern === undefined ? {} : { pattern: options.pattern }),
        ...(options.description === undefined ? {} : { description: options.description }),
      }),
    );
  }

  async choose<T extends string>(prompt: string, choices: readonly (T | Choice<T>)[], options: PromptOptions = {}): Promise<T> {
    const id = this.#promptId(prompt, options);
    const list = choices.map((c) => (typeof c === 'string' ? { value: c, label: c } : { value: c.value, label: c.label ?? c.value }));
    const value = await this.ask('select', id, prompt, (scope) => this.#options.prompts.select({ id, message: prompt, scope, choices: list }));
    return value as T;
  }

  say(text: string): void {
    // Synchronous for the block's convenience; a failing observer is rethrown
    // when the executor flushes at the end of the step.
    this.#options.events.emit({ type: 'output', step: this.step.id, call: this.frame.call, text }).catch(() => undefined);
  }

  note(text: string): void {
    this.#options.events.emit({ type: 'note', step: this.step.id, call: this.frame.call, text }).catch(() => undefined);
  }

  async writeProduct(relativePath: string, data: Uint8Array | string): Promise<string> {
    const root = resolve(this.productsDir);
    const path = resolve(root, relativePath);
    const outside = () => new ExecuteError('PRODUCT_PATH_OUTSIDE', `step ${this.step.id}: product path ${relativePath} is not inside ${root}`);
    if (!isInside(root, path)) throw outside();
    // A symbolic link inside the products directory (to /etc, to another
    // ceremony's products) must not carry a product out of it: the directory
    // the file lands in, as the system resolves it, must be inside too.
    if (!isInside(await realDirectory(root), await realDirectory(dirname(path)), true)) throw outside();
    await this.#options.writeProduct(path, data);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    await this.#options.events.emit({
      type: 'product.written',
      step: this.step.id,
      call: this.frame.call,
      path,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
    });
    return path;
  }

  end(): never {
    throw new EndOfRunbook(this.step.id);
  }

  abort(reason: string): never {
    throw new ExecuteError('RUN_ABORTED', `step ${this.step.id} stopped the run: ${reason}`);
  }

  // ---- prompts, shared with the executor's own questions ----

  /**
   * Asks through the prompt source, reporting the question and the answer as
   * events. A secret's answer is never put in an event; a secret that came
   * from an answers file is reported as a warning, since a real ceremony's
   * passwords and PINs must only ever be typed.
   */
  async ask<T extends string | boolean>(
    kind: PromptKind,
    id: string,
    message: string,
    source: (scope: PromptScope) => Promise<Answered<T>>,
  ): Promise<T> {
    const ref = { step: this.step.id, call: this.frame.call };
    await this.#options.events.emit({ type: 'prompt.asked', ...ref, prompt: id, kind, message });
    const answer = await source(this.frame.scope);
    if (kind === 'secret' && typeof answer.value === 'string') this.#options.redactor.add(answer.value);
    const origin: AnswerOrigin = answer.origin;
    await this.#options.events.emit({
      type: 'prompt.answered',
      ...ref,
      prompt: id,
      kind,
      origin,
      ...(kind === 'secret' ? {} : { answer: answer.value }),
    });
    if (kind === 'secret' && origin === 'answers-file') {
      await this.#options.events.emit({
        type: 'warning',
        ...ref,
        code: 'SECRET_FROM_FILE',
        message: `prompt ${id}: secret taken from an answers file; only acceptable in a rehearsal`,
      });
    }
    return answer.value;
  }

  #promptId(message: string, options: PromptOptions): string {
    return promptId(this.step.id, options.name ?? promptName(message));
  }
}

/** True when `path` is `root` itself (if `orSame`) or below it. Both absolute and resolved. */
function isInside(root: string, path: string, orSame = false): boolean {
  const rel = relative(root, path);
  if (rel === '') return orSame;
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * The real path of `dir`: that of its deepest existing ancestor, with the
 * rest appended (the missing directories are created by the write, and
 * cannot be links yet).
 */
async function realDirectory(dir: string): Promise<string> {
  const missing: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    try {
      return resolve(await realpath(at), ...missing);
    } catch {
      if (dirname(at) === at) return dir;
      missing.unshift(relative(dirname(at), at));
    }
  }
}

/** Values in call frames: set in the current call, read from it or its callers. */
class FrameValues implements RunbookValues {
  readonly #frame: () => Frame | undefined;
  readonly #step: () => string;

  constructor(frame: () => Frame | undefined, step: () => string) {
    this.#frame = frame;
    this.#step = step;
  }

  has(key: string): boolean {
    return this.#find(key) !== undefined;
  }

  set(key: string, value: RunbookValue, options: { readonly scope?: 'call' | 'run' } = {}): void {
    const ok =
      typeof value === 'string' || typeof value === 'boolean' || value instanceof Uint8Array || (typeof value === 'number' && Number.isFinite(value));
    if (!ok) throw new ExecuteError('VALUE_TYPE', `step ${this.#step()}: value ${key} must be a string, finite number, boolean or bytes`);
    let frame = this.#frame();
    if (!frame) throw new Error('runbook: no section call is in progress');
    if (options.scope === 'run') while (frame.parent) frame = frame.parent;
    frame.values.set(key, value instanceof Uint8Array ? Uint8Array.from(value) : value);
  }

  string(key: string): string {
    return this.#typed(key, 'string', (v): v is string => typeof v === 'string');
  }

  number(key: string): number {
    return this.#typed(key, 'number', (v): v is number => typeof v === 'number');
  }

  boolean(key: string): boolean {
    return this.#typed(key, 'boolean', (v): v is boolean => typeof v === 'boolean');
  }

  bytes(key: string): Uint8Array {
    return Uint8Array.from(this.#typed(key, 'bytes', (v): v is Uint8Array => v instanceof Uint8Array));
  }

  #find(key: string): { value: RunbookValue } | undefined {
    for (let frame = this.#frame(); frame; frame = frame.parent) {
      if (frame.values.has(key)) return { value: frame.values.get(key) as RunbookValue };
    }
    return undefined;
  }

  #typed<T extends RunbookValue>(key: string, type: string, is: (v: RunbookValue) => v is T): T {
    const found = this.#find(key);
    if (!found) throw new ExecuteError('VALUE_MISSING', `step ${this.#step()}: no earlier step set value ${key}`);
    if (!is(found.value)) throw new ExecuteError('VALUE_TYPE', `step ${this.#step()}: value ${key} is not a ${type}`);
    return found.value;
  }
}
