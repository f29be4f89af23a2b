/**
 * `runbook nitrokey attest [--pkcs11-module PATH] [--products DIR] [--simulate]`:
 * the attestations of a Nitrokey HSM provisioned earlier (the PSF's 2020
 * devices), read and written beside its products: `SERIAL_devaut.cvc` and
 * `SERIAL_{root,targets}_attestation.cvc`, what nitrokey.attest writes in a
 * ceremony, through the same function (steps/nitrokey.ts attestNitrokey).
 *
 * No PIN is asked and nothing on the device changes: the public keys
 * (CKA_ID 12 and 13) are public objects, and the device's certificates and
 * each key's request are read with OpenSC's sc-hsm-tool, which needs none.
 * The token must be the only one present; its serial names the products,
 * whose `.pub` files must be there and hold its keys. No product is ever
 * overwritten.
 */
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { Hardware } from '../../steps/hardware.ts';
import type { CliContext } from './context.ts';

interface AttestFlags {
  pkcs11Module?: string;
  products: string;
  simulate?: boolean;
}

/** The inventory entry of a simulated device for `--simulate`. */
const SIMULATED_ID = 'nitrokey';

export function registerAttest(nitrokey: Command, ctx: CliContext): void {
  nitrokey
    .command('attest')
    .usage('[--pkcs11-module PATH] [--products DIR] [--simulate]')
    .description("read the device's attestations of its root and targets keys and write them beside its products (.cvc); no PIN, nothing on the device changes")
    .addOption(new Option('--pkcs11-module <path>', "the PKCS#11 module for the Nitrokey HSM (default: OpenSC's)"))
    .addOption(new Option('--products <dir>', 'the products directory: the files go in its SERIAL directory, never over existing ones').default('ceremony-products'))
    .addOption(new Option('--simulate', 'attest a simulated Nitrokey HSM that already holds its root and targets keys, to practise').conflicts('pkcs11Module'))
    .addHelpText(
      'after',
      `
Reading needs OpenSC 0.23 or later (sc-hsm-tool --export-for-pub-key-auth).
Each attestation is checked before anything is written: the device's
certificate chains to CardContact's scheme root, the device signed the
key's request, and the attested key is the one on the token.`,
    )
    .action(async (flags: AttestFlags) => {
      await attest(ctx, flags);
    });
}

async function attest(ctx: CliContext, flags: AttestFlags): Promise<void> {
  const productsDir = resolve(flags.products);
  const hardware = flags.simulate === true ? await simulatedDevice(ctx, productsDir) : await realDevice(flags);
  const { attestNitrokey } = await import('../../steps/nitrokey.ts');
  const { writeProduct } = await import('../products/write.ts');
  const result = await attestNitrokey({
    hardware,
    describe: (serial) => `Nitrokey HSM serial ${serial}`,
    productsDir,
    write: (file, bytes) => writeProduct(join(productsDir, file), bytes),
  });
  const keys = result.keys.map((k) => `${k.role} key at key reference ${k.keyReference}`).join(', ');
  const { isRehearsal } = await import('../../steps/hardware.ts');
  const root = isRehearsal(hardware) ? 'the SIMULATED scheme root' : "CardContact's scheme root";
  ctx.stdout.write(`${result.device}: the device attests its ${keys}; each attestation verifies to ${root}\n`);
  for (const file of result.files) ctx.stdout.write(`wrote ${join(productsDir, file)}\n`);
}

async function realDevice(flags: AttestFlags): Promise<Hardware> {
  const { deviceHardware } = await import('../../steps/hardware.ts');
  return deviceHardware(flags.pkcs11Module === undefined ? {} : { pkcs11Module: flags.pkcs11Module });
}

/**
 * A simulated Nitrokey HSM as one provisioned in an earlier ceremony: its
 * root and targets keys made (factory user PIN) and their `.pub` and `.pem`
 * written, so that what follows is what a real device meets.
 */
async function simulatedDevice(ctx: CliContext, productsDir: string): Promise<Hardware> {
  const { Bench } = await import('../../steps/rehearsal/bench.ts');
  const { NITROKEY, PRODUCT_FILES, ROLES } = await import('../ceremony.ts');
  const { generateKeyPairs } = await import('../pkcs11/generate.ts');
  const { FACTORY_USER_PIN } = await import('../pkcs11/simulator/smartcard-hsm.ts');
  const { writeProduct } = await import('../products/write.ts');
  const bench = await Bench.create({ inventory: { title: SIMULATED_ID, products: 'ceremony-products', hsms: [{ id: SIMULATED_ID, kind: 'nitrokey-hsm', keyType: 'P-256' }] } });
  await bench.plugIn(SIMULATED_ID);
  const token = await bench.openNitrokey();
  try {
    const { serial, keys } = await generateKeyPairs(token, {
      userPin: FACTORY_USER_PIN,
      curve: 'P-256',
      expect: bench.nitrokeyIdentity,
      keys: ROLES.map((role) => ({ role, id: Uint8Array.of(NITROKEY.keys[role].id), label: NITROKEY.keys[role].label })),
    });
    for (const key of keys) {
      const role = ROLES.find((r) => r === key.role);
      if (!role) continue;
      await writeProduct(join(productsDir, PRODUCT_FILES.publicKey(serial, role)), key.spki);
      await writeProduct(join(productsDir, PRODUCT_FILES.pem(serial, role)), key.pem);
    }
    ctx.stdout.write(`SIMULATED HSM: no real device is touched. A simulated Nitrokey HSM, serial ${serial}, with its root and targets keys (products written to ${join(productsDir, serial)})\n`);
  } finally {
    await token.close();
  }
  return bench;
}
