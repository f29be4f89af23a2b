/**
 * Strict readers for the product files. Every byte here comes from products
 * someone hands the verifier: attacker-controlled.
 *
 * asn1js (under @peculiar/asn1-schema and @peculiar/x509) reads BER: it
 * accepts trailing bytes, long-form lengths where short ones fit, and other
 * encodings DER forbids. Two readers accepting different bytes as "the same
 * certificate" is how signature checks get bypassed, so each reader here
 * parses with the schema, re-encodes, and insists on getting the input back
 * byte for byte.
 */
import 'reflect-metadata';
import { AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { BasicConstraints, Certificate, id_ce_basicConstraints, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { X509Certificate } from '@peculiar/x509';
import { createPublicKey } from 'node:crypto';
import { COORDINATE_BYTES, CURVES, sameBytes, spkiFromPoint, type Curve, type EcPublicKey } from '../../keys.ts';
import { ProductReadError } from './errors.ts';

/** Two parsed ASN.1 values encode to the same DER. */
export function sameDer(a: unknown, b: unknown): boolean {
  return sameBytes(new Uint8Array(AsnConvert.serialize(a)), new Uint8Array(AsnConvert.serialize(b)));
}

function strict<T>(bytes: Uint8Array, target: new () => T, what: string): T {
  let parsed: T;
  try {
    parsed = AsnConvert.parse(bytes, target);
  } catch (err) {
    throw new ProductReadError('VERIFY_DER_MALFORMED', `not a DER ${what}`, { cause: err });
  }
  let again: ArrayBuffer;
  try {
    again = AsnConvert.serialize(parsed);
  } catch (err) {
    throw new ProductReadError('VERIFY_DER_MALFORMED', `not a DER ${what}`, { cause: err });
  }
  if (!sameBytes(new Uint8Array(again), bytes)) throw new ProductReadError('VERIFY_DER_MALFORMED', `not a strict DER ${what} (trailing data or non-canonical encoding)`);
  return parsed;
}

/** One extension as the certificate holds it. */
export interface RawExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue's content: the DER of the extension's own type. */
  readonly value: Uint8Array;
}

export interface ReadCertificate {
  readonly cert: X509Certificate;
  /** The parsed structure (checked to re-encode to the input exactly). */
  readonly asn: Certificate;
  readonly extensions: readonly RawExtension[];
}

/** An X.509 certificate in strict DER, with its extensions as they are encoded. */
export function readCertificate(bytes: Uint8Array): ReadCertificate {
  const asn = strict(bytes, Certificate, 'certificate');
  try {
    // Built from the parsed structure (parsing the bytes a second time would
    // double the largest cost of verification); the extensions are read from
    // it too, without @peculiar/x509's re-encoding of each one.
    return {
      cert: new X509Certificate(asn),
      asn,
      extensions: (asn.tbsCertificate.extensions ?? []).map((e) => ({ oid: e.extnID, critical: e.critical, value: new Uint8Array(e.extnValue.buffer) })),
    };
  } catch (err) {
    throw new ProductReadError('VERIFY_DER_MALFORMED', 'not a certificate', { cause: err });
  }
}

/** BasicConstraints cA, from the one basicConstraints extension (RFC 5280 4.2.1.9); false when absent or malformed. */
export function isCa(extensions: readonly RawExtension[]): boolean {
  const found = extensions.filter((e) => e.oid === id_ce_basicConstraints);
  if (found.length !== 1 || !found[0]) return false;
  try {
    return strict(found[0].value, BasicConstraints, 'basicConstraints').cA;
  } catch {
    return false;
  }
}

const ID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
/** RFC 5480 2.1.1.1 named curves: secp256r1 and secp384r1. */
const NAMED_CURVES = new Map<string, Curve>([
  ['1.2.840.10045.3.1.7', 'P-256'],
  ['1.3.132.0.34', 'P-384'],
]);

/** ECParameters, of which the ceremony accepts only the namedCurve choice (RFC 5480 2.1.1: implicitCurve and specifiedCurve MUST NOT be used). */
class NamedCurve {
  value = '';
}
AsnProp({ type: AsnPropTypes.ObjectIdentifier })(NamedCurve.prototype, 'value');
AsnType({ type: AsnTypeTypes.Choice })(NamedCurve);

/** A public key as read from a product, with its DER SubjectPublicKeyInfo (the key's identity in the report). */
export interface ReadKey extends EcPublicKey {
  readonly spki: Uint8Array;
}

/** Both name the same point on the same curve. */
export function sameKey(a: EcPublicKey, b: EcPublicKey): boolean {
  return a.curve === b.curve && sameBytes(a.point, b.point);
}

/**
 * A public key from DER SubjectPublicKeyInfo: an EC key on P-256 or P-384,
 * its curve named by OID, its point uncompressed and on the curve. A key the
 * same as `known` (one already validated) needs no second check: the check is
 * the costly part of reading a key.
 */
export function readSpki(bytes: Uint8Array, known?: EcPublicKey): ReadKey {
  return spkiKey(strict(bytes, SubjectPublicKeyInfo, 'SubjectPublicKeyInfo'), bytes, known);
}

/** The subject key of a certificate read by readCertificate (its DER already checked with the whole certificate). */
export function certificateKey(read: ReadCertificate): ReadKey {
  const spki = read.asn.tbsCertificate.subjectPublicKeyInfo;
  return spkiKey(spki, new Uint8Array(AsnConvert.serialize(spki)));
}

function spkiKey(spki: SubjectPublicKeyInfo, bytes: Uint8Array, known?: EcPublicKey): ReadKey {
  if (spki.algorithm.algorithm !== ID_EC_PUBLIC_KEY) throw new ProductReadError('VERIFY_CURVE', `not an EC public key (algorithm ${spki.algorithm.algorithm})`);
  const params = spki.algorithm.parameters;
  if (!params) throw new ProductReadError('VERIFY_CURVE', 'the EC key names no curve');
  let oid: string;
  try {
    oid = strict(new Uint8Array(params), NamedCurve, 'named curve').value;
  } catch (err) {
    throw new ProductReadError('VERIFY_CURVE', 'the EC key does not name its curve by OID (explicit parameters are refused)', { cause: err });
  }
  const curve = NAMED_CURVES.get(oid);
  if (!curve) throw new ProductReadError('VERIFY_CURVE', `curve ${oid} is not a ceremony curve (P-256 or P-384)`);
  const point = new Uint8Array(spki.subjectPublicKey);
  uncompressed(curve, point);
  const key: ReadKey = { curve, point, spki: Uint8Array.from(bytes) };
  if (!(known && sameKey(known, key))) onCurve(key);
  return key;
}

/**
 * SEC 1 2.3.3: 0x04 ‖ X ‖ Y, each coordinate the curve's size. The ceremony
 * publishes uncompressed points only; a compressed or hybrid one is refused.
 */
function uncompressed(curve: Curve, point: Uint8Array): void {
  if (point.length !== 1 + 2 * COORDINATE_BYTES[curve] || point[0] !== 0x04) throw new ProductReadError('VERIFY_KEY_MALFORMED', `not an uncompressed point on ${curve}`);
}

/** Throws VERIFY_KEY_MALFORMED unless the key's point is on its curve (OpenSSL's check, through node:crypto). */
function onCurve(key: ReadKey): void {
  try {
    createPublicKey({ key: Buffer.from(key.spki), format: 'der', type: 'spki' });
  } catch (err) {
    throw new ProductReadError('VERIFY_KEY_MALFORMED', `not a point on ${key.curve}`, { cause: err });
  }
}

/** An uncompressed point (0x04 ‖ X ‖ Y) on `curve`, exactly as long as the curve demands, on the curve. */
export function readPoint(curve: Curve, point: Uint8Array): ReadKey {
  uncompressed(curve, point);
  let spki: Uint8Array;
  try {
    spki = spkiFromPoint(curve, point);
  } catch (err) {
    throw new ProductReadError('VERIFY_KEY_MALFORMED', `not a point on ${curve}`, { cause: err });
  }
  return { curve, point: Uint8Array.from(point), spki };
}

/** The curve whose uncompressed points have this many bytes. */
export function curveOfPointLength(length: number): Curve | undefined {
  return CURVES.find((curve) => length === 1 + 2 * COORDINATE_BYTES[curve]);
}

const PEM = /^-----BEGIN PUBLIC KEY-----\r?\n((?:[A-Za-z0-9+/=]+\r?\n)+)-----END PUBLIC KEY-----(?:\r?\n)?$/;

/**
 * A PEM "PUBLIC KEY" file: exactly one block, nothing before or after it, its
 * base64 canonical, its content a strict DER SubjectPublicKeyInfo (validated
 * unless the same as `known`, as readSpki).
 */
export function readPemPublicKey(text: string, known?: EcPublicKey): ReadKey {
  const m = PEM.exec(text);
  if (!m) throw new ProductReadError('VERIFY_DER_MALFORMED', 'not a single PEM PUBLIC KEY block');
  const b64 = (m[1] ?? '').replace(/\r?\n/g, '');
  const der = Buffer.from(b64, 'base64');
  if (der.toString('base64') !== b64) throw new ProductReadError('VERIFY_DER_MALFORMED', 'the PEM block is not canonical base64');
  return readSpki(der, known);
}
