import { Pkcs11Error } from './errors.ts';
import { NITROKEY_HSM, checkIdentity, checkSafeState, type ExpectedToken } from './identity.ts';
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
 * the danger banner and typing each new PIN twice belong to the caller; this
 * function checks formats and refuses unsafe tokens before anything happens.
 */
export interface ProvisionOptions {
  /** The SO PIN the token has now (step 1: the factory default or the one retained from last time). */
  readonly soPin: string;
  /** The new SO PIN generated in the pre-ceremony (step 10). */
  readonly newSoPin: string;
  /** The new user PIN generated in the pre-ceremony (step 14). */
  readonly userPin: string;
  /** Token label written by C_InitToken; the PSF runbook's was "Nitrokey HSM - TUF". */
  readonly label?: string;
  /** What the token must report itself to be; default: a Nitrokey HSM through OpenSC. */
  readonly expect?: ExpectedToken;
}

export interface ProvisionResult {
  /** Step 17–18: the serial number the operator writes down and passes to key generation. */
  readonly serial: string;
}

export const DEFAULT_LABEL = 'Nitrokey HSM - TUF';

export async function provisionToken(token: Token, options: ProvisionOptions): Promise<ProvisionResult> {
  const label = options.label ?? DEFAULT_LABEL;
  // Formats first: a mistyped PIN must not cost one of the device's retries.
  checkSoPin(options.soPin, 'current SO PIN');
  checkSoPin(options.newSoPin, 'new SO PIN');
  checkUserPin(options.userPin, 'new user PIN');

  // Steps 3 and 7: exactly this kind of device, and not one PIN away from locking.
  const before = await token.info();
  checkIdentity(before, options.expect ?? NITROKEY_HSM, token.description);
  checkSafeState(before, token.description);
  // The serial goes on the operator's paper and names the products: refuse one that cannot, before erasing anything.
  checkSerial(before.serial, token.description);

  // Step 8–9: the irreversible part. C_InitToken presents the current SO PIN
  // to the device (a SmartCard-HSM checks it against its initialization
  // code), erases every key and leaves the user PIN to be set.
  await token.initToken(options.soPin, label);
  const wiped = 'the token was re-initialized: every key on it is erased';

  // Steps 10–12: set the new SO PIN. On a SmartCard-HSM, logging in as SO
  // checks nothing (OpenSC only keeps the PIN for later), so a successful
  // C_Login is no proof; C_SetPIN is the call that verifies the old SO PIN.
  await stage(token, `${wiped}; the SO PIN is unchanged and the user PIN is not set`, async () => {
    await token.login('so', options.soPin);
    await token.setPin(options.soPin, options.newSoPin);
    await token.logout();
  });

  // Steps 13–16: with the new SO PIN (the PSF runbook logged in again with it),
  // set the user PIN. On a SmartCard-HSM C_InitPIN presents the SO PIN to the
  // device again (RESET RETRY COUNTER), verifying the new one took.
  await stage(token, `${wiped}; the new SO PIN is set; the user PIN is not set`, async () => {
    await token.login('so', options.newSoPin);
    await token.initPin(options.userPin);
    await token.logout();
  });

  // Step 17: confirm the user PIN works before telling the operator it does.
  const after = await stage(token, `${wiped}; the new SO PIN and user PIN were set, but the user PIN could not be confirmed`, async () => {
    await token.login('user', options.userPin);
    await token.logout();
    return token.info();
  });
  if ((after.flags & TokenFlag.USER_PIN_INITIALIZED) === 0) {
    throw new Pkcs11Error('PKCS11_CKR_USER_PIN_NOT_INITIALIZED', `${token.description}: ${wiped}, but it does not report the user PIN as set`, {
      ckr: 'CKR_USER_PIN_NOT_INITIALIZED',
    });
  }
  return { serial: checkSerial(after.serial, token.description) };
}

/**
 * Runs one stage after the re-initialization. If it fails, the session is
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
