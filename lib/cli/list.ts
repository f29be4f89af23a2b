/**
 * `runbook list [FILE]`: the step tree with each step's id, the names a
 * transcript and a scripted-answers file use.
 */
import type { Command } from 'commander';
import type { CliContext } from './context.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('list')
    .description('print the step tree of a runbook with step ids')
    .argument('[file]', 'the runbook', 'RUNBOOK.md')
    .option('--json', 'print the sections and steps as JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      const { loadRunbook } = await import('../runbook/parse.ts');
      const { formatDiagnostic } = await import('../runbook/diagnostics.ts');
      const { renderTree } = await import('../runbook/tree.ts');
      const { runbook, diagnostics } = await loadRunbook(file);
      if (runbook) {
        ctx.stdout.write(options.json ? `${JSON.stringify({ file, entry: runbook.entry, sections: runbook.sections }, null, 2)}\n` : renderTree(runbook));
      }
      // The tree is printed even when the parse found problems (it helps to
      // find them), but the exit status says the runbook is not usable.
      for (const d of diagnostics) ctx.stderr.write(`${formatDiagnostic(d)}\n`);
      ctx.exitCode = diagnostics.length === 0 ? 0 : 1;
    });
}
