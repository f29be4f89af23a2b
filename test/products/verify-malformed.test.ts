// Hostile input is normal input: malformed products, each a finding with
// its code, never a crash. Vectors are built by hand from the encoding rules
// (X.690 DER, SEC 1 points, RFC 5480 SubjectPublicKeyInfo, RFC 7468 PEM) on
// a writable copy of the PSF 2020-10-30 products.
import { spawnSync } from 'node:child_process';
import { ECDH, generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyProducts } from '../../lib/products/verify/index.ts';
import { psfCopy } from './support/psf.ts';
import { codes } from './support/report.ts';

const psf = psfCopy('all');
const path = (serial: string, suffix: string) => join(psf.products, serial, `${serial}_${suffix}`);

/** Replaces one product for the length of `body`, then puts the original back. */
async function withProduct<T>(file: string, bytes: Uint8Array | string, body: () => Promise<T>): Promise<T> {
  const original = await readFile(file);
  await writeFile(file, bytes);
  try {
    return await body();
  } finally {
    await writeFile(file, original);
  }
}

const hex = (h: string) => Buffer.from(h.replace(/\s/g, ''), 'hex');
const pem = (der: Uint8Array, label = 'PUBLIC KEY') =>
  `-----BEGIN ${label}-----\n${(Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----\n`;

/** A key with explicit EC parameters (RFC 5480 2.1.1: MUST NOT be used), from openssl. */
function explicitParametersKey(): Buffer {
  const key = spawnSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-param_enc', 'explicit']);
  const spki = spawnSync('openssl', ['ec', '-pubout', '-outform', 'DER', '-param_enc', 'explicit'], { input: key.stdout });
  if (spki.status !== 0) throw new Error(`openssl: ${spki.stderr.toString()}`);
  return spki.stdout;
}

interface Vector {
  readonly what: string;
  readonly serial: string;
  readonly file: string;
  readonly bytes: (original: Buffer) => Uint8Array | string;
  readonly codes: string[];
}

