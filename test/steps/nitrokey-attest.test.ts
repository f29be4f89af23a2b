// nitrokey.attest and `runbook nitrokey attest`: a provisioned Nitrokey HSM's
// attestations read with no PIN, matched to the root and targets keys by the
// key each attests, checked, and written beside the products, never over
// them. On the bench's simulated SmartCard-HSMs, whose attestations chain to
// the SIMULATED scheme root.
import { createPublicKey } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { NITROKEY, PRODUCT_FILES, ROLES } from '../../lib/ceremony.ts';
import { registerAttest } from '../../lib/cli/attest.ts';
import { attestedKeySpki, verifyKeyAttestation } from '../../lib/cvc/index.ts';
import { generateKeyPairs, type KeyPairRequest } from '../../lib/pkcs11/generate.ts';
import { FACTORY_USER_PIN } from '../../lib/pkcs11/simulator/smartcard-hsm.ts';
import { writeProduct } from '../../lib/products/write.ts';
import type { Hardware } from '../../steps/hardware.ts';
import { attestNitrokey, type AttestNitrokeyOptions } from '../../steps/nitrokey.ts';
import { Bench } from '../../steps/rehearsal/bench.ts';
import { captureCli } from '../support/cli.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'runbook-nitrokey-attest-'));
  dirs.push(dir);
  return dir;
}

const HSM = 'NitrokeyHSM-1';
const CEREMONY_KEYS: KeyPairRequest[] = ROLES.map((role) => ({ role, id: Uint8Array.of(NITROKEY.keys[role].id), label: NITROKEY.keys[role].label }));

/** A bench with one simulated Nitrokey HSM plugged in, its `keys` generated and their `.pub` written, as a provisioned device leaves them. */
async function provisioned(keys: readonly KeyPairRequest[] = CEREMONY_KEYS) {
  const bench = await Bench.create({ inventory: { title: 't', products: 'ceremony-products', hsms: [{ id: HSM, kind: 'nitrokey-hsm', keyType: 'P-256' }] } });
  await bench.plugIn(HSM);
  const productsDir = join(await tempDir(), 'products');
  const token = await bench.openNitrokey();
  const generated = await generateKeyPairs(token, { userPin: FACTORY_USER_PIN, curve: 'P-256', keys, expect: bench.nitrokeyIdentity });
  await token.close();
  const serial = generated.serial;
  const spki = new Map(generated.keys.map((k) => [k.role, k.spki]));
  for (const role of ROLES) await writeProduct(join(productsDir, PRODUCT_FILES.publicKey(serial, role)), spki.get(role) ?? new Uint8Array());
  const options = (extra: Partial<AttestNitrokeyOptions> = {}): AttestNitrokeyOptions => ({
    hardware: bench,
    describe: (s) => `Nitrokey HSM serial ${s}`,
    productsDir,
    write: (file, bytes) => writeProduct(join(productsDir, file), bytes),
    ...extra,
  });
  return { bench, productsDir, serial, spki, options, device: bench.smartCardHsm(HSM) };
}

const product = (productsDir: string, file: string) => new Uint8Array(readFileSync(join(productsDir, file)));
const sameKey = (a: Uint8Array, b: Uint8Array) =>
  createPublicKey({ key: Buffer.from(a), format: 'der', type: 'spki' }).equals(createPublicKey({ key: Buffer.from(b), format: 'der', type: 'spki' }));

