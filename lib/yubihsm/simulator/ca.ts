// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect polyfill loaded first.
import 'reflect-metadata';
import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { projectPath } from '../../paths.ts';
import { deviceSerialExtension } from '../attestation.ts';
import { CA_NOT_AFTER, CA_NOT_BEFORE, deviceCertificateCn } from './ca-names.ts';
import { SimulatorError } from './errors.ts';

/**
 * The simulated attestation chain, and the device certificates it issues.
 *
 * Yubico's chain is root -> sub-CA -> device certificate (one per device,
 * `CN=YubiHSM Attestation (SERIAL)`, RSA-2048, stored at opaque id 0) ->
 * key attestations signed by the device attestation key. The simulator
 * mirrors it with the committed SIMULATED root and sub-CA in
 * lib/yubihsm/simulator/ca/ (made once by make-ca.ts), and gives every
 * simulated device its own RSA-2048 attestation key and certificate.
 */

/** sha256WithRSAEncryption, as Yubico's chain and device certificates are signed. */
export const RSA_SHA256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

/** Where the committed chain lives. */
export const SIMULATED_CA_DIR = projectPath('lib', 'yubihsm', 'simulator', 'ca');

export interface SimulatedCa {
  readonly root: x509.X509Certificate;
  readonly subCa: x509.X509Certificate;
  /** The sub-CA's private key: public on purpose (see ca/README.md). */
  readonly subCaKey: KeyObject;
}

let cached: SimulatedCa | undefined;

/** The committed simulated root and sub-CA, read once per process. */
export function simulatedCa(): SimulatedCa {
  if (cached) return cached;
  const file = (name: string) => join(SIMULATED_CA_DIR, name);
  try {
    cached = {
      root: new x509.X509Certificate(readFileSync(file('root-ca.pem'), 'utf8')),
      subCa: new x509.X509Certificate(readFileSync(file('sub-ca.pem'), 'utf8')),
      subCaKey: createPrivateKey(readFileSync(file('sub-ca.key.pem'), 'utf8')),
    };
  } catch (err) {
    throw new SimulatorError('SIMULATOR_CA_UNREADABLE', `cannot read the simulated CA in ${SIMULATED_CA_DIR}: ${(err as Error).message}`, { cause: err });
  }
  return cached;
}

/** The simulated root CA certificate as PEM. */
export function simulatedRootPem(): string {
  return readFileSync(join(SIMULATED_CA_DIR, 'root-ca.pem'), 'utf8');
}

/**
 * The simulated root and sub-CA certificates as one PEM file, root first
 * (what `runbook simulate yubihsm --ca-cert-out` writes). A device
 * certificate is issued by the sub-CA, so a third party needs both to check
 * an attestation with what the simulator hands out:
 * `openssl verify -CAfile FILE -untrusted device.pem attestation.pem`.
 */
export function simulatedCaBundlePem(): string {
  const pem = (name: string) => {
    const text = readFileSync(join(SIMULATED_CA_DIR, name), 'utf8');
    return text.endsWith('\n') ? text : `${text}\n`;
  };
  try {
    return pem('root-ca.pem') + pem('sub-ca.pem');
  } catch (err) {
    throw new SimulatorError('SIMULATOR_CA_UNREADABLE', `cannot read the simulated CA in ${SIMULATED_CA_DIR}: ${(err as Error).message}`, { cause: err });
  }
}

/** A node private key as a WebCrypto signing key for @peculiar/x509. */
export async function signingKey(key: KeyObject, algorithm: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams): Promise<webcrypto.CryptoKey> {
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
}

export async function publicCryptoKey(key: KeyObject, algorithm: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams): Promise<webcrypto.CryptoKey> {
  const spki = (key.type === 'public' ? key : createPublicKey(key)).export({ type: 'spki', format: 'der' });
  return webcrypto.subtle.importKey('spki', spki, algorithm, true, ['verify']);
}

/** A positive DER INTEGER serial of `bytes` random bytes, as hex (a leading 0x00 is added by the encoder when needed). */
export function randomSerialHex(bytes: number): string {
  const raw = randomBytes(bytes);
  if (raw.every((b) => b === 0)) raw[bytes - 1] = 1;
  return raw.toString('hex');
}

export interface DeviceIdentity {
  /** The device attestation key (RSA-2048), the key of "asymmetric key 0". */
  readonly attestationKey: KeyObject;
  /** DER of the device certificate, the content of opaque object 0. */
  readonly certificate: Uint8Array;
}

/**
 * An RSA-2048 key pair, as real devices carry for attestation. Made on
 * libuv's thread pool: a bench of several devices makes their keys at once
 * rather than one after another.
 */
export async function generateAttestationKey(): Promise<KeyObject> {
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  return privateKey;
}

/**
 * Issues a device certificate shaped like Yubico's (compare
 * SERIAL_cert.der in the PSF products): serial number 8 random bytes,
 * sha256WithRSAEncryption, issuer the sub-CA, validity 2017-01-01 to
 * 2071-10-05, subject `CN=YubiHSM Attestation (SERIAL)` as a UTF8String,
 * RSA-2048 key, and the extensions in Yubico's order: 1.3.6.1.4.1.41482.4.2
 * (the serial as an INTEGER), subject key identifier, authority key
 * identifier, basic constraints critical CA:TRUE pathlen 0.
 */
export async function issueDeviceCertificate(serial: number, attestationKey: KeyObject, ca: SimulatedCa = simulatedCa()): Promise<Uint8Array> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const publicKey = await publicCryptoKey(attestationKey, RSA_SHA256);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(8),
    issuer: ca.subCa.subjectName,
    subject: new x509.Name([{ CN: [{ utf8String: deviceCertificateCn(serial) }] }]),
    notBefore: CA_NOT_BEFORE,
    notAfter: CA_NOT_AFTER,
    publicKey,
    signingKey: await signingKey(ca.subCaKey, RSA_SHA256),
    signingAlgorithm: RSA_SHA256,
    extensions: [
      deviceSerialExtension(serial),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      authorityKeyId(ca.subCa),
      new x509.BasicConstraintsExtension(true, 0, true),
    ],
  });
  return new Uint8Array(cert.rawData);
}

/** The authority key identifier naming `issuer`: its own subject key identifier, as Yubico's certificates carry it. */
export function authorityKeyId(issuer: x509.X509Certificate): x509.AuthorityKeyIdentifierExtension {
  const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!ski) throw new SimulatorError('SIMULATOR_CA_UNREADABLE', `${issuer.subject} has no subject key identifier`);
  return new x509.AuthorityKeyIdentifierExtension(ski.keyId);
}

/** A fresh device identity: attestation key and certificate. */
export async function makeDeviceIdentity(serial: number): Promise<DeviceIdentity> {
  const attestationKey = await generateAttestationKey();
  return { attestationKey, certificate: await issueDeviceCertificate(serial, attestationKey) };
}
