/**
 * Ctrl-C during a run (`runbook run`, `rehearse`, the device commands): the
 * first one asks the run to stop before its next step (and a device
 * operation that watches the signal at once), so that it still records how
 * it ended; a second one stops the process at once. A prompt handles its own
 * Ctrl-C.
 */
import type { CliContext } from './context.ts';

/** The exit status of a process stopped by SIGINT (128 + 2), as a shell reports it. */
const SIGINT_EXIT = 130;

export interface Interrupt {
  /** Aborted at the first Ctrl-C. */
  readonly signal: AbortSignal;
  /** Removes the handler: Ctrl-C is the process's own again. */
  dispose(): void;
}

/** Installs the Ctrl-C handler; call `dispose` once the run is over, whatever its outcome. */
export function interruptOnCtrlC(ctx: Pick<CliContext, 'stderr'>): Interrupt {
  const controller = new AbortController();
  // Taken now, before any block runs: while one does, `process.exit` is the
  // guard that refuses it to the block (lib/runbook/block-guard.ts).
  const exit = process.exit.bind(process);
  const onSigint = () => {
    if (controller.signal.aborted) exit(SIGINT_EXIT);
    ctx.stderr.write('\nrunbook: stopping after the current operation (Ctrl-C again to stop at once)\n');
    controller.abort(new Error('interrupted by the operator'));
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => void process.off('SIGINT', onSigint) };
}
