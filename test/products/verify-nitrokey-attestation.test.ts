// Nitrokey HSM attestations in `runbook verify` (issue 12): a device
// directory with SERIAL_devaut.cvc and SERIAL_{root,targets}_attestation.cvc
// is verified to CardContact's pinned root by lib/cvc, each failure a finding
// with lib/cvc's code; one without them is unattested, a warning unless
// attestation is required. Real bytes where the vectors allow, lib/cvc's
// simulated issuer for whole devices that pass.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PRODUCT_FILES, productFiles } from '../../lib/ceremony.ts';
import { renderJson, renderTable, verifyProducts, type CheckName, type CheckStatus, type Role, type VerificationReport, type VerifyOptions } from '../../lib/products/verify/index.ts';
import { TABLE_WIDTH } from '../../lib/products/verify/render.ts';
import { psfProducts } from '../support/paths.ts';
import {
  flipped,
  landmarks,
  pemOfSpki,
  REAL_AT,
  REAL_DEVAUT,
  REAL_REQUEST,
  REAL_RSA_REQUEST,
  REAL_RSA_SPKI,
  REAL_SERIAL,
  REAL_SRCA,
  writeAttestedNitrokey,
  writeSimulatedNitrokey,
} from './support/nitrokey.ts';
import { PSF_INVENTORY, PSF_NITROKEYS, psfCopy } from './support/psf.ts';
import { codes, device, status } from './support/report.ts';
import { createTestCa, writeYubiHsm } from './support/test-ca.ts';

// eslint-disable-next-line no-control-regex
const OBEYED = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

let products: string;
beforeEach(async () => {
  products = join(await mkdtemp(join(tmpdir(), 'runbook-verify-nk-')), 'ceremony-products');
});
afterEach(async () => {
  await rm(join(products, '..'), { recursive: true, force: true });
});

const AT: VerifyOptions = { at: REAL_AT };
const file = (serial: string, name: string) => join(products, serial, `${serial}_${name}`);

/**
 * The codes of a directory built from the real vectors, but for the one the
 * vectors force on it: both roles hold DENK0404144's one P-256 key, which is
 * VERIFY_KEY_REUSED (checked on its own below).
 */
function attestationCodes(report: VerificationReport): string[] {
  return codes(report).filter((c) => c !== 'VERIFY_KEY_REUSED');
}

function cells(report: VerificationReport, serial: string, role: Role, checks: readonly CheckName[]): Record<string, CheckStatus | undefined> {
  return Object.fromEntries(checks.map((c) => [c, status(report, serial, role, c)]));
}

const ATTESTED: readonly CheckName[] = ['chain', 'serial', 'origin', 'key'];

describe('productFiles', () => {
  it('lists a Nitrokey HSM’s attestations when it is attested: EF 2F02 first, then each role’s request beside its key', () => {
    expect(productFiles('nitrokey-hsm', 'DENK0404144', { attested: true })).toEqual([
      'DENK0404144/DENK0404144_devaut.cvc',
      'DENK0404144/DENK0404144_root_attestation.cvc',
      'DENK0404144/DENK0404144_root_pubkey.pub',
      'DENK0404144/DENK0404144_root_pubkey.pem',
      'DENK0404144/DENK0404144_targets_attestation.cvc',
      'DENK0404144/DENK0404144_targets_pubkey.pub',
      'DENK0404144/DENK0404144_targets_pubkey.pem',
    ]);
    expect(productFiles('nitrokey-hsm', 'DENK0404144')).toEqual(productFiles('nitrokey-hsm', 'DENK0404144', { attested: false }));
    expect(productFiles('nitrokey-hsm', 'DENK0404144')).toHaveLength(4);
    // A YubiHSM 2 is attested in any case.
    expect(productFiles('yubihsm2', '0007550054', { attested: true })).toEqual(productFiles('yubihsm2', '0007550054'));
    expect(PRODUCT_FILES.nitrokeyAttestation('DENK0404144', 'root')).not.toBe(PRODUCT_FILES.attestation('DENK0404144', 'root'));
  });
});

