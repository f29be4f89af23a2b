/**
 * `runbook yubihsm provision --type p256|p384`: "Provisioning the YubiHSM 2"
 * for one device, outside a full ceremony (re-provisioning a device after a
 * failure): what the PSF's yubihsm-provision and raw-ec-points-to-pem did,
 * through the same steps RUNBOOK.md's blocks call (steps/yubihsm.ts), in the
 * section's order and under its step ids, so every prompt has its runbook id
 * (`yubihsm.authkey/password`) and the factory reset is confirmed as the
 * runbook's destructive block is.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Curve, HsmEntry } from '../runbook/api.ts';
import type { StandaloneRun, StandaloneSection, StandaloneStep } from '../runbook/standalone.ts';
import type { CeremonySteps } from '../../steps/api.ts';
import type { CliContext } from './context.ts';
import { onOneDevice, performSection, type DeviceEnvironment, type DeviceFlags } from './device.ts';
import { parseKeyType, requireKeyType } from './key-type.ts';

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

/** The ad-hoc inventory entry of `yubihsm provision`. */
export function yubihsmEntry(curve: Curve): HsmEntry {
  return { id: YUBIHSM_ID, kind: 'yubihsm2', keyType: curve };
}

/** Performs "Provisioning the YubiHSM 2" on the device `env` reaches; returns its serial. */
export async function yubihsmProvision(env: DeviceEnvironment): Promise<string> {
  return performSection(env, YUBIHSM_SECTION, provisionYubiHsm);
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
