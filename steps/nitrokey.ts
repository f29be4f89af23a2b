/**
 * "Provisioning the Nitrokey HSM": the PSF runbook's nitrohsm-provision and
 * generate-nitrohsm-keys, as steps RUNBOOK.md's blocks call one at a time.
 *
 * The token is reached through the Hardware seam: OpenSC's PKCS#11 module for
 * a real Nitrokey HSM, the simulated SmartCard-HSM or SoftHSM2 in a
 * rehearsal. PINs reach the module in process and nowhere else.
 */
import { NITROKEY, PRODUCT_FILES, ROLES } from '../lib/ceremony.ts';
import { isRunbookError } from '../lib/errors.ts';
import { generateKeyPairs } from '../lib/pkcs11/generate.ts';
import { checkIdentity, checkSafeState } from '../lib/pkcs11/identity.ts';
import { checkSoPin, checkUserPin } from '../lib/pkcs11/pins.ts';
import { pinTries } from '../lib/pkcs11/pin-tries.ts';
import { changeSoPin, reinitializeToken, setUserPin } from '../lib/pkcs11/provision.ts';
import type { Token } from '../lib/pkcs11/token.ts';
import { checkSerial } from '../lib/pkcs11/untrusted.ts';
import type { RunbookContext } from '../lib/runbook/api.ts';
import { Secret, revealSecret } from '../lib/secret.ts';
import type { AskSecret, NitrokeySteps } from './api.ts';
import { NITROKEY_DANGER, showBanner } from './banners.ts';
import { StepError } from './errors.ts';
import { Connections } from './connections.ts';
import type { Hardware } from './hardware.ts';
import { checkWritable, refuseExistingProducts } from './products.ts';
import { SECRET_TRIES, withSecret } from './secrets.ts';

/** The token in hand during one "Provisioning the Nitrokey HSM" call. */
interface Connection {
  readonly token: Token;
  readonly serial: string;
  readonly device: string;
  /** The SO-PIN the token has now: the current one until nitrokey.so-pin, then the new one. Wiped when the call releases the token. */
  soPin: Secret | undefined;
}

/** The device refused a PIN (PKCS#11 v2.40 §5.6: CKR_PIN_INCORRECT). */
function wrongPin(err: unknown): boolean {
  return isRunbookError(err) && err.code === 'PKCS11_CKR_PIN_INCORRECT';
}

/** Why a PIN cannot have the form the device needs, or undefined. */
function formProblem(check: (pin: string) => void, pin: string): string | undefined {
  try {
    check(pin);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : 'wrong form';
  }
}

