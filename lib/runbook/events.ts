/**
 * What happens during a run, as structured events.
 *
 * The executor reports everything it does through observers: the CLI prints
 * the steps from them, the transcript records them (hash-chained), and the
 * dynamic check compares each step's `output` events with the output the
 * runbook documents under that step. Observers are awaited in order, event by
 * event, so a transcript that cannot be written stops the ceremony before
 * the next step, never after it.
 *
 * Events never carry a secret: a prompt for a password or PIN is recorded as
 * asked and answered, never with what was typed, and a secret that a block
 * prints or puts in an error is redacted before any observer sees it
 * (redact.ts).
 */
import type { StepParams } from './api.ts';
import type { AnswerOrigin } from './prompts.ts';
import type { StepKind } from './model.ts';

/** The kinds of question a prompt asks. */
export type PromptKind = 'confirm' | 'secret' | 'input' | 'select';

/** Where a step is being performed: which section call, how deep. */
export interface StepRef {
  /** The step id. */
  readonly step: string;
  /** The section call the step runs in (see `section.entered`). */
  readonly call: number;
}

export type RunEventBody =
  | {
      readonly type: 'run.started';
      readonly file: string;
      readonly entry: string | undefined;
      /** The runbook digest of what runs (see lib/runbook/digest.ts). */
      readonly digest?: string;
      readonly from?: string;
    }
  | {
      readonly type: 'section.entered';
      /** Numbers the calls of a run from 1 (the entry section); steps refer to it. */
      readonly call: number;
      readonly section: string;
      readonly title: string;
      readonly params: StepParams;
      /** 0 for the entry section, +1 per GO TO. */
      readonly depth: number;
      /** The GO TO step that made the call; absent for the entry section. */
      readonly caller?: string;
    }
  | { readonly type: 'section.left'; readonly call: number; readonly section: string }
  | (StepRef & {
      readonly type: 'step.started';
      readonly section: string;
      readonly ordinal: string;
      readonly kind: StepKind;
      readonly text: string;
      readonly depth: number;
      readonly params: StepParams;
    })
  /** A step passed over on the way to `--from`. */
  | (StepRef & { readonly type: 'step.skipped'; readonly reason: 'before-from' })
  /** An IF's condition, and who decided it. */
  | (StepRef & { readonly type: 'condition'; readonly holds: boolean; readonly by: AnswerOrigin | 'code' })
  /** `performed` is false for an IF whose condition did not hold. */
  | (StepRef & { readonly type: 'step.finished'; readonly performed: boolean })
  | (StepRef & { readonly type: 'step.failed'; readonly code: string; readonly message: string })
  | (StepRef & {
      readonly type: 'prompt.asked';
      readonly prompt: string;
      readonly kind: PromptKind;
      readonly message: string;
    })
  | (StepRef & {
      readonly type: 'prompt.answered';
      readonly prompt: string;
      readonly kind: PromptKind;
      readonly origin: AnswerOrigin;
      /** The answer, except for secrets, whose answer is never recorded. */
      readonly answer?: string | boolean;
    })
  /** Text shown to the operator by a block (`ctx.say`): the step's printed output. */
  | (StepRef & { readonly type: 'output'; readonly text: string })
  /** Something the operator is told that is not the step's documented output (ctx.note). */
  | (StepRef & { readonly type: 'note'; readonly text: string })
  /** A step's `{files}` block held: every file it lists is present. */
  | (StepRef & { readonly type: 'files.checked'; readonly files: number })
  | (StepRef & { readonly type: 'product.written'; readonly path: string; readonly sha256: string; readonly bytes: number })
  | (Partial<StepRef> & { readonly type: 'warning'; readonly code: WarningCode; readonly message: string })
  | {
      readonly type: 'run.finished';
      readonly outcome: 'completed' | 'ended' | 'failed';
      /** Steps performed (IFs whose condition did not hold excluded). */
      readonly performed: number;
      readonly error?: { readonly code: string; readonly message: string };
    };

export type WarningCode =
  /** A password or PIN came from an answers file: acceptable in a rehearsal only. */
  'SECRET_FROM_FILE';

/** Every event carries its place in the run and when it happened. */
export type RunEvent = RunEventBody & {
  /** 1, 2, 3, … in the order the events happened. */
  readonly seq: number;
  /** ISO 8601 time. */
  readonly at: string;
};

/**
 * What an observer may ask about the run as an event is delivered, beyond the
 * event itself.
 */
export interface RunView {
  /**
   * What placeholders such as `{{hsm}}` and `{{serial}}` in the runbook's
   * documented output stand for at this point of the run: the parameters of
   * the current section call and the text values visible to it. The dynamic
   * check fills documented output with these before comparing.
   */
  known(): Readonly<Record<string, string>>;
}

const NO_VIEW: RunView = { known: () => ({}) };

/** Receives a run's events, in order. A throw stops the run. */
export interface RunObserver {
  onEvent(event: RunEvent, view: RunView): void | Promise<void>;
}

/**
 * Hands events to observers one at a time, in order. `emit` may be called
 * from synchronous code (`ctx.say`): a failure there is kept and rethrown by
 * the next `flush`, so it still stops the run at the current step.
 */
export class EventBus {
  readonly #observers: readonly RunObserver[];
  readonly #view: RunView;
  readonly #clock: () => Date;
  readonly #redact: (body: RunEventBody) => RunEventBody;
  #seq = 0;
  #chain: Promise<void> = Promise.resolve();
  #failure: { error: unknown } | undefined;

  /** `redact` runs over every event before any observer sees it (redact.ts: the run's secrets). */
  constructor(
    observers: readonly RunObserver[],
    view: RunView = NO_VIEW,
    clock: () => Date = () => new Date(),
    redact: (body: RunEventBody) => RunEventBody = (body) => body,
  ) {
    this.#observers = observers;
    this.#view = view;
    this.#clock = clock;
    this.#redact = redact;
  }

  emit(body: RunEventBody): Promise<void> {
    const event = { ...this.#redact(body), seq: ++this.#seq, at: this.#clock().toISOString() } as RunEvent;
    const next = this.#chain.then(async () => {
      if (this.#failure) return;
      for (const observer of this.#observers) await observer.onEvent(event, this.#view);
    });
    this.#chain = next.catch((error: unknown) => {
      this.#failure ??= { error };
    });
    return this.flush();
  }

  /** Waits for every event so far to be delivered; rethrows an observer's failure. */
  async flush(): Promise<void> {
    await this.#chain;
    if (this.#failure) throw this.#failure.error;
  }
}
