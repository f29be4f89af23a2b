/**
 * What the commands that reach HSMs share: who answers the prompts and
 * which hardware is reached (`runbook run` and the device commands), and one
 * section of RUNBOOK.md performed on one device outside a full ceremony
 * (`yubihsm provision`, `nitrokey provision|keygen`).
 *
 * Only types are imported here at load time: the command modules import this
 * one, and `runbook --help` must stay a cold start (main.ts).
 */
import { resolve } from 'node:path';
import type { HsmEntry, Inventory } from '../runbook/api.ts';
import type { RunObserver } from '../runbook/events.ts';
import type { PromptSource } from '../runbook/prompts.ts';
import type { StandaloneRun, StandaloneSection } from '../runbook/standalone.ts';
import type { CeremonySteps } from '../../steps/api.ts';
import type { Hardware } from '../../steps/hardware.ts';
import type { Bench } from '../../steps/rehearsal/bench.ts';
import type { CliContext } from './context.ts';
import { CliError } from './errors.ts';
import { interruptOnCtrlC } from './interrupt.ts';

/** The flags that say who answers the prompts and which hardware is reached. */
export interface HardwareFlags {
  answers?: string;
  simulate?: boolean;
  connector?: string;
  pkcs11Module?: string;
}

/** Who answers the prompts, and what the steps reach. */
export interface PromptsAndHardware {
  readonly prompts: PromptSource;
  readonly hardware: Hardware;
  /** With `--simulate`: the bench the simulated devices are on (`hardware` itself), none plugged in yet. */
  readonly bench?: Bench;
}

/**
 * What the flags say, by one rule for every command that reaches HSMs: the
 * operator answers at the terminal, or `--answers FILE` does (neither is a
 * usage error: nobody could answer); the devices are reached over USB or a
 * connector (YubiHSM 2) and a PKCS#11 module (Nitrokey HSM), or with
 * `--simulate` are simulated ones on a rehearsal's bench made for the
 * `inventory` (read only then), their serials shown first as their casings
 * would show them, since an operator must type them in.
 */
export async function promptsAndHardware(
  ctx: CliContext,
  flags: HardwareFlags,
  inventory: () => Inventory | Promise<Inventory>,
): Promise<PromptsAndHardware> {
  if (flags.answers === undefined && !ctx.interactive) {
    throw new CliError('CLI_USAGE', 'standard input is not a terminal: nobody could answer the prompts; pass --answers FILE for an unattended run');
  }
  if (flags.simulate === true && (flags.connector !== undefined || flags.pkcs11Module !== undefined)) {
    throw new CliError('CLI_USAGE', '--simulate uses simulated HSMs only: it takes neither --connector nor --pkcs11-module');
  }
  const prompts = await promptSource(flags.answers);
  if (flags.simulate !== true) {
    const { deviceHardware } = await import('../../steps/hardware.ts');
    const hardware = deviceHardware({
      ...(flags.connector === undefined ? {} : { connector: flags.connector }),
      ...(flags.pkcs11Module === undefined ? {} : { pkcs11Module: flags.pkcs11Module }),
    });
    return { prompts, hardware };
  }
  const { Bench } = await import('../../steps/rehearsal/bench.ts');
  const simulated = await inventory();
  const bench = await Bench.create({ inventory: simulated });
  const { hsms } = simulated;
  ctx.stdout.write(
    hsms.length === 1
      ? 'SIMULATED HSM: no real device is touched. Serial number on the simulated device:\n'
      : 'SIMULATED HSMs: no real device is touched. Serial numbers on the simulated devices:\n',
  );
  for (const hsm of hsms) ctx.stdout.write(`  ${hsm.id}: ${bench.printedSerial(hsm.id)}\n`);
  return { prompts, hardware: bench, bench };
}

/** The answers file's answers, or the operator's at the terminal. */
async function promptSource(answers: string | undefined): Promise<PromptSource> {
  if (answers !== undefined) {
    const { loadAnswersFile, ScriptedPromptSource } = await import('../runbook/answers.ts');
    return new ScriptedPromptSource(await loadAnswersFile(answers));
  }
  const { InteractivePromptSource } = await import('../runbook/prompts.ts');
  return new InteractivePromptSource({ output: process.stdout });
}

/** The flags every device command takes. */
export interface DeviceFlags extends HardwareFlags {
  products?: string;
}

/** What a device command works with, once its flags are read. */
export interface DeviceEnvironment {
  /** The one device, as an ad-hoc inventory entry. */
  readonly hsm: HsmEntry;
  readonly hardware: Hardware;
  readonly prompts: PromptSource;
  /** Absolute. */
  readonly productsDir: string;
  readonly observers: readonly RunObserver[];
  /** Aborted at the first Ctrl-C (outside a prompt, which handles its own). */
  readonly signal: AbortSignal;
}

/**
 * Runs a device command's work on the one device `hsm`, with the prompts and
 * hardware its flags say (promptsAndHardware). What the steps print goes to
 * stdout as `runbook run` shows it; Ctrl-C stops as it does there.
 */
export async function onOneDevice<T>(ctx: CliContext, flags: DeviceFlags, hsm: HsmEntry, work: (env: DeviceEnvironment) => Promise<T>): Promise<T> {
  const { prompts, hardware, bench } = await promptsAndHardware(ctx, flags, () => ({ title: hsm.id, products: 'ceremony-products', hsms: [hsm] }));
  // The operator has the one device in hand and plugged in before the first step.
  await bench?.plugIn(hsm.id);
  const { ConsoleReporter } = await import('./reporter.ts');
  const interrupt = interruptOnCtrlC(ctx);
  try {
    return await work({
      hsm,
      hardware,
      prompts,
      productsDir: resolve(flags.products ?? 'ceremony-products'),
      observers: [new ConsoleReporter(ctx)],
      signal: interrupt.signal,
    });
  } finally {
    interrupt.dispose();
  }
}

/**
 * Performs `section` of RUNBOOK.md on the device `env` reaches, through the
 * ceremony's own steps (steps/index.ts): `perform` calls them, one
 * `run.perform` a block, so that prompts carry the runbook's step ids.
 */
export async function performSection<T>(
  env: DeviceEnvironment,
  section: StandaloneSection,
  perform: (run: StandaloneRun<CeremonySteps>) => Promise<T>,
): Promise<T> {
  const { withStandaloneContext } = await import('../runbook/standalone.ts');
  const { ceremonySteps } = await import('../../steps/index.ts');
  return withStandaloneContext(
    {
      hsm: env.hsm,
      section,
      prompts: env.prompts,
      productsDir: env.productsDir,
      steps: ceremonySteps(env.hardware),
      observers: env.observers,
      signal: env.signal,
    },
    perform,
  );
}
