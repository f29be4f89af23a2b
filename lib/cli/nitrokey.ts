/**
 * `runbook nitrokey provision` and `runbook nitrokey keygen --type p256|p384
 * --serial SERIAL`: "Provisioning the Nitrokey HSM" for one device, outside a
 * full ceremony, in the two parts the PSF's programs had
 * (nitrohsm-provision, generate-nitrohsm-keys), through the same steps
 * RUNBOOK.md's blocks call (steps/nitrokey.ts), under the section's step ids:
 * every prompt has its runbook id (`nitrokey.user-pin/user-pin`) and the
 * re-initialization is confirmed as the runbook's destructive block is.
 *
 * `keygen` works on the token whose serial `provision` printed, and refuses
 * any other before touching it: the serial is what names the products.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Curve, HsmEntry } from '../runbook/api.ts';
import type { StandaloneRun, StandaloneSection, StandaloneStep } from '../runbook/standalone.ts';
import { untrustedText } from '../untrusted-text.ts';
import type { CeremonySteps } from '../../steps/api.ts';
import type { Hardware } from '../../steps/hardware.ts';
import { registerAttest } from './attest.ts';
import { registerVerifyAttestation } from './cvc.ts';
import type { CliContext } from './context.ts';
import { parseNitrokeySerial } from './arguments.ts';
import { CliError } from './errors.ts';
import { onOneDevice, performSection, type DeviceEnvironment, type DeviceFlags } from './device.ts';
import { parseKeyType, requireKeyType } from './key-type.ts';

/** "Provisioning the Nitrokey HSM" in RUNBOOK.md. */
export const NITROKEY_SECTION: StandaloneSection = { slug: 'provisioning-the-nitrokey-hsm', title: 'Provisioning the Nitrokey HSM' };

/** The section's steps with a block, as RUNBOOK.md numbers them (test/cli/nitrokey.test.ts holds them to it). */
export const NITROKEY_STEPS = {
  warning: { id: 'nitrokey.warning', ordinal: '4', instruction: 'Read the warning, and press y when you are ready to go on.' },
  connect: { id: 'nitrokey.connect', ordinal: '5', instruction: 'Wait while the runbook finds the device.' },
  reset: {
    id: 'nitrokey.reset',
    ordinal: '6',
    instruction: 'Re-initialize the Nitrokey HSM with its current SO-PIN: it erases every key on the device.',
    destructive: true,
  },
  soPin: { id: 'nitrokey.so-pin', ordinal: '7', instruction: 'Type the new SO-PIN, then type it a second time.' },
  userPin: { id: 'nitrokey.user-pin', ordinal: '8', instruction: 'Type the new user PIN, then type it a second time.' },
  keys: { id: 'nitrokey.keys', ordinal: '10', instruction: 'Generate the keys: type the user PIN when asked.' },
  attest: {
    id: 'nitrokey.attest',
    ordinal: '12',
    instruction: 'Read what the device signed when it made each key, check it back to the manufacturer’s root, and save it.',
  },
} as const satisfies Record<string, StandaloneStep>;

/** The ad-hoc inventory entry the commands' steps are about. */
export const NITROKEY_ID = 'nitrokey';

/**
 * The inventory entry of `nitrokey provision`, which makes no key and so has
 * no curve: a step that asked for one would be a mistake, and fails loudly
 * rather than make keys on a curve nobody chose.
 */
export function provisionEntry(): HsmEntry {
  return {
    id: NITROKEY_ID,
    kind: 'nitrokey-hsm',
    get keyType(): Curve {
      throw new Error('nitrokey provision makes no keys and has no key type; `runbook nitrokey keygen --type` does');
    },
  };
}

/**
 * The inventory entry of `nitrokey keygen`: its serial is known before the
 * token is reached (a simulated token is made with it).
 */
export function keygenEntry(curve: Curve, serial: string): HsmEntry {
  return { id: NITROKEY_ID, kind: 'nitrokey-hsm', keyType: curve, serial };
}

/**
 * `nitrokey provision`, the blocks in order: the warning, connect, the
 * re-initialization with the current SO-PIN (destructive), the new SO-PIN and
 * user PIN (each typed twice). The steps print the serial to use for key
 * generation; it is returned too.
 */
export async function provisionNitrokey(run: StandaloneRun<CeremonySteps>): Promise<string> {
  const s = NITROKEY_STEPS;
  await run.perform(s.warning, (steps) => steps.nitrokey.warn());
  await run.perform(s.connect, (steps) => steps.nitrokey.connect());
  await run.perform(s.reset, (steps, ctx) =>
    steps.nitrokey.reset(() => ctx.secret('Enter the current Security Officer PIN', { name: 'current-so-pin' })),
  );
  await run.perform(s.soPin, (steps, ctx) =>
    steps.nitrokey.setSoPin(() =>
      ctx.secret('Enter your NEW Security Officer PIN', { name: 'so-pin', confirm: true, again: 'Re-enter your NEW Security Officer PIN' }),
    ),
  );
  await run.perform(s.userPin, (steps, ctx) =>
    steps.nitrokey.setUserPin(() => ctx.secret('Enter your NEW user PIN', { name: 'user-pin', confirm: true, again: 'Re-enter your NEW user PIN' })),
  );
  return run.ctx.values.string('serial');
}

/**
 * `nitrokey keygen`, the blocks in order: connect, the root and targets key
 * pairs with the user PIN, then, where the device can attest its keys, the
 * attestations (nitrokey.attest, behind its `when` block).
 */
