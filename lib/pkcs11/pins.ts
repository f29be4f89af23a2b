import { Pkcs11Error } from './errors.ts';

/**
 * PIN formats of the SmartCard-HSM inside a Nitrokey HSM, checked before a
 * PIN reaches the device so that a typing slip never costs one of its few
 * retries. Asking twice for confirmation is the caller's job; these checks
 * are the device's rules. Messages describe the rule, never the value typed.
 */

/**
 * The SO PIN is the device's 8-byte initialization code written as exactly 16
 * hexadecimal digits (OpenSC encodes it two digits to a byte; the PSF runbook's
 * nitrohsm-provision validated `^[[:xdigit:]]{16}$`).
 */
export function checkSoPin(pin: string, which = 'SO PIN'): void {
  if (!/^[0-9A-Fa-f]{16}$/.test(pin)) {
    throw new Pkcs11Error('PKCS11_PIN_FORMAT', `the ${which} must be exactly 16 hexadecimal digits`);
  }
}

/** User PIN length bounds on the SmartCard-HSM (OpenSC's PKCS#15 emulation: 6 to 15 characters). */
export const USER_PIN_MIN = 6;
export const USER_PIN_MAX = 15;

/** The user PIN: 6 to 15 printable ASCII characters (a PIN is typed on a keyboard, and counted in bytes). */
export function checkUserPin(pin: string, which = 'user PIN'): void {
  if (!/^[\x21-\x7e]*$/.test(pin)) {
    throw new Pkcs11Error('PKCS11_PIN_FORMAT', `the ${which} must be printable ASCII without spaces`);
  }
  if (pin.length < USER_PIN_MIN || pin.length > USER_PIN_MAX) {
    throw new Pkcs11Error('PKCS11_PIN_FORMAT', `the ${which} must be ${USER_PIN_MIN} to ${USER_PIN_MAX} characters long`);
  }
}
