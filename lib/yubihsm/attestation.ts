/**
 * Yubico's YubiHSM 2 attestation extensions: encoder and decoder.
 *
 * When asked to attest an asymmetric key (Sign Attestation Certificate), a
 * YubiHSM 2 issues an X.509 certificate for the key's public half, signed by
 * the device's attestation key, whose own certificate (the `SERIAL_cert.der`
 * of the ceremony products) Yubico issued at manufacture. What the device
 * knows about the key travels in private extensions under the arc
 * 1.3.6.1.4.1.41482.4 (https://developers.yubico.com/YubiHSM2/Concepts/Attestation.html):
 *
 *   .1 firmware version   OCTET STRING, 3 bytes: major, minor, patch
 *   .2 device serial      INTEGER
 *   .3 origin             BIT STRING, 1 byte (0x01 generated, 0x02 imported, | 0x10 imported under wrap)
 *   .4 domains            BIT STRING, 2 bytes, big-endian domain field (bit n-1 = domain n)
 *   .5 capabilities       BIT STRING, 8 bytes, big-endian capability field
 *   .6 object id          INTEGER
 *   .9 label              UTF8String
 *
 * Each extension's extnValue holds the DER of that type. The device
 * certificate carries .2 alone.
 *
 * The verifier reads certificates a third party hands it: every value here is
 * attacker-controlled, so decoding is strict DER (the bytes must be exactly
 * what re-encoding the decoded value gives: no trailing data, no long-form
 * lengths where short ones fit, no padding) and every range is checked. The
 * encoder serves the device simulator, which issues certificates of the same
 * shape as a real device's.
 */
// @peculiar/x509 resolves its services through tsyringe, which needs the
// Reflect metadata API installed before the library loads.
import 'reflect-metadata';
import {
  AsnConvert,
  AsnIntegerBigIntConverter,
  AsnProp,
  AsnPropTypes,
  AsnType,
  AsnTypeTypes,
  BitString,
  OctetString,
} from '@peculiar/asn1-schema';
import { Extension, type X509Certificate } from '@peculiar/x509';
import { RunbookError } from '../errors.ts';
import { decodeCapabilities, encodeCapabilities, type Capabilities } from './capabilities.ts';
import type { FirmwareVersion } from './protocol/device-commands.ts';
import { domainNumbers, LABEL_BYTES, MAX_OBJECT_ID, ObjectOrigin } from './protocol/objects.ts';

export type { FirmwareVersion };

/** Yubico's arc for YubiHSM attestation: 1.3.6.1.4.1.41482 (Yubico) .4 (YubiHSM attestation). */
export const YUBIHSM_ATTESTATION_ARC = '1.3.6.1.4.1.41482.4';

/** The extension OIDs, by field. */
export const ATTESTATION_OID = {
  firmware: `${YUBIHSM_ATTESTATION_ARC}.1`,
  serial: `${YUBIHSM_ATTESTATION_ARC}.2`,
  origin: `${YUBIHSM_ATTESTATION_ARC}.3`,
  domains: `${YUBIHSM_ATTESTATION_ARC}.4`,
  capabilities: `${YUBIHSM_ATTESTATION_ARC}.5`,
  objectId: `${YUBIHSM_ATTESTATION_ARC}.6`,
  label: `${YUBIHSM_ATTESTATION_ARC}.9`,
} as const;

export type AttestationField = keyof typeof ATTESTATION_OID;

/**
 * Object origin byte (Get Object Info, and attestation extension .3).
 * The wrapped flag is or-ed onto the original origin: 0x11 is a key generated
 * on a device, exported under wrap and imported here.
 */
export const ORIGIN = {
  /** Generated on the device: the private key never existed outside it. */
  generated: ObjectOrigin.Generated as number,
  /** Imported in the clear from the host. */
  imported: ObjectOrigin.Imported as number,
  /** Flag: imported under wrap (Import Wrapped). */
  importedWrapped: ObjectOrigin.ImportedWrapped as number,
} as const;

/** Serial numbers are printed 0-padded to 10 digits, so they fit in 10 decimal digits. */
export const MAX_SERIAL = 9_999_999_999;

/** What a YubiHSM 2 states about an attested key. */
export interface YubiHsmAttestation {
  readonly firmware: FirmwareVersion;
  /** The device's serial number (printed 0-padded to 10 digits on the case). */
  readonly serial: number;
  /** Origin byte: see ORIGIN. */
  readonly origin: number;
  /** 16-bit domain field: bit n-1 set for domain n. */
  readonly domains: number;
  /** 64-bit capability field (lib/yubihsm/capabilities.ts). */
  readonly capabilities: Capabilities;
  readonly objectId: number;
  readonly label: string;
}

