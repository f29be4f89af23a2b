import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePublicKey, pemFromPoint, spkiFromPoint, uncompressedPoint } from '../lib/keys.ts';
import { psfProducts } from './support/paths.ts';

const yubi = (serial: string, file: string) => readFile(join(psfProducts, serial, `${serial}_${file}`));

describe('public key encodings', () => {
  it('turns the PSF YubiHSM raw points into exactly the PEM files published beside them', async () => {
    for (const [serial, curve] of [
      ['0013200460', 'P-384'],
      ['0013200461', 'P-256'],
      ['0013200462', 'P-256'],
    ] as const) {
      for (const role of ['root', 'targets']) {
        const raw = await yubi(serial, `${role}_pubkey.pub`);
        const pem = (await yubi(serial, `${role}_pubkey.pem`)).toString('utf8');
        expect(pemFromPoint(curve, raw)).toBe(pem);
        expect(parsePublicKey(pem)).toEqual({ curve, point: new Uint8Array(raw) });
      }
    }
  });

  it('reads the Nitrokey DER SubjectPublicKeyInfo files and re-encodes them byte for byte', async () => {
    const der = await readFile(join(psfProducts, 'DENK0102947', 'DENK0102947_root_pubkey.pub'));
    const key = parsePublicKey(der);
    expect(key.curve).toBe('P-256');
    expect(Buffer.from(spkiFromPoint(key.curve, key.point))).toEqual(der);
  });

  it('accepts the bare X ‖ Y a YubiHSM returns', () => {
    const bare = new Uint8Array(64).fill(7);
    expect(uncompressedPoint('P-256', bare)).toHaveLength(65);
  });

  it('rejects a point of the wrong length, a point off the curve, and another curve', () => {
    expect(() => uncompressedPoint('P-384', new Uint8Array(65))).toThrowWithCode('KEY_MALFORMED');
    expect(() => spkiFromPoint('P-256', Uint8Array.of(4, ...new Uint8Array(64).fill(1)))).toThrowWithCode('KEY_MALFORMED');
    expect(() => parsePublicKey(Uint8Array.of(0x30, 0x03, 1, 2, 3))).toThrowWithCode('KEY_MALFORMED');
    const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
    expect(() => parsePublicKey(ed)).toThrowWithCode('KEY_CURVE_UNSUPPORTED');
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ type: 'spki', format: 'der' });
    expect(() => parsePublicKey(k1)).toThrowWithCode('KEY_CURVE_UNSUPPORTED');
  });
});
