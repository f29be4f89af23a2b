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
import { CliError } from './errors.ts';

interface RunOptions {
  answers?: string;
  transcript?: string;
  from?: string;
  products?: string;
  typecheck?: boolean;
  simulate?: boolean;
  connector?: string;
  pkcs11Module?: string;
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
      if (options.answers === undefined && !ctx.interactive) {
        throw new CliError('CLI_USAGE', 'standard input is not a terminal: nobody could answer the prompts; pass --answers FILE for an unattended run');
      }
      if (options.simulate && (options.connector !== undefined || options.pkcs11Module !== undefined)) {
        throw new CliError('CLI_USAGE', '--simulate uses simulated HSMs only: it takes neither --connector nor --pkcs11-module');
      }
      const { performRunbook } = await import('../runbook/perform.ts');
      const { readRunbook } = await import('../runbook/check/index.ts');
      const { ceremonySteps, deviceHardware, CEREMONY_API_MODULE } = await import('../../steps/index.ts');
      const { ConsoleReporter } = await import('./reporter.ts');

      let prompts;
      if (options.answers !== undefined) {
        const { loadAnswersFile, ScriptedPromptSource } = await import('../runbook/answers.ts');
        prompts = new ScriptedPromptSource(await loadAnswersFile(options.answers));
      } else {
        const { InteractivePromptSource } = await import('../runbook/prompts.ts');
        prompts = new InteractivePromptSource({ output: process.stdout });
      }

      let hardware;
      const observers = [];
      if (options.simulate) {
        const { Bench } = await import('../../steps/rehearsal/bench.ts');
        const inventory = (await readRunbook(file)).frontMatter;
        const bench = await Bench.create({ inventory });
        hardware = bench;
        observers.push(bench.observer);
        // What the operator would read off each device's casing or screen.
        ctx.stdout.write('SIMULATED HSMs: no real device is touched. Serial numbers on the simulated devices:\n');
        for (const hsm of inventory.hsms) ctx.stdout.write(`  ${hsm.id}: ${bench.printedSerial(hsm.id)}\n`);
      } else {
        hardware = deviceHardware({
          ...(options.connector === undefined ? {} : { connector: options.connector }),
          ...(options.pkcs11Module === undefined ? {} : { pkcs11Module: options.pkcs11Module }),
        });
      }

      // Ctrl-C between prompts stops the run before the next step (a prompt
      // handles its own Ctrl-C); a second one stops the process at once.
      const interrupt = new AbortController();
      // Taken now: while a block runs, `process.exit` is the guard that
      // refuses it to the block (lib/runbook/block-guard.ts).
      const exit = process.exit.bind(process);
      const onSigint = () => {
        if (interrupt.signal.aborted) exit(130);
        ctx.stderr.write('\nrunbook: stopping after the current operation (Ctrl-C again to stop at once)\n');
        interrupt.abort(new Error('interrupted by the operator'));
      };
      process.on('SIGINT', onSigint);
      let performance;
      try {
        performance = await performRunbook({
          file,
          prompts,
          steps: ceremonySteps(hardware),
          signal: interrupt.signal,
          observers: [...observers, new ConsoleReporter(ctx)],
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
        process.off('SIGINT', onSigint);
      }
      const t = performance.transcript;
      // The head pins the whole record: a witness writes it down, and
      // verifying against it shows that nothing was changed or cut off.
      if (t) ctx.stdout.write(`transcript: ${t.path} (${t.records} records, head sha256 ${t.head})\n`);
      if (performance.error !== undefined) throw performance.error;
    });
}
