import type { CvcErrorCode } from '../../cvc/index.ts';
import { RunbookError } from '../../errors.ts';

/**
 * Codes of the checks `runbook verify` runs on ceremony products. Each names
 * one way products can fail to prove what the ceremony claims; they appear in
 * the report (table and `--json`), never escape `verifyProducts`:
 * verification goes on after a failed check so that the witness sees every
 * problem at once.
 */
export type VerifyCheckCode =
  /** A file the provisioning leaves is absent. */
  | 'VERIFY_FILE_MISSING'
  /** A file or directory that no provisioning step leaves. */
  | 'VERIFY_FILE_UNEXPECTED'
  /** A certificate or public key file is not strict DER (truncated, trailing data, non-minimal lengths) or not PEM. */
  | 'VERIFY_DER_MALFORMED'
  /** A `.pub` does not hold a point on a ceremony curve. */
  | 'VERIFY_KEY_MALFORMED'
  /** A certificate's issuer is not the expected certificate, or the issuer may not issue certificates. */
  | 'VERIFY_CHAIN_ISSUER'
  /** A certificate's signature does not verify with its issuer's key. */
  | 'VERIFY_CHAIN_SIGNATURE'
  /** A certificate carries a critical extension the verifier does not process (RFC 5280 4.2: it must be refused). */
  | 'VERIFY_CHAIN_EXTENSION'
  /** A certificate is not valid at the verification time. */
  | 'VERIFY_CHAIN_VALIDITY'
  /** The chain ends at the YubiHSM simulator's root, and simulated products were not allowed. */
  | 'VERIFY_SIMULATED'
  /** A serial (device certificate subject or extension, attestation extension) is not the directory's. */
  | 'VERIFY_SERIAL_MISMATCH'
  /** Yubico's attestation extensions are missing, repeated or malformed. */
  | 'VERIFY_ATTESTATION_MALFORMED'
  /** The key was not generated on the device. */
  | 'VERIFY_ORIGIN'
  /** The key's object id is not the one the ceremony gives that role. */
  | 'VERIFY_OBJECT_ID'
  /** The key's label is not the one the ceremony gives that role. */
  | 'VERIFY_LABEL'
  /** The key may do more (or other) than sign with ECDSA. */
  | 'VERIFY_CAPABILITIES'
  /** A YubiHSM `.pub` does not hold the key its attestation certifies. */
  | 'VERIFY_PUB_MISMATCH'
  /** A `.pem` does not hold the key its attestation certifies (YubiHSM) or its `.pub` holds (Nitrokey). */
  | 'VERIFY_PEM_MISMATCH'
  /** A key is not on a named ceremony curve, or not on the curve the inventory names. */
  | 'VERIFY_CURVE'
  /** One public key appears for two roles or devices. */
  | 'VERIFY_KEY_REUSED'
  /** Devices and the inventory do not match (a device missing, one too many). */
  | 'VERIFY_INVENTORY'
  /**
   * A Nitrokey HSM's products hold no attestation (no `_devaut.cvc`, no
   * `_attestation.cvc`): nothing proves its keys were generated on a genuine
   * device. A warning, unless attestation is required.
   */
  | 'VERIFY_UNATTESTED';

/** Codes of what the report warns about: not a failed check unless the caller requires it. */
export type VerifyWarningCode = Extract<VerifyCheckCode, 'VERIFY_UNATTESTED'>;

/**
 * A finding's code: one of the checks above, or how a Nitrokey HSM's
 * attestation failed to verify (lib/cvc's codes, one per failure kind).
 */
export type FindingCode = VerifyCheckCode | CvcErrorCode;

/** Codes thrown before any check can run: the command line or the installation is wrong. */
export type VerifyInputCode =
  /** A DIR argument does not exist. */
  | 'VERIFY_INPUT_NOT_FOUND'
  /** A DIR argument is a file, not a directory. */
  | 'VERIFY_INPUT_NOT_DIRECTORY'
  /** A DIR argument holds no device directory. */
  | 'VERIFY_INPUT_EMPTY'
  /** A DIR argument cannot be read. */
  | 'VERIFY_INPUT_UNREADABLE'
  /** An embedded trust anchor does not match its pinned fingerprint (the installation was altered). */
  | 'VERIFY_TRUST_PIN';

export type VerifyErrorCode = VerifyCheckCode | VerifyInputCode;

export class VerifyError extends RunbookError<VerifyErrorCode> {}

/** What the product readers (der.ts) refuse with; the caller records it as a finding, never lets it escape. */
export type ProductReadCode = Extract<VerifyCheckCode, 'VERIFY_DER_MALFORMED' | 'VERIFY_CURVE' | 'VERIFY_KEY_MALFORMED'>;

export class ProductReadError extends RunbookError<ProductReadCode> {}
