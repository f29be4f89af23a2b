/**
 * "Provisioning the YubiHSM 2": the PSF runbook's yubihsm-provision and
 * raw-ec-points-to-pem, as steps RUNBOOK.md's blocks call one at a time.
 *
 * The device is reached through the Hardware seam, so the same code drives a
 * real YubiHSM 2 (USB or yubihsm-connector) and the simulator. Every fact
 * (object ids, labels, domains, capabilities, file names) comes from
 * lib/ceremony.ts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PRODUCT_FILES, ROLES, SERIALS, YUBIHSM, paddedYubiHsmSerial } from '../lib/ceremony.ts';
import { isRunbookError } from '../lib/errors.ts';
import { pemFromPoint, uncompressedPoint } from '../lib/keys.ts';
import type { RunbookContext } from '../lib/runbook/api.ts';
import type { YubiHsmClient, YubiHsmSession } from '../lib/yubihsm/client.ts';
import { ObjectType } from '../lib/yubihsm/protocol/objects.ts';
import { waitForDevice } from '../lib/yubihsm/wait.ts';
import type { AskSecret, YubiHsmSteps } from './api.ts';
import { AUTH_KEY_NOTICE, YUBIHSM_DANGER, showBanner } from './banners.ts';
import { StepError } from './errors.ts';
import { Connections } from './connections.ts';
import type { Hardware } from './hardware.ts';
import { checkWritable, refuseExistingProducts } from './products.ts';
import { withSecret } from './secrets.ts';

/** The device in hand during one "Provisioning the YubiHSM 2" call. */
interface Connection {
  client: YubiHsmClient;
  /** The open session: the factory key's until yubihsm.authkey, then the new key's. */
  session: YubiHsmSession | undefined;
  /** The serial, 10 digits. */
  readonly serial: string;
  /** Names the device in messages: the signing body ID and serial. */
  readonly device: string;
}

/** A password the device refused: the session's cryptograms did not verify. */
function wrongPassword(err: unknown): boolean {
  return isRunbookError(err) && (err.code === 'YUBIHSM_CARD_CRYPTOGRAM_MISMATCH' || err.code === 'YUBIHSM_DEVICE_AUTH_FAIL');
}

