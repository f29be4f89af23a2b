/**
 * `runbook yubihsm provision --type p256|p384`: "Provisioning the YubiHSM 2"
 * for one device, outside a full ceremony (re-provisioning a device after a
 * failure): what the PSF's yubihsm-provision and raw-ec-points-to-pem did,
 * through the same steps RUNBOOK.md's blocks call (steps/yubihsm.ts), in the
 * section's order and under its step ids, so every prompt has its runbook id
 * (`yubihsm.authkey/password`) and the factory reset is confirmed as the
 * runbook's destructive block is.
 *
 * It also holds what every device command shares (`onOneDevice`, used by
 * nitrokey.ts): who answers the prompts, which hardware is reached, Ctrl-C.
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Curve, HsmEntry } from '../runbook/api.ts';
import type { RunObserver } from '../runbook/events.ts';
import type { PromptSource } from '../runbook/prompts.ts';
import type { StandaloneRun, StandaloneSection, StandaloneStep } from '../runbook/standalone.ts';
import type { CeremonySteps } from '../../steps/api.ts';
import type { Hardware } from '../../steps/hardware.ts';
import type { CliContext } from './context.ts';
import { CliError } from './errors.ts';
import { parseKeyType, requireKeyType } from './pem.ts';

/** "Provisioning the YubiHSM 2" in RUNBOOK.md. */
export const YUBIHSM_SECTION: StandaloneSection = { slug: 'provisioning-the-yubihsm-2', title: 'Provisioning the YubiHSM 2' };

/** The section's steps with a block, as RUNBOOK.md numbers them (test/cli/yubihsm.test.ts holds them to it). */
export const YUBIHSM_STEPS = {
  serial: { id: 'yubihsm.serial', ordinal: '1', instruction: "Type in the serial number printed on the YubiHSM 2's casing." },
  warning: { id: 'yubihsm.warning', ordinal: '5', instruction: 'Read the warning, and press y when you are ready to go on.' },
  connect: { id: 'yubihsm.connect', ordinal: '6', instruction: 'Wait while the runbook finds the device and signs in with its factory key.' },
  reset: {
    id: 'yubihsm.reset',
    ordinal: '8',
    instruction: 'Factory-reset the YubiHSM 2: it erases everything on the device.',
    destructive: true,
  },
  authKeyWarning: {
    id: 'yubihsm.authkey-warning',
    ordinal: '9',
    instruction: 'Read the notice about the new authentication key, and press y when you are ready to go on.',
  },
  authKey: { id: 'yubihsm.authkey', ordinal: '10', instruction: 'Type the new authentication key password, then type it a second time.' },
  keys: { id: 'yubihsm.keys', ordinal: '11', instruction: 'Type the authentication key password once more, and wait while the keys are made.' },
  pem: { id: 'yubihsm.pem', ordinal: '13', instruction: 'Turn both raw public keys into PEM files.' },
  label: { id: 'yubihsm.label', ordinal: '16', instruction: "Write the device's signing body ID and zero-padded serial number on a tamper-evident bag." },
} as const satisfies Record<string, StandaloneStep>;

/** The ad-hoc inventory entry the command's steps are about. */
export const YUBIHSM_ID = 'yubihsm';

/**
 * "Provisioning the YubiHSM 2", blocks in order: the serial noted, the
 * warning, connect, the factory reset (destructive), the new authentication
 * key (its password typed twice), the keys and attestations (the password
 * again), the PEM files, the label. The prompts are the blocks' own words.
 * Returns the device's serial (10 digits).
 */
export async function provisionYubiHsm(run: StandaloneRun<CeremonySteps>): Promise<string> {
  const s = YUBIHSM_STEPS;
  const serial = await run.perform(s.serial, (steps) => steps.yubihsm.noteSerial());
  await run.perform(s.warning, (steps) => steps.yubihsm.warn());
  await run.perform(s.connect, (steps) => steps.yubihsm.connect());
  await run.perform(s.reset, (steps) => steps.yubihsm.reset());
  await run.perform(s.authKeyWarning, (steps) => steps.yubihsm.authKeyWarning());
  await run.perform(s.authKey, (steps, ctx) =>
    steps.yubihsm.replaceAuthKey(() =>
      ctx.secret('Enter the new authentication key password', { name: 'password', confirm: true, again: 'Re-enter the new authentication key password' }),
    ),
  );
  await run.perform(s.keys, (steps, ctx) => steps.yubihsm.createKeys(() => ctx.secret('Enter the authentication key password', { name: 'password' })));
  await run.perform(s.pem, (steps) => steps.yubihsm.writePem());
  await run.perform(s.label, (steps) => steps.yubihsm.label());
  return serial;
}

