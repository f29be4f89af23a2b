import { RunbookError } from '../errors.ts';

/**
 * Codes of everything that can be wrong with a SmartCard-HSM (Nitrokey HSM)
 * key attestation: the bytes of EF 2F02 or of an EF CE.. request, the chain
 * from CardContact's Scheme Root CA to the device, the request's signatures,
 * and the key and serial it must match. One code per failure, so that a
 * report, a test or a script can tell them apart without reading messages.
 */
export type CvcErrorCode =
  // ---- bytes (lib/cvc/decode/) ----
  /** Not a TLV structure, or not the one TR-03110 prescribes: bad tag, non-canonical or indefinite length, missing, repeated or unexpected element, bad field value. */
  | 'CVC_MALFORMED'
  /** An element's length runs past the end of the bytes (a cut file). */
  | 'CVC_TRUNCATED'
  /** Bytes follow the last element a file may hold. */
  | 'CVC_TRAILING_BYTES'
  /** A public key's algorithm OID is not one this verifier implements (SHA-1 based ones included: refused). */
  | 'CVC_UNSUPPORTED_ALGORITHM'
  /** EC domain parameters that are not those of a curve this verifier knows. */
  | 'CVC_UNKNOWN_CURVE'
  /** Domain parameters present where the key must inherit them (DICA, device), or absent where they are needed (root, request). */
  | 'CVC_DOMAIN_PARAMETERS'
  /** An EC point or RSA key the cryptographic library refuses (not on the curve, bad encoding). */
  | 'CVC_BAD_KEY'
  // ---- the chain SRCA → DICA → device ----
  /** The embedded SRCA (or the simulated one) does not match its SHA-256 pin or is not a valid self-signed root: the installation was altered. */
  | 'CVC_TRUST_PIN'
  /** The DICA names a root that is not pinned. */
  | 'CVC_UNTRUSTED_ROOT'
  /** The chain ends at the SIMULATED root and simulated attestations were not allowed. */
  | 'CVC_SIMULATED'
  /** EF 2F02 does not hold exactly the device certificate followed by its DICA certificate. */
  | 'CVC_CHAIN_LENGTH'
  /** A certificate's role (CHAT) is not the one its place requires: root C0, DICA 80, device 00. */
  | 'CVC_ROLE'
  /** A certificate's CAR does not name the certificate above it (a self-signed or foreign device certificate). */
  | 'CVC_ISSUER'
  /** A key of the chain is RSA where the SmartCard-HSM scheme uses EC. */
  | 'CVC_KEY_TYPE'
  /** The DICA certificate's signature does not verify with the root's key. */
  | 'CVC_DICA_SIGNATURE'
  /** The device certificate's signature does not verify with the DICA's key. */
  | 'CVC_DEVICE_SIGNATURE'
  /** A certificate is not yet valid at the verification time. */
  | 'CVC_NOT_YET_VALID'
  /** A certificate has expired at the verification time. */
  | 'CVC_EXPIRED'
  /** The device CHR does not end in a five-digit sequence number, so no serial can be derived from it. */
  | 'CVC_DEVICE_CHR'
  // ---- the request (EF CE..) ----
  /** The request is a bare CV request (7F21), not one the device authenticated (67). */
  | 'CVC_NOT_AUTHENTICATED'
  /** The request's outer CAR is not this device's CHR: it was authenticated by another card. */
  | 'CVC_OUTER_CAR'
  /** The request's outer signature does not verify with the device's key. */
  | 'CVC_OUTER_SIGNATURE'
  /** The inner request's self-signature (proof of possession) does not verify with the key it carries. */
  | 'CVC_INNER_SIGNATURE'
  // ---- what the caller expects ----
  /** The attested key is not the published public key. */
  | 'CVC_KEY_MISMATCH'
  /** The published public key given to compare is not DER SubjectPublicKeyInfo. */
  | 'CVC_KEY_MALFORMED'
  /** The serial derived from the device CHR is not the products directory's serial. */
  | 'CVC_SERIAL_MISMATCH';

/**
 * Which file, or which link of the chain, an error is about: what a message
 * names when the device's CHR is not known yet, and what tests and reports
 * look at without parsing messages.
 */
export type CvcPart =
  /** The EF 2F02 file as a whole (device certificate, then DICA certificate). */
  | 'devaut'
  /** The EF CE.. file as a whole (the authenticated request). */
  | 'request'
  /** The published public key given to compare. */
  | 'public-key'
  /** The Scheme Root CA (pinned). */
  | 'srca'
  /** The Device Issuer CA certificate (second in EF 2F02). */
  | 'dica'
  /** The device certificate (first in EF 2F02). */
  | 'device'
  /** The attested key: the inner request. */
  | 'key';

/** A failed parse or check of SmartCard-HSM attestation material. */
export class CvcError extends RunbookError<CvcErrorCode> {
  /** The file or chain link at fault. */
  readonly part: CvcPart;

  constructor(code: CvcErrorCode, part: CvcPart, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.part = part;
  }
}
