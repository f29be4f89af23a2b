// The witness's table and the JSON: their shape, width and safety, never
// their wording.
import 'reflect-metadata';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { renderJson, renderTable, verifyProducts, type VerificationReport } from '../../lib/products/verify/index.ts';
import { CHECKS } from '../../lib/products/verify/report.ts';
import { TABLE_WIDTH } from '../../lib/products/verify/render.ts';
import { psfProducts } from '../support/paths.ts';
import { PSF_INVENTORY } from './support/psf.ts';
import { codes } from './support/report.ts';
import { createTestCa, paddedSerial, simulatorCa, writeNitrokey, writeYubiHsm, type TestCa } from './support/test-ca.ts';

/** Characters a terminal obeys rather than shows: C0 (but newline) and C1 controls, bidirectional formatting. */
// eslint-disable-next-line no-control-regex
const OBEYED = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

const columns = (line: string) => [...line].length;

function expectFits(table: string): void {
  expect(table.split('\n').filter((l) => columns(l) > TABLE_WIDTH)).toEqual([]);
}

let products: string;
beforeEach(async () => {
  products = join(await mkdtemp(join(tmpdir(), 'runbook-report-')), 'ceremony-products');
});
afterEach(async () => {
  await rm(join(products, '..'), { recursive: true, force: true });
});

describe('the table of the PSF products', () => {
  let table: string;
  let report: VerificationReport;
  beforeAll(async () => {
    report = await verifyProducts([psfProducts], { inventory: PSF_INVENTORY });
    table = renderTable(report);
  });

  it(`fits in ${TABLE_WIDTH} columns`, () => {
    expectFits(table);
  });

  it('has a row per key, each with a mark per check', () => {
    const rows = table.split('\n').filter((l) => /^\S+\s+\S+\s+(root|targets)\s+P-(256|384)\s/.test(l));
    expect(rows).toHaveLength(12);
    for (const row of rows) expect(row.match(/[✓✗·–]/g)).toHaveLength(CHECKS.length);
  });

  it("gives every key's full fingerprint", () => {
    for (const d of report.devices) for (const k of d.keys) expect(table).toContain(k.spkiSha256);
  });

  it('explains every column in its legend', () => {
    const legend = table.split('\n').filter((l) => /^ {2}[a-z]+ +\S/.test(l));
    expect(legend).toHaveLength(CHECKS.length);
  });
});

describe('hostile names and certificate text', () => {
  let hostile: TestCa;
  beforeAll(async () => {
    hostile = await createTestCa('\u001b[2J\u202eEVIL');
  });

  it('reach the table escaped, each failure under its device with its code', async () => {
    await writeYubiHsm(hostile, products, { serial: 1, curve: 'P-256' });
    await writeYubiHsm(hostile, products, { serial: 2, curve: 'P-256', attest: { root: { label: '\u001b]0;pwned\u0007\u202e' } } });
    const nitrokey = await writeNitrokey(products, 'DENK0000003', 'P-384');
    await writeFile(join(nitrokey.dir, 'x\u001b[31m\u2067.pub'), 'x');
    await writeFile(join(products, '\u009b2J'), 'x');
    const report = await verifyProducts([products], { extraTrust: hostile.trust });
    expect(codes(report)).toEqual(['VERIFY_FILE_UNEXPECTED', 'VERIFY_LABEL']);
    const untrusted = await verifyProducts([products]);
    expect(codes(untrusted)).toEqual(['VERIFY_CHAIN_ISSUER', 'VERIFY_FILE_UNEXPECTED', 'VERIFY_LABEL']);

    for (const r of [report, untrusted]) {
      const table = renderTable(r);
      expect(table).not.toMatch(OBEYED);
      expectFits(table);
      // Each device's failures are listed between its rows and the next device's.
      const lines = table.split('\n');
      for (const d of r.devices) {
        const first = lines.findIndex((l) => l.includes(d.serial));
        const next = lines.findIndex((l, i) => i > first + 1 && /^\S/.test(l));
        const under = lines.slice(first, next).join('\n');
        for (const f of d.findings) expect(under).toContain(`[${f.code}]`);
      }
      const json = renderJson(r);
      expect(json).not.toMatch(OBEYED);
      expect(JSON.parse(json)).toEqual(r);
    }
  });
});

describe('simulated products', () => {
  it('say SIMULATED on every line of their device, and still fit', async () => {
    await writeYubiHsm(await simulatorCa(), products, { serial: 7550054, curve: 'P-384' });
    const report = await verifyProducts([products]);
    expect(codes(report)).toEqual(['VERIFY_SIMULATED']);
    const table = renderTable(report);
    expectFits(table);
    const lines = table.split('\n');
    const first = lines.findIndex((l) => l.includes(paddedSerial(7550054)));
    const device = lines.slice(first, lines.findIndex((l, i) => i > first && l.startsWith('Keys:')));
    expect(device.length).toBeGreaterThan(2);
    for (const line of device) expect(line).toMatch(/SIMULATED$/);
  });
});

describe('the JSON report', () => {
  it('is the same for the same products, but for the time of checking', async () => {
    const one = JSON.parse(renderJson(await verifyProducts([psfProducts], { inventory: PSF_INVENTORY }))) as Record<string, unknown>;
    const two = JSON.parse(renderJson(await verifyProducts([psfProducts], { inventory: PSF_INVENTORY }))) as Record<string, unknown>;
    expect({ ...one, at: '' }).toEqual({ ...two, at: '' });
    expect(Object.keys(one)).toEqual(['ok', 'at', 'directories', 'trust', 'inventory', 'devices', 'findings', 'summary']);
    const devices = one.devices as Record<string, unknown>[];
    expect(Object.keys(devices[0] ?? {})).toEqual(['products', 'dir', 'kind', 'serial', 'inventoryId', 'anchor', 'simulated', 'keys', 'findings', 'warnings']);
    expect(Object.keys(one.summary as object)).toEqual(['devices', 'keys', 'failures', 'codes', 'warnings', 'warningCodes']);
  });
});
