/**
 * Key creation and use payloads: PUT AUTHENTICATION KEY, CHANGE
 * AUTHENTICATION KEY, GENERATE ASYMMETRIC KEY, GET PUBLIC KEY, SIGN ECDSA,
 * SIGN ATTESTATION CERTIFICATE, GET OPAQUE (Yubico command reference,
 * sections of the same names).
 */
import { DER } from '@noble/curves/abstract/weierstrass.js';
import { decodeCapabilities, encodeCapabilities, type Capabilities } from '../capabilities.ts';
import { YubiHsmError } from '../errors.ts';
import { COORDINATE_BYTES } from '../../keys.ts';
import { KEY_BYTES } from '../session/scp03.ts';
import { Algorithm, curveOfAlgorithm } from './algorithms.ts';
import { Reader, requestReader, Writer } from './bytes.ts';
import { LABEL_BYTES, labelField } from './objects.ts';

/** The attributes every created object carries. */
export interface NewObject {
  /** 0 lets the device choose. */
  readonly id: number;
  /** A string (host side), or the 40 label bytes as received (device side). */
  readonly label: string | Uint8Array;
  /** 16-bit domains field. */
  readonly domains: number;
  readonly capabilities: Capabilities;
  readonly algorithm: number;
}

/** A NewObject as the device reads it: the label is kept as its 40 raw bytes. */
export interface ReceivedObject extends NewObject {
  readonly label: Uint8Array;
}

/** The leading fields of every object-creating command: id (2) ‖ label (40) ‖ domains (2) ‖ capabilities (8) ‖ algorithm (1). */
export const NEW_OBJECT_BYTES = 2 + LABEL_BYTES + 2 + 8 + 1;

function writeNewObject(w: Writer, o: NewObject): Writer {
  return w.u16(o.id).bytes(labelField(o.label)).u16(o.domains).bytes(encodeCapabilities(o.capabilities)).u8(o.algorithm);
}

/**
 * Device side: reads the leading fields shared by PUT AUTHENTICATION KEY,
 * GENERATE ASYMMETRIC KEY and PUT OPAQUE (attacker-controlled; `r` reports
 * a short request as WRONG LENGTH).
 */
export function readNewObject(r: Reader): ReceivedObject {
  return {
    id: r.u16('id'),
    label: Uint8Array.from(r.bytesN(LABEL_BYTES, 'label')),
    domains: r.u16('domains'),
    capabilities: decodeCapabilities(r.bytesN(8, 'capabilities')),
    algorithm: r.u8('algorithm'),
  };
}

export interface PutAuthenticationKeyRequest extends NewObject {
  /** What objects created in sessions opened with this key may be given. */
  readonly delegatedCapabilities: Capabilities;
  /** K-ENC and K-MAC. Secret. */
  readonly encKey: Uint8Array;
  readonly macKey: Uint8Array;
}

/**
 * PUT AUTHENTICATION KEY request data: id (2) ‖ label (40) ‖ domains (2) ‖
 * capabilities (8) ‖ algorithm (1) ‖ delegated capabilities (8) ‖
 * K-ENC (16) ‖ K-MAC (16). Runbook: "Provisioning the YubiHSM 2", step 13.
 * The result holds the keys: the caller wipes it once it is sealed.
 */
export function encodePutAuthenticationKeyRequest(req: PutAuthenticationKeyRequest): Uint8Array {
  if (req.encKey.length !== KEY_BYTES || req.macKey.length !== KEY_BYTES) {
    throw new YubiHsmError('YUBIHSM_REQUEST_INVALID', `authentication keys are two ${KEY_BYTES}-byte AES keys`);
  }
  // finish() hands out a copy: the writer's own buffer still holds the keys until wiped.
  const w = writeNewObject(new Writer(NEW_OBJECT_BYTES + 8 + 2 * KEY_BYTES), req)
    .bytes(encodeCapabilities(req.delegatedCapabilities))
    .bytes(req.encKey)
    .bytes(req.macKey);
  const data = w.finish();
  w.wipe();
  return data;
}

/** Device side: parses PUT AUTHENTICATION KEY request data (attacker-controlled; wrong size: WRONG LENGTH). */
export function decodePutAuthenticationKeyRequest(data: Uint8Array): PutAuthenticationKeyRequest & ReceivedObject {
  const r = requestReader(data, 'PUT AUTHENTICATION KEY');
  const req = {
    ...readNewObject(r),
    delegatedCapabilities: decodeCapabilities(r.bytesN(8, 'delegated capabilities')),
    encKey: Uint8Array.from(r.bytesN(KEY_BYTES, 'encryption key')),
    macKey: Uint8Array.from(r.bytesN(KEY_BYTES, 'MAC key')),
  };
  r.end();
  return req;
}

