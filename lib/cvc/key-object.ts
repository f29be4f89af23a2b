/**
 * A CV public key as node:crypto's KeyObject and as DER SubjectPublicKeyInfo.
 *
 * node:crypto takes EC keys by named curve, so an EC key is written as an
 * RFC 5480 SubjectPublicKeyInfo with the curve's OID (id-ecPublicKey,
 * namedCurve) and the uncompressed point; OpenSSL then checks that the point
 * is on the curve. An RSA key goes through a JWK (n, e), and the SPKI is
 * node's export of it. The SPKI is what a published `.pub` holds (for the
 * ceremony's EC keys, byte for byte what pkcs11-tool writes).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { curveInfo, type CvcCurve } from './curves.ts';
import { CvcError, type CvcPart } from './errors.ts';
import type { CvPublicKey } from './model.ts';
import { concat, tlv } from './encode/tlv.ts';

/** id-ecPublicKey, 1.2.840.10045.2.1 (RFC 5480 §2.1.1). */
const ID_EC_PUBLIC_KEY = Uint8Array.from([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]);

/** The SPKI DER of an EC point on a named curve. */
export function ecSpki(curve: CvcCurve, point: Uint8Array): Uint8Array {
  const algorithm = tlv(0x30, tlv(0x06, ID_EC_PUBLIC_KEY), tlv(0x06, curveInfo(curve).oid));
  return tlv(0x30, algorithm, tlv(0x03, concat(Uint8Array.of(0x00), point)));
}

/** A key ready to verify with, and its SPKI. */
export interface ResolvedKey {
  readonly key: KeyObject;
  readonly spki: Uint8Array;
  /** EC keys: the curve, carried or inherited. */
  readonly curve?: CvcCurve;
}

/**
 * The KeyObject of `pk`. An EC key without domain parameters takes
 * `inherited` (its issuer's curve). A point off the curve, or an RSA key
 * OpenSSL refuses, is CVC_BAD_KEY naming `who`.
 */
export function resolveKey(pk: CvPublicKey, part: CvcPart, who: string, inherited?: CvcCurve): ResolvedKey {
  try {
    if (pk.kind === 'rsa') {
      const key = createPublicKey({
        key: { kty: 'RSA', n: Buffer.from(pk.modulus).toString('base64url'), e: Buffer.from(pk.exponent).toString('base64url') },
        format: 'jwk',
      });
      return { key, spki: new Uint8Array(key.export({ type: 'spki', format: 'der' })) };
    }
    const curve = pk.curve ?? inherited;
    if (curve === undefined) throw new CvcError('CVC_DOMAIN_PARAMETERS', part, `${who}: the EC key has no domain parameters and none to inherit`);
    const spki = ecSpki(curve, pk.point);
    return { key: createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }), spki, curve };
  } catch (err) {
    if (err instanceof CvcError) throw err;
    const what = pk.kind === 'rsa' ? 'RSA key' : `point on ${pk.curve ?? inherited}`;
    throw new CvcError('CVC_BAD_KEY', part, `${who}: the public key is not a valid ${what}`, { cause: err });
  }
}
