// The PSF runbook's "Provisioning the YubiHSM 2" sequence, run against the
// simulator with raw frames: reset, new authentication key 2, default key
// deleted, TUF root and targets keys generated, public keys and attestation
// certificates exported, device certificate read from opaque 0.
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { createHash, verify } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { decodeAttestation } from '../../../lib/yubihsm/attestation.ts';
import { capabilities } from '../../../lib/yubihsm/capabilities.ts';
import { keyFromPoint, type Curve } from '../../../lib/keys.ts';
import { simulatedCa, SIMULATED_CA_DIR } from '../../../lib/yubihsm/simulator/index.ts';
import { ALG, CMD, ERR, TYPE, afterReboot, device, errorOf, generateData, open, putAuthKeyData, tryOpen, u16 } from './raw-host.ts';

const AUTHKEY_CAPS = capabilities(
  'get-opaque',
  'generate-asymmetric-key',
  'sign-ecdsa',
  'sign-attestation-certificate',
  'delete-authentication-key',
);
const SIGN = capabilities('sign-ecdsa');

function pem(der: Uint8Array): string {
  return `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
}

async function provision(curve: Curve, serial: number) {
  const alg = curve === 'P-256' ? ALG.ecP256 : ALG.ecP384;
  const dev = await device({ serial });
  const factory = await open(dev);
  expect((await factory.send(CMD.reset)).code).toBe(0x88);
  await afterReboot(dev);
  const again = await open(dev);
  await again.ok(CMD.putAuthKey, putAuthKeyData(2, 'tuf-authkey', 0x0001, AUTHKEY_CAPS, SIGN, 'correct horse battery staple'));
  const s = await open(dev, 2, 'correct horse battery staple');
  await s.ok(CMD.deleteObject, u16(1), [TYPE.authKey]);
  expect(await tryOpen(dev, 1, 'password')).toBe(ERR.objectNotFound);
  expect([...(await s.ok(CMD.generateAsym, generateData(3, 'tuf-root', 0x0001, SIGN, alg)))]).toEqual([0, 3]);
  expect([...(await s.ok(CMD.generateAsym, generateData(4, 'tuf-targets', 0x0001, SIGN, alg)))]).toEqual([0, 4]);
  const pub = async (id: number) => {
    const a = await s.ok(CMD.getPublicKey, u16(id));
    expect(a[0]).toBe(alg);
    return a.subarray(1);
  };
  return {
    dev,
    s,
    rootPub: await pub(3),
    targetsPub: await pub(4),
    rootAttestation: await s.ok(CMD.signAttestation, u16(3), u16(0)),
    targetsAttestation: await s.ok(CMD.signAttestation, u16(4), u16(0)),
    deviceCert: await s.ok(CMD.getOpaque, u16(0)),
  };
}

describe.each([
  ['P-256', 32, 7550054],
  ['P-384', 48, 13200461],
] as const)('PSF provisioning on %s', (curve, coordinate, serial) => {
  it('produces public keys, attestations that verify against the simulated chain, and the device certificate', async () => {
    const p = await provision(curve, serial);
    expect(p.rootPub).toHaveLength(2 * coordinate);
    expect(p.targetsPub).toHaveLength(2 * coordinate);
    expect(Buffer.from(p.deviceCert).equals(Buffer.from(p.dev.deviceCertificate))).toBe(true);

    // openssl, as a third party would check: root trusted, sub-CA and device certificate untrusted.
    const dir = mkdtempSync(join(tmpdir(), 'sim-attest-'));
    writeFileSync(join(dir, 'untrusted.pem'), `${simulatedCa().subCa.toString('pem')}\n${pem(p.deviceCert)}`);
    for (const [name, der] of [
      ['root', p.rootAttestation],
      ['targets', p.targetsAttestation],
    ] as const) {
      writeFileSync(join(dir, `${name}.pem`), pem(der));
      const out = execFileSync('openssl', [
        'verify',
        '-CAfile',
        join(SIMULATED_CA_DIR, 'root-ca.pem'),
        '-untrusted',
        join(dir, 'untrusted.pem'),
        join(dir, `${name}.pem`),
      ]).toString();
      expect(out.trim()).toBe(`${join(dir, `${name}.pem`)}: OK`);
    }

    // @peculiar/x509, link by link, and the extensions decoded.
    const { root, subCa } = simulatedCa();
    const deviceCert = new X509Certificate(p.deviceCert);
    expect(await subCa.verify({ publicKey: root.publicKey, signatureOnly: true })).toBe(true);
    expect(await deviceCert.verify({ publicKey: subCa.publicKey, signatureOnly: true })).toBe(true);
    expect(deviceCert.subject).toBe(`CN=YubiHSM Attestation (${serial})`);
    for (const [id, label, der, point] of [
      [3, 'tuf-root', p.rootAttestation, p.rootPub],
      [4, 'tuf-targets', p.targetsAttestation, p.targetsPub],
    ] as const) {
      const cert = new X509Certificate(der);
      expect(await cert.verify({ publicKey: deviceCert.publicKey, signatureOnly: true })).toBe(true);
      expect(cert.issuer).toBe(deviceCert.subject);
      expect(cert.subject).toBe(`CN=YubiHSM Attestation id:0x000${id}`);
      expect(decodeAttestation(cert)).toEqual({
        firmware: { major: 2, minor: 1, patch: 2 },
        serial,
        origin: 0x01,
        domains: 0x0001,
        capabilities: SIGN,
        objectId: id,
        label,
      });
      // The certified key is the key GET PUBLIC KEY returned.
      const spki = Buffer.from(keyFromPoint(curve, point).export({ type: 'spki', format: 'der' }));
      expect(Buffer.from(cert.publicKey.rawData).equals(spki)).toBe(true);
    }

    // The keys sign (prehash in, DER out) and the signatures verify with the exported public keys.
    const hash = curve === 'P-256' ? 'sha256' : 'sha384';
    const message = Buffer.from('TUF root metadata');
    const signature = await p.s.ok(CMD.signEcdsa, u16(3), createHash(hash).update(message).digest());
    expect(verify(hash, message, keyFromPoint(curve, p.rootPub), signature)).toBe(true);
    expect(verify(hash, message, keyFromPoint(curve, p.targetsPub), signature)).toBe(false);
  });
});

describe('PSF provisioning: negative paths', () => {
  it('the TUF authentication key cannot give its keys more than sign-ecdsa, nor reset the device', async () => {
    const dev = await device();
    const admin = await open(dev);
    await admin.ok(CMD.putAuthKey, putAuthKeyData(2, 'tuf-authkey', 0x0001, AUTHKEY_CAPS, SIGN, 'pw'));
    const s = await open(dev, 2, 'pw');
    expect(errorOf(await s.send(CMD.generateAsym, generateData(3, 'tuf-root', 1, capabilities('sign-ecdsa', 'exportable-under-wrap'), ALG.ecP256)))).toBe(
      ERR.insufficientPermissions,
    );
    expect(errorOf(await s.send(CMD.reset))).toBe(ERR.insufficientPermissions);
    expect(errorOf(await s.send(CMD.getLogEntries))).toBe(ERR.insufficientPermissions);
  });

  it('attestation by a user key needs sign-attestation-certificate on that key and its certificate in opaque', async () => {
    const dev = await device();
    const s = await open(dev);
    await s.ok(CMD.generateAsym, generateData(3, 'k', 1, SIGN, ALG.ecP256));
    await s.ok(CMD.generateAsym, generateData(9, 'attester', 1, SIGN, ALG.ecP256));
    expect(errorOf(await s.send(CMD.signAttestation, u16(3), u16(9)))).toBe(ERR.insufficientPermissions);
    await s.ok(CMD.generateAsym, generateData(10, 'attester', 1, capabilities('sign-attestation-certificate'), ALG.ecP256));
    expect(errorOf(await s.send(CMD.signAttestation, u16(3), u16(10)))).toBe(ERR.objectNotFound);
    expect(errorOf(await s.send(CMD.signAttestation, u16(77), u16(0)))).toBe(ERR.objectNotFound);
  });

  it('attests with a user attestation key whose certificate is stored beside it', async () => {
    const dev = await device();
    const s = await open(dev);
    await s.ok(CMD.generateAsym, generateData(3, 'k', 1, SIGN, ALG.ecP384));
    await s.ok(CMD.generateAsym, generateData(10, 'attester', 1, capabilities('sign-attestation-certificate'), ALG.ecP256));
    // Let the device attest key 10 and store that certificate as opaque 10: the chain then goes through it.
    const cert10 = await s.ok(CMD.signAttestation, u16(10), u16(0));
    await s.ok(CMD.putOpaque, u16(10), Buffer.alloc(40), u16(1), Buffer.alloc(8), [ALG.opaqueX509], cert10);
    const cert3 = new X509Certificate(await s.ok(CMD.signAttestation, u16(3), u16(10)));
    const issuer = new X509Certificate(cert10);
    expect(cert3.issuer).toBe(issuer.subject);
    expect((cert3.signatureAlgorithm as unknown as { name: string }).name).toBe('ECDSA');
    expect(await cert3.verify({ publicKey: issuer.publicKey, signatureOnly: true })).toBe(true);
  });
});
