/**
 * `runbook run [FILE]`: performs the ceremony with the operator, step by
 * step, on the real devices, or with `--simulate` on the rehearsal's
 * simulated ones, so that the operator and the witnesses can practise and
 * see exactly what the real ceremony will show.
 *
 * The operator answers at the terminal; `--answers FILE` answers from a
 * file instead, for unattended runs and CI (never a real ceremony's
 * passwords or PINs). Without a terminal and without `--answers` nobody
 * could answer, so that is a usage error rather than a hang.
 */
import type { Command } from 'commander';
import type { CliContext } from './context.ts';
import { promptsAndHardware, type HardwareFlags } from './device.ts';
import { interruptOnCtrlC } from './interrupt.ts';

interface RunOptions extends HardwareFlags {
  transcript?: string;
  from?: string;
  products?: string;
  typecheck?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('perform a runbook with the operator, step by step')
    .argument('[file]', 'the runbook', 'RUNBOOK.md')
    .option('--answers <file>', 'answer prompts from this YAML file (rehearsals and CI only: never real passwords or PINs)')
    .option('--from <step>', 'start at this step id; earlier steps are passed over, not performed')
    .option('--products <dir>', "where products are written (default: the front matter's `products`, beside the runbook)")
    .option('--transcript <file>', 'record the run in this new file, hash-chained, and print its head hash at the end')
    .option('--typecheck', 'type-check the code blocks before running (as `runbook check` does)')
    .option('--simulate', 'perform the ceremony on simulated HSMs, with every prompt, to practise it')
    .option('--connector <url>', 'reach the YubiHSM 2 through this yubihsm-connector instead of USB')
    .option('--pkcs11-module <path>', "the PKCS#11 module for the Nitrokey HSM (default: OpenSC's)")
    .action(async (file: string, options: RunOptions) => {
      const { prompts, hardware, bench } = await promptsAndHardware(ctx, options, async () => {
        const { readRunbook } = await import('../runbook/check/index.ts');
        return (await readRunbook(file)).frontMatter;
      });
      const { performRunbook } = await import('../runbook/perform.ts');
      const { ceremonySteps, CEREMONY_API_MODULE } = await import('../../steps/index.ts');
      const { ConsoleReporter } = await import('./reporter.ts');

      const interrupt = interruptOnCtrlC(ctx);
      let performance;
      try {
        performance = await performRunbook({
          file,
          prompts,
          steps: ceremonySteps(hardware),
          signal: interrupt.signal,
          // The bench plugs each simulated device in as its section is entered.
          observers: [...(bench ? [bench.observer] : []), new ConsoleReporter(ctx)],
          ...(options.typecheck ? { typecheck: { apiModule: CEREMONY_API_MODULE } } : {}),
          ...(options.products === undefined ? {} : { productsDir: options.products }),
          ...(options.transcript === undefined ? {} : { transcript: options.transcript }),
          ...(options.from === undefined ? {} : { from: options.from }),
          // Shown before anything happens, so the witnesses can compare it
          // with the digest pinned at the pre-ceremony.
          onStart: ({ digest }) => void ctx.stdout.write(`runbook digest: ${digest}\n`),
          // What a step prints should be what the runbook says it prints;
          // a difference is told to the operator at once, without stopping.
          onOutputMismatch: (m) =>
            ctx.stderr.write(
              `runbook: warning: ${m.at.file}:${m.at.line}: step ${m.step} printed something other than the output documented here [OUTPUT_MISMATCH]\n`,
            ),
        });
      } finally {
        interrupt.dispose();
      }
      const t = performance.transcript;
      // The head pins the whole record: a witness writes it down, and
      // verifying against it shows that nothing was changed or cut off.
      if (t) ctx.stdout.write(`transcript: ${t.path} (${t.records} records, head sha256 ${t.head})\n`);
      if (performance.error !== undefined) throw performance.error;
    });
}
