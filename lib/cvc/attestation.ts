/**
 * Verifying a SmartCard-HSM (Nitrokey HSM) key attestation.
 *
 * When a SmartCard-HSM generates a key pair it returns a CV request for the
 * new public key, self-signed with the new private key (proof of
 * possession), and authenticates it with its Device Authentication key: the
 * outer signature and CAR of an authenticated request (TR-03110 Part 3 C.2).
 * OpenSC stores that in EF CE<key reference>. The device authentication
 * key's certificate, and its issuer's, are in EF 2F02; CardContact's Scheme
 * Root CA certifies the issuer. So the attestation holds when:
 *
 *   1. EF 2F02 chains to the pinned SRCA: SRCA → DICA → device (chain.ts);
 *   2. the request's outer CAR is the device's CHR (a key imported from
 *      another card carries that card's request);
 *   3. the outer signature, over the inner 7F21 and the outer 42, verifies
 *      with the device's key;
 *   4. the inner request's self-signature verifies with the key it carries;
 *   5. that key is the published public key, if one is given;
 *   6. the serial derived from the device CHR is the products directory's,
 *      if one is given.
 *
 * The chain has exactly these four links: the request must be signed by the
 * device key itself, which must be certified by a DICA the root certified.
 * The inner request's CAR and CHR are what the host asked the device to
 * write (OpenSC: UTCA00001, and the serial followed by 00001): they are
 * reported, not checked, for they prove nothing.
 *
 * Keys on curves the ceremony does not use (the real CE01, secp256k1) verify
 * all the same: this module proves where a key was made; whether its curve
 * is acceptable is the products verifier's rule, and the published key
 * comparison (5) refuses any key that is not the published one.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { untrustedText } from '../untrusted-text.ts';
import { verifyChain, type VerifiedDevice } from './chain.ts';
import type { CvcCurve } from './curves.ts';
import { CvcError } from './errors.ts';
import { resolveKey, type ResolvedKey } from './key-object.ts';
import type { CvCertificate, CvRequest } from './model.ts';
import { parseDevaut, parseRequest } from './parse.ts';
import { verifyTaSignature } from './signature.ts';

export interface KeyAttestationInput {
  /** EF 2F02: the device certificate, then the DICA certificate. */
  readonly devaut: Uint8Array;
  /** EF CE..: the authenticated request of one key. */
  readonly request: Uint8Array;
  /** DER SubjectPublicKeyInfo the attested key must equal (the published `.pub`). */
  readonly publicKey?: Uint8Array;
  /** The serial the device must have (the products directory's name). */
  readonly serial?: string;
  /** When certificates must be valid; default now. */
  readonly at?: Date;
  /** Accept a chain ending at the SIMULATED root (rehearsals); default false. */
  readonly allowSimulated?: boolean;
}

/** One certificate of the chain, as reported. */
export interface CertificateSummary {
  readonly chr: string;
  readonly car: string;
  /** 00:00 UTC on the effective date. */
  readonly validFrom: Date;
  /** The end (23:59:59.999 UTC) of the expiration date. */
  readonly validTo: Date;
}

export interface AttestedKey {
  /** DER SubjectPublicKeyInfo (named curve for EC keys). */
  readonly spki: Uint8Array;
  readonly kind: 'ec' | 'rsa';
  /** EC keys only. */
  readonly curve?: CvcCurve;
  /** The inner request's CHR ("DENK040414400001"). */
  readonly chr: string;
}

