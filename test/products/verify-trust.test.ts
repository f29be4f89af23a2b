import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../../lib/paths.ts';
import { loadTrustStore, readPinned, YUBICO_ROOT_SHA256, YUBICO_SUB_CA_SHA256 } from '../../lib/products/trust/anchors.ts';
import { yubicoFixtures } from '../support/paths.ts';
import { createTestCa } from './support/test-ca.ts';

const sha256 = async (pemFile: string) => createHash('sha256').update(new Uint8Array(new X509Certificate(await readFile(pemFile, 'utf8')).rawData)).digest('hex');

describe('the embedded Yubico certificates', () => {
  it("are the fixtures' certificates, pinned by their fingerprints", async () => {
    // 09:4A:3A:C4…:2F:B7:24 and D7:C6:D8:F4…:AF:4A:E9, as printed by openssl.
    expect(YUBICO_ROOT_SHA256).toMatch(/^094a3ac4[0-9a-f]{50}2fb724$/);
    expect(YUBICO_SUB_CA_SHA256['yubico-yubihsm-6742036-sub-ca.pem']).toMatch(/^d7c6d8f4[0-9a-f]{50}af4ae9$/);
    expect(await sha256(join(yubicoFixtures, 'yubihsm2-attest-ca-crt.pem'))).toBe(YUBICO_ROOT_SHA256);
    expect(await sha256(join(yubicoFixtures, 'E45DA5F361B091B30D8F2C6FA040DB6FEF57918E.pem'))).toBe(YUBICO_SUB_CA_SHA256['yubico-yubihsm-6742036-sub-ca.pem']);
    expect(await sha256(projectPath('lib', 'products', 'trust', 'yubico-yubihsm-root-ca.pem'))).toBe(YUBICO_ROOT_SHA256);
  });

  it('load as a root and a sub-CA it signed, beside the simulator\'s', async () => {
    const store = await loadTrustStore();
    expect(store.roots.map((r) => [r.source, r.cert.subject])).toEqual([
      ['yubico', 'CN=Yubico YubiHSM Root CA'],
      ['simulated', 'CN=SIMULATED YubiHSM Attestation Root CA (not a Yubico CA)'],
    ]);
    expect(store.intermediates.map((i) => [i.source, i.cert.subject, i.root?.cert.subject])).toEqual([
      ['yubico', 'CN=Yubico YubiHSM 6742036 Sub-CA', 'CN=Yubico YubiHSM Root CA'],
      ['simulated', 'CN=SIMULATED YubiHSM Sub-CA', 'CN=SIMULATED YubiHSM Attestation Root CA (not a Yubico CA)'],
    ]);
  });

  it('a certificate that does not match its pin stops verification: VERIFY_TRUST_PIN', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runbook-pin-'));
    try {
      const swapped = join(dir, 'root.pem');
      await writeFile(swapped, await readFile(join(yubicoFixtures, 'E45DA5F361B091B30D8F2C6FA040DB6FEF57918E.pem')));
      await expect(readPinned(swapped, YUBICO_ROOT_SHA256)).toThrowWithCode('VERIFY_TRUST_PIN');
      await expect(readPinned(join(dir, 'absent.pem'), YUBICO_ROOT_SHA256)).toThrowWithCode('VERIFY_TRUST_PIN');
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('an extra sub-CA not issued by an extra root is refused: VERIFY_TRUST_PIN', async () => {
    const a = await createTestCa('A');
    const b = await createTestCa('B');
    await expect(loadTrustStore({ roots: a.trust.roots, intermediates: b.trust.intermediates })).toThrowWithCode('VERIFY_TRUST_PIN');
  });
});
