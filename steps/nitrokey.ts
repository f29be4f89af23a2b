/**
 * "Provisioning the Nitrokey HSM": the PSF runbook's nitrohsm-provision and
 * generate-nitrohsm-keys, as steps RUNBOOK.md's blocks call one at a time.
 *
 * The token is reached through the Hardware seam: OpenSC's PKCS#11 module for
 * a real Nitrokey HSM, the simulated SmartCard-HSM or SoftHSM2 in a
 * rehearsal. PINs reach the module in process and nowhere else.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NITROKEY, PRODUCT_FILES, ROLES, type Role } from '../lib/ceremony.ts';
import { attestedKeySpki, verifyKeyAttestation } from '../lib/cvc/index.ts';
import { isRunbookError } from '../lib/errors.ts';
import { spkiFromPoint } from '../lib/keys.ts';
import { AttestationReadError, type AttestationMaterial, type AttestationReader, type KeyRequest } from '../lib/pkcs11/attestation.ts';
import { curveOfParams, decodeEcPoint } from '../lib/pkcs11/ec-point.ts';
import { generateKeyPairs } from '../lib/pkcs11/generate.ts';
import { checkIdentity, checkSafeState } from '../lib/pkcs11/identity.ts';
import { checkSoPin, checkUserPin } from '../lib/pkcs11/pins.ts';
import { pinTries } from '../lib/pkcs11/pin-tries.ts';
import { changeSoPin, reinitializeToken, setUserPin } from '../lib/pkcs11/provision.ts';
import type { Token } from '../lib/pkcs11/token.ts';
import { checkSerial } from '../lib/pkcs11/untrusted.ts';
import { refuseExistingProduct } from '../lib/products/write.ts';
import type { RunbookContext } from '../lib/runbook/api.ts';
import { Secret, revealSecret } from '../lib/secret.ts';
import type { AskSecret, NitrokeySteps } from './api.ts';
import { NITROKEY_DANGER, showBanner } from './banners.ts';
import { StepError } from './errors.ts';
import { Connections } from './connections.ts';
import { isRehearsal, type Hardware } from './hardware.ts';
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

    async canAttest() {
      if (!hardware.nitrokeyAttestation) return false;
      const token = await hardware.openNitrokey();
      try {
        return hardware.nitrokeyAttestation(token) !== undefined;
      } finally {
        await token.close().catch(() => undefined);
      }
    },

    async attest() {
      // After nitrokey.keys released the token: the device in hand must still be the one whose keys were made.
      const attested = await attestNitrokey({
        hardware,
        serial: ctx.values.string('serial'),
        describe: (serial) => `${ctx.hsm.id} (Nitrokey HSM serial ${serial})`,
        productsDir: ctx.productsDir,
        write: (file, bytes) => ctx.writeProduct(file, bytes),
      });
      const ref = (role: Role) => attested.keys.find((k) => k.role === role)?.keyReference ?? '?';
      ctx.say(`The device signed the root key (key reference ${ref('root')}) and the targets key (key reference ${ref('targets')}); both attestations verify.`);
    },

    label() {
      ctx.say(`Label the bag: ${ctx.hsm.id}, serial ${ctx.values.string('serial')}`);
    },
  };
}

export interface AttestNitrokeyOptions {
  readonly hardware: Hardware;
  /** The serial the token must report; undefined: the one token present, whatever its serial (`runbook nitrokey attest`). */
  readonly serial?: string;
  /** The device, for messages, named from its serial. */
  readonly describe: (serial: string) => string;
  /** The products directory: each key's `.pub` must be there and be the token's key, and no attestation product may be there yet. */
  readonly productsDir: string;
  /** Writes one product (a path relative to `productsDir`, as PRODUCT_FILES names it), never over an existing file. */
  readonly write: (file: string, bytes: Uint8Array) => Promise<unknown>;
  /** When the chain must be valid; default now. */
  readonly at?: Date;
}