export type AttestationErrorCode =
  /** A required Yubico extension is absent. */
  | 'ATTESTATION_EXTENSION_MISSING'
  /** The same Yubico extension appears twice (RFC 5280 4.2 forbids it). */
  | 'ATTESTATION_EXTENSION_DUPLICATE'
  /** An extension value is not the strict DER of its type, or is out of range. */
  | 'ATTESTATION_EXTENSION_MALFORMED'
  /** A value given to the encoder cannot be represented (negative, too large, ...). */
  | 'ATTESTATION_VALUE_INVALID';

export class AttestationError extends RunbookError<AttestationErrorCode> {}

// ---------------------------------------------------------------------------
// ASN.1 types of the extension values. asn1-schema's decorators are applied as
// plain calls, so the module needs no decorator compiler support.

/** INTEGER (serial, object id). */
class AsnInteger {
  value = 0n;
}
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerBigIntConverter })(AsnInteger.prototype, 'value');
AsnType({ type: AsnTypeTypes.Choice })(AsnInteger);

/** UTF8String (label). */
class AsnUtf8 {
  value = '';
}
AsnProp({ type: AsnPropTypes.Utf8String })(AsnUtf8.prototype, 'value');
AsnType({ type: AsnTypeTypes.Choice })(AsnUtf8);

// ---------------------------------------------------------------------------
// Encoder

function invalid(message: string): AttestationError {
  return new AttestationError('ATTESTATION_VALUE_INVALID', message);
}

function checkUint(name: string, value: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) throw invalid(`${name} ${value} is not an integer in 0..${max}`);
}

function der(value: unknown): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(value));
}

function integer(value: number): Uint8Array {
  const v = new AsnInteger();
  v.value = BigInt(value);
  return der(v);
}

/** The DER of each extension value, by field. */
export function encodeAttestationValues(info: YubiHsmAttestation): Record<AttestationField, Uint8Array> {
  const { major, minor, patch } = info.firmware;
  for (const [n, v] of [['firmware major', major], ['firmware minor', minor], ['firmware patch', patch]] as const) checkUint(n, v, 0xff);
  checkUint('serial', info.serial, MAX_SERIAL);
  checkUint('origin', info.origin, 0xff);
  checkUint('domains', info.domains, 0xffff);
  checkUint('object id', info.objectId, MAX_OBJECT_ID);
  if (info.capabilities < 0n || info.capabilities >= 1n << 64n) throw invalid('capabilities do not fit in 64 bits');
  const labelBytes = Buffer.byteLength(info.label, 'utf8');
  if (labelBytes > LABEL_BYTES) throw invalid(`label has ${labelBytes} bytes; at most ${LABEL_BYTES}`);
  const label = new AsnUtf8();
  label.value = info.label;
  return {
    firmware: der(new OctetString(Uint8Array.of(major, minor, patch))),
    serial: integer(info.serial),
    origin: der(new BitString(Uint8Array.of(info.origin), 0)),
    domains: der(new BitString(Uint8Array.of(info.domains >> 8, info.domains & 0xff), 0)),
    capabilities: der(new BitString(encodeCapabilities(info.capabilities), 0)),
    objectId: integer(info.objectId),
    label: der(label),
  };
}

/**
 * The extensions of an attestation certificate, in the order a device writes
 * them (.1 .2 .3 .4 .5 .6 .9), all non-critical as on real certificates.
 */
export function attestationExtensions(info: YubiHsmAttestation): Extension[] {
  const values = encodeAttestationValues(info);
  return (Object.keys(ATTESTATION_OID) as AttestationField[]).map((field) => new Extension(ATTESTATION_OID[field], false, values[field]));
}

/** The device certificate's single Yubico extension: its serial (.2). */
export function deviceSerialExtension(serial: number): Extension {
  checkUint('serial', serial, MAX_SERIAL);
  return new Extension(ATTESTATION_OID.serial, false, integer(serial));
}

// ---------------------------------------------------------------------------
// Decoder. Input: extension values from a certificate someone handed us
// (attacker-controlled).

function malformed(field: AttestationField, message: string, cause?: unknown): AttestationError {
  return new AttestationError('ATTESTATION_EXTENSION_MALFORMED', `extension ${ATTESTATION_OID[field]} (${field}): ${message}`, { cause });
}

/**
 * Parses `bytes` as `target` and insists on strict DER: re-encoding the parsed
 * value must give the same bytes back. asn1js alone accepts BER (long-form
 * lengths, trailing bytes); the round trip rejects all of it.
 */
function strictParse<T>(field: AttestationField, bytes: Uint8Array, target: new () => T): T {
  let parsed: T;
  try {
    parsed = AsnConvert.parse(bytes, target);
  } catch (err) {
    throw malformed(field, 'not the expected ASN.1 type', err);
  }
  let again: Uint8Array;
  try {
    again = der(parsed);
  } catch (err) {
    throw malformed(field, 'cannot be re-encoded', err);
  }
  if (Buffer.compare(Buffer.from(again), Buffer.from(bytes)) !== 0) throw malformed(field, 'not in canonical DER form (extra bytes or non-minimal encoding)');
  return parsed;
}

