/**
 * The roots a SmartCard-HSM attestation chain may end at.
 *
 * CardContact's SmartCard-HSM Scheme Root CA, DESRCACC100001, ships with the
 * project (lib/cvc/trust/DESRCACC100001.cvc; the same bytes are
 * etc/DESRCACC100001 in OpenSC and SmartCardHSM.rootCerts in CardContact's
 * scsh-scripts) and is pinned by its SHA-256 below, as Yubico's roots are in
 * lib/products/trust/anchors.ts: a file that does not match stops
 * verification (CVC_TRUST_PIN), and so does one that is not a self-signed
 * root (role C0, domain parameters, a self-signature that verifies).
 *
 * The SIMULATED root (lib/cvc/simulator/ca/) is pinned the same way, but a
 * chain ending there is accepted only when the caller allows simulated
 * attestations, and is reported as simulated: its private keys are public.
 *
 * Roots are read when first needed and kept for the process.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { projectPath } from '../paths.ts';
import { ROLE, SMARTCARD_HSM_ROLE_OID } from './algorithms.ts';
import { decodeCertificate } from './decode/certificate.ts';
import { decodeOnly } from './decode/tlv.ts';
import { CvcError } from './errors.ts';
import { resolveKey, type ResolvedKey } from './key-object.ts';
import type { CvCertificate } from './model.ts';
import { verifyTaSignature } from './signature.ts';
import { SIMULATED_CA_FILES, SIMULATED_SRCA_CHR, simulatedCaPath } from './simulator/names.ts';

/** CardContact's Scheme Root CA (valid 2012-11-09 to 2032-11-08). */
export const SRCA_CHR = 'DESRCACC100001';
/** SHA-256 of DESRCACC100001.cvc, as OpenSC and CardContact publish it. */
export const SRCA_SHA256 = '453a391015c5fbb60116c838ed613591828bf62ac8a1aca276ce4e60525ec3e3';
/** SHA-256 of the committed simulated root (`npx tsx lib/cvc/simulator/make-ca.ts` prints it when it makes one). */
export const SIMULATED_SRCA_SHA256 = '2c41b19518ad4f087e400065ba2a1c521db81bc3cc48399d02b11f2362a29945';

/** A pinned root, verified. */
export interface CvcRoot {
  readonly certificate: CvCertificate;
  readonly key: ResolvedKey;
  readonly sha256: string;
  readonly simulated: boolean;
  /** The file it was read from. */
  readonly path: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Reads the root at `path`, which must have SHA-256 `pin`, CHR `chr`, role C0
 * and a valid self-signature; CVC_TRUST_PIN otherwise.
 */
export function loadRoot(path: string, pin: string, chr: string, simulated: boolean): CvcRoot {
  const fail = (problem: string, cause?: unknown) =>
    new CvcError('CVC_TRUST_PIN', 'srca', `the ${simulated ? 'simulated ' : ''}root ${chr} (${path}) ${problem}: the installation was altered`, { cause });
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (err) {
    throw fail('cannot be read', err);
  }
  const sha256 = sha256Hex(bytes);
  if (sha256 !== pin) throw fail(`has SHA-256 ${sha256}, not the pinned ${pin}`);
  let certificate: CvCertificate;
  let key: ResolvedKey;
  try {
    certificate = decodeCertificate(decodeOnly(bytes, { part: 'srca', name: path }), { part: 'srca', name: path });
    key = resolveKey(certificate.publicKey, 'srca', chr);
  } catch (err) {
    throw fail('is not a CV certificate with a valid key', err);
  }
  const { chat, publicKey } = certificate;
  if (certificate.chr !== chr || certificate.car !== chr) throw fail(`is not self-issued by ${chr}`);
  if (publicKey.kind !== 'ec' || publicKey.curve === undefined) throw fail('does not carry an EC key with its domain parameters');
  if (Buffer.compare(chat.oid, SMARTCARD_HSM_ROLE_OID) !== 0 || chat.authorization.length !== 1 || chat.authorization[0] !== ROLE.root) {
    throw fail('is not a SmartCard-HSM root (role C0)');
  }
  if (!verifyTaSignature(key, publicKey.algorithm, certificate.signedBytes, certificate.signature)) throw fail('has a self-signature that does not verify');
  return { certificate, key, sha256, simulated, path };
}

const loaded = new Map<string, CvcRoot>();

/** The pinned root whose CHR is `car` (a DICA's CAR), or undefined when none is. */
export function rootFor(car: string): CvcRoot | undefined {
  const cached = loaded.get(car);
  if (cached) return cached;
  let root: CvcRoot;
  if (car === SRCA_CHR) {
    root = loadRoot(projectPath('lib', 'cvc', 'trust', `${SRCA_CHR}.cvc`), SRCA_SHA256, SRCA_CHR, false);
  } else if (car === SIMULATED_SRCA_CHR) {
    root = loadRoot(simulatedCaPath(SIMULATED_CA_FILES.srca), SIMULATED_SRCA_SHA256, SIMULATED_SRCA_CHR, true);
  } else {
    return undefined;
  }
  loaded.set(car, root);
  return root;
}
