import { main } from '../../lib/cli/main.ts';
import type { CliContext } from '../../lib/cli/context.ts';

/** Runs one command line in-process, capturing what it prints. */
export async function runCli(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const ctx: CliContext = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    exitCode: 0,
    interactive: false,
  };
  const status = await main(argv, ctx);
  return { status, stdout, stderr };
}
