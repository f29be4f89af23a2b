/**
 * Asking for a password or PIN until the device takes it, a bounded number
 * of times: a typo at a masked prompt must not end the ceremony, and an
 * unattended run with a wrong scripted answer must not loop.
 */
import { revealSecret, type Secret } from '../lib/secret.ts';
import type { AskSecret } from './api.ts';
import { StepError } from './errors.ts';

/** How many times a refused password or PIN is asked before the step fails. */
export const SECRET_TRIES = 3;

export interface SecretAttempt<T> {
  /** Uses the secret's characters with the device. */
  readonly use: (value: string) => Promise<T>;
  /**
   * Why the typed value cannot be right before it reaches the device (a
   * wrong form), or undefined. Checked first, so a typo costs no device retry.
   */
  readonly invalid?: (value: string) => string | undefined;
  /** True when `err` means the device refused this password or PIN. */
  readonly refused: (err: unknown) => boolean;
  /**
   * Called after a refusal, before asking again: tells the operator, and may
   * throw to stop (a PIN one try away from locking).
   */
  readonly onRefused: (tries: number) => Promise<void> | void;
  /** Tells the operator that the value does not have the right form. */
  readonly onInvalid: (why: string) => void;
  /** The device, for the final error. */
  readonly device: string;
  /** What is asked for, for messages: "the authentication key password". */
  readonly what: string;
}

/** Asks, uses, and asks again on a refusal; the secret is wiped after each try. */
export async function withSecret<T>(ask: AskSecret, attempt: SecretAttempt<T>): Promise<T> {
  let refusals = 0;
  let invalids = 0;
  for (;;) {
    const secret: Secret = await ask();
    try {
      const why = attempt.invalid === undefined ? undefined : revealSecret(secret, attempt.invalid);
      if (why !== undefined) {
        invalids++;
        if (invalids >= SECRET_TRIES) throw new StepError('STEP_SECRET_INVALID', `${attempt.device}: ${attempt.what} was typed in a wrong form ${invalids} times (${why})`);
        attempt.onInvalid(why);
        continue;
      }
      return await revealSecret(secret, attempt.use);
    } catch (err) {
      if (err instanceof StepError || !attempt.refused(err)) throw err;
      refusals++;
      if (refusals >= SECRET_TRIES) {
        throw new StepError('STEP_SECRET_REFUSED', `${attempt.device} refused ${attempt.what} ${refusals} times`, { cause: err });
      }
      await attempt.onRefused(refusals);
    } finally {
      secret.wipe();
    }
  }
}
