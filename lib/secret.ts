/**
 * A password or PIN as a value that cannot be shown.
 *
 * `ctx.secret` hands a block a Secret, never a string: printed, interpolated
 * into a template, joined, logged, inspected or serialized, it reads
 * `[secret]`. Only code that passes it to a device unwraps it, through
 * `revealSecret`, for the duration of one call; steps/ does, blocks cannot
 * (they see only `ctx` and `params`, and this function is not on either).
 *
 * The characters are kept in a Buffer that `wipe` overwrites with zeros, so
 * the copy this object holds does not outlive the step that used it. The
 * strings a device library needs (PBKDF2's input, C_Login's PIN) are
 * JavaScript strings, which the platform cannot wipe: they live only as long
 * as the call that reveals them.
 */
import { inspect } from 'node:util';

/** What a secret shows wherever it is turned into text. */
export const SECRET_TEXT = '[secret]';

export class Secret {
  #bytes: Buffer;
  #wiped = false;

  private constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** A secret holding `value` (as typed at a masked prompt). */
  static of(value: string): Secret {
    return new Secret(Buffer.from(value, 'utf8'));
  }

  /** True once `wipe` has run: the secret can no longer be revealed. */
  get wiped(): boolean {
    return this.#wiped;
  }

  /** Overwrites the characters with zeros. Revealing a wiped secret fails. */
  wipe(): void {
    this.#bytes.fill(0);
    this.#wiped = true;
  }

  /** True when both secrets hold the same characters (the "re-enter" check), without revealing either. */
  equals(other: Secret): boolean {
    return !this.#wiped && !other.#wiped && this.#bytes.equals(other.#bytes);
  }

  toString(): string {
    return SECRET_TEXT;
  }

  toJSON(): string {
    return SECRET_TEXT;
  }

  [Symbol.toPrimitive](): string {
    return SECRET_TEXT;
  }

  [inspect.custom](): string {
    return SECRET_TEXT;
  }

  /** @internal the one way in; see revealSecret. */
  static reveal<T>(secret: Secret, use: (value: string) => T): T {
    if (secret.#wiped) throw new Error('a wiped secret cannot be used again');
    return use(secret.#bytes.toString('utf8'));
  }
}

/**
 * Calls `use` with the secret's characters. For code that hands a secret to
 * a device (steps/, the CLI's device commands), never for code that reports.
 */
export function revealSecret<T>(secret: Secret, use: (value: string) => T): T {
  return Secret.reveal(secret, use);
}

/** True for a Secret (a block may be handed one through a value it did not type). */
export function isSecret(value: unknown): value is Secret {
  return value instanceof Secret;
}