/** What `attestNitrokey` read, checked and wrote. */
export interface NitrokeyAttestations {
  readonly serial: string;
  readonly device: string;
  /** For each role, the card's key reference whose EF CE attests its key. */
  readonly keys: readonly { readonly role: Role; readonly keyReference: number }[];
  /** The products written, relative to the products directory. */
  readonly files: readonly string[];
}

/**
 * A Nitrokey HSM's key attestations, read, matched, checked and written:
 * nitrokey.attest in a ceremony, and `runbook nitrokey attest` for a device
 * provisioned earlier. No PIN is asked and nothing on the device changes:
 * the public keys are public objects (PKCS#11 §4.4), and EF 2F02 and EF CE
 * are read without one.
 *
 * 1. The one token present, checked to be a Nitrokey HSM (and the one of
 *    `serial`); the public keys of CKA_ID 0x12 and 0x13 (NITROKEY.keys); the
 *    token is closed before the files are read (sc-hsm-tool reaches the card
 *    on its own).
 * 2. Each key must be the one the products publish: its `.pub` is there and holds it.
 * 3. The requests are read until both keys have one, and matched by the key
 *    each attests: key references are the card's numbering, not CKA_IDs.
 * 4. Each is verified to the pinned scheme root (lib/cvc): device
 *    certificate, outer signature by the device, inner self-signature, the
 *    attested key, and the serial derived from the device's CHR.
 * 5. EF 2F02 and both requests are written, as they were read.
 */
export async function attestNitrokey(options: AttestNitrokeyOptions): Promise<NitrokeyAttestations> {
  const { hardware } = options;
  const token = await hardware.openNitrokey();
  let serial: string;
  let device: string;
  let reader: AttestationReader | undefined;
  const keys: { role: Role; id: number; spki: Uint8Array; key: KeyObject }[] = [];
  try {
    const info = await token.info();
    checkIdentity(info, hardware.nitrokeyIdentity, token.description);
    serial = checkSerial(info.serial, token.description);
    device = options.describe(serial);
    if (options.serial !== undefined && options.serial !== serial) {
      throw new StepError(
        'STEP_SERIAL_MISMATCH',
        `${options.describe(options.serial)}: the token present, ${token.description}, reports serial ${serial}; is it the right device? Nothing was read`,
      );
    }
    reader = hardware.nitrokeyAttestation?.(token);
    if (!reader) throw new StepError('STEP_ATTESTATION_UNSUPPORTED', `${device}: ${token.description} cannot attest its keys (only a SmartCard-HSM can)`);
    for (const role of ROLES) {
      const { id } = NITROKEY.keys[role];
      try {
        const { ecParams, ecPoint } = await token.publicKey(Uint8Array.of(id));
        const curve = curveOfParams(ecParams);
        const spki = spkiFromPoint(curve, decodeEcPoint(curve, ecPoint));
        keys.push({ role, id, spki, key: publicKeyOf(spki) });
      } catch (err) {
        throw new StepError('STEP_ATTESTATION_KEY_MISMATCH', `${device}: no ${role} key (CKA_ID ${hexId(id)}) can be read from the token: ${messageOf(err)}`, { cause: err });
      }
    }
  } finally {
    await token.close().catch(() => undefined);
  }

  const files = [PRODUCT_FILES.deviceAuthentication(serial), ...ROLES.map((role) => PRODUCT_FILES.nitrokeyAttestation(serial, role))];
  for (const file of files) {
    try {
      await refuseExistingProduct(join(options.productsDir, file));
    } catch (err) {
      throw new StepError('STEP_PRODUCTS_EXIST', `${device}: ${messageOf(err)}; no attestation was read`, { cause: err });
    }
  }
  for (const k of keys) await checkPublished(options.productsDir, serial, device, k);

  // Each request's attested key, worked out once; one this verifier cannot read attests none of ours.
  const attestedKeys = new Map<KeyRequest, KeyObject | undefined>();
  const attestedBy = (r: KeyRequest): KeyObject | undefined => {
    if (!attestedKeys.has(r)) {
      let key: KeyObject | undefined;
      try {
        key = publicKeyOf(attestedKeySpki(r.request));
      } catch {
        key = undefined;
      }
      attestedKeys.set(r, key);
    }
    return attestedKeys.get(r);
  };
  const requestFor = (requests: readonly KeyRequest[], key: KeyObject) => requests.find((r) => attestedBy(r)?.equals(key) === true);

  let material: AttestationMaterial | undefined;
  try {
    material = await reader.read({ enough: (requests) => keys.every((k) => requestFor(requests, k.key) !== undefined) });
  } catch (err) {
    if (err instanceof AttestationReadError) {
      throw new StepError('STEP_ATTESTATION_UNREADABLE', `${device}: its attestations cannot be read through ${reader.description}: ${err.message} [${err.code}]`, { cause: err });
    }
    throw err;
  }
  if (!material) throw new StepError('STEP_ATTESTATION_UNSUPPORTED', `${device}: ${reader.description} finds nothing to attest with on this token`);

  const matched: { role: Role; request: KeyRequest }[] = [];
  for (const k of keys) {
    const request = requestFor(material.requests, k.key);
    if (!request) {
      const found = material.requests.map((r) => r.keyReference).join(', ') || 'none';
      throw new StepError(
        'STEP_ATTESTATION_MISSING',
        `${device}: no request on the device attests the ${k.role} key (CKA_ID ${hexId(k.id)}); requests were found at key references: ${found}. ` +
          'A key imported rather than generated, or one whose certificate file was written over, has none',
      );
    }
    try {
      verifyKeyAttestation({
        devaut: material.devaut,
        request: request.request,
        publicKey: k.spki,
        serial,
        allowSimulated: isRehearsal(hardware),
        ...(options.at === undefined ? {} : { at: options.at }),
      });
    } catch (err) {
      const code = isRunbookError(err) ? ` [${err.code}]` : '';
      throw new StepError('STEP_ATTESTATION_INVALID', `${device}: the attestation of the ${k.role} key (key reference ${request.keyReference}) does not verify: ${messageOf(err)}${code}`, {
        cause: err,
      });
    }
    matched.push({ role: k.role, request });
  }

  await options.write(PRODUCT_FILES.deviceAuthentication(serial), material.devaut);
  for (const { role, request } of matched) await options.write(PRODUCT_FILES.nitrokeyAttestation(serial, role), request.request);
  return { serial, device, keys: matched.map(({ role, request }) => ({ role, keyReference: request.keyReference })), files };
}