describe('attestNitrokey on a simulated Nitrokey HSM', () => {
  it('writes EF 2F02 and each key’s request, which verify with the key and serial, and only as simulated', async () => {
    const { productsDir, serial, spki, options, device } = await provisioned();
    const result = await attestNitrokey(options({ serial }));
    expect(result.keys).toEqual([
      { role: 'root', keyReference: 1 },
      { role: 'targets', keyReference: 2 },
    ]);
    const devaut = product(productsDir, PRODUCT_FILES.deviceAuthentication(serial));
    expect(devaut).toEqual(device.readDeviceCertificates());
    for (const role of ROLES) {
      const request = product(productsDir, PRODUCT_FILES.nitrokeyAttestation(serial, role));
      expect(verifyKeyAttestation({ devaut, request, publicKey: spki.get(role), serial, allowSimulated: true })).toBeDefined();
      expect(() => verifyKeyAttestation({ devaut, request, publicKey: spki.get(role), serial })).toThrowWithCode('CVC_SIMULATED');
    }
    expect(readdirSync(join(productsDir, serial)).sort()).toEqual(
      [`${serial}_devaut.cvc`, `${serial}_root_attestation.cvc`, `${serial}_root_pubkey.pub`, `${serial}_targets_attestation.cvc`, `${serial}_targets_pubkey.pub`].sort(),
    );
  });

  it('matches requests to keys by the attested key, not by number: root at key reference 3 after a stray key and targets', async () => {
    const stray: KeyPairRequest = { role: 'stray', id: Uint8Array.of(0x01), label: 'stray' };
    const [root, targets] = CEREMONY_KEYS;
    const { productsDir, serial, spki, options } = await provisioned([stray, targets!, root!]);
    const result = await attestNitrokey(options());
    expect(result.keys).toEqual([
      { role: 'root', keyReference: 3 },
      { role: 'targets', keyReference: 2 },
    ]);
    for (const role of ROLES) {
      expect(sameKey(attestedKeySpki(product(productsDir, PRODUCT_FILES.nitrokeyAttestation(serial, role))), spki.get(role) ?? new Uint8Array())).toBe(true);
    }
  });

  it('STEP_SERIAL_MISMATCH when the token present is not the section’s device; nothing is written', async () => {
    const { productsDir, serial, options } = await provisioned();
    await expect(attestNitrokey(options({ serial: 'DENK0000000' }))).toThrowWithCode('STEP_SERIAL_MISMATCH');
    expect(existsSync(join(productsDir, PRODUCT_FILES.deviceAuthentication(serial)))).toBe(false);
  });

  it('STEP_ATTESTATION_KEY_MISMATCH when the published .pub is not the key on the token', async () => {
    const { productsDir, serial, spki, options } = await provisioned();
    const pub = join(productsDir, PRODUCT_FILES.publicKey(serial, 'targets'));
    await rm(pub);
    writeFileSync(pub, spki.get('root') ?? new Uint8Array());
    await expect(attestNitrokey(options())).toThrowWithCode('STEP_ATTESTATION_KEY_MISMATCH');
    expect(existsSync(join(productsDir, PRODUCT_FILES.deviceAuthentication(serial)))).toBe(false);
  });

  it('STEP_PRODUCTS_MISSING when the device has no products in the directory given (the wrong --products)', async () => {
    const { options } = await provisioned();
    await expect(attestNitrokey(options({ productsDir: await tempDir() }))).toThrowWithCode('STEP_PRODUCTS_MISSING');
  });

  it('STEP_ATTESTATION_KEY_MISMATCH when the token lacks a ceremony key (CKA_ID 13)', async () => {
    const { options } = await provisioned(CEREMONY_KEYS.slice(0, 1));
    await expect(attestNitrokey(options())).toThrowWithCode('STEP_ATTESTATION_KEY_MISMATCH');
  });

  it('STEP_PRODUCTS_EXIST before reading anything when an attestation product is already there; it is left as it was', async () => {
    const { productsDir, serial, options } = await provisioned();
    const existing = join(productsDir, PRODUCT_FILES.nitrokeyAttestation(serial, 'root'));
    writeFileSync(existing, 'earlier');
    await expect(attestNitrokey(options())).toThrowWithCode('STEP_PRODUCTS_EXIST');
    expect(readFileSync(existing, 'utf8')).toBe('earlier');
    expect(existsSync(join(productsDir, PRODUCT_FILES.deviceAuthentication(serial)))).toBe(false);
  });

  it('STEP_ATTESTATION_MISSING when a key’s EF CE was written over by a certificate', async () => {
    const { device, options } = await provisioned();
    device.writeCertificateFile(2, Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00));
    await expect(attestNitrokey(options())).toThrowWithCode('STEP_ATTESTATION_MISSING');
  });

  it('STEP_ATTESTATION_INVALID when a request’s outer signature is altered', async () => {
    const { device, options } = await provisioned();
    const request = device.readCertificateFile(1) ?? new Uint8Array();
    request[request.length - 1] = (request.at(-1) ?? 0) ^ 0x01;
    device.writeCertificateFile(1, request);
    await expect(attestNitrokey(options())).toThrowWithCode('STEP_ATTESTATION_INVALID');
  });

  it('STEP_ATTESTATION_INVALID when simulated attestations are not trusted (real devices)', async () => {
    const { bench, options } = await provisioned();
    const strict: Hardware = {
      kind: 'devices',
      nitrokeyIdentity: bench.nitrokeyIdentity,
      openYubiHsm: () => bench.openYubiHsm(),
      openNitrokey: () => bench.openNitrokey(),
      nitrokeyAttestation: (token) => bench.nitrokeyAttestation(token),
    };
    await expect(attestNitrokey(options({ hardware: strict }))).toThrowWithCode('STEP_ATTESTATION_INVALID');
  });

  it('STEP_ATTESTATION_UNSUPPORTED on hardware whose token cannot attest (a SoftHSM2 stand-in)', async () => {
    const { bench, options } = await provisioned();
    const none: Hardware = {
      kind: 'softhsm2',
      nitrokeyIdentity: bench.nitrokeyIdentity,
      openYubiHsm: () => bench.openYubiHsm(),
      openNitrokey: () => bench.openNitrokey(),
      nitrokeyAttestation: () => undefined,
    };
    await expect(attestNitrokey(options({ hardware: none }))).toThrowWithCode('STEP_ATTESTATION_UNSUPPORTED');
  });

  it('STEP_ATTESTATION_UNREADABLE when the reader fails', async () => {
    const { bench, options } = await provisioned();
    const { AttestationReadError } = await import('../../lib/pkcs11/attestation.ts');
    const broken: Hardware = {
      kind: 'simulated',
      nitrokeyIdentity: bench.nitrokeyIdentity,
      openYubiHsm: () => bench.openYubiHsm(),
      openNitrokey: () => bench.openNitrokey(),
      nitrokeyAttestation: () => ({
        description: 'a broken reader',
        read: () => Promise.reject(new AttestationReadError('ATTESTATION_TOOL_FAILED', 'no card')),
      }),
    };
    await expect(attestNitrokey(options({ hardware: broken }))).toThrowWithCode('STEP_ATTESTATION_UNREADABLE');
  });
});

