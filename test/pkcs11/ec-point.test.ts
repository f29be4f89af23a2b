import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Pkcs11Error } from '../../lib/pkcs11/errors.ts';
import { ecPublicKey, parsePublicKey, pemFromPoint, spkiFromPoint } from '../../lib/keys.ts';
import { EC_PARAMS, curveOfParams, decodeEcPoint, encodeEcPoint } from '../../lib/pkcs11/ec-point.ts';
import { psfProducts } from '../support/paths.ts';
import { malformedEcPoints } from './fixtures/malformed-ec-points.ts';

const p256 = ecPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey).point;
const p384 = ecPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey).point;

describe('CKA_EC_POINT', () => {
  it('decodes the DER OCTET STRING around a P-256 point (short-form length)', () => {
    const der = Uint8Array.from([0x04, 0x41, ...p256]);
    expect(decodeEcPoint('P-256', der)).toEqual(p256);
  });

  it('decodes a P-384 point (97 bytes: still short form)', () => {
    const der = Uint8Array.from([0x04, 0x61, ...p384]);
    expect(decodeEcPoint('P-384', der)).toEqual(p384);
  });

  it('encodes as a token does', () => {
    expect(encodeEcPoint(p256)).toEqual(Uint8Array.from([0x04, 0x41, ...p256]));
    expect(encodeEcPoint(p384)).toEqual(Uint8Array.from([0x04, 0x61, ...p384]));
    const long = new Uint8Array(200).fill(7);
    expect(encodeEcPoint(long)).toEqual(Uint8Array.from([0x04, 0x81, 200, ...long]));
  });

  it.each(malformedEcPoints(p256))('refuses %s', (_what, der) => {
    expect(() => decodeEcPoint('P-256', der)).toThrowWithCode('PKCS11_EC_POINT_MALFORMED');
  });

  it('any bytes at all: either the one canonical encoding of a point, or PKCS11_EC_POINT_MALFORMED', () => {
    const near = fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      fc.uint8Array({ minLength: 65, maxLength: 65 }).map((b) => Uint8Array.from([0x04, 0x41, ...b])),
      fc.tuple(fc.integer({ min: 0, max: 0xff }), fc.uint8Array({ minLength: 64, maxLength: 68 })).map(([len, b]) => Uint8Array.from([0x04, len, ...b])),
    );
    fc.assert(
      fc.property(near, (der) => {
        try {
          const point = decodeEcPoint('P-256', der);
          expect(encodeEcPoint(point)).toEqual(der);
        } catch (err) {
          expect(err).toBeInstanceOf(Pkcs11Error);
          expect((err as Pkcs11Error).code).toBe('PKCS11_EC_POINT_MALFORMED');
        }
      }),
    );
  });

  it('refuses a P-256 point where a P-384 key was asked for', () => {
    expect(() => decodeEcPoint('P-384', Uint8Array.from([0x04, 0x41, ...p256]))).toThrowWithCode('PKCS11_EC_POINT_MALFORMED');
  });
});

describe('CKA_EC_PARAMS', () => {
  it('names our two curves from their OIDs', () => {
    // prime256v1 = 1.2.840.10045.3.1.7, secp384r1 = 1.3.132.0.34 (RFC 5480 §2.1.1.1)
    expect(curveOfParams(Uint8Array.from([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]))).toBe('P-256');
    expect(curveOfParams(Uint8Array.from([0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]))).toBe('P-384');
  });

  it.each([
    ['secp256k1', [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a]],
    ['P-521', [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23]],
    ['explicit parameters', [0x30, 0x03, 0x02, 0x01, 0x01]],
    ['the P-256 OID with a trailing byte', [...EC_PARAMS['P-256'], 0x00]],
  ])('refuses %s', (_what, bytes) => {
    expect(() => curveOfParams(Uint8Array.from(bytes))).toThrowWithCode('PKCS11_EC_POINT_MALFORMED');
  });
});

describe("the PSF runbook's Nitrokey products", () => {
  // The PSF's 2020-10-30 ceremony: from the point inside each published key,
  // our path (CKA_EC_POINT -> point -> SPKI/PEM) gives back the very same files.
  it.each([
    ['DENK0102947', 'root', 'P-256'],
    ['DENK0102947', 'targets', 'P-256'],
    ['DENK0103189', 'root', 'P-384'],
    ['DENK0103189', 'targets', 'P-384'],
    ['DENK0200473', 'root', 'P-384'],
    ['DENK0200473', 'targets', 'P-384'],
  ] as const)('%s %s (%s) round-trips byte for byte', (serial, role, curve) => {
    const base = join(psfProducts, serial, `${serial}_${role}_pubkey`);
    const pub = readFileSync(`${base}.pub`);
    const pem = readFileSync(`${base}.pem`, 'utf8');
    const key = parsePublicKey(pub);
    expect(key.curve).toBe(curve);
    const point = decodeEcPoint(curve, encodeEcPoint(key.point));
    expect(Buffer.from(spkiFromPoint(curve, point))).toEqual(pub);
    expect(pemFromPoint(curve, point)).toBe(pem);
  });
});