describe('the real DENK0404144 attestation (EF 2F02 and CE03, P-256)', () => {
  it('verifies to CardContact’s pinned root for both roles; the one key the vectors hold is reused, and nothing else fails', async () => {
    await writeAttestedNitrokey(products);
    const report = await verifyProducts([products], AT);
    expect(codes(report)).toEqual(['VERIFY_KEY_REUSED']);
    const d = device(report, REAL_SERIAL);
    expect(d.anchor).toBe('cardcontact');
    expect(d.simulated).toBe(false);
    expect(d.warnings).toEqual([]);
    for (const role of ['root', 'targets'] as const) {
      expect(cells(report, REAL_SERIAL, role, ['files', ...ATTESTED, 'label', 'capabilities', 'curve'])).toEqual({
        files: 'pass',
        chain: 'pass',
        serial: 'pass',
        origin: 'pass',
        key: 'pass',
        label: 'n/a',
        capabilities: 'n/a',
        curve: 'pass',
      });
      expect(d.keys.find((k) => k.role === role)?.nitrokeyAttestation).toEqual({
        root: 'DESRCACC100001',
        issuer: 'DEDINK0400001',
        device: 'DENK040414400000',
        serial: 'DENK0404144',
        key: 'DENK040414400001',
        validFrom: '2026-05-28',
        validTo: '2031-05-27',
      });
    }
    expect(report.trust.map((t) => [t.source, t.subject])).toEqual([['cardcontact', 'DESRCACC100001']]);
    // The root's fingerprint, worked out here from the published file.
    const sha256 = createHash('sha256').update(REAL_SRCA).digest('hex').toUpperCase().match(/../g)?.join(':');
    expect(report.trust[0]?.sha256).toBe(sha256);
    expect(sha256).toBe('45:3A:39:10:15:C5:FB:B6:01:16:C8:38:ED:61:35:91:82:8B:F6:2A:C8:A1:AC:A2:76:CE:4E:60:52:5E:C3:E3');
  });

  it('is checked as of --at: before the device certificate, CVC_NOT_YET_VALID; after it, CVC_EXPIRED; once for the device', async () => {
    await writeAttestedNitrokey(products);
    const before = await verifyProducts([products], { at: new Date('2026-05-27T23:59:59Z') });
    expect(attestationCodes(before)).toEqual(['CVC_NOT_YET_VALID']);
    const after = await verifyProducts([products], { at: new Date('2031-05-28T00:00:00Z') });
    expect(attestationCodes(after)).toEqual(['CVC_EXPIRED']);
    for (const report of [before, after]) {
      const d = device(report, REAL_SERIAL);
      // EF 2F02's fault, found through both keys, is one finding about the device and its file.
      const chain = d.findings.filter((f) => f.check === 'chain');
      expect(chain.map((f) => [f.role, f.file])).toEqual([[undefined, file(REAL_SERIAL, 'devaut.cvc')]]);
      // The chain fails; what the files state is still compared: the serial and the key hold.
      expect(cells(report, REAL_SERIAL, 'targets', ATTESTED)).toEqual({ chain: 'fail', serial: 'pass', origin: 'skipped', key: 'pass' });
      expect(d.keys.every((k) => k.nitrokeyAttestation === undefined)).toBe(true);
      expect(report.trust).toEqual([]);
    }
  });

  /** One way of tampering with the real vectors: the codes it gives beside VERIFY_KEY_REUSED, and table cells as 'role check status'. */
  interface Tampering {
    readonly what: string;
    readonly tamper: () => Promise<void>;
    readonly codes: string[];
    readonly cells?: readonly `${Role} ${CheckName} ${CheckStatus}`[];
    /** The file the finding names (a name in the device directory). */
    readonly file?: string;
  }

  const marks = landmarks(REAL_DEVAUT, REAL_REQUEST);
  const writeRole = (role: Role, bytes: Uint8Array) => writeFile(file(REAL_SERIAL, `${role}_attestation.cvc`), bytes);
  const writeDevaut = (bytes: Uint8Array) => writeFile(file(REAL_SERIAL, 'devaut.cvc'), bytes);

  const TAMPERINGS: Tampering[] = [
    {
      what: 'a flipped byte in the device certificate’s signature',
      tamper: () => writeDevaut(flipped(REAL_DEVAUT, marks.deviceSignature)),
      codes: ['CVC_DEVICE_SIGNATURE'],
      cells: ['root chain fail', 'targets chain fail', 'root serial pass', 'root key pass'],
      file: 'devaut.cvc',
    },
    {
      what: 'a flipped byte in the Device Issuer CA’s signature',
      tamper: () => writeDevaut(flipped(REAL_DEVAUT, marks.dicaSignature)),
      codes: ['CVC_DICA_SIGNATURE'],
      cells: ['root chain fail', 'targets chain fail'],
      file: 'devaut.cvc',
    },
    {
      what: 'a flipped byte in the device’s signature of one request (the outer signature)',
      tamper: () => writeRole('targets', flipped(REAL_REQUEST, marks.outerSignature)),
      codes: ['CVC_OUTER_SIGNATURE'],
      cells: ['targets chain fail', 'targets serial pass', 'targets key pass', 'root chain pass', 'root origin pass'],
      file: 'targets_attestation.cvc',
    },
    {
      what: 'a flipped byte in the key’s self-signature (the inner signature)',
      tamper: () => writeRole('root', flipped(REAL_REQUEST, marks.innerSignature)),
      // The outer signature covers the inner one: the device signature fails first.
      codes: ['CVC_OUTER_SIGNATURE'],
      cells: ['root chain fail', 'targets chain pass'],
      file: 'root_attestation.cvc',
    },
    {
      what: 'a request authenticated by another device (its outer CAR another CHR)',
      tamper: async () => {
        const bytes = new Uint8Array(REAL_REQUEST);
        bytes.set(new TextEncoder().encode('DENK040414500000'), marks.outerCar.value);
        await writeRole('root', bytes);
      },
      codes: ['CVC_OUTER_CAR'],
      cells: ['root origin fail', 'root chain skipped', 'root key pass', 'targets origin pass'],
      file: 'root_attestation.cvc',
    },
    {
      what: 'a bare request, which no device authenticated',
      tamper: () => writeRole('root', REAL_REQUEST.subarray(marks.inner.start, marks.inner.end)),
      codes: ['CVC_NOT_AUTHENTICATED'],
      cells: ['root origin fail', 'root key pass'],
      file: 'root_attestation.cvc',
    },
    {
      what: 'the DICA certificate offered as the device certificate',
      tamper: () => writeDevaut(Buffer.concat([REAL_DEVAUT.subarray(marks.dica.start, marks.dica.end), REAL_DEVAUT.subarray(marks.dica.start, marks.dica.end)])),
      // What it states is compared all the same: a DICA's CHR gives no device's serial.
      codes: ['CVC_ROLE', 'CVC_SERIAL_MISMATCH'],
      cells: ['root chain fail', 'targets chain fail', 'root serial fail'],
      file: 'devaut.cvc',
    },
    {
      what: 'EF 2F02 without its DICA certificate',
      tamper: () => writeDevaut(REAL_DEVAUT.subarray(marks.device.start, marks.device.end)),
      codes: ['CVC_CHAIN_LENGTH'],
      file: 'devaut.cvc',
    },
    {
      what: 'a truncated request',
      tamper: () => writeRole('targets', REAL_REQUEST.subarray(0, REAL_REQUEST.length - 10)),
      codes: ['CVC_TRUNCATED'],
      // Nothing can be read from it: its key is not compared.
      cells: ['targets chain fail', 'targets key skipped', 'root key pass'],
      file: 'targets_attestation.cvc',
    },
    {
      what: 'a truncated EF 2F02',
      tamper: () => writeDevaut(REAL_DEVAUT.subarray(0, 300)),
      codes: ['CVC_TRUNCATED'],
      cells: ['root chain fail', 'root serial skipped'],
      file: 'devaut.cvc',
    },
    {
      what: 'trailing bytes after a request',
      tamper: () => writeRole('root', Buffer.concat([REAL_REQUEST, Buffer.of(0)])),
      codes: ['CVC_TRAILING_BYTES'],
      file: 'root_attestation.cvc',
    },
    {
      what: 'trailing bytes after EF 2F02',
      tamper: () => writeDevaut(Buffer.concat([REAL_DEVAUT, Buffer.of(0x90, 0x00)])),
      codes: ['CVC_TRAILING_BYTES'],
      file: 'devaut.cvc',
    },
  ];

  it.each(TAMPERINGS)('$what: $codes', async ({ tamper, codes: expected, cells: expectedCells = [], file: name }) => {
    await writeAttestedNitrokey(products);
    await tamper();
    const report = await verifyProducts([products], AT);
    expect(report.ok).toBe(false);
    expect(attestationCodes(report)).toEqual(expected);
    for (const cell of expectedCells) {
      const [role, check] = cell.split(' ') as [Role, CheckName];
      expect(`${role} ${check} ${status(report, REAL_SERIAL, role, check)}`).toBe(cell);
    }
    const d = device(report, REAL_SERIAL);
    const found = d.findings.filter((f) => f.code !== 'VERIFY_KEY_REUSED');
    // Each failure once, naming its file in the device's directory.
    expect(found).toHaveLength(expected.length);
    if (name) expect(found[0]?.file).toBe(file(REAL_SERIAL, name));
    for (const f of found) expect(f.message).toMatch(/\S/);
  });

  it('another key published for a role: CVC_KEY_MISMATCH, naming the .pub; the chain, serial and origin still hold', async () => {
    await writeAttestedNitrokey(products);
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    await writeFile(file(REAL_SERIAL, 'targets_pubkey.pub'), spki);
    await writeFile(file(REAL_SERIAL, 'targets_pubkey.pem'), pemOfSpki(spki));
    const report = await verifyProducts([products], AT);
    // The keys differ now: nothing is reused.
    expect(codes(report)).toEqual(['CVC_KEY_MISMATCH']);
    expect(device(report, REAL_SERIAL).findings.map((f) => [f.code, f.check, f.role, f.file])).toEqual([
      ['CVC_KEY_MISMATCH', 'key', 'targets', file(REAL_SERIAL, 'targets_pubkey.pub')],
    ]);
    expect(cells(report, REAL_SERIAL, 'targets', ATTESTED)).toEqual({ chain: 'pass', serial: 'pass', origin: 'pass', key: 'fail' });
    expect(cells(report, REAL_SERIAL, 'root', ATTESTED)).toEqual({ chain: 'pass', serial: 'pass', origin: 'pass', key: 'pass' });
  });

  it('a .pem that is not the .pub’s key: VERIFY_PEM_MISMATCH, the attestation holding', async () => {
    await writeAttestedNitrokey(products);
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    await writeFile(file(REAL_SERIAL, 'root_pubkey.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    const report = await verifyProducts([products], AT);
    expect(attestationCodes(report)).toEqual(['VERIFY_PEM_MISMATCH']);
    expect(cells(report, REAL_SERIAL, 'root', ATTESTED)).toEqual({ chain: 'pass', serial: 'pass', origin: 'pass', key: 'fail' });
  });

  it('the products of DENK0404144 under another serial: CVC_SERIAL_MISMATCH, once, for the device; everything else holds', async () => {
    await writeAttestedNitrokey(products);
    const other = 'DENK0404145';
    await rename(join(products, REAL_SERIAL), join(products, other));
    for (const name of ['devaut.cvc', 'root_attestation.cvc', 'targets_attestation.cvc', 'root_pubkey.pub', 'root_pubkey.pem', 'targets_pubkey.pub', 'targets_pubkey.pem']) {
      await rename(join(products, other, `${REAL_SERIAL}_${name}`), join(products, other, `${other}_${name}`));
    }
    const report = await verifyProducts([products], AT);
    expect(attestationCodes(report)).toEqual(['CVC_SERIAL_MISMATCH']);
    const d = device(report, other);
    expect(d.findings.filter((f) => f.code === 'CVC_SERIAL_MISMATCH').map((f) => [f.check, f.role, f.file])).toEqual([['serial', undefined, join(products, other, `${other}_devaut.cvc`)]]);
    for (const role of ['root', 'targets'] as const) {
      expect(cells(report, other, role, ATTESTED)).toEqual({ chain: 'pass', serial: 'fail', origin: 'pass', key: 'pass' });
    }
  });

  it('the wrong serial, the wrong key and a bad request at once: each on the report', async () => {
    await writeAttestedNitrokey(products, { serial: 'DENK0404145' });
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    await writeFile(join(products, 'DENK0404145', 'DENK0404145_root_pubkey.pub'), publicKey.export({ type: 'spki', format: 'der' }));
    await writeFile(join(products, 'DENK0404145', 'DENK0404145_root_pubkey.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(join(products, 'DENK0404145', 'DENK0404145_targets_attestation.cvc'), flipped(REAL_REQUEST, marks.outerSignature));
    const report = await verifyProducts([products], AT);
    expect(codes(report)).toEqual(['CVC_KEY_MISMATCH', 'CVC_OUTER_SIGNATURE', 'CVC_SERIAL_MISMATCH']);
    expect(cells(report, 'DENK0404145', 'root', ATTESTED)).toEqual({ chain: 'pass', serial: 'fail', origin: 'pass', key: 'fail' });
    expect(cells(report, 'DENK0404145', 'targets', ATTESTED)).toEqual({ chain: 'fail', serial: 'fail', origin: 'skipped', key: 'pass' });
  });

  it('an RSA key attested and published (CE04): it verifies, and the key is not on a ceremony curve', async () => {
    await writeAttestedNitrokey(products, { keys: { targets: { request: REAL_RSA_REQUEST, spki: REAL_RSA_SPKI } } });
    const report = await verifyProducts([products], AT);
    expect(codes(report)).not.toContain('VERIFY_KEY_REUSED');
    expect(codes(report).every((c) => c.startsWith('VERIFY_'))).toBe(true);
    expect(codes(report)).toContain('VERIFY_CURVE');
    expect(cells(report, REAL_SERIAL, 'targets', ['chain', 'serial', 'origin'])).toEqual({ chain: 'pass', serial: 'pass', origin: 'pass' });
    expect(device(report, REAL_SERIAL).keys[1]?.nitrokeyAttestation).toMatchObject({ device: 'DENK040414400000', serial: REAL_SERIAL });
  });

  it('the requests of one device swapped between roles still verify: each role is held to its own .pub', async () => {
    const sim = await writeSimulatedNitrokey(products, 'DENK0000001');
    await writeFile(join(sim.dir, 'DENK0000001_root_attestation.cvc'), sim.keys.targets.request);
    await writeFile(join(sim.dir, 'DENK0000001_targets_attestation.cvc'), sim.keys.root.request);
    const report = await verifyProducts([products], { ...AT, allowSimulated: true });
    expect(codes(report)).toEqual(['CVC_KEY_MISMATCH']);
    expect(device(report, 'DENK0000001').findings.map((f) => f.role)).toEqual(['root', 'targets']);
  });
});

describe('a partial set of attestations', () => {
  it('without EF 2F02: VERIFY_FILE_MISSING for the device; nothing is attested, nothing is warned about', async () => {
    await writeAttestedNitrokey(products);
    await unlink(file(REAL_SERIAL, 'devaut.cvc'));
    const report = await verifyProducts([products], AT);
    expect(attestationCodes(report)).toEqual(['VERIFY_FILE_MISSING']);
    const d = device(report, REAL_SERIAL);
    expect(d.findings.filter((f) => f.code === 'VERIFY_FILE_MISSING').map((f) => [f.role, f.file])).toEqual([[undefined, file(REAL_SERIAL, 'devaut.cvc')]]);
    expect(d.warnings).toEqual([]);
    for (const role of ['root', 'targets'] as const) {
      expect(cells(report, REAL_SERIAL, role, ['files', ...ATTESTED])).toEqual({ files: 'fail', chain: 'skipped', serial: 'skipped', origin: 'skipped', key: 'skipped' });
    }
  });

  it('without one role’s request: VERIFY_FILE_MISSING for that role; the other role’s attestation holds', async () => {
    await writeAttestedNitrokey(products);
    await unlink(file(REAL_SERIAL, 'targets_attestation.cvc'));
    const report = await verifyProducts([products], AT);
    expect(attestationCodes(report)).toEqual(['VERIFY_FILE_MISSING']);
    expect(cells(report, REAL_SERIAL, 'targets', ['files', 'chain'])).toEqual({ files: 'fail', chain: 'skipped' });
    expect(cells(report, REAL_SERIAL, 'root', ['files', ...ATTESTED])).toEqual({ files: 'pass', chain: 'pass', serial: 'pass', origin: 'pass', key: 'pass' });
  });

  it('EF 2F02 alone: both requests missing', async () => {
    await writeAttestedNitrokey(products);
    for (const role of ['root', 'targets']) await unlink(file(REAL_SERIAL, `${role}_attestation.cvc`));
    const report = await verifyProducts([products], { ...AT, requireAttestation: true });
    expect(attestationCodes(report)).toEqual(['VERIFY_FILE_MISSING']);
    expect(device(report, REAL_SERIAL).findings.filter((f) => f.code === 'VERIFY_FILE_MISSING').map((f) => f.role)).toEqual(['root', 'targets']);
  });

  it('a request without .pub: the .pem is held to the attested key', async () => {
    const sim = await writeSimulatedNitrokey(products, 'DENK0000001');
    await unlink(join(sim.dir, 'DENK0000001_root_pubkey.pub'));
    const report = await verifyProducts([products], { ...AT, allowSimulated: true });
    expect(codes(report)).toEqual(['VERIFY_FILE_MISSING']);
    expect(device(report, 'DENK0000001').keys[0]?.curve).toBe('P-256');
    await writeFile(join(sim.dir, 'DENK0000001_root_pubkey.pem'), pemOfSpki(sim.keys.targets.spki));
    expect(codes(await verifyProducts([products], { ...AT, allowSimulated: true }))).toEqual(['VERIFY_FILE_MISSING', 'VERIFY_KEY_REUSED', 'VERIFY_PEM_MISMATCH']);
  });
});

describe('simulated attestations (lib/cvc’s issuer, as the simulated token makes them)', () => {
  it('verify end to end with allowSimulated, the device marked simulated, its chain ending at the SIMULATED root', async () => {
    await writeSimulatedNitrokey(products, 'DENK0000001', 'P-256');
    await writeSimulatedNitrokey(products, 'DENK0000002', 'P-384');
    const report = await verifyProducts([products], {
      ...AT,
      allowSimulated: true,
      requireAttestation: true,
      inventory: {
        hsms: [
          { id: 'NitrokeyHSM-1', kind: 'nitrokey-hsm', keyType: 'P-384' },
          { id: 'NitrokeyHSM-2', kind: 'nitrokey-hsm', keyType: 'P-256' },
        ],
      },
    });
    expect(codes(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.summary.warnings).toBe(0);
    expect(report.devices.map((d) => [d.serial, d.simulated, d.anchor, d.inventoryId])).toEqual([
      ['DENK0000001', true, 'simulated', 'NitrokeyHSM-2'],
      ['DENK0000002', true, 'simulated', 'NitrokeyHSM-1'],
    ]);
    expect(report.trust.map((t) => [t.source, t.subject])).toEqual([['simulated', 'UTSRCASIM00001']]);
    expect(device(report, 'DENK0000002').keys[0]?.nitrokeyAttestation).toMatchObject({ root: 'UTSRCASIM00001', issuer: 'UTDICASIM00001', device: 'DENK000000200000' });
    for (const d of report.devices) for (const k of d.keys) for (const c of ATTESTED) expect(k.checks[c]).toBe('pass');
    const lines = renderTable(report).split('\n').filter((l) => l.includes('DENK0000001'));
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) expect(line).toMatch(/SIMULATED$/);
  });

  it('fail without allowSimulated: CVC_SIMULATED, once per device, and still marked simulated', async () => {
    await writeSimulatedNitrokey(products, 'DENK0000001');
    const report = await verifyProducts([products], AT);
    expect(codes(report)).toEqual(['CVC_SIMULATED']);
    const d = device(report, 'DENK0000001');
    expect(d.findings.map((f) => [f.code, f.role, f.file])).toEqual([['CVC_SIMULATED', undefined, join(products, 'DENK0000001', 'DENK0000001_devaut.cvc')]]);
    expect(d.simulated).toBe(true);
    expect(status(report, 'DENK0000001', 'root', 'chain')).toBe('fail');
  });

  it('one device’s EF 2F02 beside another device’s requests: CVC_OUTER_CAR (keys imported from another card)', async () => {
    const other = await writeSimulatedNitrokey(join(products, '..', 'elsewhere'), 'DENK0000002');
    const own = await writeSimulatedNitrokey(join(products, '..', 'own'), 'DENK0000001');
    await writeAttestedNitrokey(products, { serial: 'DENK0000001', devaut: own.device.devaut, keys: other.keys });
    const report = await verifyProducts([products], { ...AT, allowSimulated: true });
    expect(codes(report)).toEqual(['CVC_OUTER_CAR']);
    for (const role of ['root', 'targets'] as const) {
      expect(cells(report, 'DENK0000001', role, ATTESTED)).toEqual({ chain: 'skipped', serial: 'pass', origin: 'fail', key: 'pass' });
    }
  });

  it('another device’s whole attestations, renamed: CVC_SERIAL_MISMATCH', async () => {
    const sim = await writeSimulatedNitrokey(join(products, '..', 'elsewhere'), 'DENK0000002');
    await writeAttestedNitrokey(products, { serial: 'DENK0000001', devaut: sim.device.devaut, keys: sim.keys });
    const report = await verifyProducts([products], { ...AT, allowSimulated: true });
    expect(codes(report)).toEqual(['CVC_SERIAL_MISMATCH']);
  });
});

describe('unattested Nitrokey HSM products', () => {
  it('the PSF’s 2020 products pass, with a warning for each Nitrokey HSM: VERIFY_UNATTESTED', async () => {
    const report = await verifyProducts([psfProducts], { inventory: PSF_INVENTORY });
    expect(report.ok).toBe(true);
    expect(report.summary).toMatchObject({ failures: 0, codes: [], warnings: 3, warningCodes: ['VERIFY_UNATTESTED'] });
    for (const serial of PSF_NITROKEYS) {
      const d = device(report, serial);
      expect(d.warnings.map((w) => [w.code, w.check, w.role, w.file])).toEqual([['VERIFY_UNATTESTED', 'chain', undefined, d.dir]]);
      for (const role of ['root', 'targets'] as const) {
        expect(cells(report, serial, role, [...ATTESTED, 'label'])).toEqual({ chain: 'n/a', serial: 'n/a', origin: 'n/a', key: 'pass', label: 'n/a' });
      }
    }
    for (const d of report.devices.filter((x) => x.kind === 'yubihsm2')) expect(d.warnings).toEqual([]);
  });

  it('fail with requireAttestation: VERIFY_UNATTESTED, a finding instead of a warning', async () => {
    const report = await verifyProducts([psfProducts], { inventory: PSF_INVENTORY, requireAttestation: true });
    expect(report.ok).toBe(false);
    expect(codes(report)).toEqual(['VERIFY_UNATTESTED']);
    expect(report.summary).toMatchObject({ failures: 3, warnings: 0, warningCodes: [] });
    for (const serial of PSF_NITROKEYS) {
      const d = device(report, serial);
      expect(d.warnings).toEqual([]);
      expect(d.findings.map((f) => [f.code, f.check, f.role, f.file])).toEqual([['VERIFY_UNATTESTED', 'chain', undefined, d.dir]]);
      expect(cells(report, serial, 'root', [...ATTESTED, 'label'])).toEqual({ chain: 'fail', serial: 'skipped', origin: 'skipped', key: 'pass', label: 'n/a' });
    }
  });

  it('requireAttestation asks nothing more of a YubiHSM 2, nor of an attested Nitrokey HSM', async () => {
    const ca = await createTestCa();
    await writeYubiHsm(ca, products, { serial: 7550054, curve: 'P-256' });
    await writeSimulatedNitrokey(products, 'DENK0000001');
    const report = await verifyProducts([products], { ...AT, extraTrust: ca.trust, allowSimulated: true, requireAttestation: true });
    expect(codes(report)).toEqual([]);
    expect(report.trust.map((t) => t.source)).toEqual(['extra', 'simulated']);
  });

  describe('tampered', () => {
    const psf = psfCopy('each');

    it('a single attestation file added to 2020 products: the set is partial, VERIFY_FILE_MISSING, and no warning', async () => {
      await writeFile(join(psf.products, 'DENK0102947', 'DENK0102947_devaut.cvc'), REAL_DEVAUT);
      const report = await verifyProducts([psf.products]);
      expect(codes(report)).toEqual(['VERIFY_FILE_MISSING']);
      expect(report.summary.warnings).toBe(2);
      expect(device(report, 'DENK0102947').warnings).toEqual([]);
    });

    it('DENK0404144’s real attestations beside another device’s keys: CVC_SERIAL_MISMATCH and CVC_KEY_MISMATCH', async () => {
      for (const role of ['root', 'targets']) await writeFile(join(psf.products, 'DENK0102947', `DENK0102947_${role}_attestation.cvc`), REAL_REQUEST);
      await writeFile(join(psf.products, 'DENK0102947', 'DENK0102947_devaut.cvc'), REAL_DEVAUT);
      const report = await verifyProducts([psf.products], AT);
      expect(codes(report)).toEqual(['CVC_KEY_MISMATCH', 'CVC_SERIAL_MISMATCH']);
      expect(cells(report, 'DENK0102947', 'root', ATTESTED)).toEqual({ chain: 'pass', serial: 'fail', origin: 'pass', key: 'fail' });
    });
  });
});

describe('the report', () => {
  it('shows attested Nitrokey HSMs in the table: CardContact’s root, a mark in every column, each warning under its device', async () => {
    await writeAttestedNitrokey(products);
    await writeSimulatedNitrokey(products, 'DENK0000001');
    const report = await verifyProducts([products, psfProducts], { ...AT, allowSimulated: true });
    const table = renderTable(report);
    expect(table.split('\n').filter((l) => [...l].length > TABLE_WIDTH)).toEqual([]);
    expect(table).toContain('Attestations chain to DESRCACC100001 (CardContact), SHA-256');
    expect(table).toContain('Attestations chain to UTSRCASIM00001 (SIMULATED');
    const row = table.split('\n').find((l) => l.startsWith('Nitrokey HSM  DENK0404144  root'));
    // files ✓, chain ✓, serial ✓, origin ✓, label –, caps –, key ✓, curve ✓, unique ✗ (the vectors' one key), inventory –
    expect(row?.match(/[✓✗·–]/g)).toEqual(['✓', '✓', '✓', '✓', '–', '–', '✓', '✓', '✗', '–']);
    const lines = table.split('\n');
    for (const serial of PSF_NITROKEYS) {
      const first = lines.findIndex((l) => l.includes(`  ${serial}  targets`));
      expect(lines[first + 1]).toMatch(/^ {2}! \[VERIFY_UNATTESTED\] chain: /);
    }
    const verdict = table.slice(table.lastIndexOf('\nFAILED: ') + 1).replace(/\n\s*/g, ' ');
    expect(verdict).toMatch(/^FAILED: .*VERIFY_KEY_REUSED; 3 warning\(s\): VERIFY_UNATTESTED; 1 SIMULATED device\(s\)/);
  });

  it('says OK with its warnings when only warnings remain', async () => {
    const table = renderTable(await verifyProducts([psfProducts]));
    expect(table.split('\n').at(-2)).toBe('OK: 6 device(s), 12 key(s): every check holds; 3 warning(s): VERIFY_UNATTESTED.');
  });

  it('a reference holding control characters: CVC_MALFORMED, and nothing of it reaches the terminal', async () => {
    await writeAttestedNitrokey(products);
    const bytes = new Uint8Array(REAL_REQUEST);
    // 16 bytes, as long as the CHR it replaces: ESC [ 2 J, U+202E (3 bytes in UTF-8), 9 more.
    bytes.set(new TextEncoder().encode('\u001b[2J\u202eDENK04041'), landmarks(REAL_DEVAUT, REAL_REQUEST).outerCar.value);
    await writeFile(file(REAL_SERIAL, 'root_attestation.cvc'), bytes);
    const report = await verifyProducts([products], AT);
    // TR-03110 references are letters and digits: lib/cvc refuses the field before anything quotes it.
    expect(attestationCodes(report)).toEqual(['CVC_MALFORMED']);
    expect(renderTable(report)).not.toMatch(OBEYED);
    expect(renderJson(report)).not.toMatch(OBEYED);
  });

  it('is the same JSON for the same products, with warnings and Nitrokey attestations in fixed places', async () => {
    await writeAttestedNitrokey(products);
    const run = async () => JSON.parse(renderJson(await verifyProducts([products, psfProducts], AT))) as VerificationReport;
    const one = await run();
    expect(await run()).toEqual(one);
    expect(Object.keys(one.summary)).toEqual(['devices', 'keys', 'failures', 'codes', 'warnings', 'warningCodes']);
    const attested = one.devices.find((d) => d.serial === REAL_SERIAL);
    expect(Object.keys(attested ?? {})).toEqual(['products', 'dir', 'kind', 'serial', 'anchor', 'simulated', 'keys', 'findings', 'warnings']);
    expect(Object.keys(attested?.keys[0] ?? {})).toEqual(['role', 'curve', 'spkiSha256', 'nitrokeyAttestation', 'checks']);
    expect(Object.keys(attested?.keys[0]?.nitrokeyAttestation ?? {})).toEqual(['root', 'issuer', 'device', 'serial', 'key', 'validFrom', 'validTo']);
    const unattested = one.devices.find((d) => d.serial === 'DENK0102947');
    expect(Object.keys(unattested?.warnings[0] ?? {})).toEqual(['code', 'check', 'message', 'file']);
  });
});