export interface KeyAttestation {
  readonly srca: CertificateSummary & { readonly sha256: string };
  readonly dica: CertificateSummary;
  readonly device: CertificateSummary;
  /** The device's serial, derived from its CHR. */
  readonly serial: string;
  readonly attestedKey: AttestedKey;
  /** The chain ends at the SIMULATED root. */
  readonly simulated: boolean;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

function summary(cert: CvCertificate): CertificateSummary {
  return { chr: cert.chr, car: cert.car, validFrom: cert.validFrom, validTo: cert.validTo };
}

/** Verifies one key's attestation; throws CvcError with the failure's code, naming the device or the file. */
export function verifyKeyAttestation(input: KeyAttestationInput): KeyAttestation {
  const devaut = parseDevaut(input.devaut);
  const request = parseRequest(input.request);
  const device = verifyChain(devaut, { at: input.at ?? new Date(), allowSimulated: input.allowSimulated === true });
  const who = `Nitrokey HSM ${untrustedText(device.device.chr)}`;

  if (input.serial !== undefined && input.serial !== device.serial) {
    throw new CvcError('CVC_SERIAL_MISMATCH', 'device', `${who} has serial ${untrustedText(device.serial)}, not ${untrustedText(input.serial)} as its products directory says`);
  }

  const attested = verifyRequest(device, request, who);

  // The same DER is the same key; any other encoding is compared as a key.
  if (input.publicKey !== undefined && !sameBytes(input.publicKey, attested.spki)) {
    let published: KeyObject;
    try {
      published = createPublicKey({ key: Buffer.from(input.publicKey), format: 'der', type: 'spki' });
    } catch (err) {
      throw new CvcError('CVC_KEY_MALFORMED', 'public-key', `${who}: the published public key is not DER SubjectPublicKeyInfo`, { cause: err });
    }
    if (!published.equals(attested.key)) {
      throw new CvcError('CVC_KEY_MISMATCH', 'key', `${who}: the attested key ${untrustedText(request.inner.chr)} is not the published public key`);
    }
  }

  const pk = request.inner.publicKey;
  return {
    srca: { ...summary(device.srca.certificate), sha256: device.srca.sha256 },
    dica: summary(device.dica),
    device: summary(device.device),
    serial: device.serial,
    attestedKey: {
      spki: attested.spki,
      kind: pk.kind,
      ...(attested.curve ? { curve: attested.curve } : {}),
      chr: request.inner.chr,
    },
    simulated: device.simulated,
  };
}

/** Steps 2 to 4: the request is this device's, and its key signed it. */
function verifyRequest(device: VerifiedDevice, request: CvRequest, who: string): ResolvedKey {
  const { outer, inner } = request;
  if (!outer) {
    throw new CvcError('CVC_NOT_AUTHENTICATED', 'request', `${who}: the key's request is a bare CV request (7F21) that no device authenticated, not an attestation (67)`);
  }
  if (outer.car !== device.device.chr) {
    throw new CvcError('CVC_OUTER_CAR', 'request', `${who}: the key's request was authenticated by ${untrustedText(outer.car)}, another device (an imported key carries its first card's request)`);
  }
  if (!verifyTaSignature(device.deviceKey, device.device.publicKey.algorithm, outer.signedBytes, outer.signature)) {
    throw new CvcError('CVC_OUTER_SIGNATURE', 'request', `${who}: the key's request is not signed by this device's authentication key`);
  }
  const key = attestedKeyOf(request);
  if (!verifyTaSignature(key, inner.publicKey.algorithm, inner.signedBytes, inner.signature)) {
    throw new CvcError('CVC_INNER_SIGNATURE', 'key', `${who}: the key ${untrustedText(inner.chr)} did not sign its own request (no proof of possession)`);
  }
  return key;
}

/** The inner request's key, which must carry its domain parameters when EC: nothing above it gives them. */
function attestedKeyOf(request: CvRequest): ResolvedKey {
  const pk = request.inner.publicKey;
  const who = `the attested key ${untrustedText(request.inner.chr)}`;
  if (pk.kind === 'ec' && pk.curve === undefined) {
    throw new CvcError('CVC_DOMAIN_PARAMETERS', 'key', `${who} carries no domain parameters, so its curve is unknown`);
  }
  return resolveKey(pk, 'key', who);
}

/**
 * The public key an EF CE.. request carries, as DER SubjectPublicKeyInfo: to
 * match keys to key references by their point (CE files are indexed by the
 * card's key reference, not by CKA_ID). Nothing is verified: pass the match
 * to verifyKeyAttestation.
 */
export function attestedKeySpki(request: Uint8Array): Uint8Array {
  return attestedKeyOf(parseRequest(request)).spki;
}
