// `runbook yubihsm provision` end to end through the CLI entry point, on the
// simulated YubiHSM 2 (--simulate) with answers files: the same steps, step
// ids and prompts as "Provisioning the YubiHSM 2" in RUNBOOK.md, and products
// that `runbook verify` accepts.
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { YUBIHSM_SECTION, YUBIHSM_STEPS } from '../../lib/cli/yubihsm.ts';
import { verifyProducts } from '../../lib/products/verify/index.ts';
import { SimulatedYubiHsm } from '../../lib/yubihsm/simulator/index.ts';
import { runCli } from '../support/cli.ts';
import { projectRunbook } from './support/runbook-md.ts';

/** The code in `runbook: message [CODE]`, the CLI's one-line error. */
function errorCode(stderr: string): string | undefined {
  return /^runbook: (?!warning).*\[([A-Z_0-9]+)\]$/m.exec(stderr)?.[1];
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'runbook-yubihsm-'));
}

/** The simulated device's serial, as printed on a casing. */
const PRINTED = 7550054;
const SERIAL = '0007550054';
/** Rehearsal secrets: they must never be printed. */
const PASSWORD = 'Rehearsal-auth-pw-4Qz9';
const OTHER_PASSWORD = 'Rehearsal-typo-pw-7Kx2';

/**
 * The bench makes the simulated YubiHSM 2 with a random serial, which an
 * answers file written beforehand cannot know: pin it, as the casing of the
 * device in hand would show it.
 */
function pinSimulatedSerial(): void {
  const create = SimulatedYubiHsm.create.bind(SimulatedYubiHsm);
  vi.spyOn(SimulatedYubiHsm, 'create').mockImplementation((options) => create({ ...options, serial: PRINTED }));
}

