import { RunbookError } from '../lib/errors.ts';

export type StepErrorCode =
  /** The device's serial is not the one written down, or the one the inventory names. */
  | 'STEP_SERIAL_MISMATCH'
  /** Products for this serial already exist: the device was provisioned in this ceremony, or the wrong device is plugged in. */
  | 'STEP_PRODUCTS_EXIST'
  /** The products directory cannot be written. */
  | 'STEP_PRODUCTS_UNWRITABLE'
  /** The operator did not say "y" at a DANGER banner. */
  | 'STEP_DECLINED'
  /** A YubiHSM 2 does not accept the factory password: it must be reset by hand first. */
  | 'STEP_NOT_FACTORY_STATE'
  /** The device refused the password or PIN every time it was asked. */
  | 'STEP_SECRET_REFUSED'
  /** A typed password or PIN does not have the form the device needs, every time it was asked. */
  | 'STEP_SECRET_INVALID'
  /** A step ran before the step that connects to the device in this section. */
  | 'STEP_NOT_CONNECTED'
  /** The products do not verify. */
  | 'STEP_PRODUCTS_INVALID'
  /** A device's public key products are not in the products directory, where its attestations are to be written beside them. */
  | 'STEP_PRODUCTS_MISSING'
  /** The token cannot attest its keys (a SoftHSM2 token): nothing to read. */
  | 'STEP_ATTESTATION_UNSUPPORTED'
  /** A Nitrokey HSM's attestations could not be read (sc-hsm-tool missing, too old or failing; what it wrote malformed): the reader's code follows. */
  | 'STEP_ATTESTATION_UNREADABLE'
  /** The token has no key with the ceremony's CKA_ID for a role, or not the key the products publish. */
  | 'STEP_ATTESTATION_KEY_MISMATCH'
  /** No key reference on the device holds a request attesting this key (an imported key, or its EF CE overwritten). */
  | 'STEP_ATTESTATION_MISSING'
  /** A key's attestation does not verify: lib/cvc's code follows. */
  | 'STEP_ATTESTATION_INVALID';

/** A ceremony step refused or failed; the message names the device. */
export class StepError extends RunbookError<StepErrorCode> {}