export interface ChangeAuthenticationKeyRequest {
  /** The key to change: the device accepts only the session's own authentication key. */
  readonly id: number;
  readonly algorithm: number;
  /** The new key material: K-ENC ‖ K-MAC for aes128-yubico-authentication. Secret. */
  readonly key: Uint8Array;
}

/**
 * CHANGE AUTHENTICATION KEY request data: id (2) ‖ algorithm (1) ‖ K-ENC
 * (16) ‖ K-MAC (16) (Yubico command reference, "CHANGE AUTHENTICATION KEY";
 * firmware 2.1.0 and later). The result holds the keys: the caller wipes it
 * once it is sealed.
 */
export function encodeChangeAuthenticationKeyRequest(id: number, encKey: Uint8Array, macKey: Uint8Array): Uint8Array {
  if (encKey.length !== KEY_BYTES || macKey.length !== KEY_BYTES) {
    throw new YubiHsmError('YUBIHSM_REQUEST_INVALID', `authentication keys are two ${KEY_BYTES}-byte AES keys`);
  }
  const w = new Writer(3 + 2 * KEY_BYTES).u16(id).u8(AUTHENTICATION_KEY_ALGORITHM).bytes(encKey).bytes(macKey);
  const data = w.finish();
  w.wipe();
  return data;
}

/**
 * Device side: parses CHANGE AUTHENTICATION KEY request data
 * (attacker-controlled). The key material's length depends on the
 * algorithm, which the caller checks against the key being changed.
 */
export function decodeChangeAuthenticationKeyRequest(data: Uint8Array): ChangeAuthenticationKeyRequest {
  const r = requestReader(data, 'CHANGE AUTHENTICATION KEY');
  const id = r.u16('key id');
  const algorithm = r.u8('algorithm');
  return { id, algorithm, key: Uint8Array.from(r.rest()) };
}

/**
 * GENERATE ASYMMETRIC KEY request data: id (2) ‖ label (40) ‖ domains (2) ‖
 * capabilities (8) ‖ algorithm (1). Runbook: "Provisioning the YubiHSM 2",
 * step 15 (the TUF root and targets keys).
 */
export function encodeGenerateAsymmetricKeyRequest(req: NewObject): Uint8Array {
  return writeNewObject(new Writer(NEW_OBJECT_BYTES), req).finish();
}

/** Device side: parses GENERATE ASYMMETRIC KEY request data (attacker-controlled; wrong size: WRONG LENGTH). */
export function decodeGenerateAsymmetricKeyRequest(data: Uint8Array): ReceivedObject {
  const r = requestReader(data, 'GENERATE ASYMMETRIC KEY');
  const req = readNewObject(r);
  r.end();
  return req;
}

/**
 * Device side: parses PUT OPAQUE request data, the creation fields followed
 * by the object's bytes (attacker-controlled). The host side of this project
 * never stores opaque objects, so there is no encoder.
 */
export function decodePutOpaqueRequest(data: Uint8Array): ReceivedObject & { readonly content: Uint8Array } {
  const r = requestReader(data, 'PUT OPAQUE');
  return { ...readNewObject(r), content: Uint8Array.from(r.rest()) };
}

/** A 2-byte object id: the request of GET PUBLIC KEY and GET OPAQUE, and the response of PUT/GENERATE commands. */
export function encodeObjectId(id: number): Uint8Array {
  return new Writer(2).u16(id).finish();
}

/**
 * Parses a data field that is exactly one 2-byte object id (attacker-controlled
 * on either side): a response on the host (YUBIHSM_RESPONSE_MALFORMED), the
 * request of GET PUBLIC KEY or GET OPAQUE on the device (WRONG LENGTH).
 */
export function decodeObjectId(
  data: Uint8Array,
  what: string,
  code: 'YUBIHSM_RESPONSE_MALFORMED' | 'YUBIHSM_DEVICE_WRONG_LENGTH' = 'YUBIHSM_RESPONSE_MALFORMED',
): number {
  const r = new Reader(data, what, code);
  const id = r.u16('object id');
  r.end();
  return id;
}

export interface PublicKey {
  readonly algorithm: number;
  /** For EC keys: X ‖ Y, each coordinate big-endian and of the curve's size. */
  readonly key: Uint8Array;
}

/** Device side: GET PUBLIC KEY response data: algorithm (1) ‖ public key. */
export function encodePublicKeyResponse(pub: PublicKey): Uint8Array {
  return new Writer(1 + pub.key.length).u8(pub.algorithm).bytes(pub.key).finish();
}

/**
 * Host side: parses GET PUBLIC KEY response data (attacker-controlled). For
 * the ceremony's curves the point must be exactly two coordinates long; the
 * caller checks it is on the curve (lib/products/keys.ts).
 */