const Y = '0013200461';
const N = 'DENK0102947'; // P-256 Nitrokey HSM
const VECTORS: Vector[] = [
  // Certificates (attestation, device certificate).
  { what: 'an empty attestation', serial: Y, file: 'root_attestation.der', bytes: () => new Uint8Array(0), codes: ['VERIFY_DER_MALFORMED'] },
  { what: 'a trailing byte after the attestation', serial: Y, file: 'root_attestation.der', bytes: (b) => Buffer.concat([b, hex('00')]), codes: ['VERIFY_DER_MALFORMED'] },
  { what: 'a trailing certificate after the attestation', serial: Y, file: 'root_attestation.der', bytes: (b) => Buffer.concat([b, b]), codes: ['VERIFY_DER_MALFORMED'] },
  {
    // 30 82 LL LL → 30 83 00 LL LL: the same length, one byte longer than DER allows.
    what: 'a non-minimal outer length',
    serial: Y,
    file: 'root_attestation.der',
    bytes: (b) => Buffer.concat([hex('30 83 00'), b.subarray(2)]),
    codes: ['VERIFY_DER_MALFORMED'],
  },
  {
    // BER's indefinite length (30 80 … 00 00), which DER forbids.
    what: 'an indefinite outer length',
    serial: Y,
    file: 'root_attestation.der',
    bytes: (b) => Buffer.concat([hex('30 80'), b.subarray(4), hex('00 00')]),
    codes: ['VERIFY_DER_MALFORMED'],
  },
  {
    // basicConstraints' critical flag as BOOLEAN 0x01: TRUE in BER, not in DER (X.690 11.1: 0xFF).
    what: 'a BER boolean in the device certificate',
    serial: Y,
    file: 'cert.der',
    bytes: (b) => {
      const at = b.indexOf(hex('06 03 55 1d 13 01 01 ff'));
      expect(at).toBeGreaterThan(0);
      const out = Buffer.from(b);
      out[at + 7] = 0x01;
      return out;
    },
    codes: ['VERIFY_DER_MALFORMED'],
  },
  { what: 'a device certificate cut in half', serial: Y, file: 'cert.der', bytes: (b) => b.subarray(0, b.length >> 1), codes: ['VERIFY_DER_MALFORMED'] },
  { what: 'a device certificate in PEM', serial: Y, file: 'cert.der', bytes: (b) => pem(b, 'CERTIFICATE'), codes: ['VERIFY_DER_MALFORMED'] },

  // YubiHSM .pub: the raw uncompressed point (SEC 1 2.3.3).
  { what: 'a YubiHSM .pub of 64 bytes', serial: Y, file: 'root_pubkey.pub', bytes: (b) => b.subarray(0, 64), codes: ['VERIFY_KEY_MALFORMED'] },
  { what: 'a YubiHSM .pub as a compressed point', serial: Y, file: 'root_pubkey.pub', bytes: (b) => ECDH.convertKey(b, 'prime256v1', undefined, undefined, 'compressed'), codes: ['VERIFY_KEY_MALFORMED'] },
  { what: 'a YubiHSM .pub with a hybrid (0x06) prefix', serial: Y, file: 'root_pubkey.pub', bytes: (b) => Buffer.concat([hex('06'), b.subarray(1)]), codes: ['VERIFY_KEY_MALFORMED'] },
  {
    what: 'a YubiHSM .pub not on the curve',
    serial: Y,
    file: 'root_pubkey.pub',
    bytes: (b) => {
      const out = Buffer.from(b);
      out[64] = (out[64] ?? 0) ^ 0x01;
      return out;
    },
    codes: ['VERIFY_KEY_MALFORMED'],
  },

  // Nitrokey .pub: DER SubjectPublicKeyInfo.
  { what: 'a Nitrokey .pub with a trailing byte', serial: N, file: 'root_pubkey.pub', bytes: (b) => Buffer.concat([b, hex('00')]), codes: ['VERIFY_DER_MALFORMED'] },
  { what: 'a Nitrokey .pub with a long-form length', serial: N, file: 'root_pubkey.pub', bytes: (b) => Buffer.concat([hex('30 81'), b.subarray(1)]), codes: ['VERIFY_DER_MALFORMED'] },
  {
    // The same key, its point compressed: 30 39 (SPKI) 30 13 (id-ecPublicKey, prime256v1) 03 22 00 (BIT STRING) + 33 bytes.
    what: 'a Nitrokey .pub holding a compressed point',
    serial: N,
    file: 'root_pubkey.pub',
    bytes: (b) => Buffer.concat([hex('30 39 30 13 06 07 2a 86 48 ce 3d 02 01 06 08 2a 86 48 ce 3d 03 01 07 03 22 00'), ECDH.convertKey(b.subarray(-65), 'prime256v1', undefined, undefined, 'compressed') as Buffer]),
    codes: ['VERIFY_KEY_MALFORMED'],
  },
  {
    what: 'a Nitrokey .pub not on the curve',
    serial: N,
    file: 'root_pubkey.pub',
    bytes: (b) => {
      const out = Buffer.from(b);
      out[out.length - 1] = (out[out.length - 1] ?? 0) ^ 0x01;
      return out;
    },
    codes: ['VERIFY_KEY_MALFORMED'],
  },
  { what: 'a Nitrokey .pub with explicit curve parameters', serial: N, file: 'root_pubkey.pub', bytes: () => explicitParametersKey(), codes: ['VERIFY_CURVE'] },
  {
    what: 'a Nitrokey .pub holding an RSA key',
    serial: N,
    file: 'root_pubkey.pub',
    bytes: () => generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' }),
    codes: ['VERIFY_CURVE'],
  },

  // .pem: one PUBLIC KEY block (RFC 7468), canonical base64, strict DER inside.
  { what: 'an empty .pem', serial: N, file: 'root_pubkey.pem', bytes: () => '', codes: ['VERIFY_DER_MALFORMED'] },
  { what: 'a .pem that is not PEM', serial: Y, file: 'root_pubkey.pem', bytes: () => 'hello\n', codes: ['VERIFY_DER_MALFORMED'] },
  { what: 'text before the .pem block', serial: N, file: 'root_pubkey.pem', bytes: (b) => `comment\n${b.toString()}`, codes: ['VERIFY_DER_MALFORMED'] },
  { what: 'two blocks in a .pem', serial: N, file: 'root_pubkey.pem', bytes: (b) => `${b.toString()}${b.toString()}`, codes: ['VERIFY_DER_MALFORMED'] },
  { what: 'a .pem ending in a lone carriage return', serial: N, file: 'root_pubkey.pem', bytes: (b) => `${b.toString().trimEnd()}\r`, codes: ['VERIFY_DER_MALFORMED'] },
  { what: 'binary in a .pem', serial: N, file: 'root_pubkey.pem', bytes: () => hex('30 59 30 13 00 ff 0a'), codes: ['VERIFY_DER_MALFORMED'] },
  {
    // 91 bytes of DER end in "==": the last data character carries 4 unused bits, which must be zero.
    what: 'non-canonical base64 in a .pem',
    serial: N,
    file: 'root_pubkey.pem',
    bytes: (b) => {
      const text = b.toString();
      const at = text.indexOf('==') - 1;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      const changed = alphabet[alphabet.indexOf(text[at] ?? 'A') | 0x01] ?? 'B';
      expect(changed).not.toBe(text[at]);
      return text.slice(0, at) + changed + text.slice(at + 1);
    },
    codes: ['VERIFY_DER_MALFORMED'],
  },
  {
    what: 'a .pem whose DER has a trailing byte',
    serial: N,
    file: 'root_pubkey.pem',
    bytes: (b) => pem(Buffer.concat([Buffer.from(b.toString().replace(/-----[^-]+-----|\s/g, ''), 'base64'), hex('00')])),
    codes: ['VERIFY_DER_MALFORMED'],
  },
];

