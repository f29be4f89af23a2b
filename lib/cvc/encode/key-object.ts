/**
 * A node:crypto public key as a CV public key, for the simulator: an EC key
 * on a known curve (its point taken from node's SubjectPublicKeyInfo export),
 * or an RSA key (modulus and exponent from its JWK). The algorithm is the one
 * a SmartCard-HSM writes for each kind (lib/cvc/algorithms.ts).
 */
import type { KeyObject } from 'node:crypto';
import { TA } from '../algorithms.ts';
import { curveOfNodeName } from '../curves.ts';
import type { CvPublicKey } from '../model.ts';

/**
 * `key` (public) as a CV public key; with its domain parameters when
 * `withDomainParameters` (a root, a request), without when it inherits them
 * (a DICA, a device).
 */
export function cvPublicKey(key: KeyObject, withDomainParameters: boolean): CvPublicKey {
  if (key.type !== 'public') throw new TypeError('cvPublicKey takes a public key');
  if (key.asymmetricKeyType === 'rsa') {
    const { n, e } = key.export({ format: 'jwk' });
    if (n === undefined || e === undefined) throw new TypeError('an RSA public key without n or e');
    return { kind: 'rsa', algorithm: TA.rsaV15Sha256, modulus: new Uint8Array(Buffer.from(n, 'base64url')), exponent: new Uint8Array(Buffer.from(e, 'base64url')) };
  }
  const named = key.asymmetricKeyDetails?.namedCurve;
  const curve = key.asymmetricKeyType === 'ec' && named !== undefined ? curveOfNodeName(named) : undefined;
  if (!curve) throw new TypeError(`not an EC key on a curve lib/cvc/curves.ts knows (${key.asymmetricKeyType ?? '?'} ${named ?? ''})`);
  // node writes the point uncompressed at the end of its SPKI export.
  const spki = new Uint8Array(key.export({ type: 'spki', format: 'der' }));
  const point = spki.subarray(spki.length - (1 + 2 * curve.fieldBytes));
  if (point[0] !== 0x04) throw new TypeError('node exported a compressed point');
  return { kind: 'ec', algorithm: TA.ecdsaSha256, point: Uint8Array.from(point), ...(withDomainParameters ? { curve: curve.name } : {}) };
}
