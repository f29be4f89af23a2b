/**
 * Attested Nitrokey HSM products for `runbook verify`'s tests, built in the
 * test from the real vectors of test/fixtures/nitrokey-attestation/: a
 * Nitrokey HSM 2's EF 2F02 (DENK0404144) and the request of its P-256 key
 * (EF CE03), with that key's SubjectPublicKeyInfo.
 *
 * The vectors hold one P-256 key, and a device directory needs two (root and
 * targets): a directory made of them alone holds the same key for both roles,
 * which is VERIFY_KEY_REUSED and nothing else. That is deliberate: everything
 * about the attestation itself is checked on real bytes.
 *
 * Byte positions are found with a TLV walker written here from TR-03110
 * (one- or two-byte tags, definite lengths), not with lib/cvc's decoder.
 *
 * Whole devices that pass are made with lib/cvc's simulated issuer (the
 * SIMULATED scheme root), as the simulated token makes them in a rehearsal.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { attestKey, makeSimulatedDevice, type SimulatedDevice } from '../../../lib/cvc/index.ts';
import type { Curve } from '../../../lib/keys.ts';
import { ROLES, type Role } from '../../../lib/products/verify/report.ts';
import { fixturesDir } from '../../support/paths.ts';

/** The real vectors (test/fixtures/README.md). */
const VECTORS = join(fixturesDir, 'nitrokey-attestation');

const vector = (name: string) => new Uint8Array(readFileSync(join(VECTORS, name)));

/** The serial OpenSC gives DENK0404144: its device CHR, DENK040414400000, without the sequence number. */
export const REAL_SERIAL = 'DENK0404144';
/** EF 2F02 of DENK0404144: its device certificate, then its Device Issuer CA's (DEDINK0400001). */
export const REAL_DEVAUT = vector('DENK0404144_EF2F02.bin');
/** EF CE03 of DENK0404144: the authenticated request for its P-256 key. */
export const REAL_REQUEST = vector('DENK0404144_CE03_p256.bin');
/** That key, as DER SubjectPublicKeyInfo. */
export const REAL_SPKI = vector('DENK0404144_CE03_p256.spki.der');
/** The other real keys (RSA-2048, secp256k1): not on a ceremony curve. */
export const REAL_RSA_REQUEST = vector('DENK0404144_CE04_rsa2048.bin');
export const REAL_RSA_SPKI = vector('DENK0404144_CE04_rsa2048.spki.der');

/** When DENK0404144's device certificate is valid (2026-05-28 to 2031-05-27), and its DICA's (2024-10-30 to 2032-10-29). */
export const REAL_AT = new Date('2026-06-01T00:00:00Z');

/** CardContact's SmartCard-HSM Scheme Root CA, DESRCACC100001, as OpenSC and CardContact publish it. */
export const REAL_SRCA = vector('DESRCACC100001.cvc');

/** One TLV element: where its tag starts, where its value starts and ends. */
export interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly value: number;
  readonly end: number;
}

/** The elements at one level of `bytes[from, to)`. */
export function tlvs(bytes: Uint8Array, from = 0, to = bytes.length): Tlv[] {
  const out: Tlv[] = [];
  let i = from;
  while (i < to) {
    const start = i;
    let tag = bytes[i++] ?? 0;
    if ((tag & 0x1f) === 0x1f) tag = (tag << 8) | (bytes[i++] ?? 0);
    let length = bytes[i++] ?? 0;
    if (length & 0x80) {
      const n = length & 0x7f;
      length = 0;
      for (let k = 0; k < n; k++) length = (length << 8) | (bytes[i++] ?? 0);
    }
    out.push({ tag, start, value: i, end: i + length });
    i += length;
  }
  return out;
}

/** The one child of `parent` with `tag`. */
export function child(bytes: Uint8Array, parent: Tlv, tag: number): Tlv {
  const found = tlvs(bytes, parent.value, parent.end).find((t) => t.tag === tag);
  if (!found) throw new Error(`no tag ${tag.toString(16)}`);
  return found;
}

