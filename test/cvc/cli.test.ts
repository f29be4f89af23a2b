// `runbook nitrokey verify-attestation` through the CLI's entry point: the
// chain printed and exit 0 when the attestation holds, `runbook: message
// [CVC_…]` and exit 1 when it does not, exit 2 for a command line that
// cannot be acted on.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { attestKey, makeSimulatedDevice } from '../../lib/cvc/index.ts';
import { runCli } from '../support/cli.ts';
import { REAL, flip, offsetIn } from './support.ts';
import { parseDevaut } from '../../lib/cvc/index.ts';

/** The code in `runbook: message [CODE]`, the CLI's one-line error. */
function errorCode(stderr: string): string | undefined {
  return /^runbook: .*\[([A-Z_0-9]+)\]$/m.exec(stderr)?.[1];
}

let dir = '';
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runbook-cvc-cli-'));
  await writeFile(file('DENK0404144_devaut.cvc'), REAL.devaut);
  await writeFile(file('DENK0404144_root_attestation.cvc'), REAL.ce03);
  await writeFile(file('DENK0404144_targets_attestation.cvc'), REAL.ce04);
  await writeFile(file('DENK0404144_root_pubkey.pub'), REAL.ce03Spki);
  const { createPublicKey } = await import('node:crypto');
  await writeFile(file('DENK0404144_root_pubkey.pem'), createPublicKey({ key: Buffer.from(REAL.ce03Spki), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }));
  await writeFile(file('DENK0404144_targets_pubkey.pub'), REAL.ce04Spki);
});

const base = () => ['nitrokey', 'verify-attestation', '--device', file('DENK0404144_devaut.cvc'), '--request', file('DENK0404144_root_attestation.cvc'), '--at', '2026-06-01'];

describe('runbook nitrokey verify-attestation', () => {
  it('prints the chain SRCA → DICA → device → key and exits 0 for the real vectors', async () => {
    const r = await runCli([...base(), '--key', file('DENK0404144_root_pubkey.pub'), '--serial', 'DENK0404144']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toContain('SRCA → DICA → device → key');
    expect(lines.slice(1, 5).map((l) => l.trim().split(/\s+/).slice(0, 2))).toEqual([
      ['SRCA', '"DESRCACC100001"'],
      ['DICA', '"DEDINK0400001"'],
      ['device', '"DENK040414400000"'],
      ['key', '"DENK040414400001"'],
    ]);
    expect(r.stdout).toContain('valid 2024-10-30 to 2032-10-29');
    expect(r.stdout).toContain('EC P-256');
    expect(r.stdout).toContain('2026-06-01T00:00:00.000Z');
  });

  it('takes the published key as PEM too, and an RSA key', async () => {
    expect((await runCli([...base(), '--key', file('DENK0404144_root_pubkey.pem')])).code).toBe(0);
    const rsa = await runCli(['nitrokey', 'verify-attestation', '--device', file('DENK0404144_devaut.cvc'), '--request', file('DENK0404144_targets_attestation.cvc'), '--key', file('DENK0404144_targets_pubkey.pub'), '--at', '2026-06-01']);
    expect([rsa.code, rsa.stdout.includes('RSA')]).toEqual([0, true]);
  });

  it.each([
    ['another key', ['--key', 'DENK0404144_targets_pubkey.pub'], 'CVC_KEY_MISMATCH'],
    ['another serial', ['--serial', 'DENK0404145'], 'CVC_SERIAL_MISMATCH'],
    ['a time after the DICA expired', ['--at', '2032-10-30'], 'CVC_EXPIRED'],
  ])('exits 1 with one error line for %s', async (_what, extra, code) => {
    const args = extra[0] === '--key' ? [extra[0], file(extra[1] ?? '')] : extra;
    const r = await runCli([...base(), ...args]);
    expect([r.code, errorCode(r.stderr), r.stdout]).toEqual([1, code, '']);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names the file at fault', async () => {
    const { dica } = parseDevaut(REAL.devaut);
    await writeFile(file('bad_devaut.cvc'), flip(REAL.devaut, offsetIn(REAL.devaut, dica.signature) + 1));
    const r = await runCli(['nitrokey', 'verify-attestation', '--device', file('bad_devaut.cvc'), '--request', file('DENK0404144_root_attestation.cvc'), '--at', '2026-06-01']);
    expect([r.code, errorCode(r.stderr)]).toEqual([1, 'CVC_DICA_SIGNATURE']);
    expect(r.stderr).toContain(file('bad_devaut.cvc'));
    await writeFile(file('junk.cvc'), Uint8Array.of(0x67, 0x05, 0x01));
    const junk = await runCli(['nitrokey', 'verify-attestation', '--device', file('DENK0404144_devaut.cvc'), '--request', file('junk.cvc')]);
    expect([junk.code, errorCode(junk.stderr)]).toEqual([1, 'CVC_TRUNCATED']);
    expect(junk.stderr).toContain(file('junk.cvc'));
    expect(junk.stderr).not.toMatch(/\n\s+at /);
  });

  it('a simulated device’s attestation: exit 1 CVC_SIMULATED, exit 0 with --allow-simulated, reported SIMULATED', async () => {
    const device = await makeSimulatedDevice('DENK0102947');
    await writeFile(file('sim_devaut.cvc'), device.devaut);
    await writeFile(file('sim_root.cvc'), attestKey(device, generateKeyPairSync('ec', { namedCurve: 'prime256v1' })));
    const args = ['nitrokey', 'verify-attestation', '--device', file('sim_devaut.cvc'), '--request', file('sim_root.cvc')];
    const refused = await runCli(args);
    expect([refused.code, errorCode(refused.stderr)]).toEqual([1, 'CVC_SIMULATED']);
    const allowed = await runCli([...args, '--allow-simulated']);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/^SIMULATED/);
  });

  it.each([
    ['a missing file', () => ['nitrokey', 'verify-attestation', '--device', file('nope.cvc'), '--request', file('DENK0404144_root_attestation.cvc')]],
    ['no --device', () => ['nitrokey', 'verify-attestation', '--request', file('DENK0404144_root_attestation.cvc')]],
    ['no --request', () => ['nitrokey', 'verify-attestation', '--device', file('DENK0404144_devaut.cvc')]],
    ['a bad --at', () => [...base(), '--at', 'yesterday']],
    ['a bad --serial', () => [...base(), '--serial', 'nk-1']],
  ])('exits 2 for %s', async (_what, argv) => {
    const r = await runCli(argv());
    expect([r.code, errorCode(r.stderr)]).toEqual([2, 'CLI_USAGE']);
  });

  it('a --key file that is neither DER nor PEM: exit 1 CVC_KEY_MALFORMED', async () => {
    await writeFile(file('bad.pem'), '-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n');
    await writeFile(file('bad.pub'), Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00));
    for (const key of ['bad.pem', 'bad.pub']) {
      const r = await runCli([...base(), '--key', file(key)]);
      expect([r.code, errorCode(r.stderr)]).toEqual([1, 'CVC_KEY_MALFORMED']);
      expect(r.stderr).toContain(file(key));
    }
  });
});
