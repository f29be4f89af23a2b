/**
 * `runbook rehearse [FILE]`: the whole ceremony, unattended, on simulated
 * HSMs (steps/rehearsal/): three simulated YubiHSM 2 and three simulated
 * Nitrokey HSMs, or SoftHSM2 tokens for the Nitrokeys with
 * `--pkcs11-module`. Passwords and PINs are made up and never shown; the
 * products, the transcript and any SoftHSM2 tokens go to `--out`; the
 * products are verified at the end. Exit 0 only when the ceremony completed,
 * every documented output matched, and every product verifies.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from './context.ts';
import { interruptOnCtrlC } from './interrupt.ts';

interface RehearseOptions {
  out?: string;
  pkcs11Module?: string;
  answers?: string;
  quiet?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('rehearse')
    .description('perform the whole ceremony unattended on simulated HSMs, then verify its products')
    .argument('[file]', 'the runbook', 'RUNBOOK.md')
    .option('--out <dir>', 'a new or empty directory for the products, the transcript and any SoftHSM2 tokens (default: a new temporary directory)')
    .option('--pkcs11-module <path>', 'stand SoftHSM2 tokens in for the Nitrokey HSMs, through this module (e.g. /usr/lib/softhsm/libsofthsm2.so)')
    .option('--answers <file>', 'answers that take precedence over the rehearsal’s own (YAML, as for `run`)')
    .option('--quiet', 'print only the summary, not every step')
    .action(async (file: string, options: RehearseOptions) => {
      const { rehearse } = await import('../../steps/rehearsal/rehearse.ts');
      const { renderTable } = await import('../products/verify/index.ts');
      const { ConsoleReporter } = await import('./reporter.ts');
      const answers =
        options.answers === undefined ? undefined : await (await import('../runbook/answers.ts')).loadAnswersFile(options.answers);
      const out = options.out ?? (await mkdtemp(join(tmpdir(), 'runbook-rehearsal-')));
      const started = performance.now();
      // Stopped as `runbook run` is, the rehearsal still lays out its SoftHSM2
      // tokens and ends its transcript, for a look at how far it got.
      const interrupt = interruptOnCtrlC(ctx);
      let rehearsal;
      try {
        rehearsal = await rehearse({
          file,
          out,
          ...(options.pkcs11Module === undefined ? {} : { pkcs11Module: options.pkcs11Module }),
          ...(answers === undefined ? {} : { answers }),
          observers: options.quiet ? [] : [new ConsoleReporter(ctx)],
          signal: interrupt.signal,
          onStart: ({ digest }) => void ctx.stdout.write(`runbook digest: ${digest}\nrehearsal on ${options.pkcs11Module ? 'simulated YubiHSM 2 devices and SoftHSM2 tokens' : 'simulated HSMs'}: ${out}\n`),
          onOutputMismatch: (m) =>
            ctx.stderr.write(`runbook: ${m.at.file}:${m.at.line}: step ${m.step} printed something other than the output documented here [OUTPUT_MISMATCH]\n`),
        });
      } finally {
        interrupt.dispose();
      }
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      if (rehearsal.verification) ctx.stdout.write(`\n${renderTable(rehearsal.verification)}`);
      const t = rehearsal.transcript;
      ctx.stdout.write('\n');
      if (t) ctx.stdout.write(`transcript: ${t.path} (${t.records} records, head sha256 ${t.head})\n`);
      ctx.stdout.write(`products:   ${rehearsal.productsDir}\n`);
      const conf = rehearsal.bench.softhsmConf;
      if (conf) ctx.stdout.write(`tokens:     SOFTHSM2_CONF=${conf} pkcs11-tool --module ${options.pkcs11Module} --list-slots\n`);
      const { matched, unproven, mismatches } = rehearsal.output;
      ctx.stdout.write(`outputs:    ${matched} documented outputs matched, ${mismatches.length} differed, ${unproven} not printed by code\n`);
      if (rehearsal.error !== undefined) throw rehearsal.error;
      if (rehearsal.ok) {
        ctx.stdout.write(`rehearsal: the ceremony completed and every product verifies (${seconds} s)\n`);
      } else {
        ctx.stdout.write(`rehearsal FAILED: ${mismatches.length > 0 ? 'the runbook and the code disagree' : 'the products do not verify'} (${seconds} s)\n`);
        ctx.exitCode = 1;
      }
    });
}
