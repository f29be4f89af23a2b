import { createECDH, randomBytes, type KeyObject } from 'node:crypto';
import type { Curve } from '../../products/keys.ts';

/**
 * ECDSA over a digest the host computed, as SIGN ECDSA does (Yubico command
 * reference, "SIGN ECDSA": the data is the hash; the answer is a DER
 * ECDSA-Sig-Value).
 *
 * Node's crypto hashes the message itself and has no "sign this digest" call
 * for EC keys, so the signature equation of FIPS 186-4 section 6.4 is done
 * here, with the one elliptic-curve operation (the point k·G) done by
 * OpenSSL through ECDH: the public key of the ephemeral private key k is k·G.
 * What remains is arithmetic modulo the group order:
 *
 *   r = x(k·G) mod n,   s = k⁻¹ (z + r·d) mod n
 *
 * with z the leftmost min(bits(n), bits(digest)) bits of the digest and k
 * drawn uniformly from [1, n-1] by rejection sampling.
 */

interface CurveParams {
  readonly openssl: string;
  /** Group order. */
  readonly n: bigint;
  readonly bytes: number;
}

const CURVES: Record<Curve, CurveParams> = {
  'P-256': { openssl: 'prime256v1', n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n, bytes: 32 },
  'P-384': {
    openssl: 'secp384r1',
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    bytes: 48,
  },
};

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function toBytes(v: bigint, length: number): Buffer {
  return Buffer.from(v.toString(16).padStart(length * 2, '0'), 'hex');
}

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

/** DER INTEGER of a non-negative value. */
function derInteger(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let body = Buffer.from(hex, 'hex');
  if (body[0]! & 0x80) body = Buffer.concat([Buffer.of(0), body]);
  return Buffer.concat([Buffer.of(0x02), derLength(body.length), body]);
}

function derLength(n: number): Buffer {
  return n < 0x80 ? Buffer.of(n) : Buffer.of(0x81, n);
}

/** ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 section 2.2.3). */
export function encodeSignature(r: bigint, s: bigint): Uint8Array {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return new Uint8Array(Buffer.concat([Buffer.of(0x30), derLength(body.length), body]));
}

/** The private scalar d of an EC key. */
export function privateScalar(key: KeyObject): bigint {
  const jwk = key.export({ format: 'jwk' });
  return toBigInt(Buffer.from(jwk.d ?? '', 'base64url'));
}

/** Signs `digest` (attacker-controlled length, already bounds-checked by the caller) with `key`. */
export function signDigest(curve: Curve, key: KeyObject, digest: Uint8Array): Uint8Array {
  const { openssl, n, bytes } = CURVES[curve];
  const d = privateScalar(key);
  const nBits = n.toString(2).length;
  let z = toBigInt(digest);
  if (digest.length * 8 > nBits) z >>= BigInt(digest.length * 8 - nBits);
  const ecdh = createECDH(openssl);
  for (;;) {
    const k = toBigInt(randomBytes(bytes));
    if (k === 0n || k >= n) continue;
    ecdh.setPrivateKey(toBytes(k, bytes));
    const point = ecdh.getPublicKey(); // 0x04 ‖ X ‖ Y
    const r = toBigInt(point.subarray(1, 1 + bytes)) % n;
    if (r === 0n) continue;
    const s = (modPow(k, n - 2n, n) * ((z + r * d) % n)) % n;
    if (s === 0n) continue;
    return encodeSignature(r, s);
  }
}
