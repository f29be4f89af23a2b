import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VerificationReport } from '../../lib/products/verify/index.ts';
import { PSF_INVENTORY, psfCopy } from '../products/support/psf.ts';
import { REAL_AT, writeSimulatedNitrokey } from '../products/support/nitrokey.ts';
import { simulatorCa, writeYubiHsm } from '../products/support/test-ca.ts';
import { projectPath } from '../../lib/paths.ts';
import { runCli } from '../support/cli.ts';
import { psfProducts } from '../support/paths.ts';

const FRONT_MATTER = `---
title: ${PSF_INVENTORY.title}
hsms:
${PSF_INVENTORY.hsms.map((e) => `  - id: ${e.id}\n    kind: ${e.kind}\n    keyType: ${e.keyType}`).join('\n')}
---

# The ceremony
`;

describe('runbook verify', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runbook-cli-verify-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 on the PSF products, with a table of every key and a warning for each unattested Nitrokey HSM', async () => {
    const { code, stdout } = await runCli(['verify', psfProducts]);
    expect(code).toBe(0);
    const rows = stdout.split('\n').filter((l) => /^\S.*\b(root|targets)\b/.test(l));
    expect(rows).toHaveLength(12);
    for (const row of rows) expect(row).not.toContain('✗');
    expect(stdout).not.toContain('✗ [');
    expect(stdout.match(/^ {2}! \[VERIFY_UNATTESTED\]/gm)).toHaveLength(3);
    expect(stdout).toContain('09:4A:3A:C4:93:C2:BD:CD:65:A5:4B:DF:40:19:0F:52:BB:03:F7:15:63:97:A3:FC:69:D8:AA:9A:39:2F:B7:24');
  });

  it('checks the inventory of a runbook given with --runbook', async () => {
    const runbook = join(dir, 'RUNBOOK.md');
    await writeFile(runbook, FRONT_MATTER);
    const { code, stdout } = await runCli(['verify', psfProducts, '--runbook', runbook, '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as VerificationReport;
    expect(report.ok).toBe(true);
    expect(report.devices.find((d) => d.serial === '0013200460')?.inventoryId).toBe('YubiHSM2-2');
  });

  it("the project's RUNBOOK.md inventory matches the PSF products", async () => {
    const { code, stdout } = await runCli(['verify', psfProducts, '--runbook', projectPath('RUNBOOK.md'), '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as VerificationReport;
    expect(report.devices.map((d) => d.inventoryId).sort()).toEqual(['NitrokeyHSM-4', 'NitrokeyHSM-5', 'NitrokeyHSM-6', 'YubiHSM2-1', 'YubiHSM2-2', 'YubiHSM2-3']);
  });

  it('checks an inventory given with --hsm', async () => {
    const { code, stdout } = await runCli(['verify', join(psfProducts, '0013200460'), '--hsm', 'YubiHSM2-2=yubihsm2:P-256', '--json']);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as VerificationReport;
    expect(report.summary.codes).toEqual(['VERIFY_CURVE']);
  });

  describe('on a copy of the PSF products', () => {
    const psf = psfCopy('each');

    it('--json prints the report, codes included, and exits 1 on a failed check', async () => {
      await unlink(join(psf.products, 'DENK0102947', 'DENK0102947_root_pubkey.pem'));
      const { code, stdout } = await runCli(['verify', psf.products, '--json']);
      expect(code).toBe(1);
      const report = JSON.parse(stdout) as VerificationReport;
      expect(report.ok).toBe(false);
      expect(report.summary.codes).toEqual(['VERIFY_FILE_MISSING']);
      expect(report.devices.find((d) => d.serial === 'DENK0102947')?.findings[0]?.code).toBe('VERIFY_FILE_MISSING');
    });

    it('prints the reason and code of a failure under its device', async () => {
      await writeFile(join(psf.products, '0013200461', 'extra.bin'), 'x');
      const { code, stdout } = await runCli(['verify', psf.products]);
      expect(code).toBe(1);
      // Under the device's rows, before the next device's.
      const lines = stdout.split('\n');
      const rows = lines.flatMap((l, i) => (l.startsWith('YubiHSM 2     0013200461') ? [i] : []));
      expect(rows).toHaveLength(2);
      const after = rows[1] ?? 0;
      const next = lines.findIndex((l, i) => i > after && /^\S/.test(l));
      expect(lines[next]).toMatch(/^YubiHSM 2 {5}0013200462/);
      expect(lines.slice(after + 1, next).join(' ')).toMatch(/^ {2}✗ \[VERIFY_FILE_UNEXPECTED\] .*extra\.bin/);
    });

    it('exits 1 on a malformed product, reported as a finding and not as an error', async () => {
      await writeFile(join(psf.products, '0013200462', '0013200462_cert.der'), Uint8Array.of(0x30, 0x80, 0xff));
      const { code, stdout, stderr } = await runCli(['verify', psf.products, '--json']);
      expect([code, stderr]).toEqual([1, '']);
      expect((JSON.parse(stdout) as VerificationReport).summary.codes).toEqual(['VERIFY_DER_MALFORMED']);
    });
  });

  it('refuses simulated products unless --allow-simulated, then marks every line SIMULATED', async () => {
    const products = join(dir, 'ceremony-products');
    await writeYubiHsm(await simulatorCa(), products, { serial: 7550054, curve: 'P-256' });
    const refused = await runCli(['verify', products]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('[VERIFY_SIMULATED]');
    const allowed = await runCli(['verify', '--allow-simulated', products]);
    expect(allowed.code).toBe(0);
    const lines = allowed.stdout.split('\n').filter((l) => l.includes('0007550054'));
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(/SIMULATED$/);
    const json = JSON.parse((await runCli(['verify', '--allow-simulated', '--json', products])).stdout) as VerificationReport;
    expect(json.devices.map((d) => d.simulated)).toEqual([true]);
  });

  it('--require-attestation: the PSF products exit 1, each Nitrokey HSM unattested', async () => {
    const { code, stdout } = await runCli(['verify', psfProducts, '--require-attestation', '--json']);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as VerificationReport;
    expect(report.summary).toMatchObject({ failures: 3, codes: ['VERIFY_UNATTESTED'], warnings: 0 });
    const table = await runCli(['verify', psfProducts, '--require-attestation']);
    expect(table.stdout.match(/^ {2}✗ \[VERIFY_UNATTESTED\]/gm)).toHaveLength(3);
  });

  it('--json carries the warnings, and they leave the exit status at 0', async () => {
    const { code, stdout } = await runCli(['verify', psfProducts, '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as VerificationReport;
    expect(report.ok).toBe(true);
    expect(report.summary).toMatchObject({ failures: 0, warnings: 3, warningCodes: ['VERIFY_UNATTESTED'] });
    expect(report.devices.filter((d) => d.warnings.length > 0).map((d) => d.serial)).toEqual(['DENK0102947', 'DENK0103189', 'DENK0200473']);
  });

  it('checks Nitrokey HSM attestations: simulated ones pass with --allow-simulated and --require-attestation, marked SIMULATED', async () => {
    const products = join(dir, 'ceremony-products');
    await writeSimulatedNitrokey(products, 'DENK0000001');
    const at = REAL_AT.toISOString();
    const refused = await runCli(['verify', products, '--at', at, '--json']);
    expect(refused.code).toBe(1);
    expect((JSON.parse(refused.stdout) as VerificationReport).summary.codes).toEqual(['CVC_SIMULATED']);
    const allowed = await runCli(['verify', products, '--at', at, '--allow-simulated', '--require-attestation']);
    expect(allowed.code).toBe(0);
    const lines = allowed.stdout.split('\n').filter((l) => l.includes('DENK0000001'));
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(/SIMULATED$/);
    expect(allowed.stdout).toContain('Attestations chain to UTSRCASIM00001 (SIMULATED');
  });

  it('names the failing attestation file and lib/cvc’s code under its device', async () => {
    const products = join(dir, 'ceremony-products');
    const sim = await writeSimulatedNitrokey(products, 'DENK0000001');
    const request = sim.keys.targets.request;
    await writeFile(join(sim.dir, 'DENK0000001_targets_attestation.cvc'), request.subarray(0, request.length - 1));
    const { code, stdout } = await runCli(['verify', products, '--at', REAL_AT.toISOString(), '--allow-simulated']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^ {2}✗ \[CVC_TRUNCATED\] chain, targets key: DENK0000001_targets_attestation\.cvc: /m);
  });

  it('exits 2 naming a DIR that does not exist', async () => {
    const missing = join(dir, 'nope');
    const { code, stderr } = await runCli(['verify', missing]);
    expect(code).toBe(2);
    expect(stderr).toContain(missing);
    expect(stderr).toContain('[VERIFY_INPUT_NOT_FOUND]');
  });

  it('exits 2 for a DIR that is a file, or empty', async () => {
    const file = await runCli(['verify', join(psfProducts, '0013200461', '0013200461_cert.der')]);
    expect([file.code, file.stderr]).toEqual([2, expect.stringContaining('[VERIFY_INPUT_NOT_DIRECTORY]')]);
    const empty = await runCli(['verify', dir]);
    expect([empty.code, empty.stderr]).toEqual([2, expect.stringContaining('[VERIFY_INPUT_EMPTY]')]);
  });

  it('exits 2 for a malformed --hsm, and for --hsm with --runbook', async () => {
    expect((await runCli(['verify', psfProducts, '--hsm', 'YubiHSM2-1=yubihsm3:P-256'])).code).toBe(2);
    expect((await runCli(['verify', psfProducts, '--hsm', 'A=yubihsm2:P-256', '--runbook', 'RUNBOOK.md'])).code).toBe(2);
  });

  it('exits 2 for a --runbook that cannot be read', async () => {
    expect((await runCli(['verify', psfProducts, '--runbook', join(dir, 'missing.md')])).code).toBe(2);
  });

  it('--at checks certificate validity at that moment: the ceremony day holds, a day before the certificates does not', async () => {
    const ceremonyDay = await runCli(['verify', psfProducts, '--json', '--at', '2020-10-30']);
    expect(ceremonyDay.code).toBe(0);
    expect((JSON.parse(ceremonyDay.stdout) as VerificationReport).at).toBe('2020-10-30T00:00:00.000Z');
    // Yubico's certificates are valid from 2017-01-01.
    const before = await runCli(['verify', psfProducts, '--json', '--at', '2016-12-31T23:59:59Z']);
    expect(before.code).toBe(1);
    expect((JSON.parse(before.stdout) as VerificationReport).summary.codes).toContain('VERIFY_CHAIN_VALIDITY');
    for (const bad of ['yesterday', '2020-13-45', '30/10/2020']) {
      const { code, stderr } = await runCli(['verify', psfProducts, '--at', bad]);
      expect(code).toBe(2);
      expect(stderr).toContain('[CLI_USAGE]');
    }
  });

  it('exits 2 without a DIR', async () => {
    expect((await runCli(['verify'])).code).toBe(2);
  });
});