/** A DER SubjectPublicKeyInfo as a key, to compare keys rather than encodings. */
function publicKeyOf(spki: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
}

/**
 * The key's `.pub` product must be there and hold the token's key: an
 * attestation is written beside the key it attests, and one of another key
 * would prove nothing about the published one.
 */
async function checkPublished(productsDir: string, serial: string, device: string, k: { role: Role; id: number; key: KeyObject }): Promise<void> {
  const file = PRODUCT_FILES.publicKey(serial, k.role);
  let bytes: Buffer;
  try {
    bytes = await readFile(join(productsDir, file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new StepError('STEP_PRODUCTS_MISSING', `${device}: ${file} is not in ${productsDir}; attestations are written beside the keys they attest. Is it the right products directory?`, {
        cause: err,
      });
    }
    throw new StepError('STEP_ATTESTATION_KEY_MISMATCH', `${device}: ${file} cannot be read: ${messageOf(err)}`, { cause: err });
  }
  let published: KeyObject | undefined;
  try {
    published = publicKeyOf(bytes);
  } catch {
    published = undefined;
  }
  if (published?.equals(k.key) !== true) {
    throw new StepError('STEP_ATTESTATION_KEY_MISMATCH', `${device}: ${file} is not the ${k.role} key on the token (CKA_ID ${hexId(k.id)}); nothing was read from the device`);
  }
}

function hexId(id: number): string {
  return id.toString(16).padStart(2, '0');
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