export async function keygenNitrokey(run: StandaloneRun<CeremonySteps>): Promise<string> {
  const s = NITROKEY_STEPS;
  await run.perform(s.connect, (steps) => steps.nitrokey.connect());
  await run.perform(s.keys, (steps, ctx) => steps.nitrokey.createKeys(() => ctx.secret('Enter your user PIN', { name: 'user-pin' })));
  await run.perform(s.attest, async (steps) => {
    if (await steps.nitrokey.canAttest()) await steps.nitrokey.attest();
  });
  return run.ctx.values.string('serial');
}

/** Performs `nitrokey provision` on the token `env` reaches; returns its serial. */
export async function nitrokeyProvision(env: DeviceEnvironment): Promise<string> {
  return performSection(env, NITROKEY_SECTION, provisionNitrokey);
}

/**
 * Performs `nitrokey keygen` on the token `env` reaches, which must report
 * `serial`: any other token is closed untouched (STEP_SERIAL_MISMATCH).
 */
export async function nitrokeyKeygen(env: DeviceEnvironment, serial: string): Promise<string> {
  return performSection({ ...env, hardware: await expectingSerial(env.hardware, serial, env.hsm.id) }, NITROKEY_SECTION, keygenNitrokey);
}

/** `hardware`, whose Nitrokey HSM must report `serial`: checked as it is opened, before any step uses it. */
async function expectingSerial(hardware: Hardware, serial: string, id: string): Promise<Hardware> {
  const { StepError } = await import('../../steps/errors.ts');
  return {
    kind: hardware.kind,
    nitrokeyIdentity: hardware.nitrokeyIdentity,
    openYubiHsm: () => hardware.openYubiHsm(),
    nitrokeyAttestation: (token) => hardware.nitrokeyAttestation?.(token),
    async openNitrokey() {
      const token = await hardware.openNitrokey();
      try {
        const reported = (await token.info()).serial;
        if (reported !== serial) {
          throw new StepError(
            'STEP_SERIAL_MISMATCH',
            `${id}: the token present, ${token.description}, reports serial ${untrustedText(reported)}, not ${serial} as --serial says; ` +
              'is it the right device? Nothing was done to it',
          );
        }
        return token;
      } catch (err) {
        await token.close().catch(() => undefined);
        throw err;
      }
    },
  };
}


interface KeygenFlags extends DeviceFlags {
  type?: Curve;
  serial?: string;
}

export function register(program: Command, ctx: CliContext): void {
  const nitrokey = program.command('nitrokey').description('one Nitrokey HSM, outside a full ceremony, through the ceremony’s own steps');
  registerAttest(nitrokey, ctx);
  registerVerifyAttestation(nitrokey, ctx);
  nitrokey
    .command('provision')
    .usage('[--pkcs11-module PATH] [--products DIR] [--answers FILE] [--simulate]')
    .description('re-initialize a Nitrokey HSM and set its new SO-PIN and user PIN, as "Provisioning the Nitrokey HSM" does; prints its serial')
    .option('--pkcs11-module <path>', "the PKCS#11 module for the Nitrokey HSM (default: OpenSC's)")
    .option('--products <dir>', 'the products directory (no product may exist yet for the device)', 'ceremony-products')
    .option('--answers <file>', 'answer prompts from this YAML file, with the runbook’s prompt ids (rehearsals and CI only: never real PINs)')
    .option('--simulate', 'provision a simulated Nitrokey HSM, with every prompt, to practise')
    .addHelpText(
      'after',
      `
The re-initialization is destructive: it is confirmed at the terminal, or by
an answers file that lists nitrokey.reset under \`destructive:\`. It needs the
SO-PIN the device has now: the factory value 3537363231383830 if it was
never provisioned.`,
    )
    .action(async (flags: DeviceFlags) => {
      await onOneDevice(ctx, flags, provisionEntry(), async (env) => {
        const serial = await nitrokeyProvision(env);
        ctx.stdout.write(`\nprovisioned Nitrokey HSM serial ${serial}; generate its keys with:\n  runbook nitrokey keygen --type p256|p384 --serial ${serial}\n`);
      });
    });
  nitrokey
    .command('keygen')
    .usage('--type p256|p384 --serial SERIAL [--pkcs11-module PATH] [--products DIR] [--answers FILE] [--simulate]')
    .description('generate the root and targets key pairs on a provisioned Nitrokey HSM and write their public keys (.pub, .pem)')
    .option('--type <type>', 'the curve of its keys: p256 or p384 (required)', parseKeyType)
    .option('--serial <serial>', 'the serial `nitrokey provision` printed; any other token is refused (required)', parseNitrokeySerial)
    .option('--pkcs11-module <path>', "the PKCS#11 module for the Nitrokey HSM (default: OpenSC's)")
    .option('--products <dir>', 'where products are written', 'ceremony-products')
    .option('--answers <file>', 'answer prompts from this YAML file, with the runbook’s prompt ids (rehearsals and CI only: never real PINs)')
    .option('--simulate', 'generate keys on a simulated Nitrokey HSM that reports SERIAL, factory-fresh (user PIN 648219), to practise')
    .action(async (flags: KeygenFlags) => {
      const curve = requireKeyType(flags.type);
      const serial = flags.serial;
      if (serial === undefined) throw new CliError('CLI_USAGE', '--serial is required: the serial `runbook nitrokey provision` printed');
      await onOneDevice(ctx, flags, keygenEntry(curve, serial), async (env) => {
        await nitrokeyKeygen(env, serial);
        ctx.stdout.write(`\ngenerated the keys of Nitrokey HSM serial ${serial}: its products are in ${join(env.productsDir, serial)}\n`);
      });
    });
}
