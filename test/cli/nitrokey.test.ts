// `runbook nitrokey provision` and `runbook nitrokey keygen`: through the CLI
// entry point on the simulated SmartCard-HSM (--simulate) with answers
// files, and provision then keygen on one simulated token through the
// commands' own functions (a simulated token does not outlive a process).
// The same steps, step ids and prompts as "Provisioning the Nitrokey HSM" in
// RUNBOOK.md, and products that `runbook verify` accepts.
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DeviceEnvironment } from '../../lib/cli/device.ts';
import { NITROKEY_SECTION, NITROKEY_STEPS, keygenEntry, nitrokeyKeygen, nitrokeyProvision, provisionEntry } from '../../lib/cli/nitrokey.ts';
import { ConsoleReporter } from '../../lib/cli/reporter.ts';
import { NITROKEY } from '../../lib/ceremony.ts';
import { verifyProducts } from '../../lib/products/verify/index.ts';
import { parseAnswers, ScriptedPromptSource } from '../../lib/runbook/answers.ts';
import type { HsmEntry } from '../../lib/runbook/api.ts';
import { Bench } from '../../steps/rehearsal/bench.ts';
import { captureCli, runCli } from '../support/cli.ts';
import { projectRunbook } from './support/runbook-md.ts';

/** The code in `runbook: message [CODE]`, the CLI's one-line error. */
function errorCode(stderr: string): string | undefined {
  return /^runbook: (?!warning).*\[([A-Z_0-9]+)\]$/m.exec(stderr)?.[1];
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'runbook-nitrokey-'));
}

/** Rehearsal secrets: they must never be printed. */
const SO_PIN = '0f1e2d3c4b5a6978';
const USER_PIN = '73519024';
/** The simulated SmartCard-HSM's factory user PIN (a Nitrokey HSM's too). */
const FACTORY_USER_PIN = '648219';

const PROVISION_ANSWERS = [
  'answers:',
  '  nitrokey.warning/continue: yes',
  `  nitrokey.reset/current-so-pin: "${NITROKEY.factorySoPin}"`,
  `  nitrokey.so-pin/so-pin: "${SO_PIN}"`,
  `  nitrokey.user-pin/user-pin: "${USER_PIN}"`,
];