/** `bytes` with one byte XORed. */
export function flipped(bytes: Uint8Array, at: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
}

/** The positions the tamperings aim at, found in the real vectors. */
export function landmarks(devaut: Uint8Array, request: Uint8Array) {
  const [device, dica] = tlvs(devaut);
  const [outer] = tlvs(request);
  if (!device || !dica || !outer) throw new Error('not EF 2F02 and a request');
  const inner = child(request, outer, 0x7f21);
  return {
    device,
    dica,
    /** The inner request (7F21): a bare request, as no device authenticated it. */
    inner,
    /** The last byte of each signature (5F37). */
    deviceSignature: child(devaut, device, 0x5f37).end - 1,
    dicaSignature: child(devaut, dica, 0x5f37).end - 1,
    outerSignature: child(request, outer, 0x5f37).end - 1,
    innerSignature: child(request, inner, 0x5f37).end - 1,
    /** The outer CAR (42): the device that authenticated the request. */
    outerCar: child(request, outer, 0x42),
  };
}

/** PEM of a DER SubjectPublicKeyInfo. */
export function pemOfSpki(spki: Uint8Array): string {
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();
}

export interface AttestedSpec {
  readonly serial?: string;
  readonly devaut?: Uint8Array;
  /** Each role's request and key; both roles get the real P-256 key unless given. */
  readonly keys?: Partial<Record<Role, { readonly request: Uint8Array; readonly spki: Uint8Array }>>;
}

/** Writes one attested Nitrokey HSM's products under `products`: EF 2F02, and each role's request, .pub and .pem. */
export async function writeAttestedNitrokey(products: string, spec: AttestedSpec = {}): Promise<string> {
  const serial = spec.serial ?? REAL_SERIAL;
  const dir = join(products, serial);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${serial}_devaut.cvc`), spec.devaut ?? REAL_DEVAUT);
  for (const role of ROLES) {
    const { request, spki } = spec.keys?.[role] ?? { request: REAL_REQUEST, spki: REAL_SPKI };
    await writeFile(join(dir, `${serial}_${role}_attestation.cvc`), request);
    await writeFile(join(dir, `${serial}_${role}_pubkey.pub`), spki);
    await writeFile(join(dir, `${serial}_${role}_pubkey.pem`), pemOfSpki(spki));
  }
  return dir;
}

/** When the simulated devices' certificates are issued: REAL_AT falls within them too. */
export const SIMULATED_ISSUED = new Date('2026-01-01T00:00:00Z');

const NODE_CURVE: Record<Curve, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1' };

export interface SimulatedNitrokey {
  readonly dir: string;
  readonly device: SimulatedDevice;
  /** Each role's request and key, as written. */
  readonly keys: Record<Role, { readonly request: Uint8Array; readonly spki: Uint8Array }>;
}

/**
 * Writes the products of a Nitrokey HSM simulated by lib/cvc's issuer: a
 * device under the SIMULATED scheme root, and for each role a fresh key on
 * `curve` that the device attests, as the simulated token does in a
 * rehearsal. `device` reuses a device made before (two directories of one
 * device, or a device's EF 2F02 beside another's requests).
 */
export async function writeSimulatedNitrokey(products: string, serial: string, curve: Curve = 'P-256', device?: SimulatedDevice): Promise<SimulatedNitrokey> {
  const simulated = device ?? (await makeSimulatedDevice(serial, { issued: SIMULATED_ISSUED }));
  const keys = {} as Record<Role, { request: Uint8Array; spki: Uint8Array }>;
  for (const role of ROLES) {
    const pair = generateKeyPairSync('ec', { namedCurve: NODE_CURVE[curve] });
    keys[role] = { request: attestKey(simulated, pair), spki: new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' })) };
  }
  const dir = await writeAttestedNitrokey(products, { serial, devaut: simulated.devaut, keys });
  return { dir, device: simulated, keys };
}
