/**
 * Questions to the operator, behind one small interface with two sources:
 * the operator at the terminal (@inquirer/prompts) and an answers file for
 * unattended runs (answers.ts: the rehearsal, CI).
 *
 * Every prompt has a stable id, `<step id>/<name>`, so an answers file can
 * name it and a transcript can record that it was asked. The executor's own
 * prompts use fixed names: `done` (a step performed by hand), `condition`
 * (an IF asked of the operator) and `destructive` (the DANGER confirmation
 * before a destructive block).
 */
import { ExecuteError } from './execute-errors.ts';

/** The parameters of the section call the prompt is asked in (`hsm=…`). */
export type PromptScope = Readonly<Record<string, string>>;

interface PromptBase {
  /** `<step id>/<name>`. */
  readonly id: string;
  /** The question as the operator reads it. */
  readonly message: string;
  readonly scope: PromptScope;
}

export interface ConfirmRequest extends PromptBase {
  readonly default?: boolean;
  /**
   * Set on the confirmation that guards a destructive block: an answers file
   * can only give it by listing this step id under `destructive:`, never
   * through `answers:` or a pattern.
   */
  readonly destructiveStep?: string;
}

export interface SecretRequest extends PromptBase {
  /** Ask twice and require equal entries (the PSF runbook's "re-enter"). */
  readonly confirm: boolean;
  /** The second prompt's words; default `Re-enter: <message>`. */
  readonly again?: string;
}

export interface InputRequest extends PromptBase {
  readonly default?: string;
  readonly pattern?: RegExp;
  /** A valid answer in words, for the message when one does not match `pattern`. */
  readonly description?: string;
}

export interface SelectRequest extends PromptBase {
  readonly choices: readonly { readonly value: string; readonly label: string }[];
}

/**
 * Who gave an answer: the operator at the terminal, an answers file, or a
 * rehearsal answering for the operator (simulated devices' serials,
 * passwords and PINs made up for the run and never shown).
 */
export type AnswerOrigin = 'operator' | 'answers-file' | 'rehearsal';

export interface Answered<T> {
  readonly value: T;
  readonly origin: AnswerOrigin;
}

/** Where answers come from. */
export interface PromptSource {
  confirm(request: ConfirmRequest): Promise<Answered<boolean>>;
  secret(request: SecretRequest): Promise<Answered<string>>;
  input(request: InputRequest): Promise<Answered<string>>;
  select(request: SelectRequest): Promise<Answered<string>>;
}

/**
 * The name part of a prompt id when a block gives none: a slug of the
 * question, so the id stays put as long as the wording does.
 */
export function promptName(message: string): string {
  const slug = message
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  return slug === '' ? 'prompt' : slug;
}

export function promptId(stepId: string, name: string): string {
  return `${stepId}/${name}`;
}

/** True when the whole of `answer` matches `pattern` (not just a part of it). */
export function matchesWhole(pattern: RegExp, answer: string): boolean {
  const flags = pattern.flags.replace(/[gy]/g, '');
  return new RegExp(`^(?:${pattern.source})$`, flags).test(answer);
}

/** How many times a secret typed twice may mismatch before the step fails. */
export const SECRET_ATTEMPTS = 3;

/** Streams and cancellation for the interactive source. */
export interface InteractiveOptions {
  readonly input?: NodeJS.ReadableStream;
  readonly output?: NodeJS.WritableStream;
  readonly signal?: AbortSignal;
}

/**
 * The operator at the terminal, through @inquirer/prompts. Secrets are read
 * masked and exist only in the returned string: nothing here prints, logs or
 * records them.
 */
export class InteractivePromptSource implements PromptSource {
  readonly #context: InteractiveOptions;

  constructor(options: InteractiveOptions = {}) {
    this.#context = options;
  }

  async confirm(request: ConfirmRequest): Promise<Answered<boolean>> {
    const { confirm } = await import('@inquirer/prompts');
    const value = await this.#guard(request, () =>
      confirm({ message: request.message, default: request.default ?? false }, this.#context),
    );
    return { value, origin: 'operator' };
  }

  async secret(request: SecretRequest): Promise<Answered<string>> {
    const { password } = await import('@inquirer/prompts');
    // Masked, so the operator sees each keystroke land; never revealable
    // (no "toggle visibility" key): the ceremony is filmed.
    const ask = (message: string) =>
      this.#guard(request, () =>
        password(
          { message, mask: '*', toggleMask: false, validate: (v) => v.length > 0 || 'an empty entry is not accepted' },
          this.#context,
        ),
      );
    for (let attempt = 1; ; attempt++) {
      const first = await ask(request.message);
      if (!request.confirm) return { value: first, origin: 'operator' };
      const second = await ask(request.again ?? `Re-enter: ${request.message}`);
      if (first === second) return { value: first, origin: 'operator' };
      if (attempt >= SECRET_ATTEMPTS) {
        throw new ExecuteError('PROMPT_SECRET_MISMATCH', `prompt ${request.id}: the two entries differed ${attempt} times`);
      }
      this.#context.output?.write('The two entries differ; type both again.\n');
    }
  }

  async input(request: InputRequest): Promise<Answered<string>> {
    const { input } = await import('@inquirer/prompts');
    const { pattern } = request;
    const value = await this.#guard(request, () =>
      input(
        {
          message: request.message,
          ...(request.default === undefined ? {} : { default: request.default }),
          ...(pattern ? { validate: (v: string) => matchesWhole(pattern, v) || (request.description ?? `must match ${pattern.source}`) } : {}),
        },
        this.#context,
      ),
    );
    return { value, origin: 'operator' };
  }

  async select(request: SelectRequest): Promise<Answered<string>> {
    const { select } = await import('@inquirer/prompts');
    const value = await this.#guard(request, () =>
      select({ message: request.message, choices: request.choices.map((c) => ({ value: c.value, name: c.label })) }, this.#context),
    );
    return { value, origin: 'operator' };
  }

  /** Ctrl-C (or the run's signal) during a prompt cancels the step, with the prompt id. */
  async #guard<T>(request: PromptBase, ask: () => Promise<T>): Promise<T> {
    try {
      return await ask();
    } catch (err) {
      const name = err instanceof Error ? err.name : '';
      if (name === 'ExitPromptError' || name === 'AbortPromptError' || name === 'CancelPromptError') {
        throw new ExecuteError('PROMPT_CANCELLED', `prompt ${request.id} was cancelled`, { cause: err });
      }
      throw err;
    }
  }
}
