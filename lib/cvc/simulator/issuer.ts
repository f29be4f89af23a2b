/**
 * What a simulated SmartCard-HSM needs to attest its keys as a real one does.
 *
 * A real device leaves the factory with a Device Authentication key pair and
 * EF 2F02 (its certificate, then its DICA's); each GENERATE ASYMMETRIC KEY
 * PAIR returns a CV request for the new key, self-signed by it and
 * authenticated by the device key, which OpenSC stores in EF CE<key
 * reference> (pkcs15-sc-hsm.c, sc_hsm_generate_key). Here the DICA is the
 * committed SIMULATED one (lib/cvc/simulator/ca/), and the bytes are laid
 * out exactly as the real device's (test/cvc/simulator.test.ts compares them
 * with DENK0404144's field by field).
 */
import { generateKeyPair, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ROLE, TA } from '../algorithms.ts';
import { CvcError } from '../errors.ts';
import { cvPublicKey } from '../encode/key-object.ts';
import { concat } from '../encode/tlv.ts';
import { authenticationInput, encodeAuthenticatedRequest, encodeRequest, encodeRequestBody } from '../encode/request.ts';
import { decodeCertificate } from '../decode/certificate.ts';
import { decodeOnly } from '../decode/tlv.ts';
import type { CvCertificate } from '../model.ts';
import { SEQUENCE_DIGITS, serialOfChr } from '../serial.ts';
import { signTa } from '../sign.ts';
import { issueCertificate } from './certify.ts';
import { DEVICE_VALIDITY_YEARS, SIMULATED_CA_FILES, simulatedCaPath } from './names.ts';
import { untrustedText } from '../../untrusted-text.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

/** The inner CAR OpenSC asks the device to put in a key's request (pkcs15-sc-hsm.c). */
export const REQUEST_CAR = 'UTCA00001';

/** A simulated device's attestation identity. */
export interface SimulatedDevice {
  /** EF 2F02: the device certificate, then the simulated DICA's. */
  readonly devaut: Uint8Array;
  /** The Device Authentication private key (brainpoolP256r1), which authenticates key requests. */
  readonly deviceKey: KeyObject;
  /** The device certificate's CHR: the serial and 00000. */
  readonly chr: string;
}

interface Dica {
  readonly bytes: Uint8Array;
  readonly certificate: CvCertificate;
  readonly key: KeyObject;
}

let dicaCache: Dica | undefined;

/** The committed simulated DICA and its key, read once per process. */
function simulatedDica(): Dica {
  if (dicaCache) return dicaCache;
  const path = simulatedCaPath(SIMULATED_CA_FILES.dica);
  const bytes = new Uint8Array(readFileSync(path));
  const source = { part: 'dica', name: path } as const;
  dicaCache = {
    bytes,
    certificate: decodeCertificate(decodeOnly(bytes, source), source),
    key: createPrivateKey(readFileSync(simulatedCaPath(SIMULATED_CA_FILES.dicaKey), 'utf8')),
  };
  return dicaCache;
}

/** `date` moved by whole UTC years and days. */
function shift(date: Date, years: number, days: number): Date {
  return new Date(Date.UTC(date.getUTCFullYear() + years, date.getUTCMonth(), date.getUTCDate() + days));
}

/**
 * A new simulated device with serial `serial` (e.g. DENK0102947): a fresh
 * brainpoolP256r1 Device Authentication key, and a device certificate with
 * CHR SERIAL00000 issued by the simulated DICA, valid from `issued` (default
 * today, UTC) for five years less a day, like DENK0404144's, and never past
 * the DICA's expiry.
 */
export async function makeSimulatedDevice(serial: string, options: { readonly issued?: Date } = {}): Promise<SimulatedDevice> {
  const chr = `${serial}${'0'.repeat(SEQUENCE_DIGITS)}`;
  if (!/^[A-Za-z0-9]{3,11}$/.test(serial)) {
    throw new CvcError('CVC_DEVICE_CHR', 'device', `a simulated device serial has 3 to 11 letters and digits (its CHR adds five), not ${untrustedText(serial)}`);
  }
  const dica = simulatedDica();
  const { publicKey, privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'brainpoolP256r1' });
  const issued = options.issued ?? new Date();
  const from = new Date(Date.UTC(issued.getUTCFullYear(), issued.getUTCMonth(), issued.getUTCDate()));
  const to = new Date(Math.min(shift(from, DEVICE_VALIDITY_YEARS, -1).getTime(), dica.certificate.validTo.getTime()));
  const certificate = issueCertificate(
    { car: dica.certificate.chr, publicKey: cvPublicKey(publicKey, false), chr, role: ROLE.device, validFrom: from, validTo: to },
    { key: dica.key, algorithm: dica.certificate.publicKey.algorithm },
  );
  return { devaut: concat(certificate, dica.bytes), deviceKey: privateKey, chr };
}

/**
 * The authenticated request a SmartCard-HSM writes to EF CE.. for a key it
 * generated: the inner request (CAR UTCA00001, the key with its domain
 * parameters or RSA modulus and exponent, CHR = serial ‖ 00001) self-signed
 * by the key, then the device's CHR as outer CAR and the device key's
 * signature over both. EC keys are on a curve lib/cvc/curves.ts knows.
 */
export function attestKey(device: { readonly deviceKey: KeyObject; readonly chr: string }, key: { readonly publicKey: KeyObject; readonly privateKey: KeyObject }): Uint8Array {
  const publicKey = cvPublicKey(key.publicKey, true);
  const body = encodeRequestBody({ car: REQUEST_CAR, publicKey, chr: `${serialOfChr(device.chr)}00001` });
  const request = encodeRequest(body, signTa(key.privateKey, publicKey.algorithm, body));
  // The device key is brainpoolP256r1 and signs id-TA-ECDSA-SHA-256, as its certificate says.
  const outer = signTa(device.deviceKey, TA.ecdsaSha256, authenticationInput(request, device.chr));
  return encodeAuthenticatedRequest(request, device.chr, outer);
}
