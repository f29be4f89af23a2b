import type { KeyObject } from 'node:crypto';
import { p256, p384 } from '@noble/curves/nist.js';
import type { Curve } from './keys.ts';

/**
 * ECDSA over a digest somebody else computed: what an HSM does.
 *
 * PKCS#11's CKM_ECDSA and the YubiHSM's SIGN ECDSA both sign a hash the host
 * computed, and TUF signs a prehash of the canonical metadata. node:crypto
 * always hashes what it signs, so the simulated devices and every check of a
 * device's signature go through @noble/curves, one implementation for all.
 *
 * Two signature shapes are in use: raw r ‖ s, each as long as the group
 * order (PKCS#11 v2.40 Current Mechanisms §2.3.1), and DER
 * `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 §2.2.3),
 * which the YubiHSM returns and X.509 and TUF consumers expect.
 */
const CURVES = { 'P-256': p256, 'P-384': p384 } as const;

export type SignatureFormat = 'raw' | 'der';

/** The private scalar of a node:crypto EC private key, big-endian. */
export function privateScalar(key: KeyObject): Uint8Array {
  const { d } = key.export({ format: 'jwk' });
  if (d === undefined) throw new TypeError('not a private EC key');
  return new Uint8Array(Buffer.from(d, 'base64url'));
}

/**
 * Signs `digest` with a private key. A digest longer than the group order is
 * truncated to its leftmost bits as FIPS 186-4 §6.4 says. Signatures are not
 * normalized to low S: HSMs do not normalize either.
 */
export function signPrehash(curve: Curve, key: KeyObject | Uint8Array, digest: Uint8Array, format: SignatureFormat): Uint8Array {
  const scalar = key instanceof Uint8Array ? key : privateScalar(key);
  const raw = CURVES[curve].sign(digest, scalar, { prehash: false, lowS: false });
  return format === 'raw' ? raw : rawToDer(curve, raw);
}

/**
 * True if `signature` (raw r ‖ s or DER, as `format` says) is a valid
 * signature of `digest` under the uncompressed `point`. Malformed input is
 * simply not a valid signature. High S is accepted, as devices produce it.
 */
export function verifyPrehash(
  curve: Curve,
  point: Uint8Array,
  digest: Uint8Array,
  signature: Uint8Array,
  format: SignatureFormat,
): boolean {
  try {
    return CURVES[curve].verify(signature, digest, point, { prehash: false, lowS: false, format: format === 'raw' ? 'compact' : 'der' });
  } catch {
    return false;
  }
}

/** DER for raw r ‖ s. Throws RangeError unless the length is exact and r, s lie in [1, n−1]. */
export function rawToDer(curve: Curve, raw: Uint8Array): Uint8Array {
  try {
    return CURVES[curve].Signature.fromBytes(raw, 'compact').toBytes('der');
  } catch (err) {
    throw new RangeError(`not a ${curve} signature in raw r ‖ s form`, { cause: err });
  }
}

/** Raw r ‖ s for DER (strict DER: non-minimal encodings are refused). Throws RangeError otherwise. */
export function derToRaw(curve: Curve, der: Uint8Array): Uint8Array {
  try {
    return CURVES[curve].Signature.fromBytes(der, 'der').toBytes('compact');
  } catch (err) {
    throw new RangeError(`not a ${curve} signature in DER form`, { cause: err });
  }
}