export function yubihsmSteps(ctx: RunbookContext<object>, hardware: Hardware): YubiHsmSteps {
  const connections = new Connections<Connection>(ctx, async (c) => {
    await c.session?.close().catch(() => undefined);
    await c.client.close().catch(() => undefined);
  });
  /** Runs `work` on the device; on failure it is released, so the step can be performed again from yubihsm.connect. */
  const holding = <T>(work: (c: Connection) => Promise<T>): Promise<T> => connections.using(work);

  return {
    async noteSerial() {
      const { yubihsmPrinted } = SERIALS;
      const printed = await ctx.input(`Serial number printed on ${ctx.hsm.id}`, {
        name: 'serial',
        pattern: yubihsmPrinted.pattern,
        description: yubihsmPrinted.description,
      });
      const serial = paddedYubiHsmSerial(printed);
      const planned = ctx.hsm.serial;
      if (planned !== undefined && paddedYubiHsmSerial(planned) !== serial) {
        throw new StepError('STEP_SERIAL_MISMATCH', `${ctx.hsm.id}: the casing reads ${serial}, but the front matter lists serial ${paddedYubiHsmSerial(planned)} for it`);
      }
      ctx.values.set('serial', serial);
      return serial;
    },

    async warn() {
      await showBanner(ctx, YUBIHSM_DANGER);
    },

    async connect() {
      await connections.release();
      const noted = ctx.values.string('serial');
      const client = await hardware.openYubiHsm();
      try {
        const info = await client.getDeviceInfo();
        const serial = paddedYubiHsmSerial(info.serial);
        const device = `${ctx.hsm.id} (YubiHSM 2 serial ${serial})`;
        ctx.say(`Discovered a Yubico YubiHSM with serial number ${serial}`);
        if (serial !== noted) {
          throw new StepError(
            'STEP_SERIAL_MISMATCH',
            `the YubiHSM 2 plugged in reports serial ${serial}, but the serial written down for ${ctx.hsm.id} is ${noted}; is it the right device?`,
          );
        }
        await refuseExistingProducts(ctx.productsDir, 'yubihsm2', serial, device);
        await checkWritable(ctx.productsDir, device);
        const session = await openFactorySession(client, device);
        await connections.hold({ client, session, serial, device });
        ctx.say("We've successfully authenticated with the HSM!");
      } catch (err) {
        await client.close().catch(() => undefined);
        throw err;
      }
    },

    async reset() {
      await holding(async (c) => {
        const session = c.session;
        if (!session) throw new StepError('STEP_NOT_CONNECTED', `${c.device}: no session to reset the device through`);
        await session.resetDevice();
        c.session = undefined;
        ctx.say('Success! Waiting for the HSM to come back online...');
        // The device drops off and comes back (over USB it enumerates again):
        // reach it afresh, as often as it takes, rather than sleep a guess.
        await c.client.close().catch(() => undefined);
        const back = await waitForDevice(() => hardware.openYubiHsm(), { signal: ctx.signal, device: c.device });
        c.client = back.client;
        const serial = paddedYubiHsmSerial(back.info.serial);
        if (serial !== c.serial) {
          throw new StepError('STEP_SERIAL_MISMATCH', `${c.device}: after the reset, the YubiHSM 2 that answers reports serial ${serial}`);
        }
        c.session = await openFactorySession(c.client, c.device);
        ctx.say('The HSM is back online.');
      });
    },

    async authKeyWarning() {
      await showBanner(ctx, AUTH_KEY_NOTICE, 'the device is reset and still has its factory key');
    },

    async replaceAuthKey(ask: AskSecret) {
      await holding(async (c) => {
        const factory = c.session;
        if (!factory) throw new StepError('STEP_NOT_CONNECTED', `${c.device}: no factory session to create the key through`);
        const key = YUBIHSM.authKey;
        // The new key's first session proves the password took before the
        // factory key, the only other way in, is deleted.
        const session = await withSecret(ask, {
          device: c.device,
          what: 'the new authentication key password',
          refused: () => false,
          onRefused: () => undefined,
          onInvalid: (why) => ctx.note(`That password cannot be used: ${why}. Type it again.`),
          invalid: (value) => (value.length === 0 ? 'it is empty' : undefined),
          use: async (password) => {
            await factory.putAuthenticationKey({
              id: key.id,
              label: key.label,
              domains: key.domains,
              capabilities: key.capabilities,
              delegatedCapabilities: key.delegatedCapabilities,
              credentials: { password },
            });
            return c.client.openSession(key.id, { password });
          },
        });
        await factory.close();
        c.session = session;
        await session.deleteObject(YUBIHSM.factoryAuthKey.id, ObjectType.AuthenticationKey);
        ctx.say(`Success! Provisioned a new authentication key as object ${key.id} and deleted the default key`);
      });
    },

    async createKeys(ask: AskSecret) {
      await holding(async (c) => {
        // As the PSF's program did: a fresh session with the new key, which
        // also proves the operator can type the password that is sealed away.
        await c.session?.close();
        c.session = undefined;
        c.session = await withSecret(ask, {
          device: c.device,
          what: 'the authentication key password',
          refused: wrongPassword,
          onRefused: () => ctx.note('The HSM did not accept that password. Type it again.'),
          onInvalid: (why) => ctx.note(`That password cannot be right: ${why}. Type it again.`),
          use: (password) => c.client.openSession(YUBIHSM.authKey.id, { password }),
        });
        const session = c.session;
        ctx.say('Success!');
        ctx.say("We're creating our TUF keys and attestation certificates now.");
        const curve = ctx.hsm.keyType;
        const made = [];
        for (const role of ROLES) {
          const fact = YUBIHSM.keys[role];
          await session.generateEcKey({
            id: fact.id,
            label: fact.label,
            domains: YUBIHSM.keyDomains,
            capabilities: YUBIHSM.keyCapabilities,
            curve,
          });
          const key = await session.getPublicKey(fact.id);
          if (key.curve !== curve) {
            throw new StepError('STEP_PRODUCTS_INVALID', `${c.device}: the ${role} key came out on ${key.curve ?? `algorithm ${key.algorithm}`}, not ${curve}`);
          }
          made.push({ role, point: uncompressedPoint(curve, key.point), attestation: await session.signAttestationCertificate(fact.id) });
        }
        const deviceCertificate = await session.getDeviceCertificate();
        await ctx.writeProduct(PRODUCT_FILES.deviceCertificate(c.serial), deviceCertificate);
        for (const key of made) {
          await ctx.writeProduct(PRODUCT_FILES.attestation(c.serial, key.role), key.attestation);
          // The raw uncompressed point, as the PSF's 2020 products hold it.
          await ctx.writeProduct(PRODUCT_FILES.publicKey(c.serial, key.role), key.point);
        }
        await connections.release();
      });
    },

    async writePem() {
      const serial = ctx.values.string('serial');
      const curve = ctx.hsm.keyType;
      for (const role of ROLES) {
        // From the file just published, as raw-ec-points-to-pem read it: the
        // PEM is of what is on disk.
        const point = await readFile(join(ctx.productsDir, PRODUCT_FILES.publicKey(serial, role)));
        await ctx.writeProduct(PRODUCT_FILES.pem(serial, role), pemFromPoint(curve, point));
      }
    },

    label() {
      ctx.say(`Label the bag: ${ctx.hsm.id}, serial ${ctx.values.string('serial')}`);
    },
  };
}

/** A session with the factory key; a device that refuses it was provisioned before and must be reset by hand. */
async function openFactorySession(client: YubiHsmClient, device: string): Promise<YubiHsmSession> {
  try {
    return await client.openSession(YUBIHSM.factoryAuthKey.id, { password: YUBIHSM.factoryAuthKey.password });
  } catch (err) {
    if (wrongPassword(err) || (isRunbookError(err) && err.code === 'YUBIHSM_DEVICE_OBJECT_NOT_FOUND')) {
      throw new StepError(
        'STEP_NOT_FACTORY_STATE',
        `${device} does not accept the factory authentication key: it was provisioned before. Reset it by hand (touch the contact while plugging it in), then perform this step again`,
        { cause: err },
      );
    }
    throw err;
  }
}
