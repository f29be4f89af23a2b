/**
 * What a CV certificate, a CV request and their public keys hold once
 * decoded (TR-03110 Part 3 Appendix C). Every field comes from bytes a third
 * party handed over: decoded strictly, but not verified until lib/cvc/chain.ts
 * and lib/cvc/attestation.ts say so.
 */
import type { TaAlgorithm } from './algorithms.ts';
import type { CvcCurve } from './curves.ts';

/** An EC public key (TR-03110 Part 3 D.3.3). */
export interface CvEcPublicKey {
  readonly kind: 'ec';
  /** How the key signs. */
  readonly algorithm: TaAlgorithm;
  /** The public point, uncompressed: 04 ‖ X ‖ Y. */
  readonly point: Uint8Array;
  /**
   * The curve whose domain parameters the key carries: present on a root and
   * in a request, absent where the key inherits its issuer's (DICA, device).
   */
  readonly curve?: CvcCurve;
}

/** An RSA public key (TR-03110 Part 3 D.3.1). */
export interface CvRsaPublicKey {
  readonly kind: 'rsa';
  readonly algorithm: TaAlgorithm;
  /** Unsigned big-endian, no leading zero byte. */
  readonly modulus: Uint8Array;
  readonly exponent: Uint8Array;
}

export type CvPublicKey = CvEcPublicKey | CvRsaPublicKey;

/** The certificate holder authorization template: the SmartCard-HSM's role. */
export interface CvChat {
  /** The OID's contents (CardContact's 1.3.6.1.4.1.24991.3.1.1 in a genuine chain). */
  readonly oid: Uint8Array;
  /** The relative authorization (one byte in a genuine chain: C0, 80 or 00). */
  readonly authorization: Uint8Array;
}

/** A CV certificate (7F21 with a body that has a CHAT and dates). */
export interface CvCertificate {
  /** The whole 7F21 element, as read. */
  readonly bytes: Uint8Array;
  /** The 7F4E element, tag and length included: what the issuer signed. */
  readonly signedBytes: Uint8Array;
  /** Certification Authority Reference: the issuer's CHR. */
  readonly car: string;
  readonly publicKey: CvPublicKey;
  /** Certificate Holder Reference. */
  readonly chr: string;
  readonly chat: CvChat;
  /** 00:00:00 UTC on the effective date. */
  readonly validFrom: Date;
  /** The last millisecond (23:59:59.999 UTC) of the expiration date, which is the last day of validity (TR-03110 Part 3 D.2.1.3). */
  readonly validTo: Date;
  /** The contents of the extensions element (65) when present; the DICA of a real chain carries an empty one. */
  readonly extensions?: Uint8Array;
  /** Plain r ‖ s (ECDSA) or the PKCS#1 signature (RSA). */
  readonly signature: Uint8Array;
}

/** The inner CV request (7F21 whose body has no CHAT nor dates: TR-03110 Part 3 C.1 request profile). */
export interface CvRequestBody {
  /** The whole inner 7F21 element. */
  readonly bytes: Uint8Array;
  /** The 7F4E element: what the key's self-signature covers. */
  readonly signedBytes: Uint8Array;
  /** The inner CAR, when present ("UTCA00001" as OpenSC asks the device for a key). */
  readonly car?: string;
  /** The key the request is for: the attested key. */
  readonly publicKey: CvPublicKey;
  /** The inner CHR: the device serial and a sequence number ("DENK040414400001"). */
  readonly chr: string;
  readonly extensions?: Uint8Array;
  /** The self-signature, by the key the request carries (proof of possession). */
  readonly signature: Uint8Array;
}

/** The device's authentication of a request (TR-03110 Part 3 C.2). */
export interface CvRequestAuthentication {
  /** The outer CAR: the CHR of the device that signed. */
  readonly car: string;
  /** The inner 7F21 followed by the outer 42, tags and lengths included: what the outer signature covers. */
  readonly signedBytes: Uint8Array;
  readonly signature: Uint8Array;
}

/** A CV request as stored in EF CE..: authenticated (67) by the device, or bare (7F21). */
export interface CvRequest {
  readonly inner: CvRequestBody;
  /** Absent for a bare request. */
  readonly outer?: CvRequestAuthentication;
}

/** The two certificates of EF 2F02, in the order the device stores them. */
export interface Devaut {
  /** The device's Device Authentication certificate. */
  readonly device: CvCertificate;
  /** The Device Issuer CA's certificate. */
  readonly dica: CvCertificate;
}
