/**
 * A section's steps performed outside a runbook, on one device: what the
 * subcommands that redo one device's part of the ceremony (`runbook yubihsm
 * provision`, `runbook nitrokey provision`, `runbook nitrokey keygen`) run on.
 *
 * They call the same ceremony steps RUNBOOK.md's blocks call, through the
 * engine's own context (context.ts's RunContext), under the step ids of the
 * runbook's blocks: every prompt has the id it has in the runbook
 * (`yubihsm.authkey/password`), so an answers file is written the same way,
 * and a destructive step is confirmed as the runbook's `destructive` blocks
 * are (an answers file lists it under `destructive:`). What the steps print,
 * the products they write, the questions and scripted answers go to the
 * observers as the events of a run; every secret typed is redacted from them
 * and from the error that stops the work, and wiped at the end.
 */
import { RunbookError, isRunbookError } from '../errors.ts';
import { writeProduct as writeProductFile } from '../products/write.ts';
import type { HsmEntry, Inventory, RunbookContext } from './api.ts';
import { RunContext, type Frame } from './context.ts';
import { EventBus, type RunObserver } from './events.ts';
import { ExecuteError } from './execute-errors.ts';
import { promptId, type PromptSource } from './prompts.ts';
import { Redactor } from './redact.ts';

/** The runbook section whose steps are performed. */
export interface StandaloneSection {
  /** Its anchor in RUNBOOK.md, e.g. `provisioning-the-yubihsm-2`. */
  readonly slug: string;
  /** Its heading. */
  readonly title: string;
}

/** One step of the section, as RUNBOOK.md has it. */
export interface StandaloneStep {
  /** The id of the step's block in RUNBOOK.md (`yubihsm.reset`): prompt ids start with it. */
  readonly id: string;
  /** Its ordinal in the section (`8`). */
  readonly ordinal: string;
  /** What the operator does, as a sentence (shown as the step starts, after DO, and in the DANGER question). */
  readonly instruction: string;
  /** The block is `destructive`: it runs only once the operator confirms this very step. */
  readonly destructive?: boolean;
}

export interface StandaloneOptions<S extends object> {
  /** The one device: an ad-hoc inventory entry (`{ id: 'yubihsm', kind: 'yubihsm2', keyType: 'P-256' }`). */
  readonly hsm: HsmEntry;
  readonly section: StandaloneSection;
  readonly prompts: PromptSource;
  /** Where products are written. */
  readonly productsDir: string;
  /** Makes `ctx.steps`, bound to the context (steps/index.ts's `ceremonySteps(hardware)`). */
  readonly steps: (ctx: RunbookContext<object>) => S;
  /** Told every event: what the steps print, products written, questions and scripted answers. */
  readonly observers?: readonly RunObserver[];
  /** Aborting it stops the work at the next step (RUN_INTERRUPTED), and long device operations at once. */
  readonly signal?: AbortSignal;
  /** Replaces lib/products/write.ts (create-exclusive and atomic). */
  readonly writeProduct?: (path: string, data: Uint8Array | string) => Promise<void>;
}

/** The section call in progress. */
export interface StandaloneRun<S extends object> {
  /** The context the steps are bound to: its values (`serial`) and the device's entry. */
  readonly ctx: RunbookContext<S>;
  /**
   * Performs one step: the context moves to it, it is reported as started,
   * a destructive one is confirmed first, then `work` runs with the steps.
   */
  perform<T>(step: StandaloneStep, work: (steps: S, ctx: RunbookContext<S>) => Promise<T> | T): Promise<T>;
}

/** The one call frame: the section called with `hsm` set to the entry's id. */
const CALL = 1;

/**
 * Builds the context for `options.hsm`, enters the section, and runs `work`
 * in it. Secrets typed are wiped whatever the outcome; an error is rethrown
 * with every secret typed redacted from it (its code kept).
 */
