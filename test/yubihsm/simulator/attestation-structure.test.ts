// The simulator's certificates against real ones: the PSF ceremony's device
// 13200460 (firmware 2.1.2). Both are decoded with @peculiar/asn1-x509 and
// compared field by field; where the values must differ (keys, serial
// numbers, signatures, the issuing CA) the shapes are compared instead.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, Name } from '@peculiar/asn1-x509';
import { describe, expect, it } from 'vitest';
import { capabilities } from '../../../lib/yubihsm/capabilities.ts';
import { psfProducts } from '../../support/paths.ts';
import { ALG, CMD, device, generateData, open, putAuthKeyData, TYPE, u16 } from './raw-host.ts';

const SERIAL = 13200460;
const real = (name: string) => readFileSync(join(psfProducts, '0013200460', `0013200460_${name}.der`));

function parse(der: Uint8Array): Certificate {
  return AsnConvert.parse(der, Certificate);
}

const der = (v: unknown) => Buffer.from(AsnConvert.serialize(v));

/** The one RDN of a name: [attribute type OID, ASN.1 string kind, value]. */
function cn(name: Name): [string, string, string] {
  expect(name).toHaveLength(1);
  expect(name[0]).toHaveLength(1);
  const attr = name[0]![0]!;
  const kind = Object.entries(attr.value).find(([k, v]) => k !== 'anyValue' && v !== undefined)?.[0] ?? '';
  return [attr.type, kind, attr.value.toString()];
}

function positiveSerialBytes(serial: ArrayBuffer): number {
  const b = new Uint8Array(serial);
  return b[0] === 0 ? b.length - 1 : b.length;
}

async function simulatedRootAttestation(): Promise<{ attestation: Uint8Array; deviceCert: Uint8Array }> {
  const dev = await device({ serial: SERIAL, firmware: { major: 2, minor: 1, patch: 2 } });
  const admin = await open(dev);
  const caps = capabilities('get-opaque', 'generate-asymmetric-key', 'sign-ecdsa', 'sign-attestation-certificate', 'delete-authentication-key');
  await admin.ok(CMD.putAuthKey, putAuthKeyData(2, 'tuf-authkey', 1, caps, capabilities('sign-ecdsa'), 'pw'));
  const s = await open(dev, 2, 'pw');
  await s.ok(CMD.deleteObject, u16(1), [TYPE.authKey]);
  await s.ok(CMD.generateAsym, generateData(3, 'tuf-root', 1, capabilities('sign-ecdsa'), ALG.ecP384));
  return { attestation: await s.ok(CMD.signAttestation, u16(3), u16(0)), deviceCert: await s.ok(CMD.getOpaque, u16(0)) };
}

describe('attestation certificate structure: simulated vs real (PSF 0013200460, root key)', () => {
  it('matches field by field', async () => {
    const ours = parse((await simulatedRootAttestation()).attestation);
    const theirs = parse(real('root_attestation'));
    const [o, t] = [ours.tbsCertificate, theirs.tbsCertificate];

    expect(o.version).toBe(t.version);
    // 16 random bytes, encoded as a positive INTEGER.
    expect(positiveSerialBytes(o.serialNumber)).toBe(16);
    expect(positiveSerialBytes(t.serialNumber)).toBe(16);
    // sha256WithRSAEncryption with NULL parameters, inside and outside the TBS.
    expect(der(o.signature).equals(der(t.signature))).toBe(true);
    expect(der(ours.signatureAlgorithm).equals(der(theirs.signatureAlgorithm))).toBe(true);
    expect(ours.signatureValue.byteLength).toBe(theirs.signatureValue.byteLength);
    // Issuer: the device certificate's subject, "YubiHSM Attestation (13200460)", a UTF8String.
    expect(cn(o.issuer)).toEqual(cn(t.issuer));
    expect(cn(t.issuer)).toEqual(['2.5.4.3', 'utf8String', 'YubiHSM Attestation (13200460)']);
    // Validity: UTCTime 2017-01-01, GeneralizedTime 2071-10-05, byte for byte.
    expect(der(o.validity).equals(der(t.validity))).toBe(true);
    expect(cn(o.subject)).toEqual(cn(t.subject));
    expect(cn(o.subject)[2]).toBe('YubiHSM Attestation id:0x0003');
    // An EC P-384 key, as the PSF device's.
    expect(der(o.subjectPublicKeyInfo.algorithm).equals(der(t.subjectPublicKeyInfo.algorithm))).toBe(true);
    expect(o.subjectPublicKeyInfo.subjectPublicKey.byteLength).toBe(t.subjectPublicKeyInfo.subjectPublicKey.byteLength);
    expect(o.issuerUniqueID).toBeUndefined();
    expect(o.subjectUniqueID).toBeUndefined();
    // Extensions: same OIDs in the same order, none critical, and (same serial, firmware,
    // origin, domains, capabilities, id and label) the very same value bytes.
    const exts = (c: typeof o) => (c.extensions ?? []).map((e) => [e.extnID, e.critical, Buffer.from(e.extnValue.buffer).toString('hex')]);
    expect(exts(o)).toEqual(exts(t));
    expect(exts(t).map((e) => e[0])).toEqual([1, 2, 3, 4, 5, 6, 9].map((n) => `1.3.6.1.4.1.41482.4.${n}`));
  });
});

describe('device certificate structure: simulated vs real (PSF 0013200460_cert.der)', () => {
  it('matches field by field, the issuing CA aside', async () => {
    const ours = parse((await simulatedRootAttestation()).deviceCert);
    const theirs = parse(real('cert'));
    const [o, t] = [ours.tbsCertificate, theirs.tbsCertificate];
    expect(o.version).toBe(t.version);
    expect(positiveSerialBytes(o.serialNumber)).toBe(8);
    expect(positiveSerialBytes(t.serialNumber)).toBe(8);
    expect(der(o.signature).equals(der(t.signature))).toBe(true);
    expect(der(o.validity).equals(der(t.validity))).toBe(true);
    expect(cn(o.subject)).toEqual(cn(t.subject));
    expect(cn(o.issuer)).toEqual(['2.5.4.3', 'utf8String', 'SIMULATED YubiHSM Sub-CA']);
    expect(cn(t.issuer)).toEqual(['2.5.4.3', 'utf8String', 'Yubico YubiHSM 6742036 Sub-CA']);
    // RSA-2048 device attestation key.
    expect(der(o.subjectPublicKeyInfo.algorithm).equals(der(t.subjectPublicKeyInfo.algorithm))).toBe(true);
    expect(o.subjectPublicKeyInfo.subjectPublicKey.byteLength).toBe(t.subjectPublicKeyInfo.subjectPublicKey.byteLength);
    const ids = (c: typeof o) => (c.extensions ?? []).map((e) => [e.extnID, e.critical]);
    expect(ids(o)).toEqual(ids(t));
    const value = (c: typeof o, oid: string) => Buffer.from(c.extensions!.find((e) => e.extnID === oid)!.extnValue.buffer).toString('hex');
    // The serial extension and basic constraints are identical; the key identifiers differ in value only.
    for (const oid of ['1.3.6.1.4.1.41482.4.2', '2.5.29.19']) expect(value(o, oid)).toBe(value(t, oid));
    for (const oid of ['2.5.29.14', '2.5.29.35']) expect(value(o, oid).length).toBe(value(t, oid).length);
  });
});
