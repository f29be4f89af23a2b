import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { COORDINATE_BYTES, CURVES, type Curve } from '../keys.ts';
import { Pkcs11Error } from './errors.ts';

/**
 * The two EC attributes of a PKCS#11 public key, in and out of their DER.
 *
 * PKCS#11 v2.40 Current Mechanisms §2.3.3: CKA_EC_PARAMS holds the DER of the
 * curve (we use named curves only: an OBJECT IDENTIFIER) and CKA_EC_POINT the
 * DER of an ANSI X9.62 ECPoint, an OCTET STRING around the uncompressed point
 * 0x04 ‖ X ‖ Y. The PSF runbook's `pkcs11-tool --read-object --type pubkey` unwrapped
 * these into the `.pub` SubjectPublicKeyInfo; we do the same in process.
 *
 * The bytes come from the token and are treated as hostile: exactly one
 * canonical encoding is accepted, and anything else is refused rather than
 * repaired (a module that hands back a bare point, a long-form length where
 * the short form fits, or trailing bytes is telling us something is wrong).
 */

/** DER of the named-curve OIDs: prime256v1 (1.2.840.10045.3.1.7) and secp384r1 (1.3.132.0.34). */
export const EC_PARAMS: Record<Curve, Uint8Array> = {
  'P-256': Uint8Array.of(0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07),
  'P-384': Uint8Array.of(0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22),
};

/** The curve whose CKA_EC_PARAMS these are; refuses anything but our two named curves. */
export function curveOfParams(params: Uint8Array): Curve {
  for (const curve of CURVES) {
    if (Buffer.compare(params, EC_PARAMS[curve]) === 0) return curve;
  }
  throw new Pkcs11Error('PKCS11_EC_POINT_MALFORMED', 'CKA_EC_PARAMS is not the named curve P-256 or P-384');
}

const OCTET_STRING = 0x04;
const UNCOMPRESSED = 0x04;

/**
 * CKA_EC_POINT for an uncompressed point: DER OCTET STRING (used by the
 * simulated token). Encoded by @peculiar/asn1-schema, not by the strict
 * decoder below, so each is a check on the other.
 */
export function encodeEcPoint(point: Uint8Array): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(new OctetString(point)));
}

/**
 * The uncompressed point inside CKA_EC_POINT, for a key on `curve`.
 * `der` is attacker-controlled (it comes from the token).
 */
export function decodeEcPoint(curve: Curve, der: Uint8Array): Uint8Array {
  const fail = (why: string) => new Pkcs11Error('PKCS11_EC_POINT_MALFORMED', `CKA_EC_POINT of a ${curve} key: ${why}`);
  if (der.length < 2 || der[0] !== OCTET_STRING) throw fail('not a DER OCTET STRING');
  const first = der[1] as number;
  let length: number;
  let header: number;
  if (first < 0x80) {
    length = first;
    header = 2;
  } else if (first === 0x81) {
    // X.690 §10.1: the long form only when the short form cannot say it.
    const value = der[2];
    if (value === undefined) throw fail('truncated length');
    if (value < 0x80) throw fail('non-canonical (long-form) length');
    length = value;
    header = 3;
  } else {
    // A point of our curves is at most 97 bytes: anything longer is not one.
    throw fail('length too large or indefinite');
  }
  if (der.length !== header + length) throw fail(`length ${length} does not match the ${der.length - header} bytes that follow`);
  const point = der.subarray(header);
  const expected = 1 + 2 * COORDINATE_BYTES[curve];
  if (point.length !== expected || point[0] !== UNCOMPRESSED) {
    throw fail(`expected an uncompressed point of ${expected} bytes`);
  }
  return Uint8Array.from(point);
}
