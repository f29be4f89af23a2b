/**
 * What a block may not do to the run that calls it.
 *
 * A block runs in the runbook's own process, so two mistakes in one would end
 * the ceremony without a word, the transcript cut short and the exit status
 * possibly 0:
 *
 * - `process.exit()`: refused while a block runs. The call throws instead,
 *   and the step fails (STEP_EXIT_REFUSED) even when the block catches that.
 * - awaiting a promise that nothing can ever settle: once the event loop has
 *   nothing left to do, Node would quietly exit. Node says so first
 *   (`beforeExit`), and the step fails (STEP_STALLED) instead, so the run
 *   still records how it ended.
 *
 * A block that stays busy (a timer, an open device) is not stalled: the
 * operator interrupts it, and long operations watch `ctx.signal`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** Thrown in a block by its `process.exit(code)` call. */
export class BlockExitRefused extends Error {
  constructor(readonly exitCode: unknown) {
    const shown = typeof exitCode === 'number' || typeof exitCode === 'string' ? exitCode : '';
    super(`process.exit(${shown}) is refused while a block runs: the run would end without its record`);
    this.name = 'BlockExitRefused';
  }
}

/** The block's awaited promise can never settle: nothing is left to run. */
export class BlockStalled extends Error {
  constructor() {
    super('the block waits on something that can never happen: nothing is left to run that could settle it');
    this.name = 'BlockStalled';
  }
}

/** Per block call: whether it tried to exit. */
interface Guarded {
  exit?: { code: unknown };
}

const current = new AsyncLocalStorage<Guarded>();
/** Block calls in progress in this process; `process.exit` is replaced while there are any. */
let active = 0;
let realExit: typeof process.exit | undefined;

function guardedExit(code?: number | string | null): never {
  const call = current.getStore();
  // Outside a block (the CLI's second Ctrl-C, a test runner) exit works as always.
  if (!call) return (realExit ?? process.exit).call(process, code);
  call.exit = { code };
  throw new BlockExitRefused(code);
}

/**
 * Calls `block`, refusing `process.exit` inside it and failing with
 * BlockStalled when the process runs out of work while waiting for it.
 * Resolves with the block's result; a refused exit is thrown as
 * BlockExitRefused even when the block caught it.
 */
export async function guardBlock<T>(block: () => Promise<T>): Promise<T> {
  const call: Guarded = {};
  if (active++ === 0) {
    // Kept unbound to be put back exactly as it was; it is only ever called with `process` as `this`.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    realExit = process.exit;
    process.exit = guardedExit;
  }
  let onIdle: (() => void) | undefined;
  const stalled = new Promise<never>((_, reject) => {
    onIdle = () => reject(new BlockStalled());
  });
  process.once('beforeExit', onIdle!);
  try {
    const result = await Promise.race([current.run(call, block), stalled]);
    if (call.exit) throw new BlockExitRefused(call.exit.code);
    return result;
  } finally {
    process.off('beforeExit', onIdle!);
    if (--active === 0 && realExit) {
      process.exit = realExit;
      realExit = undefined;
    }
  }
}
