// Attestations that say the wrong thing, made with the test suite's own CA
// (Yubico's certificates cannot be re-signed), and simulated products.
import 'reflect-metadata';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { Extension } from '@peculiar/x509';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { renderTable, verifyProducts, type VerificationReport, type VerifyOptions } from '../../lib/products/verify/index.ts';
import { ATTESTATION_OID, ORIGIN } from '../../lib/yubihsm/attestation.ts';
import { capabilities } from '../../lib/yubihsm/capabilities.ts';
import { codes } from './support/report.ts';
import { ceremonyAttestation, createTestCa, issueAttestation, paddedSerial, simulatorCa, writeNitrokey, writeYubiHsm, type DeviceSpec, type TestCa } from './support/test-ca.ts';


let ca: TestCa;
let otherCa: TestCa;
beforeAll(async () => {
  ca = await createTestCa();
  otherCa = await createTestCa('OTHER');
});

let products: string;
beforeEach(async () => {
  products = join(await mkdtemp(join(tmpdir(), 'runbook-verify-ca-')), 'ceremony-products');
});
afterEach(async () => {
  await rm(join(products, '..'), { recursive: true, force: true });
});

const SERIAL = 7550054;

async function verifyOne(spec: Partial<DeviceSpec> = {}, options: VerifyOptions = {}, issuer: TestCa = ca): Promise<VerificationReport> {
  await writeYubiHsm(issuer, products, { serial: SERIAL, curve: 'P-256', ...spec });
  return verifyProducts([products], { extraTrust: ca.trust, ...options });
}

