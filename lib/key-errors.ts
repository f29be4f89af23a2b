import { RunbookError } from './errors.ts';

export type KeyErrorCode =
  /** Bytes that should be a public key are not one we accept. */
  | 'KEY_MALFORMED'
  /** A public key is on a curve the ceremony does not use. */
  | 'KEY_CURVE_UNSUPPORTED';

/** A public key that cannot be read or encoded (lib/keys.ts). */
export class KeyError extends RunbookError<KeyErrorCode> {}
