import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../../lib/paths.ts';
import { colonHex, loadTrustStore, readPinned, YUBICO_ROOT_SHA256, YUBICO_SUB_CA_SHA256 } from '../../lib/products/trust/anchors.ts';
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
    expect(await sha256(projectPath('lib', 'products', 'trust', 'yubico-yubihsm-6742036-sub-ca.pem'))).toBe(YUBICO_SUB_CA_SHA256['yubico-yubihsm-6742036-sub-ca.pem']);
  });

  it('are pinned by the full fingerprints, as `openssl x509 -fingerprint -sha256` prints them', () => {
    expect(colonHex(YUBICO_ROOT_SHA256)).toBe('09:4A:3A:C4:93:C2:BD:CD:65:A5:4B:DF:40:19:0F:52:BB:03:F7:15:63:97:A3:FC:69:D8:AA:9A:39:2F:B7:24');
    expect(colonHex(YUBICO_SUB_CA_SHA256['yubico-yubihsm-6742036-sub-ca.pem'] ?? '')).toBe(
      'D7:C6:D8:F4:52:08:E2:A5:39:96:FB:5A:8F:4D:63:1B:33:EB:AB:B6:49:56:B3:7B:2A:C1:51:FB:DB:AF:4A:E9',
    );
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