async function writeAnswers(dir: string, lines: readonly string[]): Promise<string> {
  const file = join(dir, 'answers.yaml');
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

const runbookMd = projectRunbook();

/** A bench with one simulated SmartCard-HSM, plugged in, and what the commands' functions need to reach it. */
async function benchEnvironment(hsm: HsmEntry, answers: readonly string[], deviceSerial?: string): Promise<{ bench: Bench; env: DeviceEnvironment; out: () => string }> {
  const bench = await Bench.create({
    inventory: { title: 'test', products: 'ceremony-products', hsms: [{ id: hsm.id, kind: 'nitrokey-hsm', keyType: 'P-256', ...(deviceSerial ? { serial: deviceSerial } : {}) }] },
  });
  await bench.plugIn(hsm.id);
  const captured = captureCli();
  const env: DeviceEnvironment = {
    hsm,
    hardware: bench,
    prompts: new ScriptedPromptSource(parseAnswers(`${answers.join('\n')}\n`, 'answers.yaml')),
    productsDir: join(await tempDir(), 'products'),
    observers: [new ConsoleReporter(captured.ctx)],
    signal: new AbortController().signal,
  };
  return { bench, env, out: () => captured.stdout() + captured.stderr() };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('runbook nitrokey', () => {
  it('performs blocks of "Provisioning the Nitrokey HSM", with their ids, ordinals and destructive marks', () => {
    const blocks = runbookMd.blocks(NITROKEY_SECTION);
    // provision and keygen together perform every block but the serial written down and the label, in order.
    expect(Object.values(NITROKEY_STEPS).map((s) => s.id)).toEqual(blocks.filter((id) => id !== 'nitrokey.serial' && id !== 'nitrokey.label'));
    runbookMd.expectDocumented(NITROKEY_SECTION, NITROKEY_STEPS);
  });

  describe('provision', () => {
    it('re-initializes a simulated Nitrokey HSM, sets both PINs, and prints the serial for key generation', async () => {
      const dir = await tempDir();
      const products = join(dir, 'products');
      const answers = await writeAnswers(dir, [...PROVISION_ANSWERS, 'destructive: [nitrokey.reset]']);
      const { code, stdout, stderr } = await runCli(['nitrokey', 'provision', '--simulate', '--answers', answers, '--products', products]);
      expect(errorCode(stderr)).toBeUndefined();
      expect(code).toBe(0);
      const serial = /^ {2}nitrokey: (DENK\d{7})$/m.exec(stdout)?.[1];
      expect(serial).toBeDefined();
      expect(stdout).toMatch(/^SIMULATED HSM: no real device is touched\./);
      expect(stdout).toContain('== Provisioning the Nitrokey HSM (hsm=nitrokey)');
      const started = [...stdout.matchAll(/^\d+\. DO .*\[([a-z.-]+)\]$/gm)].map((m) => m[1]);
      expect(started).toEqual(['nitrokey.warning', 'nitrokey.connect', 'nitrokey.reset', 'nitrokey.so-pin', 'nitrokey.user-pin']);
      expect(stdout).toContain(`| Successfully discovered a Nitrokey HSM with serial number ${serial}`);
      expect(stdout).toContain('| Success! Reinitialized the HSM.');
      expect(stdout).toContain(`| Use this serial number when doing key generation: ${serial}`);
      expect(stdout).toContain(`runbook nitrokey keygen --type p256|p384 --serial ${serial}`);
      expect(stdout).toContain('[nitrokey.reset/destructive]');
      const prompts = ['nitrokey.reset', 'nitrokey.so-pin', 'nitrokey.user-pin'].flatMap((id) => runbookMd.secrets(id).map(([message, name]) => `? ${message} (secret)  [${id}/${name}]`));
      expect(prompts).toHaveLength(3);
      for (const prompt of prompts) expect(stdout).toContain(prompt);
      // Provisioning publishes nothing.
      expect(await readdir(products)).toEqual([]);
      expect(stderr.match(/\[SECRET_FROM_FILE\]/g)).toHaveLength(3);
      for (const secret of [SO_PIN, USER_PIN, NITROKEY.factorySoPin]) expect(stdout + stderr).not.toContain(secret);
    });

    it('does not re-initialize the token unless the answers file lists nitrokey.reset under destructive', async () => {
      const dir = await tempDir();
      const answers = await writeAnswers(dir, PROVISION_ANSWERS);
      const { code, stdout, stderr } = await runCli(['nitrokey', 'provision', '--simulate', '--answers', answers, '--products', join(dir, 'products')]);
      expect(code).toBe(1);
      expect(errorCode(stderr)).toBe('DESTRUCTIVE_UNCONFIRMED');
      expect(stderr).toContain('nitrokey.reset');
      expect(stdout).toContain('| Successfully discovered a Nitrokey HSM');
      expect(stdout).not.toContain('Reinitialized');
    });

    it('is a usage error without a terminal and without --answers, or with --simulate and --pkcs11-module', async () => {
      const dir = await tempDir();
      const answers = await writeAnswers(dir, PROVISION_ANSWERS);
      for (const argv of [
        ['nitrokey', 'provision', '--simulate'],
        ['nitrokey', 'provision', '--simulate', '--pkcs11-module', '/usr/lib/softhsm/libsofthsm2.so', '--answers', answers],
      ]) {
        const { code, stdout, stderr } = await runCli(argv);
        expect(code, argv.join(' ')).toBe(2);
        expect(errorCode(stderr)).toBe('CLI_USAGE');
        expect(stdout).toBe('');
      }
    });

    it('makes no key: its inventory entry has no key type to give', () => {
      expect(() => provisionEntry().keyType).toThrow(/no key type/);
    });
  });

  describe('keygen', () => {
    it('generates the keys of a simulated Nitrokey HSM that reports --serial, and their attestations: the 7 products, which verify', async () => {
      const dir = await tempDir();
      const products = join(dir, 'products');
      const answers = await writeAnswers(dir, ['answers:', `  nitrokey.keys/user-pin: "${FACTORY_USER_PIN}"`]);
      const serial = 'DENK0102947';
      const { code, stdout, stderr } = await runCli(['nitrokey', 'keygen', '--type', 'p384', '--serial', serial, '--simulate', '--answers', answers, '--products', products]);
      expect(errorCode(stderr)).toBeUndefined();
      expect(code).toBe(0);
      const started = [...stdout.matchAll(/^\d+\. DO .*\[([a-z.-]+)\]$/gm)].map((m) => m[1]);
      expect(started).toEqual(['nitrokey.connect', 'nitrokey.keys', 'nitrokey.attest']);
      const [[message, name]] = runbookMd.secrets('nitrokey.keys') as [[string, string]];
      expect(stdout).toContain(`? ${message} (secret)  [nitrokey.keys/${name}]`);
      const files = (await readdir(join(products, serial))).sort();
      expect(files).toEqual([
        `${serial}_devaut.cvc`,
        `${serial}_root_attestation.cvc`,
        `${serial}_root_pubkey.pem`,
        `${serial}_root_pubkey.pub`,
        `${serial}_targets_attestation.cvc`,
        `${serial}_targets_pubkey.pem`,
        `${serial}_targets_pubkey.pub`,
      ]);
      // The simulated device's attestations chain to the SIMULATED root: trusted only when allowed.
      expect((await verifyProducts([products])).ok).toBe(false);
      const report = await verifyProducts([products], { allowSimulated: true });
      expect(report.summary.codes).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.devices[0]?.keys.map((k) => k.curve)).toEqual(['P-384', 'P-384']);
      expect(stdout + stderr).not.toContain(FACTORY_USER_PIN);
    });

    it('refuses, untouched, a token other than the one --serial names, naming it', async () => {
      // The simulated token is made with --serial; make it another, as if the wrong device were plugged in.
      const create = Bench.create.bind(Bench);
      vi.spyOn(Bench, 'create').mockImplementation((options) =>
        create({ ...options, inventory: { ...options.inventory, hsms: options.inventory.hsms.map((h) => ({ ...h, serial: 'DENK0000002' })) } }),
      );
      const dir = await tempDir();
      const products = join(dir, 'products');
      const answers = await writeAnswers(dir, ['answers:', `  nitrokey.keys/user-pin: "${FACTORY_USER_PIN}"`]);
      const { code, stdout, stderr } = await runCli(['nitrokey', 'keygen', '--type', 'p256', '--serial', 'DENK0000001', '--simulate', '--answers', answers, '--products', products]);
      expect(code).toBe(1);
      expect(errorCode(stderr)).toBe('STEP_SERIAL_MISMATCH');
      // The error names both serials: the one present and the one --serial asked for.
      expect(stderr).toContain('DENK0000002');
      expect(stderr).toContain('DENK0000001');
      expect(stdout).not.toContain('Successfully discovered');
      expect(stdout).not.toContain('[nitrokey.keys]');
    });

    it('refuses the wrong token before any step touches it, and leaves it without keys', async () => {
      const { bench, env } = await benchEnvironment(keygenEntry('P-256', 'DENK0000001'), ['answers:', `  nitrokey.keys/user-pin: "${FACTORY_USER_PIN}"`], 'DENK0000002');
      await expect(nitrokeyKeygen(env, 'DENK0000001')).toThrowWithCode('STEP_SERIAL_MISMATCH');
      const token = bench.smartCardHsm('nitrokey');
      expect(token.keysWithId(Uint8Array.of(NITROKEY.keys.root.id))).toEqual([]);
      expect(token.keysWithId(Uint8Array.of(NITROKEY.keys.targets.id))).toEqual([]);
    });

    it('is a usage error without --serial or --type, or with a serial that is not a Nitrokey HSM’s', async () => {
      const dir = await tempDir();
      const answers = await writeAnswers(dir, ['answers:', `  nitrokey.keys/user-pin: "${FACTORY_USER_PIN}"`]);
      for (const argv of [
        ['nitrokey', 'keygen', '--type', 'p256', '--simulate', '--answers', answers],
        ['nitrokey', 'keygen', '--serial', 'DENK0102947', '--simulate', '--answers', answers],
        ['nitrokey', 'keygen', '--type', 'p256', '--serial', '../../etc', '--simulate', '--answers', answers],
        ['nitrokey', 'keygen', '--type', 'p256', '--serial', 'denk0102947', '--simulate', '--answers', answers],
      ]) {
        const { code, stdout, stderr } = await runCli(argv);
        expect(code, argv.join(' ')).toBe(2);
        expect(errorCode(stderr)).toBe('CLI_USAGE');
        expect(stdout).toBe('');
      }
    });
  });

  it('provisions a token and then generates its keys with the new user PIN, as the two commands do one after the other', async () => {
    const answers = [
      ...PROVISION_ANSWERS,
      `  nitrokey.keys/user-pin: "${USER_PIN}"`,
      'destructive: [nitrokey.reset]',
    ];
    const { bench, env, out } = await benchEnvironment(provisionEntry(), answers);
    const serial = await nitrokeyProvision(env);
    expect(serial).toBe(bench.printedSerial('nitrokey'));
    expect(await readdir(env.productsDir)).toEqual([]);

    await nitrokeyKeygen({ ...env, hsm: keygenEntry('P-256', serial) }, serial);
    const files = (await readdir(join(env.productsDir, serial))).sort();
    expect(files.filter((f) => f.endsWith('.cvc'))).toEqual([`${serial}_devaut.cvc`, `${serial}_root_attestation.cvc`, `${serial}_targets_attestation.cvc`]);
    expect(files.filter((f) => !f.endsWith('.cvc'))).toEqual([`${serial}_root_pubkey.pem`, `${serial}_root_pubkey.pub`, `${serial}_targets_pubkey.pem`, `${serial}_targets_pubkey.pub`]);
    const report = await verifyProducts([env.productsDir], { allowSimulated: true });
    expect(report.ok).toBe(true);
    expect(report.devices[0]?.keys.map((k) => k.curve)).toEqual(['P-256', 'P-256']);
    // The factory user PIN no longer opens the token: provisioning replaced it.
    expect(() => bench.smartCardHsm('nitrokey').verifyUserPin(FACTORY_USER_PIN)).toThrow();
    for (const secret of [SO_PIN, USER_PIN, NITROKEY.factorySoPin]) expect(out()).not.toContain(secret);
  });

  it('keygen refuses a token whose products exist, before making a key', async () => {
    const answers = ['answers:', `  nitrokey.keys/user-pin: "${FACTORY_USER_PIN}"`];
    const { bench, env } = await benchEnvironment(keygenEntry('P-256', 'DENK0000003'), answers, 'DENK0000003');
    await nitrokeyKeygen(env, 'DENK0000003');
    const token = bench.smartCardHsm('nitrokey');
    const before = token.keysWithId(Uint8Array.of(NITROKEY.keys.root.id)).length;
    await expect(nitrokeyKeygen(env, 'DENK0000003')).toThrowWithCode('STEP_PRODUCTS_EXIST');
    expect(token.keysWithId(Uint8Array.of(NITROKEY.keys.root.id))).toHaveLength(before);
  });
});