/** The flags every device command takes. */
export interface DeviceFlags {
  answers?: string;
  products?: string;
  simulate?: boolean;
  connector?: string;
  pkcs11Module?: string;
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
 * Runs a device command's work with what its flags say, by the rule of
 * `runbook run`: the operator answers at the terminal, or `--answers FILE`
 * does (neither is a usage error: nobody could answer); the device is
 * reached over USB or a connector (YubiHSM 2) or OpenSC's PKCS#11 module
 * (Nitrokey HSM), or with `--simulate` is a simulated one on the rehearsal's
 * bench, its serial shown first as a casing would show it. What the steps
 * print goes to stdout as `runbook run` shows it.
 */
export async function onOneDevice<T>(ctx: CliContext, flags: DeviceFlags, hsm: HsmEntry, work: (env: DeviceEnvironment) => Promise<T>): Promise<T> {
  if (flags.answers === undefined && !ctx.interactive) {
    throw new CliError('CLI_USAGE', 'standard input is not a terminal: nobody could answer the prompts; pass --answers FILE for an unattended run');
  }
  if (flags.simulate === true && (flags.connector !== undefined || flags.pkcs11Module !== undefined)) {
    throw new CliError('CLI_USAGE', '--simulate uses a simulated HSM only: it takes neither --connector nor --pkcs11-module');
  }
  const { ConsoleReporter } = await import('./reporter.ts');
  let prompts: PromptSource;
  if (flags.answers !== undefined) {
    const { loadAnswersFile, ScriptedPromptSource } = await import('../runbook/answers.ts');
    prompts = new ScriptedPromptSource(await loadAnswersFile(flags.answers));
  } else {
    const { InteractivePromptSource } = await import('../runbook/prompts.ts');
    prompts = new InteractivePromptSource({ output: process.stdout });
  }

  let hardware: Hardware;
  if (flags.simulate === true) {
    const { Bench } = await import('../../steps/rehearsal/bench.ts');
    const bench = await Bench.create({ inventory: { title: hsm.id, products: 'ceremony-products', hsms: [hsm] } });
    await bench.plugIn(hsm.id);
    hardware = bench;
    // What the operator would read off the device's casing or screen.
    ctx.stdout.write(`SIMULATED HSM: no real device is touched. Serial number on the simulated device:\n  ${hsm.id}: ${bench.printedSerial(hsm.id)}\n`);
  } else {
    const { deviceHardware } = await import('../../steps/hardware.ts');
    hardware = deviceHardware({
      ...(flags.connector === undefined ? {} : { connector: flags.connector }),
      ...(flags.pkcs11Module === undefined ? {} : { pkcs11Module: flags.pkcs11Module }),
    });
  }

  // Ctrl-C outside a prompt stops before the next step, and a device
  // operation that watches the signal at once; a second one stops the process.
  const interrupt = new AbortController();
  const exit = process.exit.bind(process);
  const onSigint = () => {
    if (interrupt.signal.aborted) exit(130);
    ctx.stderr.write('\nrunbook: stopping after the current operation (Ctrl-C again to stop at once)\n');
    interrupt.abort(new Error('interrupted by the operator'));
  };
  process.on('SIGINT', onSigint);
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
    process.off('SIGINT', onSigint);
  }
}

/** The ad-hoc inventory entry of `yubihsm provision`. */
export function yubihsmEntry(curve: Curve): HsmEntry {
  return { id: YUBIHSM_ID, kind: 'yubihsm2', keyType: curve };
}

/** Performs "Provisioning the YubiHSM 2" on the device `env` reaches; returns its serial. */
export async function yubihsmProvision(env: DeviceEnvironment): Promise<string> {
  const { withStandaloneContext } = await import('../runbook/standalone.ts');
  const { ceremonySteps } = await import('../../steps/index.ts');
  return withStandaloneContext(
    {
      hsm: env.hsm,
      section: YUBIHSM_SECTION,
      prompts: env.prompts,
      productsDir: env.productsDir,
      steps: ceremonySteps(env.hardware),
      observers: env.observers,
      signal: env.signal,
    },
    provisionYubiHsm,
  );
}

interface ProvisionFlags extends DeviceFlags {
  type?: Curve;
}

export function register(program: Command, ctx: CliContext): void {
  const yubihsm = program.command('yubihsm').description('one YubiHSM 2, outside a full ceremony, through the ceremony’s own steps');
  yubihsm
    .command('provision')
    .usage('--type p256|p384 [--connector URL] [--products DIR] [--answers FILE] [--simulate]')
    .description('reset a YubiHSM 2 and provision it as "Provisioning the YubiHSM 2" does: new authentication key, root and targets keys, attestations, PEM files')
    .option('--type <type>', 'the curve of its keys: p256 or p384 (required)', parseKeyType)
    .option('--connector <url>', 'reach the YubiHSM 2 through this yubihsm-connector instead of USB')
    .option('--products <dir>', 'where products are written', 'ceremony-products')
    .option('--answers <file>', 'answer prompts from this YAML file, with the runbook’s prompt ids (rehearsals and CI only: never real passwords)')
    .option('--simulate', 'provision a simulated YubiHSM 2, with every prompt, to practise')
    .addHelpText(
      'after',
      `
The factory reset is destructive: it is confirmed at the terminal, or by an
answers file that lists yubihsm.reset under \`destructive:\`. A device that
was provisioned before must first be reset by hand (touch its contact while
plugging it in), as RUNBOOK.md says.`,
    )
    .action(async (flags: ProvisionFlags) => {
      const curve = requireKeyType(flags.type);
      await onOneDevice(ctx, flags, yubihsmEntry(curve), async (env) => {
        const serial = await yubihsmProvision(env);
        ctx.stdout.write(`\nprovisioned YubiHSM 2 serial ${serial}: its products are in ${join(env.productsDir, serial)}\n`);
      });
    });
}
