/**
 * The certificates a YubiHSM attestation chain may end at.
 *
 * Yubico's YubiHSM attestation root CA and the sub-CA that issued the PSF
 * devices' certificates ship with the project (this directory), each pinned
 * by its SHA-256 fingerprint below: a verifier that fetched them at run time,
 * as the original runbook's checks did by hand, would trust whatever the
 * network served. A file that does not match its pin stops verification.
 *
 * The YubiHSM simulator's CA (lib/yubihsm/simulator/ca/) is loaded too, so
 * that a simulated chain is recognised and reported as such; its root is
 * pinned by the fingerprint of the file as loaded. Its private keys are
 * public: whatever it signs proves only that the simulator made it.
 */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { PemConverter, type X509Certificate } from '@peculiar/x509';
import { projectPath } from '../../paths.ts';
import type { AnchorSource } from '../verify/report.ts';
import { VerifyError } from '../verify/errors.ts';
import { isCa, readCertificate, type ReadCertificate } from '../verify/der.ts';
import { signedBy } from '../verify/signature.ts';

/** SHA-256 of `CN=Yubico YubiHSM Root CA` (valid 2017-01-01 to 2071-10-05). */
export const YUBICO_ROOT_SHA256 = '094a3ac493c2bdcd65a54bdf40190f52bb03f7156397a3fc69d8aa9a392fb724';

/** SHA-256 of each Yubico sub-CA shipped: `CN=Yubico YubiHSM 6742036 Sub-CA`, which issued the PSF 2020-10-30 devices' certificates. */
export const YUBICO_SUB_CA_SHA256: Readonly<Record<string, string>> = {
  'yubico-yubihsm-6742036-sub-ca.pem': 'd7c6d8f45208e2a53996fb5a8f4d631b33ebabb64956b37b2ac151fbdbaf4ae9',
};

const YUBICO_ROOT_FILE = 'yubico-yubihsm-root-ca.pem';
const SIMULATED_DIR = ['lib', 'yubihsm', 'simulator', 'ca'] as const;

/** A root, or a sub-CA already verified against its root. */
export interface TrustCertificate {
  readonly cert: X509Certificate;
  readonly sha256: string;
  readonly source: AnchorSource;
  /** For a sub-CA: its root. */
  readonly root?: TrustCertificate;
}

export interface TrustStore {
  readonly roots: TrustCertificate[];
  readonly intermediates: TrustCertificate[];
  /** Sub-CAs by subject name, for chain building. */
  readonly bySubject: ReadonlyMap<string, TrustCertificate[]>;
}

/** Certificates (DER or PEM) a caller adds to the trust store: the test suite's and the bench's own CA. */
export interface ExtraTrust {
  readonly roots: readonly (Uint8Array | string)[];
  readonly intermediates: readonly (Uint8Array | string)[];
}

export function sha256Hex(bytes: ArrayBuffer | Uint8Array): string {
  return createHash('sha256')
    .update(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes))
    .digest('hex');
}

/** "09:4A:3A:…" as openssl prints fingerprints, for people comparing by eye. */
export function colonHex(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}

/** A trusted certificate (PEM or DER), read as strictly as the products are, and parsed once. */
function parseTrusted(input: Uint8Array | string, where: string): ReadCertificate {
  try {
    return readCertificate(typeof input === 'string' ? new Uint8Array(PemConverter.decodeFirst(input)) : input);
  } catch (err) {
    throw new VerifyError('VERIFY_TRUST_PIN', `the trust anchor ${where} is not a certificate`, { cause: err });
  }
}

async function readPem(path: string): Promise<ReadCertificate> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new VerifyError('VERIFY_TRUST_PIN', `cannot read the trust anchor ${path}`, { cause: err });
  }
  return parseTrusted(text, path);
}

/** Reads a PEM certificate and checks it against its pin (SHA-256 of the DER, hex); returns its fingerprint. */
export async function readPinned(path: string, expected: string): Promise<{ read: ReadCertificate; sha256: string }> {
  const read = await readPem(path);
  const sha256 = sha256Hex(read.cert.rawData);
  if (sha256 !== expected) {
    throw new VerifyError('VERIFY_TRUST_PIN', `${path} has SHA-256 ${colonHex(sha256)}, not the pinned ${colonHex(expected)}: the installation was altered`);
  }
  return { read, sha256 };
}

/** A root: it must be a CA. */
function root(read: ReadCertificate, sha256: string, source: AnchorSource, where: string): TrustCertificate {
  if (!isCa(read.extensions)) throw new VerifyError('VERIFY_TRUST_PIN', `${where} is not a CA certificate`);
  return { cert: read.cert, sha256, source };
}

/** A sub-CA joins the store only if its root signed it and both are CAs. */
function intermediate(read: ReadCertificate, sha256: string, source: AnchorSource, roots: TrustCertificate[], where: string): TrustCertificate {
  const { cert } = read;
  const issuer = isCa(read.extensions) ? roots.find((r) => r.source === source && r.cert.subject === cert.issuer && signedBy(read, r.cert)) : undefined;
  if (!issuer) throw new VerifyError('VERIFY_TRUST_PIN', `the sub-CA ${where} (${cert.subject}) is not a CA issued by a trusted root`);
  return { cert, sha256, source, root: issuer };
}

/**
 * Loads Yubico's pinned certificates and the simulator's CA, plus `extra`
 * (tests and benchmarks only; the command line never passes it).
 */
export async function loadTrustStore(extra?: ExtraTrust): Promise<TrustStore> {
  const rootPath = projectPath('lib', 'products', 'trust', YUBICO_ROOT_FILE);
  const yubico = await readPinned(rootPath, YUBICO_ROOT_SHA256);
  const roots: TrustCertificate[] = [root(yubico.read, yubico.sha256, 'yubico', rootPath)];

  // The simulator's root is pinned by the fingerprint of the file as loaded.
  const simulatedRootPath = projectPath(...SIMULATED_DIR, 'root-ca.pem');
  const simRoot = await readPem(simulatedRootPath);
  roots.push(root(simRoot, sha256Hex(simRoot.cert.rawData), 'simulated', simulatedRootPath));

  for (const [i, input] of (extra?.roots ?? []).entries()) {
    const where = `extra root #${i + 1}`;
    const read = parseTrusted(input, where);
    roots.push(root(read, sha256Hex(read.cert.rawData), 'extra', where));
  }

  const intermediates: TrustCertificate[] = [];
  for (const [file, sha] of Object.entries(YUBICO_SUB_CA_SHA256)) {
    const path = projectPath('lib', 'products', 'trust', file);
    const { read, sha256 } = await readPinned(path, sha);
    intermediates.push(intermediate(read, sha256, 'yubico', roots, path));
  }
  const simulatedSubPath = projectPath(...SIMULATED_DIR, 'sub-ca.pem');
  const simSub = await readPem(simulatedSubPath);
  intermediates.push(intermediate(simSub, sha256Hex(simSub.cert.rawData), 'simulated', roots, simulatedSubPath));
  for (const [i, input] of (extra?.intermediates ?? []).entries()) {
    const read = parseTrusted(input, `extra sub-CA #${i + 1}`);
    intermediates.push(intermediate(read, sha256Hex(read.cert.rawData), 'extra', roots, `extra #${i + 1}`));
  }

  const bySubject = new Map<string, TrustCertificate[]>();
  for (const t of intermediates) bySubject.set(t.cert.subject, [...(bySubject.get(t.cert.subject) ?? []), t]);
  return { roots, intermediates, bySubject };
}
