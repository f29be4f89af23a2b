/**
 * The attribute templates of a ceremony key pair ("Provisioning the Nitrokey
 * HSM", step 19: the PSF runbook's generate-nitrohsm-keys), as data: the pkcs11js
 * driver turns them into C_GenerateKeyPair templates (PKCS#11 v2.40 §5.14),
 * the simulated SmartCard-HSM stores them on the keys it makes, and the
 * check after generation compares what the token reports against them.
 *
 * Every boolean is given explicitly, never left to the token's defaults:
 * `pkcs11-tool --keypairgen` on SoftHSM2 leaves decrypt, unwrap, derive,
 * encrypt and wrap allowed, which a TUF key has no use for.
 */

/** Boolean attributes of the public half (CKA_* names, §4.8 and §4.9). */
export const PUBLIC_KEY_FLAGS = {
  /** CKA_TOKEN: kept on the device, not dropped with the session. */
  token: true,
  /** CKA_PRIVATE: readable without a login, as `pkcs11-tool --read-object` read it. */
  private: false,
  /** CKA_VERIFY: verification only; never encryption or key wrapping. */
  verify: true,
  encrypt: false,
  wrap: false,
} as const;

/** Boolean attributes of the private half (§4.9). */
export const PRIVATE_KEY_FLAGS = {
  token: true,
  /** CKA_PRIVATE: nothing can use it before the user PIN is presented. */
  private: true,
  /** CKA_SENSITIVE and CKA_EXTRACTABLE: the key never leaves the HSM. */
  sensitive: true,
  extractable: false,
  /** CKA_SIGN: a TUF key signs metadata and does nothing else. */
  sign: true,
  decrypt: false,
  unwrap: false,
  derive: false,
} as const;

export type PublicKeyFlag = keyof typeof PUBLIC_KEY_FLAGS;
export type PrivateKeyFlag = keyof typeof PRIVATE_KEY_FLAGS;

/** The CKA_* name of a flag, for messages: `neverExtractable` is CKA_NEVER_EXTRACTABLE. */
export function attributeName(flag: string): string {
  return `CKA_${flag.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}
