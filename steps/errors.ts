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
  | 'STEP_PRODUCTS_INVALID';

/** A ceremony step refused or failed; the message names the device. */
export class StepError extends RunbookError<StepErrorCode> {}