export async function withStandaloneContext<S extends object, T>(
  options: StandaloneOptions<S>,
  work: (run: StandaloneRun<S>) => Promise<T>,
): Promise<T> {
  const { hsm, section } = options;
  const redactor = new Redactor();
  const abort = new AbortController();
  const outer = options.signal;
  const onAbort = () => abort.abort(outer?.reason);
  if (outer?.aborted) onAbort();
  outer?.addEventListener('abort', onAbort, { once: true });

  const inventory: Inventory = { title: section.title, products: options.productsDir, hsms: [hsm] };
  // The bus asks the context what placeholders stand for; the context is made just below.
  const view = { known: () => context.known() };
  const bus = new EventBus(options.observers ?? [], view, undefined, (body) => redactor.event(body));
  const context: RunContext = new RunContext({
    inventory,
    prompts: options.prompts,
    events: bus,
    productsDir: options.productsDir,
    steps: options.steps,
    signal: abort.signal,
    writeProduct: options.writeProduct ?? writeProductFile,
    redactor,
  });
  // RunContext makes `steps` with `options.steps`, which returns S: only the type is lost.
  const ctx = context as unknown as RunbookContext<S>;
  const params = Object.freeze({ hsm: hsm.id });
  const frame: Frame = { call: CALL, section: section.slug, params, scope: params, values: new Map(), parent: undefined };

  const confirmDestructive = async (step: StandaloneStep): Promise<void> => {
    const id = promptId(step.id, 'destructive');
    const message = `DANGER (${step.id}): ${step.instruction} This cannot be undone. Go ahead?`;
    const go = await context.ask('confirm', id, message, (scope) =>
      options.prompts.confirm({ id, message, scope, default: false, destructiveStep: step.id }),
    );
    if (!go) throw new ExecuteError('DESTRUCTIVE_DECLINED', `step ${step.id}: the operator did not confirm the destructive step`, { step: step.id });
  };

  const run: StandaloneRun<S> = {
    ctx,
    async perform(step, stepWork) {
      if (abort.signal.aborted) {
        throw new ExecuteError('RUN_INTERRUPTED', `interrupted before step ${step.id}`, { cause: abort.signal.reason, step: step.id });
      }
      context.at({ id: step.id, section: section.slug, ordinal: step.ordinal });
      const ref = { step: step.id, call: CALL };
      await bus.emit({
        type: 'step.started',
        ...ref,
        section: section.slug,
        ordinal: step.ordinal,
        kind: 'do',
        text: `DO ${step.instruction.charAt(0).toLowerCase()}${step.instruction.slice(1)}`,
        depth: 0,
        params,
      });
      try {
        if (step.destructive === true) await confirmDestructive(step);
        const result = await stepWork(ctx.steps, ctx);
        // What the step printed reached every observer (a failing one stops here).
        await bus.flush();
        await bus.emit({ type: 'step.finished', ...ref, performed: true });
        return result;
      } catch (err) {
        const failure = isRunbookError(err) ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
        await bus.emit({ type: 'step.failed', ...ref, ...failure }).catch(() => undefined);
        throw err;
      }
    },
  };

  try {
    await bus.emit({ type: 'section.entered', call: CALL, section: section.slug, title: section.title, params, depth: 0 });
    context.enter(frame);
    const result = await work(run);
    context.leave();
    await bus.emit({ type: 'section.left', call: CALL, section: section.slug });
    return result;
  } catch (err) {
    // Stops whatever a step left running (long device operations watch the signal).
    abort.abort(err);
    throw redacted(err, redactor);
  } finally {
    outer?.removeEventListener('abort', onAbort);
    context.wipeSecrets();
  }
}

/**
 * `err` with no secret typed during the work in it. Step messages never
 * carry one; this is the second line of defence the executor has too, and
 * keeps the code, so the CLI still prints `message [CODE]`.
 */
function redacted(err: unknown, redactor: Redactor): unknown {
  const copy = redactor.error(err);
  if (copy === err || !isRunbookError(err)) return copy;
  return new RunbookError(err.code, redactor.text(err.message), err.cause === undefined ? undefined : { cause: redactor.error(err.cause) });
}
