/**
 * EC public keys on the ceremony's curves, and their encodings: the raw point
 * a YubiHSM 2 returns, the uncompressed point, DER SubjectPublicKeyInfo and
 * PEM. Below the device libraries and the products, which all use them.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { KeyError } from './key-errors.ts';

/** The curves the ceremony generates keys on (PEP 458 root and targets keys). */
export type Curve = 'P-256' | 'P-384';

export const CURVES: readonly Curve[] = ['P-256', 'P-384'];

/** Bytes in one coordinate of a point on the curve. */
export const COORDINATE_BYTES: Record<Curve, number> = { 'P-256': 32, 'P-384': 48 };

/** The hash that goes with each curve when signing (FIPS 186-4 pairing, as the PSF runbook used). */
export const CURVE_HASH: Record<Curve, 'sha256' | 'sha384'> = { 'P-256': 'sha256', 'P-384': 'sha384' };

export interface EcPublicKey {
  readonly curve: Curve;
  /** The uncompressed point, 0x04 ‖ X ‖ Y. */
  readonly point: Uint8Array;
}

/**
 * The PSF runbook's `raw-ec-points-to-pem`: a YubiHSM returns a public key as the bare
 * coordinates X ‖ Y; the published `.pub` holds the uncompressed point
 * 0x04 ‖ X ‖ Y. Accepts either and returns the uncompressed point.
 */
export function uncompressedPoint(curve: Curve, raw: Uint8Array): Uint8Array {
  const n = COORDINATE_BYTES[curve];
  if (raw.length === 2 * n) return Uint8Array.of(0x04, ...raw);
  if (raw.length === 2 * n + 1 && raw[0] === 0x04) return Uint8Array.from(raw);
  throw new KeyError('KEY_MALFORMED', `a ${curve} point has ${2 * n + 1} bytes (or ${2 * n} without the 0x04 prefix), not ${raw.length}`);
}

/** A public key object from an uncompressed point; rejects points not on the curve. */
export function keyFromPoint(curve: Curve, raw: Uint8Array): KeyObject {
  const point = uncompressedPoint(curve, raw);
  const n = COORDINATE_BYTES[curve];
  try {
    return createPublicKey({
      key: {
        kty: 'EC',
        crv: curve,
        x: Buffer.from(point.subarray(1, 1 + n)).toString('base64url'),
        y: Buffer.from(point.subarray(1 + n)).toString('base64url'),
      },
      format: 'jwk',
    });
  } catch (err) {
    throw new KeyError('KEY_MALFORMED', `the ${curve} point is not on the curve`, { cause: err });
  }
}

/** DER SubjectPublicKeyInfo for a point: the form of the Nitrokey `.pub` files and of every `.pem`. */
export function spkiFromPoint(curve: Curve, raw: Uint8Array): Uint8Array {
  return new Uint8Array(keyFromPoint(curve, raw).export({ type: 'spki', format: 'der' }));
}

/** PEM ("PUBLIC KEY") for a point, as the PSF runbook's products hold it. */
export function pemFromPoint(curve: Curve, raw: Uint8Array): string {
  return keyFromPoint(curve, raw).export({ type: 'spki', format: 'pem' }).toString();
}

/** Reads a public key from DER SubjectPublicKeyInfo or PEM. Only P-256 and P-384 EC keys are accepted. */
export function parsePublicKey(input: Uint8Array | string): EcPublicKey {
  let key: KeyObject;
  try {
    key =
      typeof input === 'string'
        ? createPublicKey({ key: input, format: 'pem' })
        : createPublicKey({ key: Buffer.from(input), format: 'der', type: 'spki' });
  } catch (err) {
    throw new KeyError('KEY_MALFORMED', 'not a public key in SubjectPublicKeyInfo form', { cause: err });
  }
  return ecPublicKey(key);
}

/** The curve and uncompressed point of an EC public key object. */
export function ecPublicKey(key: KeyObject): EcPublicKey {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'EC') throw new KeyError('KEY_CURVE_UNSUPPORTED', `not an EC key (${String(jwk.kty)})`);
  const curve = jwk.crv;
  if (curve !== 'P-256' && curve !== 'P-384') {
    throw new KeyError('KEY_CURVE_UNSUPPORTED', `curve ${String(curve)} is not used by the ceremony (P-256 or P-384)`);
  }
  const x = Buffer.from(jwk.x ?? '', 'base64url');
  const y = Buffer.from(jwk.y ?? '', 'base64url');
  return { curve, point: Uint8Array.from([0x04, ...x, ...y]) };
}

/** Constant-shape comparison of two byte strings (public data; no timing concern). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