function bitString(field: AttestationField, bytes: Uint8Array, length: number): Uint8Array {
  const bits = strictParse(field, bytes, BitString);
  const value = new Uint8Array(bits.value);
  if (bits.unusedBits !== 0 || value.length !== length) {
    throw malformed(field, `a BIT STRING of ${length} whole byte(s) expected, got ${value.length} byte(s) with ${bits.unusedBits} unused bit(s)`);
  }
  return value;
}

function uint(field: AttestationField, bytes: Uint8Array, max: number): number {
  const v = strictParse(field, bytes, AsnInteger).value;
  if (v < 0n || v > BigInt(max)) throw malformed(field, `integer out of range 0..${max}`);
  return Number(v);
}

/** Decoders of each field's extension value. */
export const decodeAttestationValue = {
  firmware(bytes: Uint8Array): FirmwareVersion {
    const octets = new Uint8Array(strictParse('firmware', bytes, OctetString).buffer);
    if (octets.length !== 3) throw malformed('firmware', `3 bytes expected, got ${octets.length}`);
    return { major: octets[0] ?? 0, minor: octets[1] ?? 0, patch: octets[2] ?? 0 };
  },
  serial: (bytes: Uint8Array): number => uint('serial', bytes, MAX_SERIAL),
  origin: (bytes: Uint8Array): number => bitString('origin', bytes, 1)[0] ?? 0,
  domains(bytes: Uint8Array): number {
    const b = bitString('domains', bytes, 2);
    return ((b[0] ?? 0) << 8) | (b[1] ?? 0);
  },
  capabilities: (bytes: Uint8Array): Capabilities => decodeCapabilities(bitString('capabilities', bytes, 8)),
  objectId: (bytes: Uint8Array): number => uint('objectId', bytes, MAX_OBJECT_ID),
  label(bytes: Uint8Array): string {
    const label = strictParse('label', bytes, AsnUtf8).value;
    // asn1js decodes invalid UTF-8 to U+FFFD; the round trip above then fails,
    // so a label that reaches here is valid UTF-8.
    if (Buffer.byteLength(label, 'utf8') > LABEL_BYTES) throw malformed('label', `longer than ${LABEL_BYTES} bytes`);
    return label;
  },
} satisfies { [F in AttestationField]: (bytes: Uint8Array) => unknown };

/** The value of the one extension `oid` in `cert`, or undefined; a repeated extension is refused. */
function extensionValue(cert: X509Certificate, field: AttestationField): Uint8Array | undefined {
  const oid = ATTESTATION_OID[field];
  const found = cert.extensions.filter((e) => e.type === oid);
  if (found.length > 1) throw new AttestationError('ATTESTATION_EXTENSION_DUPLICATE', `extension ${oid} (${field}) appears ${found.length} times`);
  const ext = found[0];
  return ext ? new Uint8Array(ext.value) : undefined;
}

function required(cert: X509Certificate, field: AttestationField): Uint8Array {
  const value = extensionValue(cert, field);
  if (!value) throw new AttestationError('ATTESTATION_EXTENSION_MISSING', `extension ${ATTESTATION_OID[field]} (${field}) is missing`);
  return value;
}

/** Reads every Yubico extension of a key attestation certificate. */
export function decodeAttestation(cert: X509Certificate): YubiHsmAttestation {
  return {
    firmware: decodeAttestationValue.firmware(required(cert, 'firmware')),
    serial: decodeAttestationValue.serial(required(cert, 'serial')),
    origin: decodeAttestationValue.origin(required(cert, 'origin')),
    domains: decodeAttestationValue.domains(required(cert, 'domains')),
    capabilities: decodeAttestationValue.capabilities(required(cert, 'capabilities')),
    objectId: decodeAttestationValue.objectId(required(cert, 'objectId')),
    label: decodeAttestationValue.label(required(cert, 'label')),
  };
}

/** The serial a device certificate (`SERIAL_cert.der`) states in extension .2. */
export function decodeDeviceSerial(cert: X509Certificate): number {
  return decodeAttestationValue.serial(required(cert, 'serial'));
}

// ---------------------------------------------------------------------------
// Presentation helpers

/** "2.1.2" */
export function firmwareString(v: FirmwareVersion): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

/** "generated", "imported", "generated, imported under wrap", or the hex byte when unknown. */
export function originName(origin: number): string {
  const base = origin & ~ORIGIN.importedWrapped;
  const name = base === ORIGIN.generated ? 'generated' : base === ORIGIN.imported ? 'imported' : undefined;
  if (name === undefined || (origin & ~(ORIGIN.importedWrapped | 0x03)) !== 0) return `0x${origin.toString(16).padStart(2, '0')}`;
  return origin & ORIGIN.importedWrapped ? `${name}, imported under wrap` : name;
}

/** The domains (1..16) set in a domain field. */
export const domainList = domainNumbers;
