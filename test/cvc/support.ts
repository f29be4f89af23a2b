// What the lib/cvc suites share: the real vectors of Nitrokey HSM 2
// DENK0404144 (test/fixtures/nitrokey-attestation/), a moment at which all
// their certificates are valid, the committed SIMULATED CA with its keys (to
// issue the malformed and hostile chains the failure tests need, with real
// signatures), and a way to read an error's code and part.
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROLE, TA } from '../../lib/cvc/algorithms.ts';
import { decodeCertificate } from '../../lib/cvc/decode/certificate.ts';
import { decodeOnly } from '../../lib/cvc/decode/tlv.ts';
import type { CertificateFields } from '../../lib/cvc/encode/certificate.ts';
import { cvPublicKey } from '../../lib/cvc/encode/key-object.ts';
import { concat } from '../../lib/cvc/encode/tlv.ts';
import type { CvCertificate } from '../../lib/cvc/model.ts';
import { issueCertificate } from '../../lib/cvc/simulator/certify.ts';
import { SIMULATED_CA_FILES, simulatedCaPath } from '../../lib/cvc/simulator/names.ts';
import { fixturesDir } from '../support/paths.ts';

export const vectorsDir = join(fixturesDir, 'nitrokey-attestation');

const read = (name: string) => new Uint8Array(readFileSync(join(vectorsDir, name)));

/** DENK0404144's files, as published. */
export const REAL = {
  srca: read('DESRCACC100001.cvc'),
  devaut: read('DENK0404144_EF2F02.bin'),
  ce03: read('DENK0404144_CE03_p256.bin'),
  ce03Spki: read('DENK0404144_CE03_p256.spki.der'),
  ce04: read('DENK0404144_CE04_rsa2048.bin'),
  ce04Spki: read('DENK0404144_CE04_rsa2048.spki.der'),
  ce01: read('DENK0404144_CE01_secp256k1.bin'),
} as const;

export const REAL_SERIAL = 'DENK0404144';
export const REAL_DEVICE_CHR = 'DENK040414400000';
export const REAL_DICA_CHR = 'DEDINK0400001';

/** Every real certificate is valid then: SRCA 2012–2032, DICA 2024-10-30–2032-10-29, device 2026-05-28–2031-05-27. */
export const AT = new Date('2026-06-01T12:00:00Z');

/** Where `part` (a subarray of `whole`) starts in it. */
export function offsetIn(whole: Uint8Array, part: Uint8Array): number {
  const at = part.byteOffset - whole.byteOffset;
  if (part.buffer !== whole.buffer || at < 0 || at + part.length > whole.length) throw new Error('not a subarray of that buffer');
  return at;
}

/** A copy with byte `at` XORed with `mask`. */
export function flip(bytes: Uint8Array, at: number, mask = 0x01): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[at] = out[at]! ^ mask;
  return out;
}

/** The code and part of what `fn` throws; undefined when it throws nothing. */
export function failure(fn: () => unknown): { code: unknown; part: unknown } | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    const e = err as { code?: unknown; part?: unknown };
    return { code: e.code, part: e.part };
  }
}

/** The committed SIMULATED root and DICA, with their (public on purpose) private keys. */
export function simulatedCa(): { srca: { bytes: Uint8Array; cert: CvCertificate; key: KeyObject }; dica: { bytes: Uint8Array; cert: CvCertificate; key: KeyObject } } {
  const load = (file: string, keyFile: string) => {
    const bytes = new Uint8Array(readFileSync(simulatedCaPath(file)));
    const source = { part: 'srca', name: file } as const;
    return { bytes, cert: decodeCertificate(decodeOnly(bytes, source), source), key: createPrivateKey(readFileSync(simulatedCaPath(keyFile), 'utf8')) };
  };
  return { srca: load(SIMULATED_CA_FILES.srca, SIMULATED_CA_FILES.srcaKey), dica: load(SIMULATED_CA_FILES.dica, SIMULATED_CA_FILES.dicaKey) };
}

/** A certificate with `fields`, signed by `issuerKey` with ECDSA-SHA-256 (every key of the scheme's chain signs so). */
export function issue(fields: CertificateFields, issuerKey: KeyObject): Uint8Array {
  return issueCertificate(fields, { key: issuerKey, algorithm: TA.ecdsaSha256 });
}

export const brainpool = () => generateKeyPairSync('ec', { namedCurve: 'brainpoolP256r1' });

/**
 * A device certificate issued by the simulated DICA, with `overrides`, and
 * EF 2F02 holding it and the simulated DICA: a chain to the simulated root.
 */
export function simulatedDevaut(overrides: Partial<CertificateFields> = {}, signer?: KeyObject): { devaut: Uint8Array; deviceKey: KeyObject; chr: string } {
  const ca = simulatedCa();
  const keys = brainpool();
  const fields: CertificateFields = {
    car: ca.dica.cert.chr,
    publicKey: cvPublicKey(keys.publicKey, false),
    chr: 'DENK010294700000',
    role: ROLE.device,
    validFrom: new Date('2026-01-01'),
    validTo: new Date('2030-12-31'),
    ...overrides,
  };
  return { devaut: concat(issue(fields, signer ?? ca.dica.key), ca.dica.bytes), deviceKey: keys.privateKey, chr: fields.chr };
}
