/**
 * `runbook digest [FILE]`: the SHA-256 that pins the reviewed runbook and
 * the code it runs (see lib/runbook/digest.ts for what is covered and how).
 */
import type { Command } from 'commander';
import type { CliContext } from './context.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('digest')
    .description('print one SHA-256 over the runbook and everything it executes (bin/, steps/, lib/, package.json, package-lock.json)')
    .argument('[file]', 'the runbook', 'RUNBOOK.md')
    .option('--verbose', "also print each file's SHA-256 (sha256sum format)")
    .option('--json', 'print the digest and the files as JSON')
    .action(async (file: string, options: { verbose?: boolean; json?: boolean }) => {
      const { digestRunbook } = await import('../runbook/digest.ts');
      const digest = await digestRunbook(file);
      if (options.json) {
        ctx.stdout.write(`${JSON.stringify({ sha256: digest.sha256, files: digest.files }, null, 2)}\n`);
        return;
      }
      if (options.verbose) ctx.stdout.write(digest.manifest);
      ctx.stdout.write(`${digest.sha256}\n`);
    });
}
