/**
 * Keeps the passwords and PINs typed during a run out of everything the run
 * reports. Events never carry a secret prompt's answer, but a block can still
 * print one (`ctx.say`) or put it in an error message; whatever text a run
 * shows, records or throws goes through here first.
 *
 * The secrets live in memory for the run only, and are compared as typed: a
 * block that encodes one (hex, base64) is not caught, which a review of the
 * block must.
 */
import { SECRET_TEXT } from '../secret.ts';
import type { RunEventBody } from './events.ts';

export const REDACTED = SECRET_TEXT;

/** Letters and digits: a secret next to one of these is part of a longer word, not the secret itself. */
const WORD = '[\\p{L}\\p{N}]';

function wholeWord(secret: string): RegExp {
  const escaped = secret.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`(?<!${WORD})${escaped}(?!${WORD})`, 'gu');
}

export class Redactor {
  /** Longest first, so a secret that contains another is replaced whole. */
  #secrets: string[] = [];

  /** Remembers a secret typed during the run. */
  add(secret: string): void {
    if (secret === '' || this.#secrets.includes(secret)) return;
    this.#secrets = [...this.#secrets, secret].sort((a, b) => b.length - a.length);
  }

  /**
   * `text` with every secret replaced by REDACTED, where it stands as a
   * whole: not inside a longer run of letters and digits. Replacing a PIN
   * `55` inside the serial 0007550054 would mangle the serial and, worse,
   * show the PIN's place in it to everyone watching: redaction must never
   * become an oracle for what was typed.
   */
  text(text: string): string {
    let out = text;
    for (const secret of this.#secrets) {
      if (!out.includes(secret)) continue;
      out = out.replace(wholeWord(secret), REDACTED);
    }
    return out;
  }

  /**
   * An event with its free text redacted: what blocks print, error messages,
   * questions and answers. Ids and the runbook's own text are left alone (a
   * short secret would otherwise mangle them).
   */
  event(body: RunEventBody): RunEventBody {
    if (this.#secrets.length === 0) return body;
    switch (body.type) {
      case 'output':
      case 'note':
        return { ...body, text: this.text(body.text) };
      case 'step.failed':
      case 'warning':
        return { ...body, message: this.text(body.message) };
      case 'prompt.asked':
        return { ...body, message: this.text(body.message) };
      case 'prompt.answered':
        return typeof body.answer === 'string' ? { ...body, answer: this.text(body.answer) } : body;
      case 'run.finished':
        return body.error ? { ...body, error: { ...body.error, message: this.text(body.error.message) } } : body;
      default:
        return body;
    }
  }

  /**
   * `err` itself when neither it nor its causes mention a secret; otherwise a
   * copy with the secrets redacted from the messages and stacks (the CLI
   * prints causes with `--debug`). The copy keeps the name and `code`.
   */
  error(err: unknown, depth = 0): unknown {
    if (typeof err === 'string') return this.text(err);
    if (!(err instanceof Error) || this.#secrets.length === 0) return err;
    // A cause chain is short; a cyclic one is cut rather than followed forever.
    const cause = err.cause === undefined || depth >= 8 ? undefined : this.error(err.cause, depth + 1);
    const message = this.text(err.message);
    const stack = err.stack === undefined ? undefined : this.text(err.stack);
    if (message === err.message && stack === err.stack && cause === err.cause) return err;
    const copy = new Error(message, cause === undefined ? undefined : { cause });
    copy.name = err.name;
    copy.stack = stack ?? message;
    if ('code' in err) Object.assign(copy, { code: err.code });
    return copy;
  }
}
