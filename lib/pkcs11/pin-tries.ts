import { TokenFlag, type TokenInfo, type UserType } from './token.ts';

/**
 * How a PIN stands after wrong tries, as the token reports it, so that a
 * caller can ask again for a PIN the device refused (CKR_PIN_INCORRECT) and
 * warn before the try that would lock it.
 *
 * - `ok`: the token reports no wrong try since the last success.
 * - `count-low`: at least one wrong try since the last success
 *   (CKF_USER_PIN_COUNT_LOW / CKF_SO_PIN_COUNT_LOW).
 * - `final-try`: one more wrong try locks the PIN (CKF_*_PIN_FINAL_TRY).
 * - `locked`: the PIN is locked (CKF_*_PIN_LOCKED).
 *
 * PKCS#11 v2.40 §3.2 (CK_TOKEN_INFO) makes these flags optional: a token
 * that does not keep count reports nothing, so `ok` means "no warning
 * reported", never "every try left". SoftHSM2 sets COUNT_LOW after a wrong
 * PIN and never FINAL_TRY or LOCKED (it does not lock); OpenSC reports all
 * three for the user PIN of a SmartCard-HSM and nothing for its SO PIN
 * (lib/pkcs11/simulator/smartcard-hsm.ts). When a token sets more than one,
 * the most severe wins.
 */
export type PinTries = 'ok' | 'count-low' | 'final-try' | 'locked';

const FLAGS: Record<UserType, { readonly low: TokenFlag; readonly final: TokenFlag; readonly locked: TokenFlag }> = {
  user: { low: TokenFlag.USER_PIN_COUNT_LOW, final: TokenFlag.USER_PIN_FINAL_TRY, locked: TokenFlag.USER_PIN_LOCKED },
  so: { low: TokenFlag.SO_PIN_COUNT_LOW, final: TokenFlag.SO_PIN_FINAL_TRY, locked: TokenFlag.SO_PIN_LOCKED },
};

/** The state of the user's or the SO's PIN in `info` (read it fresh: the flags change with every try). */
export function pinTries(info: TokenInfo, user: UserType): PinTries {
  const flags = FLAGS[user];
  if ((info.flags & flags.locked) !== 0) return 'locked';
  if ((info.flags & flags.final) !== 0) return 'final-try';
  if ((info.flags & flags.low) !== 0) return 'count-low';
  return 'ok';
}