export function nitrokeySteps(ctx: RunbookContext<object>, hardware: Hardware): NitrokeySteps {
  const connections = new Connections<Connection>(ctx, async (c) => {
    c.soPin?.wipe();
    await c.token.close().catch(() => undefined);
  });
  const holding = <T>(work: (c: Connection) => Promise<T>): Promise<T> => connections.using(work);

  /**
   * After the device refused a PIN: tells the operator how many tries are
   * left, counted from the device's retry counter and confirmed by its flags,
   * and stops before the last one, which the runbook never spends.
   */
  const pinRefused = async (c: Connection, which: 'user' | 'so', refusals: number): Promise<void> => {
    const state = pinTries(await c.token.info(), which);
    if (state === 'final-try' || state === 'locked') {
      const name = which === 'user' ? 'user PIN' : 'SO-PIN';
      const consequence = which === 'user' ? 'The SO can unblock the user PIN; then perform this step again' : 'A locked SO-PIN can never be unblocked';
      throw new StepError(
        'STEP_SECRET_REFUSED',
        `${c.device} refused the ${name} and has ${state === 'locked' ? 'locked it' : 'one try left'}; the runbook will not spend the last try. ${consequence}`,
      );
    }
    if (which === 'user') {
      // The counter was reset when nitrokey.user-pin set the PIN: this run's refusals are all of them.
      ctx.note(`The HSM did not accept that user PIN: ${Math.max(NITROKEY.userPinTries - refusals, 2)} tries left before it locks. Type it again.`);
    } else {
      // Wrong SO-PINs from before this ceremony count too, and PKCS#11 does not tell how many there were.
      ctx.note(`The HSM did not accept that SO-PIN. It locks for good after ${NITROKEY.soPinTries} wrong SO-PINs in all, and is not on its last yet. Type it again.`);
    }
  };

  return {
    async warn() {
      await showBanner(ctx, NITROKEY_DANGER);
    },

    async connect() {
      await connections.release();
      const token = await hardware.openNitrokey();
      try {
        const info = await token.info();
        checkIdentity(info, hardware.nitrokeyIdentity, token.description);
        checkSafeState(info, token.description);
        const serial = checkSerial(info.serial, token.description);
        const device = `${ctx.hsm.id} (Nitrokey HSM serial ${serial})`;
        const planned = ctx.hsm.serial;
        if (planned !== undefined && planned !== serial) {
          throw new StepError('STEP_SERIAL_MISMATCH', `the token present reports serial ${serial}, but the front matter lists serial ${planned} for ${ctx.hsm.id}; is it the right device?`);
        }
        await refuseExistingProducts(ctx.productsDir, 'nitrokey-hsm', serial, device);
        await checkWritable(ctx.productsDir, device);
        await connections.hold({ token, serial, device, soPin: undefined });
        ctx.values.set('serial', serial);
        ctx.say(`Successfully discovered a Nitrokey HSM with serial number ${serial}`);
      } catch (err) {
        await token.close().catch(() => undefined);
        throw err;
      }
    },

    async reset(askCurrentSoPin: AskSecret) {
      await holding(async (c) => {
        c.soPin = await withSecret(askCurrentSoPin, {
          device: c.device,
          what: 'the current SO-PIN',
          invalid: (pin) => formProblem((p) => checkSoPin(p, 'an SO-PIN'), pin),
          onInvalid: (why) => ctx.note(`${why}. Type it again.`),
          refused: wrongPin,
          onRefused: (refusals) => pinRefused(c, 'so', refusals),
          use: async (pin) => {
            await reinitializeToken(c.token, { soPin: pin, label: NITROKEY.tokenLabel, expect: hardware.nitrokeyIdentity });
            return Secret.of(pin);
          },
        });
        ctx.say('Success! Reinitialized the HSM.');
      });
    },

    async setSoPin(ask: AskSecret) {
      await holding(async (c) => {
        const current = c.soPin;
        if (!current) throw new StepError('STEP_NOT_CONNECTED', `${c.device}: the SO-PIN is set after the token is re-initialized (nitrokey.reset)`);
        c.soPin = await withSecret(ask, {
          device: c.device,
          what: 'the new SO-PIN',
          invalid: (pin) => formProblem((p) => checkSoPin(p, 'the new SO-PIN'), pin),
          onInvalid: (why) => ctx.note(`${why}. Type it again.`),
          refused: () => false,
          onRefused: () => undefined,
          use: async (pin) => {
            await revealSecret(current, (old) => changeSoPin(c.token, { soPin: old, newSoPin: pin }));
            return Secret.of(pin);
          },
        });
        current.wipe();
      });
    },

    async setUserPin(ask: AskSecret) {
      await holding(async (c) => {
        const soPin = c.soPin;
        if (!soPin) throw new StepError('STEP_NOT_CONNECTED', `${c.device}: the user PIN is set after the SO-PIN (nitrokey.so-pin)`);
        await withSecret(ask, {
          device: c.device,
          what: 'the new user PIN',
          invalid: (pin) => formProblem((p) => checkUserPin(p, 'the user PIN'), pin),
          onInvalid: (why) => ctx.note(`${why}. Type it again.`),
          refused: () => false,
          onRefused: () => undefined,
          use: (pin) => revealSecret(soPin, (so) => setUserPin(c.token, { soPin: so, userPin: pin })),
        });
        soPin.wipe();
        c.soPin = undefined;
        ctx.say("Success! We've reinitialized the Nitrokey with a new SO PIN and user PIN.");
        ctx.say(`Use this serial number when doing key generation: ${c.serial}`);
      });
    },

    async noteSerial() {
      const c = connections.current();
      for (let attempt = 1; ; attempt++) {
        const written = await ctx.input(`Serial number of ${ctx.hsm.id} as you wrote it down`, { name: 'serial' });
        if (written.trim() === c.serial) return;
        if (attempt >= SECRET_TRIES) {
          throw new StepError('STEP_SERIAL_MISMATCH', `${c.device}: the serial written down (${written.trim()}) is not the device's, ${attempt} times`);
        }
        ctx.note(`That is not the serial the device reports. Compare the sheet with the screen and type it again.`);
      }
    },

    async createKeys(askUserPin: AskSecret) {
      await holding(async (c) => {
        // Checked again just before keys are made: nothing may have appeared
        // since nitrokey.connect, and a key is never made that cannot be published.
        await refuseExistingProducts(ctx.productsDir, 'nitrokey-hsm', c.serial, c.device);
        const curve = ctx.hsm.keyType;
        const generated = await withSecret(askUserPin, {
          device: c.device,
          what: 'the user PIN',
          invalid: (pin) => formProblem((p) => checkUserPin(p, 'the user PIN'), pin),
          onInvalid: (why) => ctx.note(`${why}. Type it again.`),
          refused: wrongPin,
          onRefused: (refusals) => pinRefused(c, 'user', refusals),
          use: (userPin) =>
            generateKeyPairs(c.token, {
              userPin,
              curve,
              expect: hardware.nitrokeyIdentity,
              keys: ROLES.map((role) => ({ role, id: Uint8Array.of(NITROKEY.keys[role].id), label: NITROKEY.keys[role].label })),
            }),
        });
        for (const key of generated.keys) {
          const role = ROLES.find((r) => r === key.role);
          if (!role) continue;
          await ctx.writeProduct(PRODUCT_FILES.publicKey(c.serial, role), key.spki);
          await ctx.writeProduct(PRODUCT_FILES.pem(c.serial, role), key.pem);
        }
        await connections.release();
      });
    },

    label() {
      ctx.say(`Label the bag: ${ctx.hsm.id}, serial ${ctx.values.string('serial')}`);
    },
  };
}
