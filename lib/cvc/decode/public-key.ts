/**
 * The public key data object (7F49), TR-03110 Part 3 D.3: an algorithm OID
 * and then context-specific elements whose meaning the OID's key type gives.
 *
 *   EC   06 OID, [81 p, 82 a, 83 b, 84 G, 85 r,] 86 Y, [87 f]
 *   RSA  06 OID, 81 n, 82 e
 *
 * The domain parameters come all together (with the cofactor, as the
 * SmartCard-HSM writes them) or not at all: a root and a request carry them,
 * a DICA's or a device's key inherits the root's. Which of the two a key must
 * be is the chain's rule (lib/cvc/chain.ts), not the decoder's.
 *
 * Attacker-controlled bytes: the point and the RSA numbers are only shaped
 * here; whether they are a valid key is node:crypto's verdict when the key is
 * built (lib/cvc/key-object.ts).
 */
import { CvcError } from '../errors.ts';
import { taAlgorithm } from '../algorithms.ts';
import { curveOfParams, type CurveInfo } from '../curves.ts';
import type { CvPublicKey } from '../model.ts';
import { KEY_TAG, TAG } from '../tags.ts';
import { Elements } from './reader.ts';
import { tlvError, type Source, type Tlv } from './tlv.ts';

export function decodePublicKey(tlv: Tlv, source: Source): CvPublicKey {
  const e = Elements.of(tlv, source, 'the public key (7F49)');
  const oid = e.take(TAG.oid, 'algorithm identifier (06)');
  const algorithm = taAlgorithm(oid.value);
  if ('unsupported' in algorithm) {
    throw new CvcError('CVC_UNSUPPORTED_ALGORITHM', source.part, `${source.name}, byte ${oid.offset}: the public key's algorithm is ${algorithm.unsupported}, which this verifier does not implement`);
  }

  if (algorithm.key === 'rsa') {
    const modulus = e.take(KEY_TAG.primeOrModulus, 'modulus (81)');
    const exponent = e.take(KEY_TAG.aOrExponent, 'public exponent (82)');
    e.end();
    unsignedInteger(modulus, source, 'RSA modulus');
    unsignedInteger(exponent, source, 'RSA public exponent');
    return { kind: 'rsa', algorithm, modulus: modulus.value, exponent: exponent.value };
  }

  let curve: CurveInfo | undefined;
  if (e.peek(KEY_TAG.primeOrModulus)) {
    const p = e.take(KEY_TAG.primeOrModulus, 'prime (81)');
    const a = e.take(KEY_TAG.aOrExponent, 'coefficient a (82)');
    const b = e.take(KEY_TAG.b, 'coefficient b (83)');
    const g = e.take(KEY_TAG.base, 'base point (84)');
    const n = e.take(KEY_TAG.order, 'order (85)');
    const point = e.take(KEY_TAG.point, 'public point (86)');
    const h = e.take(KEY_TAG.cofactor, 'cofactor (87)');
    e.end();
    curve = curveOfParams({ p: p.value, a: a.value, b: b.value, g: g.value, n: n.value, h: h.value });
    if (!curve) {
      throw new CvcError('CVC_UNKNOWN_CURVE', source.part, `${source.name}, byte ${tlv.offset}: the public key's domain parameters are not those of a curve this verifier knows (P-256, P-384, P-521, secp256k1, brainpoolP256r1/P384r1/P512r1)`);
    }
    return { kind: 'ec', algorithm, point: uncompressed(point, source, curve.fieldBytes), curve: curve.name };
  }
  const point = e.take(KEY_TAG.point, 'public point (86)');
  e.end();
  return { kind: 'ec', algorithm, point: uncompressed(point, source, undefined) };
}

/** An uncompressed point, 04 ‖ X ‖ Y, with coordinates of `fieldBytes` when the curve is known. */
function uncompressed(tlv: Tlv, source: Source, fieldBytes: number | undefined): Uint8Array {
  const v = tlv.value;
  const shaped = v[0] === 0x04 && v.length >= 3 && v.length % 2 === 1;
  if (!shaped || (fieldBytes !== undefined && v.length !== 1 + 2 * fieldBytes)) {
    throw tlvError('CVC_MALFORMED', source, tlv.offset, `the public point (${v.length} bytes) is not an uncompressed point${fieldBytes ? ` of ${1 + 2 * fieldBytes} bytes` : ''}`);
  }
  return v;
}

/** A positive integer, unsigned big-endian, without a leading zero byte. */
function unsignedInteger(tlv: Tlv, source: Source, what: string): void {
  if (tlv.value.length === 0 || tlv.value[0] === 0x00) {
    throw tlvError('CVC_MALFORMED', source, tlv.offset, `the ${what} is empty or padded with a leading zero byte`);
  }
}
