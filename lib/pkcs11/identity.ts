import { Pkcs11Error } from './errors.ts';
import { TokenFlag, type TokenInfo } from './token.ts';
import { untrustedText } from '../untrusted-text.ts';

/** What the token must say it is before the ceremony touches it. */
export interface ExpectedToken {
  /** CK_TOKEN_INFO.manufacturerID, compared exactly (after trimming the blank padding). */
  readonly manufacturer: string;
  /** CK_TOKEN_INFO.model, when it matters. */
  readonly model?: string;
}

/**
 * A Nitrokey HSM as OpenSC presents it: the SmartCard-HSM inside is made by
 * CardContact, and OpenSC's PKCS#15 emulation reports itself as the model.
 * (The PSF runbook's nitrohsm-provision looked at the reader's name, "Nitrokey",
 * instead; the token's own manufacturer is what identifies the device.)
 */
export const NITROKEY_HSM: ExpectedToken = { manufacturer: 'www.CardContact.de', model: 'PKCS#15 emulated' };

/** SoftHSM2, for tests and benches. */
export const SOFTHSM2: ExpectedToken = { manufacturer: 'SoftHSM project', model: 'SoftHSM v2' };

/** "Provisioning the Nitrokey HSM", step 7: only a Nitrokey HSM may go on ("Successfully discovered a Nitrokey HSM"). */
export function checkIdentity(info: TokenInfo, expected: ExpectedToken, where: string): void {
  if (info.manufacturer !== expected.manufacturer || (expected.model !== undefined && info.model !== expected.model)) {
    const wanted = expected.model === undefined ? `"${expected.manufacturer}"` : `"${expected.manufacturer}" / "${expected.model}"`;
    throw new Pkcs11Error(
      'PKCS11_TOKEN_UNEXPECTED',
      `${where} reports manufacturer ${untrustedText(info.manufacturer)} and model ${untrustedText(info.model)}, not ${wanted}; refusing to continue`,
    );
  }
}

/** Flags that make any automatic step unsafe: one more wrong PIN would lock, a PIN is locked, or the token failed. */
const DANGER: readonly [TokenFlag, string][] = [
  [TokenFlag.USER_PIN_FINAL_TRY, 'the user PIN has one try left'],
  [TokenFlag.USER_PIN_LOCKED, 'the user PIN is locked'],
  [TokenFlag.SO_PIN_FINAL_TRY, 'the SO PIN has one try left'],
  [TokenFlag.SO_PIN_LOCKED, 'the SO PIN is locked'],
  [TokenFlag.ERROR_STATE, 'the token reports an error state'],
];

/**
 * The PSF runbook refused to touch an HSM that was locked or one wrong PIN away
 * from locking: on a SmartCard-HSM a locked SO PIN can never be unblocked,
 * so such a device needs a person, not a script.
 */
export function checkSafeState(info: TokenInfo, where: string): void {
  const reasons = DANGER.filter(([flag]) => (info.flags & flag) !== 0).map(([, why]) => why);
  if (reasons.length > 0) {
    throw new Pkcs11Error(
      'PKCS11_TOKEN_DANGEROUS_STATE',
      `${where}: ${reasons.join('; ')}; manual intervention is required before provisioning`,
    );
  }
}
