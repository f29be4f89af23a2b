/**
 * The rehearsal answering for the operator. An answers file, when given,
 * answers first (any prompt, secrets included); everything else is answered
 * as an operator following the runbook would:
 *
 * - "done" for a step performed by hand, yes for an IF asked in words, yes
 *   at every DANGER confirmation (the devices are simulated);
 * - serial numbers as the bench's devices show them;
 * - passwords and PINs made up for this run, one per device and prompt name
 *   (so the YubiHSM 2 password typed at yubihsm.authkey is the one typed
 *   again at yubihsm.keys), in the form the device needs, and never shown.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { lookupAnswer, ScriptedPromptSource, type AnswersFile } from '../../lib/runbook/answers.ts';
import { ExecuteError } from '../../lib/runbook/execute-errors.ts';
import type {
  Answered,
  ConfirmRequest,
  InputRequest,
  PromptScope,
  PromptSource,
  SecretRequest,
  SelectRequest,
} from '../../lib/runbook/prompts.ts';
import { settle } from '../../lib/settle.ts';
import type { Bench } from './bench.ts';

/** The secret prompt names RUNBOOK.md uses, and the form of a made-up answer for each. */
const SECRET_FORMS: Readonly<Record<string, () => string>> = {
  /** A YubiHSM 2 authentication key password: any text; made long and random. */
  password: () => randomBytes(18).toString('base64url'),
  /** A new Nitrokey HSM SO-PIN: 16 hex digits. */
  'so-pin': () => randomBytes(8).toString('hex'),
  /** A new Nitrokey HSM user PIN: 6 to 15 characters; made 8 digits. */
  'user-pin': () => String(randomInt(10_000_000, 100_000_000)),
};

function nameOf(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1);
}

export class RehearsalPromptSource implements PromptSource {
  readonly #bench: Bench;
  readonly #file: AnswersFile | undefined;
  readonly #scripted: ScriptedPromptSource | undefined;
  /** `<hsm>/<prompt name>` → the made-up secret. */
  readonly #secrets = new Map<string, string>();

  constructor(bench: Bench, file?: AnswersFile) {
    this.#bench = bench;
    this.#file = file;
    this.#scripted = file ? new ScriptedPromptSource(file) : undefined;
  }

  /** Every password and PIN this rehearsal made up: for tests that prove none of them leaked. Never print it. */
  secretsMadeUp(): string[] {
    return [...this.#secrets.values()];
  }

  confirm(request: ConfirmRequest): Promise<Answered<boolean>> {
    if (this.#scripted && (request.destructiveStep === undefined ? this.#answered(request) : this.#file?.destructive.has(request.destructiveStep))) {
      return this.#scripted.confirm(request);
    }
    return settle(() => ({ value: true, origin: 'rehearsal' as const }));
  }

  secret(request: SecretRequest): Promise<Answered<string>> {
    if (this.#scripted && this.#answered(request)) return this.#scripted.secret(request);
    return settle(() => {
      const name = nameOf(request.id);
      const hsm = request.scope.hsm ?? '';
      if (name === 'current-so-pin') return { value: this.#bench.currentSoPin(hsm), origin: 'rehearsal' as const };
      const key = `${hsm}/${name}`;
      let value = this.#secrets.get(key);
      if (value === undefined) {
        const form = SECRET_FORMS[name];
        if (!form) throw new ExecuteError('PROMPT_UNANSWERED', `prompt ${request.id}: a rehearsal cannot make up a secret named ${name}; answer it in an answers file`);
        value = form();
        this.#secrets.set(key, value);
      }
      return { value, origin: 'rehearsal' as const };
    });
  }

  input(request: InputRequest): Promise<Answered<string>> {
    if (this.#scripted && this.#answered(request)) return this.#scripted.input(request);
    return settle(() => {
      const hsm = request.scope.hsm;
      if (nameOf(request.id) === 'serial' && hsm !== undefined) return { value: this.#bench.printedSerial(hsm), origin: 'rehearsal' as const };
      if (request.default !== undefined) return { value: request.default, origin: 'rehearsal' as const };
      throw new ExecuteError('PROMPT_UNANSWERED', `prompt ${request.id}${describe(request.scope)}: a rehearsal has no answer for it; give one in an answers file`);
    });
  }

  select(request: SelectRequest): Promise<Answered<string>> {
    if (this.#scripted && this.#answered(request)) return this.#scripted.select(request);
    return settle(() => {
      const done = request.choices.find((c) => c.value === 'done') ?? request.choices[0];
      if (!done) throw new ExecuteError('PROMPT_UNANSWERED', `prompt ${request.id} offers no choice`);
      return { value: done.value, origin: 'rehearsal' as const };
    });
  }

  #answered(request: { readonly id: string; readonly scope: PromptScope }): boolean {
    return this.#file !== undefined && lookupAnswer(this.#file, request.id, request.scope) !== undefined;
  }
}

function describe(scope: PromptScope): string {
  const parts = Object.entries(scope).map(([k, v]) => `${k}=${v}`);
  return parts.length === 0 ? '' : ` (call ${parts.join(',')})`;
}