describe("products attested under the test suite's CA", () => {
  it('a device as the ceremony makes it passes, its chain ending at the extra anchor', async () => {
    const report = await verifyOne();
    expect(codes(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.devices[0]?.anchor).toBe('extra');
    expect(report.devices[0]?.simulated).toBe(false);
  });

  it('the same products are refused when the test CA is not trusted: VERIFY_CHAIN_ISSUER', async () => {
    await writeYubiHsm(ca, products, { serial: SERIAL, curve: 'P-256' });
    expect(codes(await verifyProducts([products]))).toEqual(['VERIFY_CHAIN_ISSUER']);
  });

  it('a sub-CA of the same name but another key: VERIFY_CHAIN_SIGNATURE', async () => {
    const impostor = await createTestCa();
    await writeYubiHsm(impostor, products, { serial: SERIAL, curve: 'P-256' });
    expect(codes(await verifyProducts([products], { extraTrust: ca.trust }))).toEqual(['VERIFY_CHAIN_SIGNATURE']);
  });

  it('a wrong label: VERIFY_LABEL', async () => {
    const report = await verifyOne({ attest: { targets: { label: 'tuf-root' } } });
    expect(codes(report)).toEqual(['VERIFY_LABEL']);
    expect(report.devices[0]?.keys[1]?.checks.label).toBe('fail');
    expect(report.devices[0]?.keys[0]?.checks.label).toBe('pass');
  });

  it('a wrong object id: VERIFY_OBJECT_ID', async () => {
    expect(codes(await verifyOne({ attest: { root: { objectId: 5 } } }))).toEqual(['VERIFY_OBJECT_ID']);
  });

  it('a key imported in the clear: VERIFY_ORIGIN', async () => {
    expect(codes(await verifyOne({ attest: { root: { origin: ORIGIN.imported } } }))).toEqual(['VERIFY_ORIGIN']);
  });

  it('a key generated elsewhere and imported under wrap: VERIFY_ORIGIN', async () => {
    expect(codes(await verifyOne({ attest: { targets: { origin: ORIGIN.generated | ORIGIN.importedWrapped } } }))).toEqual(['VERIFY_ORIGIN']);
  });

  it('a key that may also be exported under wrap: VERIFY_CAPABILITIES', async () => {
    const report = await verifyOne({ attest: { root: { capabilities: capabilities('sign-ecdsa', 'exportable-under-wrap') } } });
    expect(codes(report)).toEqual(['VERIFY_CAPABILITIES']);
  });

  it('a key that may not sign: VERIFY_CAPABILITIES', async () => {
    expect(codes(await verifyOne({ attest: { root: { capabilities: 0n } } }))).toEqual(['VERIFY_CAPABILITIES']);
  });

  it("an attestation naming another device's serial: VERIFY_SERIAL_MISMATCH", async () => {
    expect(codes(await verifyOne({ attest: { root: { serial: SERIAL + 1 } } }))).toEqual(['VERIFY_SERIAL_MISMATCH']);
  });

  it("a device certificate naming another serial: VERIFY_SERIAL_MISMATCH", async () => {
    expect(codes(await verifyOne({ certSerial: SERIAL + 1 }))).toEqual(['VERIFY_SERIAL_MISMATCH']);
  });

  it('a device certificate that is not a CA: VERIFY_CHAIN_ISSUER, for both keys', async () => {
    const report = await verifyOne({ deviceCa: false });
    expect(codes(report)).toEqual(['VERIFY_CHAIN_ISSUER']);
    expect(report.devices[0]?.keys.map((k) => k.checks.chain)).toEqual(['fail', 'fail']);
  });

  it('a device certificate with a critical extension the verifier does not process: VERIFY_CHAIN_EXTENSION', async () => {
    const report = await verifyOne({ deviceExtra: [new Extension('1.3.6.1.4.1.41482.4.99', true, Uint8Array.of(0x05, 0x00))] });
    expect(codes(report)).toEqual(['VERIFY_CHAIN_EXTENSION']);
  });

  it("a device certificate whose subject names another serial, its .2 the right one: VERIFY_SERIAL_MISMATCH", async () => {
    const report = await verifyOne({ certSubject: `CN=YubiHSM Attestation (${SERIAL + 1})` });
    expect(codes(report)).toEqual(['VERIFY_SERIAL_MISMATCH']);
    expect(report.devices[0]?.keys.map((k) => k.checks.serial)).toEqual(['fail', 'fail']);
  });

  it('attestations no longer valid, their device certificate still valid: VERIFY_CHAIN_VALIDITY', async () => {
    const report = await verifyOne({ attestationNotAfter: new Date('2019-01-01T00:00:00Z') }, { at: new Date('2020-10-30T12:00:00Z') });
    expect(codes(report)).toEqual(['VERIFY_CHAIN_VALIDITY']);
    const again = await verifyProducts([products], { extraTrust: ca.trust, at: new Date('2018-06-01T00:00:00Z') });
    expect(codes(again)).toEqual([]);
  });

  it('a serial extension in non-minimal DER: VERIFY_ATTESTATION_MALFORMED', async () => {
    // INTEGER 7550054 (0x733466) with a needless leading zero byte.
    const bad = new Extension(ATTESTATION_OID.serial, false, Uint8Array.of(0x02, 0x04, 0x00, 0x73, 0x34, 0x66));
    const report = await verifyOne({ omit: { root: [ATTESTATION_OID.serial] }, extra: { root: [bad] } });
    expect(codes(report)).toEqual(['VERIFY_ATTESTATION_MALFORMED']);
    expect(report.devices[0]?.keys[0]?.checks.serial).toBe('fail');
  });

  it('a Yubico extension repeated: VERIFY_ATTESTATION_MALFORMED', async () => {
    const label = new Extension(ATTESTATION_OID.label, false, Uint8Array.of(0x0c, 0x08, ...Buffer.from('tuf-root')));
    const report = await verifyOne({ extra: { root: [label] } });
    expect(codes(report)).toEqual(['VERIFY_ATTESTATION_MALFORMED']);
    expect(report.devices[0]?.keys[0]?.checks.label).toBe('fail');
  });

  it('an attestation without its label extension: VERIFY_ATTESTATION_MALFORMED', async () => {
    const report = await verifyOne({ omit: { root: [ATTESTATION_OID.label] } });
    expect(codes(report)).toEqual(['VERIFY_ATTESTATION_MALFORMED']);
    expect(report.devices[0]?.keys[0]?.checks.label).toBe('fail');
  });

  it('a critical extension the verifier does not process: VERIFY_CHAIN_EXTENSION', async () => {
    const extra = [new Extension('1.3.6.1.4.1.41482.4.99', true, Uint8Array.of(0x05, 0x00))];
    expect(codes(await verifyOne({ extra: { root: extra } }))).toEqual(['VERIFY_CHAIN_EXTENSION']);
  });

  it('a non-critical extension the verifier does not know is ignored', async () => {
    const extra = [new Extension('1.3.6.1.4.1.41482.4.99', false, Uint8Array.of(0x05, 0x00))];
    expect(codes(await verifyOne({ extra: { root: extra } }))).toEqual([]);
  });

  it('an attestation signed by another device: VERIFY_CHAIN_SIGNATURE', async () => {
    const device = await writeYubiHsm(ca, products, { serial: SERIAL, curve: 'P-256' });
    const other = await writeYubiHsm(ca, join(products, '..', 'elsewhere'), { serial: SERIAL, curve: 'P-256' });
    // The other device attests this device's root key, under the same subject name.
    const key = await webcrypto.subtle.importKey('raw', device.points.root, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
    const att = await issueAttestation(other.deviceCert, other.deviceKey, key, ceremonyAttestation(SERIAL, 'root'));
    await writeFile(join(device.dir, `${device.serial}_root_attestation.der`), new Uint8Array(att.rawData));
    const report = await verifyProducts([products], { extraTrust: ca.trust });
    expect(codes(report)).toEqual(['VERIFY_CHAIN_SIGNATURE']);
  });

  it('a device of a CA that only the other test CA trusts is not trusted through it', async () => {
    await writeYubiHsm(otherCa, products, { serial: SERIAL, curve: 'P-256' });
    expect(codes(await verifyProducts([products], { extraTrust: ca.trust }))).toEqual(['VERIFY_CHAIN_ISSUER']);
  });

  it('a YubiHSM whose two keys are on different curves: VERIFY_CURVE', async () => {
    const a = await writeYubiHsm(ca, products, { serial: SERIAL, curve: 'P-256' });
    const b = await writeYubiHsm(ca, join(products, '..', 'p384'), { serial: SERIAL, curve: 'P-384' });
    for (const suffix of ['targets_attestation.der', 'targets_pubkey.pub', 'targets_pubkey.pem']) {
      await copyFile(join(b.dir, `${b.serial}_${suffix}`), join(a.dir, `${a.serial}_${suffix}`));
    }
    // b's targets attestation is signed by b's device key, so the chain breaks too.
    const report = await verifyProducts([products], { extraTrust: ca.trust });
    expect(codes(report)).toContain('VERIFY_CURVE');
  });

  it('a mixed ceremony of test-CA YubiHSMs and Nitrokeys matches its inventory', async () => {
    await writeYubiHsm(ca, products, { serial: 1, curve: 'P-256' });
    await writeYubiHsm(ca, products, { serial: 2, curve: 'P-384' });
    await writeNitrokey(products, 'DENK0000001', 'P-384');
    const report = await verifyProducts([products], {
      extraTrust: ca.trust,
      inventory: {
        hsms: [
          { id: 'Y1', kind: 'yubihsm2', keyType: 'P-384' },
          { id: 'Y2', kind: 'yubihsm2', keyType: 'P-256' },
          { id: 'N1', kind: 'nitrokey-hsm', keyType: 'P-384' },
        ],
      },
    });
    expect(codes(report)).toEqual([]);
    expect(report.devices.map((d) => [d.serial, d.inventoryId])).toEqual([
      [paddedSerial(1), 'Y2'],
      [paddedSerial(2), 'Y1'],
      ['DENK0000001', 'N1'],
    ]);
  });
});

describe("products attested under the YubiHSM simulator's CA", () => {
  let sim: TestCa;
  beforeAll(async () => {
    sim = await simulatorCa();
  });

  it('are refused without allowSimulated: VERIFY_SIMULATED', async () => {
    await writeYubiHsm(sim, products, { serial: SERIAL, curve: 'P-384' });
    const report = await verifyProducts([products]);
    expect(codes(report)).toEqual(['VERIFY_SIMULATED']);
    expect(report.ok).toBe(false);
  });

  it('are accepted with allowSimulated, and every line of the table says SIMULATED', async () => {
    await writeYubiHsm(sim, products, { serial: SERIAL, curve: 'P-384' });
    await writeNitrokey(products, 'DENK0000002', 'P-256');
    const report = await verifyProducts([products], { allowSimulated: true });
    expect(codes(report)).toEqual([]);
    expect(report.ok).toBe(true);
    const yubihsm = report.devices.find((d) => d.kind === 'yubihsm2');
    expect(yubihsm?.simulated).toBe(true);
    expect(yubihsm?.anchor).toBe('simulated');
    expect(report.trust.map((t) => t.source)).toEqual(['simulated']);
    // Its two rows of checks and its two key fingerprints.
    const lines = renderTable(report)
      .split('\n')
      .filter((l) => l.includes(paddedSerial(SERIAL)));
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(/SIMULATED$/);
  });

  it('with allowSimulated, a tampered simulated attestation still fails', async () => {
    await writeYubiHsm(sim, products, { serial: SERIAL, curve: 'P-256', attest: { root: { origin: ORIGIN.imported } } });
    expect(codes(await verifyProducts([products], { allowSimulated: true }))).toEqual(['VERIFY_ORIGIN']);
  });
});
