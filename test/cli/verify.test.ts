import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VerificationReport } from '../../lib/products/verify/index.ts';
import { copyPsf, PSF_INVENTORY } from '../products/support/psf.ts';
import { simulatorCa, writeYubiHsm } from '../products/support/test-ca.ts';
import { projectPath } from '../../lib/paths.ts';
import { runCli } from '../support/cli.ts';
import { psfProducts } from '../support/paths.ts';

async function run(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await runCli(argv);
  return { status: code, stdout, stderr };
}

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

  it('exits 0 on the PSF products, with a table of every key', async () => {
    const { status, stdout } = await run('verify', psfProducts);
    expect(status).toBe(0);
    const rows = stdout.split('\n').filter((l) => /\b(root|targets)\b/.test(l) && /^\S/.test(l));
    expect(rows).toHaveLength(12);
    for (const row of rows) expect(row).not.toContain('✗');
    expect(stdout).toMatch(/^OK: 6 device\(s\), 12 key\(s\)/m);
    expect(stdout).toContain('09:4A:3A:C4:93:C2:BD:CD:65:A5:4B:DF:40:19:0F:52:BB:03:F7:15:63:97:A3:FC:69:D8:AA:9A:39:2F:B7:24');
  });

  it('checks the inventory of a runbook given with --runbook', async () => {
    const runbook = join(dir, 'RUNBOOK.md');
    await writeFile(runbook, FRONT_MATTER);
    const { status, stdout } = await run('verify', psfProducts, '--runbook', runbook, '--json');
    expect(status).toBe(0);
    const report = JSON.parse(stdout) as VerificationReport;
    expect(report.ok).toBe(true);
    expect(report.devices.find((d) => d.serial === '0013200460')?.inventoryId).toBe('YubiHSM2-2');
  });

  it("the project's RUNBOOK.md inventory matches the PSF products", async () => {
    const { status, stdout } = await run('verify', psfProducts, '--runbook', projectPath('RUNBOOK.md'), '--json');
    expect(status).toBe(0);
    const report = JSON.parse(stdout) as VerificationReport;
    expect(report.devices.map((d) => d.inventoryId).sort()).toEqual(['NitrokeyHSM-4', 'NitrokeyHSM-5', 'NitrokeyHSM-6', 'YubiHSM2-1', 'YubiHSM2-2', 'YubiHSM2-3']);
  });

  it('checks an inventory given with --hsm', async () => {
    const { status, stdout } = await run('verify', join(psfProducts, '0013200460'), '--hsm', 'YubiHSM2-2=yubihsm2:P-256', '--json');
    expect(status).toBe(1);
    const report = JSON.parse(stdout) as VerificationReport;
    expect(report.summary.codes).toEqual(['VERIFY_CURVE']);
  });

  it('--json prints the report, codes included, and exits 1 on a failed check', async () => {
    const { products, cleanup } = await copyPsf();
    try {
      await unlink(join(products, 'DENK0102947', 'DENK0102947_root_pubkey.pem'));
      const { status, stdout } = await run('verify', products, '--json');
      expect(status).toBe(1);
      const report = JSON.parse(stdout) as VerificationReport;
      expect(report.ok).toBe(false);
      expect(report.summary.codes).toEqual(['VERIFY_FILE_MISSING']);
      expect(report.devices.find((d) => d.serial === 'DENK0102947')?.findings[0]?.code).toBe('VERIFY_FILE_MISSING');
    } finally {
      await cleanup();
    }
  });

  it('prints the reason and code of a failure under its device', async () => {
    const { products, cleanup } = await copyPsf();
    try {
      await writeFile(join(products, '0013200461', 'extra.bin'), 'x');
      const { status, stdout } = await run('verify', products);
      expect(status).toBe(1);
      expect(stdout).toMatch(/✗ files \[VERIFY_FILE_UNEXPECTED\] .*extra\.bin/);
      expect(stdout).toMatch(/^FAILED: 1 failure\(s\).*VERIFY_FILE_UNEXPECTED/m);
    } finally {
      await cleanup();
    }
  });

  it('refuses simulated products unless --allow-simulated, then marks every line SIMULATED', async () => {
    const products = join(dir, 'ceremony-products');
    await writeYubiHsm(await simulatorCa(), products, { serial: 7550054, curve: 'P-256' });
    const refused = await run('verify', products);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain('[VERIFY_SIMULATED]');
    const allowed = await run('verify', '--allow-simulated', products);
    expect(allowed.status).toBe(0);
    const rows = allowed.stdout.split('\n').filter((l) => l.includes('0007550054'));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(/SIMULATED$/);
  });

  it('exits 2 naming a DIR that does not exist', async () => {
    const missing = join(dir, 'nope');
    const { status, stderr } = await run('verify', missing);
    expect(status).toBe(2);
    expect(stderr).toContain(missing);
    expect(stderr).toContain('[VERIFY_INPUT_NOT_FOUND]');
  });

  it('exits 2 for a DIR that is a file, or empty', async () => {
    expect((await run('verify', join(psfProducts, '0013200461', '0013200461_cert.der'))).status).toBe(2);
    expect((await run('verify', dir)).status).toBe(2);
  });

  it('exits 2 for a malformed --hsm, and for --hsm with --runbook', async () => {
    expect((await run('verify', psfProducts, '--hsm', 'YubiHSM2-1=yubihsm3:P-256')).status).toBe(2);
    expect((await run('verify', psfProducts, '--hsm', 'A=yubihsm2:P-256', '--runbook', 'RUNBOOK.md')).status).toBe(2);
  });

  it('exits 2 for a --runbook that cannot be read', async () => {
    expect((await run('verify', psfProducts, '--runbook', join(dir, 'missing.md'))).status).toBe(2);
  });

  it('exits 2 without a DIR', async () => {
    expect((await run('verify')).status).toBe(2);
  });
});
