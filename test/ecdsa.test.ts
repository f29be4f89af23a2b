import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { derToRaw, privateScalar, rawToDer, signPrehash, verifyPrehash } from '../lib/ecdsa.ts';
import { ecPublicKey, type Curve } from '../lib/keys.ts';

const HASH: Record<Curve, string> = { 'P-256': 'sha256', 'P-384': 'sha384' };

describe.each(['P-256', 'P-384'] as const)('ECDSA over a prehash on %s', (curve) => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const { point } = ecPublicKey(publicKey);
  const message = Buffer.from('canonical TUF metadata');
  const digest = createHash(HASH[curve]).update(message).digest();

  it('signs a digest so that OpenSSL, hashing the message itself, accepts it', () => {
    const der = signPrehash(curve, privateKey, digest, 'der');
    // An independent implementation: node:crypto verifies over the message.
    expect(verify(HASH[curve], message, publicKey, der)).toBe(true);
    expect(verifyPrehash(curve, point, digest, der, 'der')).toBe(true);
  });

  it('converts between raw r ‖ s and DER without loss', () => {
    const raw = signPrehash(curve, privateKey, digest, 'raw');
    expect(raw).toHaveLength(curve === 'P-256' ? 64 : 96);
    const der = rawToDer(curve, raw);
    expect(verify(HASH[curve], message, publicKey, der)).toBe(true);
    expect(derToRaw(curve, der)).toEqual(raw);
  });

  it('signs with a bare private scalar in the raw r ‖ s form CKM_ECDSA returns, which OpenSSL and verifyPrehash accept', () => {
    const raw = signPrehash(curve, privateScalar(privateKey), digest, 'raw');
    expect(verify(HASH[curve], message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
    expect(verifyPrehash(curve, point, digest, raw, 'raw')).toBe(true);
    const other = createHash(HASH[curve]).update('something else').digest();
    expect(verifyPrehash(curve, point, other, raw, 'raw')).toBe(false);
  });

  it('rejects a signature over another digest, a flipped bit and garbage', () => {
    const der = signPrehash(curve, privateKey, digest, 'der');
    const other = createHash(HASH[curve]).update('something else').digest();
    expect(verifyPrehash(curve, point, other, der, 'der')).toBe(false);
    const flipped = Uint8Array.from(der);
    flipped[flipped.length - 1]! ^= 1;
    expect(verifyPrehash(curve, point, digest, flipped, 'der')).toBe(false);
    expect(verifyPrehash(curve, point, digest, Uint8Array.of(0x30, 0x00), 'der')).toBe(false);
    expect(() => rawToDer(curve, new Uint8Array(10))).toThrow(RangeError);
    expect(() => derToRaw(curve, Uint8Array.of(0x30, 0x81, 0x02, 0x02, 0x00))).toThrow(RangeError);
  });
});

it('truncates a digest longer than the order to its leftmost bits (FIPS 186-4 §6.4)', () => {
  // A SHA-384 digest signed with a P-256 key: OpenSSL's ECDSA with SHA-384 on
  // a P-256 key applies the same truncation, so it must accept the signature.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const message = Buffer.from('long digest');
  const digest = createHash('sha384').update(message).digest();
  const der = signPrehash('P-256', privateKey, digest, 'der');
  expect(verify('sha384', message, publicKey, der)).toBe(true);
});
