/**
 * Performs a runbook with the operator: the engine behind `runbook run` and
 * the rehearsal.
 *
 * The run follows the PSF runbook's notation (its "Notation" section):
 * - **DO**: perform the step. A step with a code block runs the block; a step
 *   without one is performed by the operator, who confirms it done or says it
 *   failed (which stops the run).
 * - **IF** condition **THEN** action: the condition is computed by the step's
 *   `when` block, or else asked of the operator as a yes/no question in the
 *   condition's own words; the action is performed only when it holds.
 * - **GO TO** a section: perform that section with the parameters the GO TO
 *   passes (which HSM), then come back and go on with the next step: a call,
 *   as in "remove YubiHSM2-1 … and GO TO Provisioning the YubiHSM 2", done
 *   once per device. A GO TO into a section already being performed is
 *   refused (GOTO_CYCLE): the ceremony has no loops.
 * - **END**: the ceremony is complete; no later step runs, in this section or
 *   in any caller.
 *
 * The run starts in the runbook's entry section (the PSF runbook's "Start"); other
 * sections run only when called. Steps run in document order, sub-steps
 * after their step's own action. Blocks marked `destructive` (the PSF runbook's
 * DANGER banners: factory resets) run only after the operator confirms that
 * very step.
 */
import type { Inventory, RunbookContext } from './api.ts';
import { BlockExitRefused, BlockStalled, guardBlock } from './block-guard.ts';
import { compileRunbook, type CompiledBlock } from './compile.ts';
import { EndOfRunbook, RunContext, type Frame } from './context.ts';
import { EventBus, type RunObserver } from './events.ts';
import { ExecuteError } from './execute-errors.ts';
import { allSteps, findSection, type CodeBlock, type GoTo, type Runbook, type Section, type Step } from './model.ts';
import type { AnswerOrigin, PromptSource } from './prompts.ts';
import { Redactor } from './redact.ts';
import { isRunbookError } from '../errors.ts';
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { matchFiles } from './expected.ts';

export interface ExecuteOptions {
  readonly runbook: Runbook;
  readonly prompts: PromptSource;
  /** Where products are written; normally the inventory's `products`, resolved against the runbook's directory. */
  readonly productsDir: string;
  readonly observers?: readonly RunObserver[];
  /**
   * Makes the ceremony steps offered to blocks as `ctx.steps`, bound to the
   * run's context (steps/ for the PSF ceremony). Called once, on first use.
   */
  readonly steps?: (ctx: RunbookContext<object>) => object;
  /**
   * Start at this step id instead of the beginning: earlier steps are passed
   * over (not performed), following GO TOs so that the step is reached with
   * its call's parameters, e.g. resuming at the GO TO for the third HSM.
   */
  readonly from?: string;
  /** Aborting it interrupts the run (RUN_INTERRUPTED) at the next step or prompt. */
  readonly signal?: AbortSignal;
  /** Blocks already compiled (compileRunbook); compiled here otherwise. */
  readonly blocks?: ReadonlyMap<string, CompiledBlock>;
  /** Replaces lib/products/write.ts (tests use it to watch writes). */
  readonly writeProduct?: (path: string, data: Uint8Array | string) => Promise<void>;
  /**
   * The runbook digest (`runbook digest`) of what is being performed. It is
   * recorded in `run.started`, so a transcript names the exact runbook and
   * code that ran, and witnesses can compare it with the pinned one.
   */
  readonly digest?: string;
  /**
   * Perform this one section, called with these parameters, instead of the
   * runbook's entry: a device's section on its own, outside a full ceremony
   * (`runbook yubihsm provision` re-provisions one YubiHSM 2 through the
   * runbook's own "Provisioning the YubiHSM 2").
   */
  readonly section?: { readonly slug: string; readonly params: Readonly<Record<string, string>> };
  /** The inventory the run uses instead of the front matter's (a device given on the command line). */
  readonly inventory?: Inventory;
}

export interface RunResult {
  /** `ended` when an END was reached, `completed` when the entry section ran to its last step. */
  readonly outcome: 'completed' | 'ended';
  /** Steps performed (IFs whose condition did not hold, and skipped steps, excluded). */
  readonly performed: number;
}