describe('malformed products: each a finding with its code', () => {
  it.each(VECTORS)('$what: $codes', async ({ serial, file, bytes, codes: expected }) => {
    const target = path(serial, file);
    const report = await withProduct(target, bytes(await readFile(target)), () => verifyProducts([join(psf.products, serial)]));
    expect(report.ok).toBe(false);
    expect(codes(report)).toEqual(expected);
  });
});

describe('any change to a product', () => {
  const FILES = [
    [Y, 'cert.der'],
    [Y, 'root_attestation.der'],
    [Y, 'targets_attestation.der'],
    [Y, 'root_pubkey.pub'],
    [Y, 'root_pubkey.pem'],
    [N, 'targets_pubkey.pub'],
    [N, 'targets_pubkey.pem'],
  ] as const;

  // Every byte of a strict DER certificate or key, of a point and of a
  // canonical PEM means something: no change to one goes unnoticed, and none
  // makes the verifier throw.
  it('a changed byte fails verification, and never crashes it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FILES), fc.nat(), fc.integer({ min: 1, max: 255 }), async ([serial, file], offset, xor) => {
        const target = path(serial, file);
        const original = await readFile(target);
        const changed = Buffer.from(original);
        const at = offset % changed.length;
        changed[at] = (changed[at] ?? 0) ^ xor;
        const report = await withProduct(target, changed, () => verifyProducts([join(psf.products, serial)]));
        expect(report.ok).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('a product cut short fails verification, and never crashes it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FILES), fc.nat(), async ([serial, file], cut) => {
        const target = path(serial, file);
        const original = await readFile(target);
        const report = await withProduct(target, original.subarray(0, cut % original.length), () => verifyProducts([join(psf.products, serial)]));
        expect(report.ok).toBe(false);
      }),
      { numRuns: 80 },
    );
  });
});
