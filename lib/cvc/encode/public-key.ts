/**
 * The public key data object (7F49) as a SmartCard-HSM writes it (inverse of
 * lib/cvc/decode/public-key.ts): an EC key with all its domain parameters
 * when it names its curve (a root, a request), with the point alone when it
 * inherits them (a DICA, a device); an RSA key as modulus and exponent.
 */
import { curveInfo } from '../curves.ts';
import type { CvPublicKey } from '../model.ts';
import { KEY_TAG, TAG } from '../tags.ts';
import { tlv } from './tlv.ts';

export function encodePublicKey(pk: CvPublicKey): Uint8Array {
  const oid = tlv(TAG.oid, pk.algorithm.der);
  if (pk.kind === 'rsa') return tlv(TAG.publicKey, oid, tlv(KEY_TAG.primeOrModulus, pk.modulus), tlv(KEY_TAG.aOrExponent, pk.exponent));
  if (pk.curve === undefined) return tlv(TAG.publicKey, oid, tlv(KEY_TAG.point, pk.point));
  const { params } = curveInfo(pk.curve);
  return tlv(
    TAG.publicKey,
    oid,
    tlv(KEY_TAG.primeOrModulus, params.p),
    tlv(KEY_TAG.aOrExponent, params.a),
    tlv(KEY_TAG.b, params.b),
    tlv(KEY_TAG.base, params.g),
    tlv(KEY_TAG.order, params.n),
    tlv(KEY_TAG.point, pk.point),
    tlv(KEY_TAG.cofactor, params.h),
  );
}
