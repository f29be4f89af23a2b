import { RunbookError } from '../errors.ts';
import type { CkrName } from './ckr.ts';

/**
 * Codes for everything that can go wrong with a PKCS#11 token (a Nitrokey HSM
 * through OpenSC, SoftHSM2, or the simulated SmartCard-HSM).
 *
 * A failure reported by the token itself becomes `PKCS11_<CKR name>`, so the
 * code says exactly what the module returned (PKCS#11 v2.40 §5.1); failures we
 * detect ourselves have their own codes below. No message ever holds a PIN.
 */
export type Pkcs11ErrorCode =
  /** The token (or module) returned this CK_RV. */
  | `PKCS11_${CkrName}`
  /** No PKCS#11 module at the given path, or none at any default location. */
  | 'PKCS11_MODULE_NOT_FOUND'
  /** The file exists but is not a loadable PKCS#11 module (no C_GetFunctionList). */
  | 'PKCS11_MODULE_LOAD_FAILED'
  /** The module failed without a CK_RV (a native error in the binding). */
  | 'PKCS11_MODULE_FAILED'
  /** No initialized token is present ("Provisioning the Nitrokey HSM", step 3: exactly one). */
  | 'PKCS11_NO_TOKEN'
  /** More than one initialized token is present; we refuse to guess (step 3). */
  | 'PKCS11_TOKEN_AMBIGUOUS'
  /** The token is not the kind the ceremony expects (manufacturer or model differ). */
  | 'PKCS11_TOKEN_UNEXPECTED'
  /** A PIN is final-try or locked, or the token reports an error state: manual intervention required. */
  | 'PKCS11_TOKEN_DANGEROUS_STATE'
  /** The token disappeared while the library was re-initialized after C_InitToken. */
  | 'PKCS11_TOKEN_LOST'
  /** A SoftHSM2 shelf token name is not 1–64 of [A-Za-z0-9._-] without a leading dot (softhsm.ts). */
  | 'PKCS11_SHELF_NAME_INVALID'
  /** A SoftHSM2 shelf already has a token of that name. */
  | 'PKCS11_SHELF_NAME_TAKEN'
  /** A SoftHSM2 shelf has no token of that name, inserted or not. */
  | 'PKCS11_SHELF_TOKEN_UNKNOWN'
  /** A PIN does not have the format the device requires (checked before it reaches the device). */
  | 'PKCS11_PIN_FORMAT'
  /** A label is longer than the 32 bytes CK_TOKEN_INFO holds. */
  | 'PKCS11_LABEL_FORMAT'
  /** The key pairs asked for cannot be made as asked (none, an id or role twice, an empty id, an unprintable label); checked before the token is touched. */
  | 'PKCS11_KEY_REQUEST_INVALID'
  /** A key with this CKA_ID is already on the token: keys are never overwritten. */
  | 'PKCS11_KEY_EXISTS'
  /** No key with this CKA_ID (or only half of a pair) is on the token. */
  | 'PKCS11_KEY_NOT_FOUND'
  /** A generated key does not have the attributes the ceremony requires (e.g. extractable). */
  | 'PKCS11_KEY_ATTRIBUTES'
  /** Key generation stopped part-way: the message and `onToken` say what exists on the token. */
  | 'PKCS11_KEYGEN_INCOMPLETE'
  /** CKA_EC_POINT or CKA_EC_PARAMS is not the canonical DER we accept. */
  | 'PKCS11_EC_POINT_MALFORMED'
  /** The token returned a signature of the wrong size for the curve. */
  | 'PKCS11_SIGNATURE_MALFORMED'
  /** The token's signature does not verify under the public key it holds for the same id. */
  | 'PKCS11_SIGNATURE_INVALID'
  /** A prehash has the wrong length for the curve's hash (SHA-256 for P-256, SHA-384 for P-384). */
  | 'PKCS11_DIGEST_LENGTH';

export class Pkcs11Error extends RunbookError<Pkcs11ErrorCode> {
  /** The PKCS#11 return value behind this error, when the token reported one. */
  readonly ckr: CkrName | undefined;
  /** Objects (by label) known to exist on the token when this error was raised, for partial failures. */
  readonly onToken: readonly string[];

  constructor(
    code: Pkcs11ErrorCode,
    message: string,
    options?: { cause?: unknown; ckr?: CkrName; onToken?: readonly string[] },
  ) {
    super(code, message, options);
    this.ckr = options?.ckr;
    this.onToken = options?.onToken ?? [];
  }
}

/** The error for a CK_RV other than CKR_OK; `what` names the call and the token, never a PIN. */
export function ckrError(ckr: CkrName, what: string, cause?: unknown): Pkcs11Error {
  return new Pkcs11Error(`PKCS11_${ckr}`, `${what}: ${ckr}`, { ckr, cause });
}