/** Choices offered for a step the operator performs by hand. */
const DONE = 'done';
const FAILED = 'failed';

/**
 * Performs `runbook` from its entry section. Resolves with how it ended;
 * rejects with an ExecuteError (or the error of the area that failed) naming
 * the step, after reporting `step.failed` and `run.finished` to observers.
 */
export async function executeRunbook(options: ExecuteOptions): Promise<RunResult> {
  const run = new Run(options);
  return run.perform();
}

class Run {
  readonly #options: ExecuteOptions;
  readonly #bus: EventBus;
  readonly #abort = new AbortController();
  /** The secrets typed in this run, kept out of every event and error. */
  readonly #redactor = new Redactor();
  #ctx!: RunContext;
  #blocks!: ReadonlyMap<string, CompiledBlock>;
  #calls = 0;
  #performed = 0;
  /** Set while passing over steps on the way to `--from`. */
  #skipping: string | undefined;
  /** Errors already reported as `step.failed`, so enclosing steps do not report them again. */
  readonly #reported = new WeakSet<object>();

  constructor(options: ExecuteOptions) {
    this.#options = options;
    this.#bus = new EventBus(
      options.observers ?? [],
      { known: () => (this.#ctx as RunContext | undefined)?.known() ?? {} },
      undefined,
      (body) => this.#redactor.event(body),
    );
    this.#skipping = options.from;
  }

  async perform(): Promise<RunResult> {
    const { runbook, from } = this.#options;
    if (from !== undefined && ![...allSteps(runbook)].some((s) => s.id === from)) {
      throw new ExecuteError('FROM_STEP_UNKNOWN', `${runbook.file}: there is no step ${from}`);
    }
    // Compile everything first: a block that does not compile stops the run
    // before the first step, not halfway through the ceremony.
    this.#blocks = this.#options.blocks ?? (await compileRunbook(runbook));

    const outer = this.#options.signal;
    const onAbort = () => this.#abort.abort(outer?.reason);
    if (outer?.aborted) onAbort();
    outer?.addEventListener('abort', onAbort, { once: true });

    const writeProduct =
      this.#options.writeProduct ?? (async (path: string, data: Uint8Array | string) => (await import('../products/write.ts')).writeProduct(path, data));
    this.#ctx = new RunContext({
      inventory: this.#options.inventory ?? runbook.frontMatter,
      prompts: this.#options.prompts,
      events: this.#bus,
      productsDir: this.#options.productsDir,
      steps: this.#options.steps ?? (() => ({})),
      signal: this.#abort.signal,
      writeProduct,
      redactor: this.#redactor,
    });