async function answersFile(dir: string, overrides: { serial?: string; keysPassword?: string; destructive?: string[] } = {}): Promise<string> {
  const file = join(dir, 'answers.yaml');
  const lines = [
    'answers:',
    `  yubihsm.serial/serial: "${overrides.serial ?? String(PRINTED)}"`,
    '  yubihsm.warning/continue: yes',
    '  yubihsm.authkey-warning/continue: yes',
    `  yubihsm.authkey/password: "${PASSWORD}"`,
    `  yubihsm.keys/password: "${overrides.keysPassword ?? PASSWORD}"`,
    `destructive: [${(overrides.destructive ?? ['yubihsm.reset']).join(', ')}]`,
  ];
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

const runbookMd = projectRunbook();

afterEach(() => {
  vi.restoreAllMocks();
});

describe('runbook yubihsm provision', () => {
  it('performs the blocks of "Provisioning the YubiHSM 2", with their ids, ordinals and destructive marks', () => {
    // Every block of the section, in the section's order.
    expect(Object.values(YUBIHSM_STEPS).map((s) => s.id)).toEqual(runbookMd.blocks(YUBIHSM_SECTION));
    runbookMd.expectDocumented(YUBIHSM_SECTION, YUBIHSM_STEPS);
  });

  it('provisions a simulated YubiHSM 2: the 7 products of its serial, which verify', async () => {
    pinSimulatedSerial();
    const dir = await tempDir();
    const products = join(dir, 'products');
    const answers = await answersFile(dir);
    const { code, stdout, stderr } = await runCli(['yubihsm', 'provision', '--type', 'p384', '--simulate', '--answers', answers, '--products', products]);
    expect(errorCode(stderr)).toBeUndefined();
    expect(code).toBe(0);

    expect(stdout).toMatch(/^SIMULATED HSM: no real device is touched\. Serial number on the simulated device:\n {2}yubihsm: 7550054\n/);
    expect(stdout).toContain('== Provisioning the YubiHSM 2 (hsm=yubihsm)');
    // The steps in the runbook's order, under the runbook's ids.
    const started = [...stdout.matchAll(/^\d+\. DO .*\[([a-z.-]+)\]$/gm)].map((m) => m[1]);
    expect(started).toEqual(Object.values(YUBIHSM_STEPS).map((s) => s.id));
    expect(stdout).toContain(`| Discovered a Yubico YubiHSM with serial number ${SERIAL}`);
    expect(stdout).toContain('| The HSM is back online.');
    expect(stdout).toContain('| Success! Provisioned a new authentication key as object 2 and deleted the default key');
    expect(stdout).toContain(`| Label the bag: yubihsm, serial ${SERIAL}`);
    expect(stdout).toContain('[yubihsm.reset/destructive]');
    expect(stdout).toContain(`provisioned YubiHSM 2 serial ${SERIAL}: its products are in ${join(products, SERIAL)}`);
    // Every password prompt of the section's blocks, in the blocks' own words and under their ids.
    const prompts = Object.values(YUBIHSM_STEPS).flatMap((step) =>
      runbookMd.secrets(step.id).map(([message, name]) => `? ${message} (secret)  [${step.id}/${name}]`),
    );
    expect(prompts).toHaveLength(2);
    for (const prompt of prompts) expect(stdout).toContain(prompt);

    const files = (await readdir(join(products, SERIAL))).sort();
    expect(files).toEqual([
      `${SERIAL}_cert.der`,
      `${SERIAL}_root_attestation.der`,
      `${SERIAL}_root_pubkey.pem`,
      `${SERIAL}_root_pubkey.pub`,
      `${SERIAL}_targets_attestation.der`,
      `${SERIAL}_targets_pubkey.pem`,
      `${SERIAL}_targets_pubkey.pub`,
    ]);
    for (const file of files) expect(stdout).toContain(`wrote ${join(products, SERIAL, file)} (sha256 `);
    const report = await verifyProducts([products], { allowSimulated: true });
    expect(report.summary.codes).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.devices).toHaveLength(1);
    expect(report.devices[0]?.keys.map((k) => k.curve)).toEqual(['P-384', 'P-384']);

    // The password came from a file (a rehearsal only): said, and never shown.
    expect(stderr.match(/\[SECRET_FROM_FILE\]/g)).toHaveLength(2);
    expect(stdout + stderr).not.toContain(PASSWORD);
  });

  it('does not reset the device unless the answers file lists yubihsm.reset under destructive', async () => {
    pinSimulatedSerial();
    const dir = await tempDir();
    const products = join(dir, 'products');
    const answers = await answersFile(dir, { destructive: [] });
    const { code, stdout, stderr } = await runCli(['yubihsm', 'provision', '--type', 'p256', '--simulate', '--answers', answers, '--products', products]);
    expect(code).toBe(1);
    expect(errorCode(stderr)).toBe('DESTRUCTIVE_UNCONFIRMED');
    expect(stderr).toContain('yubihsm.reset');
    expect(stdout).toContain("| We've successfully authenticated with the HSM!");
    expect(stdout).not.toContain('Success! Waiting for the HSM to come back online');
    expect(stdout).toMatch(/8\. DO factory-reset .*\[yubihsm\.reset\]\n {2}FAILED \[DESTRUCTIVE_UNCONFIRMED\]/);
    expect(await readdir(products)).toEqual([]);
  });

  it('stops at connect when the device is not the one whose serial was typed', async () => {
    pinSimulatedSerial();
    const dir = await tempDir();
    const products = join(dir, 'products');
    const answers = await answersFile(dir, { serial: '7550055' });
    const { code, stdout, stderr } = await runCli(['yubihsm', 'provision', '--type', 'p256', '--simulate', '--answers', answers, '--products', products]);
    expect(code).toBe(1);
    expect(errorCode(stderr)).toBe('STEP_SERIAL_MISMATCH');
    expect(stderr).toContain(SERIAL);
    expect(stderr).toContain('0007550055');
    expect(stdout).not.toContain('[yubihsm.reset]');
  });

  it('stops when the device refuses the password every time, without showing either password', async () => {
    pinSimulatedSerial();
    const dir = await tempDir();
    const products = join(dir, 'products');
    const answers = await answersFile(dir, { keysPassword: OTHER_PASSWORD });
    const { code, stdout, stderr } = await runCli(['yubihsm', 'provision', '--type', 'p256', '--simulate', '--answers', answers, '--products', products, '--debug']);
    expect(code).toBe(1);
    expect(errorCode(stderr)).toBe('STEP_SECRET_REFUSED');
    expect(stdout).toContain('! The HSM did not accept that password. Type it again.');
    expect(stdout + stderr).not.toContain(PASSWORD);
    expect(stdout + stderr).not.toContain(OTHER_PASSWORD);
    // No key was published for a device whose password nobody could type.
    expect(await readdir(products)).toEqual([]);
  });

  it('refuses a device whose products already exist, before touching it', async () => {
    pinSimulatedSerial();
    const dir = await tempDir();
    const products = join(dir, 'products');
    const answers = await answersFile(dir);
    expect((await runCli(['yubihsm', 'provision', '--type', 'p256', '--simulate', '--answers', answers, '--products', products])).code).toBe(0);
    const again = await runCli(['yubihsm', 'provision', '--type', 'p256', '--simulate', '--answers', answers, '--products', products]);
    expect(again.code).toBe(1);
    expect(errorCode(again.stderr)).toBe('STEP_PRODUCTS_EXIST');
    expect(again.stdout).not.toContain('[yubihsm.reset]');
  });

  it('is a usage error without a terminal and without --answers', async () => {
    const { code, stdout, stderr } = await runCli(['yubihsm', 'provision', '--type', 'p256', '--simulate']);
    expect(code).toBe(2);
    expect(errorCode(stderr)).toBe('CLI_USAGE');
    expect(stdout).toBe('');
  });

  it('is a usage error without --type, with another curve, or with --simulate and --connector', async () => {
    const dir = await tempDir();
    const answers = await answersFile(dir);
    for (const argv of [
      ['yubihsm', 'provision', '--simulate', '--answers', answers],
      ['yubihsm', 'provision', '--type', 'p521', '--simulate', '--answers', answers],
      ['yubihsm', 'provision', '--type', 'p256', '--simulate', '--connector', 'http://127.0.0.1:12345', '--answers', answers],
    ]) {
      const { code, stdout, stderr } = await runCli(argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(errorCode(stderr)).toBe('CLI_USAGE');
      expect(stdout).toBe('');
    }
  });
});
