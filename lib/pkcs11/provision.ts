import { Pkcs11Error } from './errors.ts';
import { NITROKEY_HSM, checkIdentity, checkSafeState, type ExpectedToken } from './identity.ts';
import { paddedLabel } from './label.ts';
import { checkSoPin, checkUserPin } from './pins.ts';
import { TokenFlag, type Token } from './token.ts';
import { checkSerial } from './untrusted.ts';

/**
 * "Provisioning the Nitrokey HSM", steps 4–17 (the PSF runbook's nitrohsm-provision):
 * re-initialize the token with its current SO PIN, set the new SO PIN, set
 * the user PIN, and report the serial number the operator writes down.
 *
 * Written against the Token interface, so the same sequence runs on a real
 * Nitrokey HSM (OpenSC), SoftHSM2 and the simulated SmartCard-HSM. Prompts,
 * the danger banner and typing each new PIN twice belong to the caller; these
 * functions check formats and refuse unsafe tokens before anything happens.
 * `provisionToken` is the whole sequence; `reinitializeToken`, `changeSoPin`
 * and `setUserPin` are its three stages, for a caller that asks for each PIN
 * just before it is used (and asks again when the device refuses one).
 */
export interface ProvisionOptions {
  /** The SO PIN the token has now (step 1: the factory default or the one retained from last time). */
  readonly soPin: string;
  /** The new SO PIN generated in the pre-ceremony (step 10). */
  readonly newSoPin: string;
  /** The new user PIN generated in the pre-ceremony (step 14). */
  readonly userPin: string;
  /** Token label written by C_InitToken (at most 32 bytes, printable); the caller's, e.g. the PSF runbook's "Nitrokey HSM - TUF". */
  readonly label: string;
  /** What the token must report itself to be; default: a Nitrokey HSM through OpenSC. */
  readonly expect?: ExpectedToken;
}

export interface ProvisionResult {
  /** Step 17–18: the serial number the operator writes down and passes to key generation. */
  readonly serial: string;
}

export async function provisionToken(token: Token, options: ProvisionOptions): Promise<ProvisionResult> {
  // Formats first, all of them: a mistyped PIN must not cost one of the
  // device's retries, and a bad new PIN must not be found after the erase.
  checkSoPin(options.soPin, 'current SO PIN');
  checkSoPin(options.newSoPin, 'new SO PIN');
  checkUserPin(options.userPin, 'new user PIN');

  await reinitializeToken(token, options);
  const wiped = 'the token was re-initialized: every key on it is erased';
  await changeSoPinIn(token, options, `${wiped}; the SO PIN is unchanged and the user PIN is not set`);
  return setUserPinIn(token, { soPin: options.newSoPin, userPin: options.userPin }, {
    init: `${wiped}; the new SO PIN is set; the user PIN is not set`,
    confirm: `${wiped}; the new SO PIN and user PIN were set, but the user PIN could not be confirmed`,
  });
}

export interface ReinitializeOptions {
  /** The SO PIN the token has now. */
  readonly soPin: string;
  /** Token label written by C_InitToken (at most 32 bytes, printable). */
  readonly label: string;
  /** What the token must report itself to be; default: a Nitrokey HSM through OpenSC. */
  readonly expect?: ExpectedToken;
}

/**
 * Steps 3–9: check the token, then re-initialize it (C_InitToken, §5.5). A
 * wrong SO PIN fails with PKCS11_CKR_PIN_INCORRECT and changes nothing but
 * the token's count of wrong SO PINs (pin-tries.ts).
 *
 * The serial survives: a SmartCard-HSM's is the chip's own, and SoftHSM2
 * keeps the serial of a token it re-initializes (checked against SoftHSM
 * 2.6: C_InitToken with the right SO PIN on an initialized token works,
 * keeps its serial, erases its objects and unsets the user PIN).
 */