export function decodePublicKeyResponse(data: Uint8Array): PublicKey {
  const r = new Reader(data, 'GET PUBLIC KEY response');
  const algorithm = r.u8('algorithm');
  const key = Uint8Array.from(r.rest());
  const curve = curveOfAlgorithm(algorithm);
  if (curve !== undefined && key.length !== 2 * COORDINATE_BYTES[curve]) {
    throw new YubiHsmError(
      'YUBIHSM_RESPONSE_MALFORMED',
      `GET PUBLIC KEY response: a ${curve} key has ${2 * COORDINATE_BYTES[curve]} bytes (X ‖ Y), not ${key.length}`,
    );
  }
  if (key.length === 0) throw new YubiHsmError('YUBIHSM_RESPONSE_MALFORMED', 'GET PUBLIC KEY response: no key bytes');
  return { algorithm, key };
}

/** SIGN ECDSA request data: key id (2) ‖ digest. Runbook: signing TUF metadata with the HSM keys. */
export function encodeSignEcdsaRequest(keyId: number, digest: Uint8Array): Uint8Array {
  if (digest.length === 0) throw new YubiHsmError('YUBIHSM_REQUEST_INVALID', 'SIGN ECDSA needs a digest');
  return new Writer(2 + digest.length).u16(keyId).bytes(digest).finish();
}

/**
 * Device side: parses SIGN ECDSA request data (attacker-controlled). The
 * digest may have any length here; whether it is acceptable depends on the
 * key, so the caller checks it after finding the key.
 */
export function decodeSignEcdsaRequest(data: Uint8Array): { keyId: number; digest: Uint8Array } {
  const r = requestReader(data, 'SIGN ECDSA');
  const keyId = r.u16('key id');
  const digest = Uint8Array.from(r.rest());
  return { keyId, digest };
}

/**
 * Host side: checks that SIGN ECDSA response data is one DER
 * ECDSA-Sig-Value (SEQUENCE of two positive INTEGERs, definite minimal
 * lengths, nothing after) and returns it. Attacker-controlled. The curve is
 * not known here, so @noble/curves' curve-independent strict DER parser does
 * the check; lib/ecdsa.ts verifies the signature against the key.
 */
export function decodeSignEcdsaResponse(data: Uint8Array): Uint8Array {
  try {
    DER.toSig(data);
  } catch (err) {
    const why = err instanceof Error ? ` (${err.message})` : '';
    throw new YubiHsmError('YUBIHSM_RESPONSE_MALFORMED', `SIGN ECDSA response: not a DER ECDSA signature${why}`, { cause: err });
  }
  return Uint8Array.from(data);
}

/** SIGN ATTESTATION CERTIFICATE request data: key id (2) ‖ attestation key id (2; 0 is the device attestation key). */
export function encodeSignAttestationCertificateRequest(keyId: number, attestationKeyId: number): Uint8Array {
  return new Writer(4).u16(keyId).u16(attestationKeyId).finish();
}

/** Device side: parses SIGN ATTESTATION CERTIFICATE request data (attacker-controlled). */
export function decodeSignAttestationCertificateRequest(data: Uint8Array): { keyId: number; attestationKeyId: number } {
  const r = requestReader(data, 'SIGN ATTESTATION CERTIFICATE');
  const keyId = r.u16('key id');
  const attestationKeyId = r.u16('attestation key id');
  r.end();
  return { keyId, attestationKeyId };
}

/**
 * Host side: checks that certificate bytes (SIGN ATTESTATION CERTIFICATE
 * response, or opaque 0) are one DER SEQUENCE filling the data exactly.
 * Attacker-controlled; the certificate itself is parsed and verified by the
 * caller (lib/yubihsm/attestation.ts, lib/products).
 */
export function decodeCertificateResponse(data: Uint8Array, what: string): Uint8Array {
  const r = new Reader(data, what);
  const fail = (why: string): never => {
    throw new YubiHsmError('YUBIHSM_RESPONSE_MALFORMED', `${what}: not a DER certificate (${why})`);
  };
  if (r.u8('SEQUENCE tag') !== 0x30) fail('no SEQUENCE');
  // DER requires the shortest length form (X.690 10.1): a longer one is a
  // non-canonical encoding, refused rather than normalised.
  const first = r.u8('length');
  let length: number;
  if (first < 0x80) length = first;
  else if (first === 0x81) length = r.u8('length');
  else if (first === 0x82) length = r.u16('length');
  else return fail('length form');
  if ((first === 0x81 && length < 0x80) || (first === 0x82 && length < 0x100)) fail('length not minimally encoded');
  if (length !== r.remaining) fail(`SEQUENCE of ${length} bytes in ${r.remaining}`);
  return Uint8Array.from(data);
}

/** The device attestation key and certificate live at id 0. */
export const DEVICE_ATTESTATION_ID = 0;

/** The algorithm of password-derived authentication keys. */
export const AUTHENTICATION_KEY_ALGORITHM = Algorithm.Aes128YubicoAuthentication;
