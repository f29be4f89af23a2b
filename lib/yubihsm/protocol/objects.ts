import { YubiHsmError } from '../errors.ts';

/**
 * Object types (one byte on the wire). Yubico, "Core Concepts: Object Type".
 */
export const enum ObjectType {
  /** Opaque data (certificates; opaque 0 is the device attestation certificate). */
  Opaque = 0x01,
  /** Authentication key: opens sessions. */
  AuthenticationKey = 0x02,
  /** Asymmetric key pair (only the private key can be used; the public key can be read). */
  AsymmetricKey = 0x03,
  /** Wrap key. */
  WrapKey = 0x04,
  /** HMAC key. */
  HmacKey = 0x05,
  /** SSH certificate template. */
  Template = 0x06,
  /** OTP AEAD key. */
  OtpAeadKey = 0x07,
  /** Symmetric (AES) key. */
  SymmetricKey = 0x08,
  /** Public wrap key. */
  PublicWrapKey = 0x09,
}

/** The origin byte of GET OBJECT INFO and attestation extension .3 (a bit field). */
export const enum ObjectOrigin {
  /** Generated inside the device. */
  Generated = 0x01,
  /** Imported in the clear. */
  Imported = 0x02,
  /** Set together with Generated or Imported when the object arrived wrapped. */
  ImportedWrapped = 0x10,
}

/** Labels are 40 bytes on the wire, NUL-padded. */
export const LABEL_BYTES = 40;

/** Object ids are 16-bit; 0 is reserved for opaque 0 and the attestation key (chosen by the device when asked for id 0 on creation). */
export const MAX_OBJECT_ID = 0xffff;

/** Domains are a 16-bit field, one bit per domain 1..16. */
export function domainsField(...domains: number[]): number {
  let field = 0;
  for (const d of domains) {
    if (!Number.isInteger(d) || d < 1 || d > 16) {
      throw new YubiHsmError('YUBIHSM_REQUEST_INVALID', `domain ${d} is not 1..16`);
    }
    field |= 1 << (d - 1);
  }
  return field;
}

/** The domain numbers (1..16) set in a 16-bit field. */
export function domainNumbers(field: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= 16; d++) if ((field >> (d - 1)) & 1) out.push(d);
  return out;
}

/**
 * A label as the 40 NUL-padded bytes the device stores. Labels are UTF-8;
 * longer than 40 bytes is refused (the device would refuse it too), as is a
 * NUL inside the label (it would be cut there when read back).
 */
export function encodeLabel(label: string): Uint8Array {
  const bytes = new TextEncoder().encode(label);
  if (bytes.length > LABEL_BYTES) {
    throw new YubiHsmError('YUBIHSM_REQUEST_INVALID', `a label has at most ${LABEL_BYTES} bytes; this one has ${bytes.length}`);
  }
  if (bytes.includes(0)) throw new YubiHsmError('YUBIHSM_REQUEST_INVALID', 'a label may not contain a NUL character');
  const out = new Uint8Array(LABEL_BYTES);
  out.set(bytes);
  return out;
}

/**
 * A label field from either form: a string (host side, encoded as above) or
 * the 40 bytes as stored (device side: the device keeps a label exactly as
 * the host sent it, so it is never decoded and re-encoded).
 */
export function labelField(label: string | Uint8Array): Uint8Array {
  if (typeof label === 'string') return encodeLabel(label);
  if (label.length !== LABEL_BYTES) {
    throw new YubiHsmError('YUBIHSM_REQUEST_INVALID', `a label field has ${LABEL_BYTES} bytes, not ${label.length}`);
  }
  return label;
}

/**
 * The label in a 40-byte field: the bytes before the first NUL, as UTF-8.
 * Attacker-controlled (from the device): invalid UTF-8 is replaced, never thrown on.
 */
export function decodeLabel(field: Uint8Array): string {
  const end = field.indexOf(0);
  return new TextDecoder('utf-8', { fatal: false }).decode(end === -1 ? field : field.subarray(0, end));
}
