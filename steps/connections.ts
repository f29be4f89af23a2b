/**
 * The device in hand during one section call ("Provisioning the YubiHSM 2"
 * for YubiHSM2-1, …): opened by the section's connect step, used by the
 * steps after it, and released when its last step is done or any step
 * fails, so that performing the step again starts from a clean connection.
 */
import type { RunbookContext } from '../lib/runbook/api.ts';
import { StepError } from './errors.ts';

export class Connections<C> {
  readonly #ctx: RunbookContext<object>;
  readonly #close: (connection: C) => Promise<void>;
  readonly #open = new Map<string, C>();

  /** `close` ends a connection whatever state it is in; it must not throw. */
  constructor(ctx: RunbookContext<object>, close: (connection: C) => Promise<void>) {
    this.#ctx = ctx;
    this.#close = close;
  }

  /** Keeps `connection` for the current call's HSM, closing one left from an earlier attempt. */
  async hold(connection: C): Promise<void> {
    await this.release();
    this.#open.set(this.#ctx.hsm.id, connection);
  }

  /** The current call's connection; fails when no step of the section has connected. */
  current(): C {
    const c = this.#open.get(this.#ctx.hsm.id);
    if (c === undefined) {
      throw new StepError('STEP_NOT_CONNECTED', `${this.#ctx.hsm.id}: step ${this.#ctx.step.id} needs the device, but no earlier step of this section connected to it`);
    }
    return c;
  }

  /** Closes and forgets the current call's connection, if any. */
  async release(): Promise<void> {
    const c = this.#open.get(this.#ctx.hsm.id);
    if (c === undefined) return;
    this.#open.delete(this.#ctx.hsm.id);
    await this.#close(c);
  }

  /** Runs `work` on the current connection; if it fails, the connection is released and the error passed on. */
  async using<T>(work: (connection: C) => Promise<T>): Promise<T> {
    const c = this.current();
    try {
      return await work(c);
    } catch (err) {
      await this.release();
      throw err;
    }
  }
}