export async function reinitializeToken(token: Token, options: ReinitializeOptions): Promise<ProvisionResult> {
  checkSoPin(options.soPin, 'current SO PIN');
  paddedLabel(options.label); // its form, before the device is touched

  // Steps 3 and 7: exactly this kind of device, and not one PIN away from locking.
  const before = await token.info();
  checkIdentity(before, options.expect ?? NITROKEY_HSM, token.description);
  checkSafeState(before, token.description);
  // The serial goes on the operator's paper and names the products: refuse one that cannot, before erasing anything.
  const serial = checkSerial(before.serial, token.description);

  // Step 8–9: the irreversible part. C_InitToken presents the current SO PIN
  // to the device (a SmartCard-HSM checks it against its initialization
  // code), erases every key and leaves the user PIN to be set.
  await token.initToken(options.soPin, options.label);
  return { serial };
}

export interface ChangeSoPinOptions {
  /** The SO PIN the token has now. */
  readonly soPin: string;
  readonly newSoPin: string;
}

/** Steps 10–12: set a new SO PIN (C_SetPIN in an SO session, §5.5). */
export async function changeSoPin(token: Token, options: ChangeSoPinOptions): Promise<void> {
  checkSoPin(options.soPin, 'current SO PIN');
  checkSoPin(options.newSoPin, 'new SO PIN');
  await changeSoPinIn(token, options, 'the SO PIN is unchanged');
}

async function changeSoPinIn(token: Token, options: ChangeSoPinOptions, state: string): Promise<void> {
  // On a SmartCard-HSM, logging in as SO checks nothing (OpenSC only keeps
  // the PIN for later), so a successful C_Login is no proof; C_SetPIN is the
  // call that verifies the old SO PIN.
  await stage(token, state, async () => {
    await token.login('so', options.soPin);
    await token.setPin(options.soPin, options.newSoPin);
    await token.logout();
  });
}

export interface SetUserPinOptions {
  /** The SO PIN the token has now (after changeSoPin: the new one). */
  readonly soPin: string;
  readonly userPin: string;
}

/**
 * Steps 13–17: set the user PIN (C_InitPIN in an SO session, §5.5), then
 * log in with it to confirm it works, and report the serial.
 */
export async function setUserPin(token: Token, options: SetUserPinOptions): Promise<ProvisionResult> {
  checkSoPin(options.soPin, 'SO PIN');
  checkUserPin(options.userPin, 'new user PIN');
  return setUserPinIn(token, options, {
    init: 'the user PIN was not set',
    confirm: 'the user PIN was set, but could not be confirmed',
  });
}

async function setUserPinIn(token: Token, options: SetUserPinOptions, states: { init: string; confirm: string }): Promise<ProvisionResult> {
  // With the SO PIN the token has now (the PSF runbook logged in again with
  // the new one), set the user PIN. On a SmartCard-HSM C_InitPIN presents the
  // SO PIN to the device (RESET RETRY COUNTER), verifying it.
  await stage(token, states.init, async () => {
    await token.login('so', options.soPin);
    await token.initPin(options.userPin);
    await token.logout();
  });

  // Step 17: confirm the user PIN works before telling the operator it does.
  const after = await stage(token, states.confirm, async () => {
    await token.login('user', options.userPin);
    await token.logout();
    return token.info();
  });
  if ((after.flags & TokenFlag.USER_PIN_INITIALIZED) === 0) {
    throw new Pkcs11Error('PKCS11_CKR_USER_PIN_NOT_INITIALIZED', `${token.description}: ${states.confirm}: it does not report the user PIN as set`, {
      ckr: 'CKR_USER_PIN_NOT_INITIALIZED',
    });
  }
  return { serial: checkSerial(after.serial, token.description) };
}

/**
 * Runs one stage. If it fails, the session is
 * closed and the error keeps its code but says what state the token is in:
 * nothing half-done goes unreported.
 */
async function stage<T>(token: Token, state: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    await token.logout().catch(() => undefined);
    if (err instanceof Pkcs11Error) {
      throw new Pkcs11Error(err.code, `${err.message} (${token.description}: ${state})`, { cause: err, ckr: err.ckr, onToken: err.onToken });
    }
    throw err;
  }
}
