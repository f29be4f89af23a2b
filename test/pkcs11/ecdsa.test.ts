import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { derFromRawSignature } from '../../lib/pkcs11/ecdsa.ts';

const order256 = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');

describe('raw r ‖ s to DER', () => {
  it('small values are encoded minimally (expected bytes from X.690 §8.3)', () => {
    const raw = new Uint8Array(64);
    raw[31] = 0x01; // r = 1
    raw[63] = 0x7f; // s = 127
    expect(derFromRawSignature('P-256', raw)).toEqual(Uint8Array.of(0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x7f));
  });

  it('a value with its top bit set gets a 0x00 in front', () => {
    const raw = new Uint8Array(64);
    raw[31] = 0x80;
    raw[63] = 0x01;
    expect(derFromRawSignature('P-256', raw)).toEqual(Uint8Array.of(0x30, 0x07, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x01));
  });

  it('the largest P-384 signature still fits a short-form sequence length', () => {
    const raw = new Uint8Array(96).fill(0x80);
    const der = derFromRawSignature('P-384', raw);
    // 2 × (tag, length 49, 0x00, 48 bytes) = 102 bytes of content, below 128.
    expect([...der.subarray(0, 6)]).toEqual([0x30, 102, 0x02, 49, 0x00, 0x80]);
    expect(der.length).toBe(2 + 102);
  });

  it.each([
    ['too short', new Uint8Array(63).fill(1)],
    ['too long', new Uint8Array(65).fill(1)],
    ['P-384 size on P-256', new Uint8Array(96).fill(1)],
    ['r zero', Uint8Array.from([...new Uint8Array(32), ...new Uint8Array(32).fill(1)])],
    ['s equal to the order', Uint8Array.from([...new Uint8Array(32).fill(1), ...order256])],
  ])('refuses a signature %s', (_what, raw) => {
    expect(() => derFromRawSignature('P-256', raw)).toThrowWithCode('PKCS11_SIGNATURE_MALFORMED');
  });

  it.each(['P-256', 'P-384'] as const)('a %s signature from node:crypto converts to the DER node:crypto verifies', (curve) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
    const hash = curve === 'P-256' ? 'sha256' : 'sha384';
    const raw = sign(hash, Buffer.from('metadata'), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    const der = derFromRawSignature(curve, raw);
    expect(verify(hash, Buffer.from('metadata'), publicKey, der)).toBe(true);
  });
});
