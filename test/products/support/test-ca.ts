/**
 * A YubiHSM attestation CA of the test suite's own, issuing real, verifiable
 * certificates shaped as Yubico's: root → sub-CA → device certificate
 * (`CN=YubiHSM Attestation (SERIAL)`, extension .2) → key attestations
 * (Yubico's extensions, from lib/yubihsm/attestation.ts). Yubico's
 * certificates cannot be re-signed, so every attestation-content tampering
 * (label, origin, capabilities, ...) is built here and trusted through
 * verifyProducts' `extraTrust`.
 *
 * It also issues from the YubiHSM simulator's committed CA (whose keys are
 * public on purpose), to test how simulated products are treated.
 */
import 'reflect-metadata';
import { createPrivateKey, webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { projectPath } from '../../../lib/paths.ts';
import { pemFromPoint, type Curve } from '../../../lib/keys.ts';
import { attestationExtensions, deviceSerialExtension, ORIGIN, type YubiHsmAttestation } from '../../../lib/yubihsm/attestation.ts';
import { capabilities } from '../../../lib/yubihsm/capabilities.ts';
import { ROLES, type Role } from '../../../lib/products/verify/report.ts';

const { subtle } = webcrypto;
type Keys = webcrypto.CryptoKeyPair;

const NOT_BEFORE = new Date('2017-01-01T00:00:00Z');
const NOT_AFTER = new Date('2071-10-05T00:00:00Z');
const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const RSA_SHA256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

export interface TestCa {
  readonly root: x509.X509Certificate;
  readonly sub: x509.X509Certificate;
  readonly subKey: webcrypto.CryptoKey;
  /** The signature algorithm of the sub-CA's key. */
  readonly subAlg: typeof ECDSA_P256 | typeof RSA_SHA256;
  /** For verifyProducts' extraTrust. */
  readonly trust: { roots: Uint8Array[]; intermediates: Uint8Array[] };
}

let serialCounter = 1;
function nextSerial(): string {
  return (serialCounter++).toString(16).padStart(2, '0');
}

async function ecKeys(curve: Curve = 'P-256'): Promise<Keys> {
  return subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, true, ['sign', 'verify']);
}

