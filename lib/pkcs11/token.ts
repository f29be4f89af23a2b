import type { Curve } from '../keys.ts';
import type { PrivateKeyFlag, PublicKeyFlag } from './templates.ts';

/**
 * The PKCS#11 token the Nitrokey steps of the ceremony talk to.
 *
 * This is the small slice of Cryptoki (PKCS#11 v2.40 Base Specification §5)
 * that "Provisioning the Nitrokey HSM" needs, and nothing more. Two
 * implementations stand behind it: the pkcs11js driver (OpenSC for a real
 * Nitrokey HSM, SoftHSM2 in tests) and the simulated SmartCard-HSM. The
 * provisioning sequence is written once, against this interface.
 *
 * A token holds at most one session at a time, opened by `login` or on demand
 * by a read, and closed by `logout`, `initToken` and `close`: the ceremony
 * never needs two, and C_InitToken refuses to run while one is open
 * (CKR_SESSION_EXISTS, §5.5).
 *
 * PINs pass through as strings and go nowhere else: never into a message,
 * a log or an argv. Failures are Pkcs11Error with `PKCS11_<CKR name>` codes.
 */
export interface Token {
  /** Where the token is, for messages: module path and slot, or "simulated SmartCard-HSM". Never a secret; token strings in it are escaped. */
  readonly description: string;

  /** C_GetTokenInfo (§5.5), read fresh each time: flags change as PINs are tried. */
  info(): Promise<TokenInfo>;

  /**
   * C_InitToken (§5.5) with the current SO PIN: erases every object and sets
   * the label. Any open session is closed first; afterwards the library is
   * re-initialized where the module needs it (OpenSC re-reads the card).
   */
  initToken(soPin: string, label: string): Promise<void>;

  /** Opens a read/write session if none is open, then C_Login (§5.6) as the SO or the user. */
  login(user: UserType, pin: string): Promise<void>;

  /** C_Logout and C_CloseSession; does nothing when no session is open. */
  logout(): Promise<void>;

  /** C_SetPIN (§5.5) in the open session: the SO's PIN in an SO session, the user's in a user session. */
  setPin(oldPin: string, newPin: string): Promise<void>;

  /** C_InitPIN (§5.5): sets the user PIN; needs an SO session. */
  initPin(pin: string): Promise<void>;

  /** The classes of the token objects whose CKA_ID is `id` (C_FindObjects, §5.7); empty when none. */
  objectsWithId(id: Uint8Array): Promise<ObjectClass[]>;

  /** C_GenerateKeyPair (§5.14) with CKM_EC_KEY_PAIR_GEN and the ceremony's attribute templates. */
  generateKeyPair(spec: KeyPairSpec): Promise<void>;

  /** CKA_EC_PARAMS and CKA_EC_POINT of the public key with this CKA_ID, as the token returns them. */
  publicKey(id: Uint8Array): Promise<EcPublicKeyObject>;

  /** The attributes of the key pair with this CKA_ID, for checking what was generated. Needs a user session. */
  keyAttributes(id: Uint8Array): Promise<KeyPairAttributes>;

  /** C_Sign (§5.11) with CKM_ECDSA over a prehash; returns the raw r ‖ s the mechanism defines. Needs a user session. */
  sign(id: Uint8Array, digest: Uint8Array): Promise<Uint8Array>;

  /** Closes the session and releases the module (C_Finalize). The token is unusable afterwards. */
  close(): Promise<void>;
}

export type UserType = 'so' | 'user';

export type ObjectClass = 'public-key' | 'private-key' | 'other';

/** CK_TOKEN_INFO (§3.2), trimmed of the blank padding PKCS#11 puts in its fixed-width strings. */
export interface TokenInfo {
  readonly label: string;
  readonly manufacturer: string;
  readonly model: string;
  readonly serial: string;
  /** CKF_* bits, see TokenFlag. */
  readonly flags: number;
}

/** A key pair to generate: the curve, CKA_ID and CKA_LABEL (both halves get the same ID and label). */
export interface KeyPairSpec {
  readonly curve: Curve;
  readonly id: Uint8Array;
  readonly label: string;
}

export interface EcPublicKeyObject {
  /** CKA_EC_PARAMS: DER of the curve's named-curve OID. */
  readonly ecParams: Uint8Array;
  /** CKA_EC_POINT: DER OCTET STRING around the uncompressed point (§2.3.3 of the Current Mechanisms spec). */
  readonly ecPoint: Uint8Array;
}

/**
 * What a freshly generated pair reports about itself (CKA_* values, §4.9 and
 * §4.8): every flag the ceremony's templates set (templates.ts), the two
 * CKA_ALWAYS_SENSITIVE / CKA_NEVER_EXTRACTABLE witnesses, and the labels.
 */
export interface KeyPairAttributes {
  readonly private: { readonly [F in PrivateKeyFlag]: boolean } & {
    readonly alwaysSensitive: boolean;
    readonly neverExtractable: boolean;
    readonly label: string;
  };
  readonly public: { readonly [F in PublicKeyFlag]: boolean } & { readonly label: string };
}

/** A CKA_ID as messages show it (0x12 is "12", as `pkcs11-tool --id` takes it). */
export function idHex(id: Uint8Array): string {
  return Buffer.from(id).toString('hex');
}

/** CK_TOKEN_INFO flags (PKCS#11 v2.40 §3.2). */
export const enum TokenFlag {
  /** The token has its own random number generator. */
  RNG = 0x0000_0001,
  /** A user must log in to use the token's private objects. */
  LOGIN_REQUIRED = 0x0000_0004,
  /** The user PIN has been set (C_InitPIN). */
  USER_PIN_INITIALIZED = 0x0000_0008,
  /** C_InitToken has been run at least once. */
  TOKEN_INITIALIZED = 0x0000_0400,
  /** At least one wrong user PIN since the last success. */
  USER_PIN_COUNT_LOW = 0x0001_0000,
  /** One more wrong user PIN locks it. */
  USER_PIN_FINAL_TRY = 0x0002_0000,
  /** The user PIN is locked. */
  USER_PIN_LOCKED = 0x0004_0000,
  /** At least one wrong SO PIN since the last success. */
  SO_PIN_COUNT_LOW = 0x0010_0000,
  /** One more wrong SO PIN locks it (on a SmartCard-HSM: forever). */
  SO_PIN_FINAL_TRY = 0x0020_0000,
  /** The SO PIN is locked. */
  SO_PIN_LOCKED = 0x0040_0000,
  /** The token failed a self-test and cannot be trusted. */
  ERROR_STATE = 0x0100_0000,
}
