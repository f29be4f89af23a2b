/**
 * `runbook check [FILE]`: every finding as `FILE:LINE:COL CODE message`.
 * Exit 0 when clean, 1 with findings, 2 for a usage error. CI runs it on
 * RUNBOOK.md so the prose, the code and the structure cannot drift apart.
 */
import type { Command } from 'commander';
import type { CliContext } from './context.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('check')
    .description('check a runbook: format, front matter, GO TO targets and parameters, reachability, ids, a type-check of its code blocks, and a rehearsal comparing its documented output and files with what the code does')
    .argument('[file]', 'the runbook', 'RUNBOOK.md')
    .option('--json', 'print the findings as JSON')
    .option('--no-typecheck', 'skip the TypeScript type-check of code blocks')
    .option('--no-rehearse', 'skip the rehearsal on simulated HSMs that compares documented output and files with what the code does')
    .option('--pkcs11-module <path>', 'rehearse with SoftHSM2 tokens for the Nitrokey HSMs, through this module')
    .action(async (file: string, options: { json?: boolean; typecheck: boolean; rehearse: boolean; pkcs11Module?: string }) => {
      const { checkRunbook } = await import('../runbook/check/index.ts');
      const { formatDiagnostic } = await import('../runbook/diagnostics.ts');
      const { CEREMONY_API_MODULE } = await import('../../steps/index.ts');
      const checkers = [];
      if (options.rehearse) {
        const { rehearsalChecker } = await import('../../steps/rehearsal/checker.ts');
        checkers.push(rehearsalChecker(options.pkcs11Module === undefined ? {} : { pkcs11Module: options.pkcs11Module }));
      }
      // Blocks are checked against the ceremony's API (steps/api.ts): the
      // engine's context with the ceremony's steps.
      const { runbook, diagnostics } = await checkRunbook(file, {
        typecheck: options.typecheck,
        apiModule: CEREMONY_API_MODULE,
        checkers,
        staticFindingsStop: true,
      });
      if (options.json) {
        ctx.stdout.write(`${JSON.stringify({ file, ok: diagnostics.length === 0, diagnostics }, null, 2)}\n`);
      } else {
        for (const d of diagnostics) ctx.stdout.write(`${formatDiagnostic(d)}\n`);
        const steps = runbook ? runbook.sections.reduce((n, s) => n + s.steps.length, 0) : 0;
        ctx.stderr.write(diagnostics.length === 0 ? `${file}: ok (${runbook?.sections.length ?? 0} sections, ${steps} top-level steps)\n` : `${file}: ${diagnostics.length} finding${diagnostics.length === 1 ? '' : 's'}\n`);
      }
      ctx.exitCode = diagnostics.length === 0 ? 0 : 1;
    });
}
