/**
 * A CV certificate (7F21), TR-03110 Part 3 C.1, in the field order the
 * decoder (lib/cvc/decode/certificate.ts) requires. The caller signs the body
 * with the issuer's key and passes the signature to encodeCertificate.
 */
import { SMARTCARD_HSM_ROLE_OID } from '../algorithms.ts';
import type { CvPublicKey } from '../model.ts';
import { TAG } from '../tags.ts';
import { encodeDate, encodeProfile, encodeReference } from './fields.ts';
import { encodePublicKey } from './public-key.ts';
import { tlv } from './tlv.ts';

export interface CertificateFields {
  /** The issuer's CHR. */
  readonly car: string;
  readonly publicKey: CvPublicKey;
  readonly chr: string;
  /** The SmartCard-HSM role byte: C0 root, 80 DICA, 00 device. */
  readonly role: number;
  /** The effective day (its UTC date). */
  readonly validFrom: Date;
  /** The expiration day, the last day of validity (its UTC date). */
  readonly validTo: Date;
  /** Contents of the extensions element; an empty array writes `65 00`, as CardContact's DICA certificates carry. */
  readonly extensions?: Uint8Array;
}

/** The 7F4E element: what the issuer signs. */
export function encodeCertificateBody(f: CertificateFields): Uint8Array {
  return tlv(
    TAG.body,
    encodeProfile(),
    encodeReference(TAG.car, f.car),
    encodePublicKey(f.publicKey),
    encodeReference(TAG.chr, f.chr),
    tlv(TAG.chat, tlv(TAG.oid, SMARTCARD_HSM_ROLE_OID), tlv(TAG.authorization, Uint8Array.of(f.role))),
    encodeDate(TAG.effectiveDate, f.validFrom),
    encodeDate(TAG.expirationDate, f.validTo),
    ...(f.extensions ? [tlv(TAG.extensions, f.extensions)] : []),
  );
}

/** The 7F21 element: the body and the issuer's signature over it. */
export function encodeCertificate(body: Uint8Array, signature: Uint8Array): Uint8Array {
  return tlv(TAG.certificate, body, tlv(TAG.signature, signature));
}
