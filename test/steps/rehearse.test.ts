// RUNBOOK.md itself, end to end: `runbook rehearse` on the simulated HSMs and
// on SoftHSM2 tokens, then `runbook verify --allow-simulated` on what it
// made, and every output searched for every password and PIN the run used.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyProducts } from '../../lib/products/verify/index.ts';
import { projectPath } from '../../lib/paths.ts';
import { rehearse } from '../../steps/rehearsal/rehearse.ts';
import { softhsmModule } from '../pkcs11/support/softhsm.ts';
import { runCli } from '../support/cli.ts';

const RUNBOOK = projectPath('RUNBOOK.md');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function workDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'runbook-rehearse-test-'));
  dirs.push(dir);
  return dir;
}

/** Every file below `dir`, with its bytes. */
function filesBelow(dir: string): { path: string; bytes: Buffer }[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ path, bytes: readFileSync(path) }));
}

describe('runbook rehearse RUNBOOK.md on simulated HSMs', () => {
  it('performs the whole ceremony, writes every product, and the products verify', async () => {
    const out = join(await workDir(), 'rehearsal');
    const { code, stdout, stderr } = await runCli(['rehearse', RUNBOOK, '--out', out]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/rehearsal: the ceremony completed and every product verifies/);
    expect(stdout).toMatch(/0 differed/);

    // Six devices: three YubiHSM 2 directories of 7 products, and three Nitrokey HSM directories of 7:
    // the four public key files, EF 2F02 and the root and targets keys' attestations.
    const products = join(out, 'ceremony-products');
    const devices = readdirSync(products).sort();
    expect(devices).toHaveLength(6);
    const counts = devices.map((d) => readdirSync(join(products, d)).length).sort();
    expect(counts).toEqual([7, 7, 7, 7, 7, 7]);
    const nitrokeys = devices.filter((d) => d.startsWith('DENK'));
    expect(nitrokeys).toHaveLength(3);
    for (const serial of nitrokeys) {
      expect(readdirSync(join(products, serial)).filter((f) => f.endsWith('.cvc')).sort()).toEqual([
        `${serial}_devaut.cvc`,
        `${serial}_root_attestation.cvc`,
        `${serial}_targets_attestation.cvc`,
      ]);
    }

    // A third party's check, through the CLI: the simulator's CA is trusted only when asked.
    const verified = await runCli(['verify', products, '--runbook', RUNBOOK, '--allow-simulated']);
    expect(verified.code).toBe(0);
    const strict = await runCli(['verify', products, '--runbook', RUNBOOK]);
    expect(strict.code).toBe(1);
  });

  it('never shows, records or writes a password or PIN it used', async () => {
    const out = join(await workDir(), 'rehearsal');
    let printed = '';
    const rehearsal = await rehearse({
      file: RUNBOOK,
      out,
      observers: [{ onEvent: (e) => void (printed += `${JSON.stringify(e)}\n`) }],
    });
    expect(rehearsal.error).toBeUndefined();
    expect(rehearsal.ok).toBe(true);
    // Three YubiHSM 2 passwords, three SO-PINs and three user PINs.
    expect(rehearsal.secrets).toHaveLength(9);
    const everything = [printed, ...filesBelow(out).map((f) => f.bytes.toString('latin1'))];
    for (const secret of rehearsal.secrets) {
      for (const text of everything) expect(text.includes(secret)).toBe(false);
    }
    // Nor in this process's argv or environment (nothing is passed to a child).
    for (const secret of rehearsal.secrets) {
      expect(process.argv.join(' ').includes(secret)).toBe(false);
      expect(Object.values(process.env).join(' ').includes(secret)).toBe(false);
    }
  });

  it('takes every secret from --answers when given, and prints none of them on stdout or stderr', async () => {
    const dir = await workDir();
    const secrets = { password: 'Kq8-rehearsal-password', soPin: '0123456789abcdef', userPin: '31415926' };
    const answers = join(dir, 'answers.yaml');
    writeFileSync(
      answers,
      [
        'answers:',
        `  "yubihsm.*/password": ${secrets.password}`,
        `  nitrokey.so-pin/so-pin: "${secrets.soPin}"`,
        `  "nitrokey.*/user-pin": "${secrets.userPin}"`,
        '',
      ].join('\n'),
    );
    const out = join(dir, 'rehearsal');
    const { code, stdout, stderr } = await runCli(['rehearse', RUNBOOK, '--out', out, '--answers', answers]);
    expect(code).toBe(0);
    // The file's secrets were the ones used: each is reported as taken from a file, once per prompt.
    expect(stderr.match(/SECRET_FROM_FILE/g)).toHaveLength(15);
    const everything = [stdout, stderr, ...filesBelow(out).map((f) => f.bytes.toString('latin1'))];
    for (const secret of Object.values(secrets)) {
      for (const text of everything) expect(text.includes(secret)).toBe(false);
    }
  });

  it('proves every documented output and file list against what the code did', async () => {
    const out = join(await workDir(), 'rehearsal');
    const rehearsal = await rehearse({ file: RUNBOOK, out, transcript: false });
    expect(rehearsal.output.mismatches).toEqual([]);
    // Banners, connections, resets, auth keys, key creation and labels: per device.
    expect(rehearsal.output.matched).toBeGreaterThanOrEqual(30);
    expect(rehearsal.output.unproven).toBe(0);
  });
});

describe.skipIf(softhsmModule === undefined)('runbook rehearse RUNBOOK.md with SoftHSM2 tokens for the Nitrokey HSMs', () => {
  it('provisions one SoftHSM2 token per Nitrokey HSM, kept in DIR with its own softhsm2.conf', async () => {
    const out = join(await workDir(), 'rehearsal');
    const { code, stdout } = await runCli(['rehearse', RUNBOOK, '--out', out, '--pkcs11-module', softhsmModule!, '--quiet']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/every product verifies/);
    expect(readFileSync(join(out, 'softhsm2.conf'), 'utf8')).toContain(join(out, 'tokens'));
    const products = join(out, 'ceremony-products');
    // A SoftHSM2 token cannot attest its keys: nitrokey.attest is skipped, and its directories keep the four public key files.
    const counts = readdirSync(products).map((d) => readdirSync(join(products, d)).length).sort();
    expect(counts).toEqual([4, 4, 4, 7, 7, 7]);
    const report = await verifyProducts([products], { allowSimulated: true });
    expect(report.ok).toBe(true);
    // The CLI, as a third party runs it: the SoftHSM2 tokens' directories are accepted, and marked, only with --allow-simulated.
    const verified = await runCli(['verify', products, '--runbook', RUNBOOK, '--allow-simulated', '--json']);
    expect(verified.code).toBe(0);
    const json = JSON.parse(verified.stdout) as { devices: { kind: string; simulated: boolean }[] };
    expect(json.devices.filter((d) => d.kind === 'nitrokey-hsm' && d.simulated)).toHaveLength(3);
    expect((await runCli(['verify', products, '--runbook', RUNBOOK])).code).toBe(1);
    expect(report.devices.filter((d) => d.kind === 'nitrokey-hsm').map((d) => d.serial)).toHaveLength(3);
  });
});