describe('runbook nitrokey attest', () => {
  /** The command as main.ts will register it: under `nitrokey`. */
  async function attestCli(argv: string[]) {
    const captured = captureCli();
    const program = new Command('runbook').exitOverride().configureOutput({ writeOut: (s) => captured.ctx.stdout.write(s), writeErr: (s) => captured.ctx.stderr.write(s) });
    registerAttest(program.command('nitrokey'), captured.ctx);
    await program.parseAsync(['nitrokey', 'attest', ...argv], { from: 'user' });
    return { stdout: captured.stdout(), stderr: captured.stderr() };
  }

  it('--simulate: a simulated device with its keys; its three attestation files beside its four products, which verify', async () => {
    const products = join(await tempDir(), 'products');
    const { stdout } = await attestCli(['--simulate', '--products', products]);
    expect(stdout).toMatch(/^SIMULATED HSM: no real device is touched\./);
    const serial = /serial (DENK\d{7})/.exec(stdout)?.[1] ?? '';
    expect(stdout).toContain(`Nitrokey HSM serial ${serial}: the device attests its root key at key reference 1, targets key at key reference 2`);
    expect(readdirSync(join(products, serial))).toHaveLength(7);
    const devaut = product(products, PRODUCT_FILES.deviceAuthentication(serial));
    for (const role of ROLES) {
      const publicKey = product(products, PRODUCT_FILES.publicKey(serial, role));
      const request = product(products, PRODUCT_FILES.nitrokeyAttestation(serial, role));
      expect(verifyKeyAttestation({ devaut, request, publicKey, serial, allowSimulated: true })).toBeDefined();
    }
  });

  it('--simulate takes no --pkcs11-module', async () => {
    await expect(attestCli(['--simulate', '--pkcs11-module', '/nowhere.so'])).rejects.toMatchObject({ code: 'commander.conflictingOption' });
  });
});