/** A fresh root and sub-CA (ECDSA P-256: quick to make, and the verifier takes any algorithm Web Crypto verifies). */
export async function createTestCa(name = 'TEST YubiHSM'): Promise<TestCa> {
  const rootKeys = await ecKeys();
  const subKeys = await ecKeys();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name: `CN=${name} Root CA`,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    signingAlgorithm: ECDSA_P256,
    keys: rootKeys,
    extensions: [new x509.BasicConstraintsExtension(true, 2, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  const sub = await x509.X509CertificateGenerator.create({
    serialNumber: nextSerial(),
    subject: `CN=${name} Sub-CA`,
    issuer: root.subject,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    signingAlgorithm: ECDSA_P256,
    publicKey: subKeys.publicKey,
    signingKey: rootKeys.privateKey,
    extensions: [new x509.BasicConstraintsExtension(true, 1, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  return {
    root,
    sub,
    subKey: subKeys.privateKey,
    subAlg: ECDSA_P256,
    trust: { roots: [new Uint8Array(root.rawData)], intermediates: [new Uint8Array(sub.rawData)] },
  };
}

/** The YubiHSM simulator's committed CA (lib/yubihsm/simulator/ca/), its sub-CA key read from the published file. */
export async function simulatorCa(): Promise<TestCa> {
  const dir = projectPath('lib', 'yubihsm', 'simulator', 'ca');
  const root = new x509.X509Certificate(await readFile(join(dir, 'root-ca.pem'), 'utf8'));
  const sub = new x509.X509Certificate(await readFile(join(dir, 'sub-ca.pem'), 'utf8'));
  const pkcs8 = createPrivateKey(await readFile(join(dir, 'sub-ca.key.pem'), 'utf8')).export({ type: 'pkcs8', format: 'der' });
  const subKey = await subtle.importKey('pkcs8', pkcs8, RSA_SHA256, false, ['sign']);
  return { root, sub, subKey, subAlg: RSA_SHA256, trust: { roots: [], intermediates: [] } };
}

/** What a device states for each role, before overrides: what yubihsm-provision creates. */
export function ceremonyAttestation(serial: number, role: Role): YubiHsmAttestation {
  return {
    firmware: { major: 2, minor: 1, patch: 2 },
    serial,
    origin: ORIGIN.generated,
    domains: 0x0001,
    capabilities: capabilities('sign-ecdsa'),
    objectId: role === 'root' ? 3 : 4,
    label: role === 'root' ? 'tuf-root' : 'tuf-targets',
  };
}

export interface DeviceSpec {
  /** The device serial (directory name: 10 digits, 0-padded). */
  readonly serial: number;
  readonly curve: Curve;
  /** Changes to what an attestation states, per role. */
  readonly attest?: Partial<Record<Role, Partial<YubiHsmAttestation>>>;
  /** Extensions to drop from an attestation, per role (OIDs). */
  readonly omit?: Partial<Record<Role, string[]>>;
  /** Extensions to add to an attestation, per role. */
  readonly extra?: Partial<Record<Role, x509.Extension[]>>;
  /** The serial the device certificate names (subject and .2), if not `serial`. */
  readonly certSerial?: number;
  /** The device certificate's subject, if not `CN=YubiHSM Attestation (certSerial)`. */
  readonly certSubject?: string;
  /** The device certificate is a CA (basicConstraints cA), as a real one is; true unless given. */
  readonly deviceCa?: boolean;
  /** Extensions added to the device certificate. */
  readonly deviceExtra?: x509.Extension[];
  /** When the attestations stop being valid, if not when Yubico's certificates do (2071). */
  readonly attestationNotAfter?: Date;
  /** The device attestation key: RSA-2048 as on a real YubiHSM 2, or ECDSA P-256 (quicker to make; the default). */
  readonly deviceKey?: 'rsa' | 'ecdsa';
}

export interface WrittenDevice {
  readonly dir: string;
  readonly serial: string;
  readonly deviceCert: x509.X509Certificate;
  readonly deviceKey: webcrypto.CryptoKey;
  /** The uncompressed public point of each key. */
  readonly points: Record<Role, Uint8Array>;
}

export function paddedSerial(serial: number): string {
  return String(serial).padStart(10, '0');
}

/** Writes one YubiHSM 2's products, as "Provisioning the YubiHSM 2" leaves them, under `products`. */
export async function writeYubiHsm(ca: TestCa, products: string, spec: DeviceSpec): Promise<WrittenDevice> {
  const s = paddedSerial(spec.serial);
  const dir = join(products, s);
  await mkdir(dir, { recursive: true });
  const certSerial = spec.certSerial ?? spec.serial;
  const rsa = spec.deviceKey === 'rsa';
  const deviceKeys = rsa
    ? await subtle.generateKey({ ...RSA_SHA256, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, true, ['sign', 'verify'])
    : await ecKeys();
  const deviceCert = await x509.X509CertificateGenerator.create({
    serialNumber: nextSerial(),
    subject: spec.certSubject ?? `CN=YubiHSM Attestation (${certSerial})`,
    issuer: ca.sub.subject,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    signingAlgorithm: ca.subAlg,
    publicKey: deviceKeys.publicKey,
    signingKey: ca.subKey,
    extensions: [deviceSerialExtension(certSerial), new x509.BasicConstraintsExtension(spec.deviceCa ?? true, spec.deviceCa === false ? undefined : 0, true), ...(spec.deviceExtra ?? [])],
  });
  await writeFile(join(dir, `${s}_cert.der`), new Uint8Array(deviceCert.rawData));
  const points = {} as Record<Role, Uint8Array>;
  for (const role of ROLES) {
    const keys = await ecKeys(spec.curve);
    const info = { ...ceremonyAttestation(spec.serial, role), ...spec.attest?.[role] };
    const omit = new Set(spec.omit?.[role] ?? []);
    const att = await issueAttestation(deviceCert, deviceKeys.privateKey, keys.publicKey, info, omit, rsa ? RSA_SHA256 : ECDSA_P256, spec.extra?.[role], spec.attestationNotAfter);
    const point = new Uint8Array(await subtle.exportKey('raw', keys.publicKey));
    points[role] = point;
    await writeFile(join(dir, `${s}_${role}_attestation.der`), new Uint8Array(att.rawData));
    await writeFile(join(dir, `${s}_${role}_pubkey.pub`), point);
    await writeFile(join(dir, `${s}_${role}_pubkey.pem`), pemFromPoint(spec.curve, point));
  }
  return { dir, serial: s, deviceCert, deviceKey: deviceKeys.privateKey, points };
}

/** An attestation certificate as a device issues it: signed by the device key, Yubico's extensions. */
export async function issueAttestation(
  deviceCert: x509.X509Certificate,
  deviceKey: webcrypto.CryptoKey,
  publicKey: webcrypto.CryptoKey,
  info: YubiHsmAttestation,
  omit: ReadonlySet<string> = new Set(),
  signingAlgorithm: typeof ECDSA_P256 | typeof RSA_SHA256 = ECDSA_P256,
  extra: x509.Extension[] = [],
  notAfter: Date = NOT_AFTER,
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    serialNumber: nextSerial(),
    subject: `CN=YubiHSM Attestation id:0x${info.objectId.toString(16).padStart(4, '0')}`,
    issuer: deviceCert.subject,
    notBefore: NOT_BEFORE,
    notAfter,
    signingAlgorithm,
    publicKey,
    signingKey: deviceKey,
    extensions: [...attestationExtensions(info).filter((e) => !omit.has(e.type)), ...extra],
  });
}

/** Writes one Nitrokey HSM's products ("Provisioning the Nitrokey HSM", step 22): DER SPKI and PEM of each key. */
export async function writeNitrokey(products: string, serial: string, curve: Curve): Promise<{ dir: string; points: Record<Role, Uint8Array> }> {
  const dir = join(products, serial);
  await mkdir(dir, { recursive: true });
  const points = {} as Record<Role, Uint8Array>;
  for (const role of ROLES) {
    const keys = await ecKeys(curve);
    const point = new Uint8Array(await subtle.exportKey('raw', keys.publicKey));
    points[role] = point;
    await writeFile(join(dir, `${serial}_${role}_pubkey.pub`), new Uint8Array(await subtle.exportKey('spki', keys.publicKey)));
    await writeFile(join(dir, `${serial}_${role}_pubkey.pem`), pemFromPoint(curve, point));
  }
  return { dir, points };
}
