import type { CliContext } from '../../lib/cli/context.ts';
import { main } from '../../lib/cli/main.ts';

export interface CliResult {
  /** The exit code `main` returns: 0 clean, 1 findings or failure, 2 usage error. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs one command line through the CLI's entry point in this process, with
 * what it prints captured, so tests see exactly what an operator would.
 * `interactive` says whether standard input counts as a terminal (commands
 * may only prompt when it does).
 */
export async function runCli(argv: readonly string[], options: { readonly interactive?: boolean } = {}): Promise<CliResult> {
  const captured = captureCli(options);
  const code = await main(argv, captured.ctx);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

/**
 * A CliContext whose output can be read while the command still runs (a
 * long-running command such as `runbook simulate`).
 */
export function captureCli(options: { readonly interactive?: boolean } = {}): {
  readonly ctx: CliContext;
  stdout(): string;
  stderr(): string;
} {
  let stdout = '';
  let stderr = '';
  const ctx: CliContext = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    exitCode: 0,
    interactive: options.interactive ?? false,
  };
  return { ctx, stdout: () => stdout, stderr: () => stderr };
}