    const { digest } = this.#options;
    await this.#bus.emit({
      type: 'run.started',
      file: runbook.file,
      entry: runbook.entry,
      ...(digest === undefined ? {} : { digest }),
      ...(from === undefined ? {} : { from }),
    });
    try {
      let outcome: RunResult['outcome'] = 'completed';
      try {
        const only = this.#options.section;
        if (only) {
          const section = findSection(runbook, only.slug);
          if (!section) throw new ExecuteError('GOTO_UNKNOWN_SECTION', `${runbook.file}: no heading has the anchor #${only.slug}`);
          await this.#call(section, only.params, undefined);
        } else {
          const entry = runbook.entry === undefined ? undefined : findSection(runbook, runbook.entry);
          if (entry) await this.#call(entry, {}, undefined);
        }
      } catch (err) {
        if (!(err instanceof EndOfRunbook)) throw err;
        outcome = 'ended';
      }
      if (this.#skipping !== undefined) {
        throw new ExecuteError('FROM_STEP_NOT_REACHED', `${runbook.file}: the run never reached step ${this.#skipping}`);
      }
      await this.#bus.emit({ type: 'run.finished', outcome, performed: this.#performed });
      return { outcome, performed: this.#performed };
    } catch (err) {
      // Stop whatever a block left running (long HSM operations watch ctx.signal).
      this.#abort.abort(err);
      await this.#bus
        .emit({ type: 'run.finished', outcome: 'failed', performed: this.#performed, error: describe(err) })
        .catch(() => undefined);
      throw err;
    } finally {
      outer?.removeEventListener('abort', onAbort);
      this.#ctx.wipeSecrets();
    }
  }

  /** GO TO: performs `section` in a new call frame, then returns to the caller. */
  async #call(section: Section, params: Readonly<Record<string, string>>, caller: Step | undefined): Promise<void> {
    const parent = caller ? this.#ctx.frame : undefined;
    for (let f = parent; f; f = f.parent) {
      if (f.section === section.slug) {
        const chain = [];
        for (let g: Frame | undefined = parent; g; g = g.parent) chain.unshift(g.section);
        throw new ExecuteError(
          'GOTO_CYCLE',
          `${this.#options.runbook.file}:${caller?.goto?.position.line ?? section.position.line}: step ${caller?.id} goes to ${section.slug}, ` +
            `which is already being performed (${[...chain, section.slug].join(' → ')})`,
        );
      }
    }
    const frame: Frame = {
      call: ++this.#calls,
      section: section.slug,
      params: Object.freeze({ ...params }),
      scope: Object.freeze({ ...parent?.scope, ...params }),
      values: new Map(),
      parent,
    };
    await this.#bus.emit({
      type: 'section.entered',
      call: frame.call,
      section: section.slug,
      title: section.title,
      params: frame.params,
      depth: depthOf(frame),
      ...(caller ? { caller: caller.id } : {}),
    });
    this.#ctx.enter(frame);
    await this.#steps(section.steps);
    this.#ctx.leave();
    await this.#bus.emit({ type: 'section.left', call: frame.call, section: section.slug });
  }

  async #steps(steps: readonly Step[]): Promise<void> {
    for (const step of steps) await this.#step(step);
  }

  async #step(step: Step): Promise<void> {
    if (this.#skipping === step.id) this.#skipping = undefined;
    this.#ctx.at({ id: step.id, section: step.section, ordinal: step.ordinal });
    const ref = { step: step.id, call: this.#ctx.frame.call };

    if (this.#skipping !== undefined) {
      // On the way to --from: perform nothing, ask nothing, but look for the
      // step inside sub-steps and called sections.
      await this.#bus.emit({ type: 'step.skipped', ...ref, reason: 'before-from' });
      await this.#steps(step.substeps);
      if (step.goto) await this.#call(this.#target(step, step.goto), step.goto.params, step);
      return;
    }

    this.#interrupted(step);
    await this.#bus.emit({
      type: 'step.started',
      ...ref,
      section: step.section,
      ordinal: step.ordinal,
      kind: step.kind,
      text: step.text,
      depth: depthOf(this.#ctx.frame),
      params: this.#ctx.frame.params,
    });
    let performed: boolean;
    try {
      performed = await this.#perform(step);
      if (performed) this.#performed++;
      // Restore the position: sub-steps and called sections moved it.
      this.#ctx.at({ id: step.id, section: step.section, ordinal: step.ordinal });
      await this.#bus.flush();
      await this.#bus.emit({ type: 'step.finished', ...ref, performed });
    } catch (err) {
      if (err instanceof EndOfRunbook) {
        this.#performed++;
        await this.#bus.emit({ type: 'step.finished', ...ref, performed: true });
        throw err;
      }
      if (typeof err === 'object' && err !== null && !this.#reported.has(err)) {
        this.#reported.add(err);
        await this.#bus.emit({ type: 'step.failed', ...ref, ...describe(err) }).catch(() => undefined);
      }
      throw err;
    }
    if (performed && step.ends) throw new EndOfRunbook(step.id);
  }

  /** Performs one step; false when it was an IF whose condition did not hold. */
  async #perform(step: Step): Promise<boolean> {
    switch (step.kind) {
      case 'end':
        return true;
      case 'goto':
        await this.#goto(step);
        return true;
      case 'do':
        await this.#action(step);
        return true;
      case 'if':
        // When the condition does not hold, the action (and an END or GO TO
        // in it) is not performed.
        if (!(await this.#condition(step))) return false;
        await this.#action(step);
        return true;
    }
  }

  /** A DO's or a held IF's action: its block or the operator's hands, its file list checked, then its sub-steps, then its GO TO. */
  async #action(step: Step): Promise<void> {
    if (step.code) await this.#run(step, step.code);
    else if (step.manual !== undefined) await this.#byHand(step, step.manual);
    if (step.files.length > 0) await this.#checkFiles(step);
    await this.#steps(step.substeps);
    await this.#goto(step);
  }

  /**
   * The step's `{files}` blocks against the disk (the PSF runbook's "check
   * for the following files"): every listed path must exist, placeholders
   * bound to the run's values (`{{serial}}`). Paths that start with the
   * front matter's `products` directory name are looked up in the run's
   * products directory, wherever `--products` put it.
   */
  async #checkFiles(step: Step): Promise<void> {
    const productsName = this.#options.runbook.frontMatter.products.replace(/\/+$/, '');
    const present = (await listFiles(this.#options.productsDir)).map((f) => `${productsName}/${f}`);
    const known = this.#ctx.known();
    for (const block of step.files) {
      const result = matchFiles(block.text, present, known);
      if (!result.ok) {
        const at = block.position;
        throw new ExecuteError(
          'FILES_MISSING',
          `${at.file}:${at.line}: step ${step.id}: ${result.missing.length === 1 ? 'this file is' : 'these files are'} not in ${this.#options.productsDir}: ${result.missing.join(', ')}`,
          { step: step.id, at },
        );
      }
      await this.#bus.emit({ type: 'files.checked', step: step.id, call: this.#ctx.frame.call, files: normalizedLines(block.text).length });
    }
  }

  async #goto(step: Step): Promise<void> {
    if (!step.goto) return;
    await this.#call(this.#target(step, step.goto), step.goto.params, step);
  }

  #target(step: Step, goto: GoTo): Section {
    const section = findSection(this.#options.runbook, goto.slug);
    if (!section) {
      throw new ExecuteError(
        'GOTO_UNKNOWN_SECTION',
        `${goto.position.file}:${goto.position.line}: step ${step.id} goes to #${goto.slug}, which no heading has`,
      );
    }
    return section;
  }

  /** An IF's condition: computed by its `when` block, or asked of the operator in its own words. */
  async #condition(step: Step): Promise<boolean> {
    const ref = { step: step.id, call: this.#ctx.frame.call };
    if (step.when) {
      const result = await this.#invoke(step, step.when);
      if (typeof result !== 'boolean') {
        throw new ExecuteError(
          'CONDITION_NOT_BOOLEAN',
          `${step.when.position.file}:${step.when.position.line}: step ${step.id}'s condition block returned ${typeof result}, not a boolean`,
        );
      }
      await this.#bus.emit({ type: 'condition', ...ref, holds: result, by: 'code' });
      return result;
    }
    const question = conditionQuestion(step);
    const id = `${step.id}/condition`;
    let origin: AnswerOrigin = 'operator';
    const holds = await this.#ctx.ask('confirm', id, question, async (scope) => {
      const answer = await this.#options.prompts.confirm({ id, message: question, scope });
      origin = answer.origin;
      return answer;
    });
    await this.#bus.emit({ type: 'condition', ...ref, holds, by: origin });
    return holds;
  }

  /** A step the operator performs by hand: they confirm it done, or report that it failed. */
  async #byHand(step: Step, what: string): Promise<void> {
    const id = `${step.id}/done`;
    const message = `${what} Done?`;
    const choices = [
      { value: DONE, label: 'Done' },
      { value: FAILED, label: 'It failed: stop the ceremony here' },
    ];
    const answer = await this.#ctx.ask('select', id, message, (scope) => this.#options.prompts.select({ id, message, scope, choices }));
    if (answer === FAILED) {
      throw new ExecuteError('STEP_REPORTED_FAILED', `${step.position.file}:${step.position.line}: the operator reported that step ${step.id} failed`, {
        step: step.id,
        at: step.position,
      });
    }
  }

  /** An action block; a destructive one only after the operator confirms this very step. */
  async #run(step: Step, block: CodeBlock): Promise<void> {
    if (block.attrs.destructive === true) {
      const id = `${step.id}/destructive`;
      // The PSF runbook's DANGER banners: the operator reads what is about to be
      // destroyed and says yes to this step, not to steps in general.
      const message = `DANGER (${step.id}): ${step.instruction ?? step.text} This cannot be undone. Go ahead?`;
      const go = await this.#ctx.ask('confirm', id, message, (scope) =>
        this.#options.prompts.confirm({ id, message, scope, default: false, destructiveStep: step.id }),
      );
      if (!go) {
        throw new ExecuteError('DESTRUCTIVE_DECLINED', `step ${step.id}: the operator did not confirm the destructive step`, { step: step.id, at: block.fence });
      }
    }
    await this.#invoke(step, block);
  }

  /**
   * Calls a block; its failure stops the run at the block's Markdown line:
   * STEP_FAILED for what the block threw, the context's own code (a missing
   * answer, a value never set, a product path outside) for the context's
   * errors, and STEP_EXIT_REFUSED or STEP_STALLED for what block-guard.ts
   * refuses. No message repeats a secret typed during the run.
   */
  async #invoke(step: Step, block: CodeBlock): Promise<unknown> {
    const compiled = this.#blocks.get(block.id);
    if (!compiled) throw new ExecuteError('BLOCK_COMPILE_FAILED', `block ${block.id} was not compiled`);
    this.#interrupted(step);
    try {
      return await guardBlock(() => compiled.run(this.#ctx, this.#ctx.params));
    } catch (err) {
      // ctx.end() is how a block ends the ceremony, not a failure.
      if (err instanceof EndOfRunbook) throw err;
      const located = compiled.locate(err);
      const at = { file: block.position.file, ...(located ?? { line: block.position.line, column: block.position.column }) };
      const where = `${at.file}:${at.line}:${at.column}: step ${step.id}`;
      const cause = this.#redactor.error(err);
      if (err instanceof ExecuteError) {
        if (err.at) throw err;
        throw new ExecuteError(err.code, `${at.file}:${at.line}:${at.column}: ${this.#redactor.text(err.message)}`, { cause, step: step.id, at });
      }
      if (err instanceof BlockExitRefused) throw new ExecuteError('STEP_EXIT_REFUSED', `${where}: ${err.message}`, { cause, step: step.id, at });
      if (err instanceof BlockStalled) throw new ExecuteError('STEP_STALLED', `${where}: ${err.message}`, { cause, step: step.id, at });
      const reason = this.#redactor.text(shown(err));
      const code = isRunbookError(err) ? ` [${err.code}]` : '';
      throw new ExecuteError('STEP_FAILED', `${where} failed: ${reason}${code}`, { cause, step: step.id, at });
    }
  }

  #interrupted(step: Step): void {
    if (this.#abort.signal.aborted) {
      throw new ExecuteError('RUN_INTERRUPTED', `the run was interrupted before step ${step.id} finished`, { cause: this.#abort.signal.reason });
    }
  }
}

/** What a block threw, as text. A block may throw anything, even a value that refuses to become a string. */
function shown(err: unknown): string {
  try {
    return err instanceof Error ? String(err.message) : String(err);
  } catch {
    return `a thrown ${typeof err} that cannot be shown as text`;
  }
}

/** Every regular file below `dir`, as `/`-separated paths relative to it; none when it does not exist. */
async function listFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

function normalizedLines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.trim() !== '');
}

function depthOf(frame: Frame): number {
  let depth = 0;
  for (let f = frame.parent; f; f = f.parent) depth++;
  return depth;
}

/** The yes/no question for an IF asked of the operator: its condition, in its own words. */
function conditionQuestion(step: Step): string {
  const condition = (step.condition ?? step.text).trim().replace(/[.?]+$/, '');
  return `${condition.charAt(0).toUpperCase()}${condition.slice(1)}?`;
}

function describe(err: unknown): { code: string; message: string } {
  if (isRunbookError(err)) return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: shown(err) };
}
