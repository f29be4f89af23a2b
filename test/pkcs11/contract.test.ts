// The Token contract: one suite, run against SoftHSM2 (a real PKCS#11
// implementation, through the pkcs11js driver) and the simulated
// SmartCard-HSM. What passes here holds for both, so provisioning code
// written against Token behaves the same on either.
import { createHash, randomBytes, verify } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeEcPoint } from '../../lib/pkcs11/ec-point.ts';
import { ckrError, type Pkcs11Error } from '../../lib/pkcs11/errors.ts';
import { CEREMONY_KEYS, generateCeremonyKeys, productPaths } from '../../lib/pkcs11/generate.ts';
import type { ExpectedToken } from '../../lib/pkcs11/identity.ts';
import { provisionToken, type ProvisionOptions } from '../../lib/pkcs11/provision.ts';
import { signPrehash } from '../../lib/pkcs11/sign.ts';
import { TokenFlag, type KeyPairAttributes, type KeyPairSpec, type Token } from '../../lib/pkcs11/token.ts';
import { parsePublicKey, sameBytes, type Curve } from '../../lib/keys.ts';
import { START, simulatorBackend, softhsmBackend, type Backend } from './support/backends.ts';
import { NO_KEYS, expectNoSecret, tokenState, withFault } from './support/inspect.ts';
import { softhsmAvailable } from './support/require-softhsm.ts';

const NEW = { soPin: '0f1e2d3c4b5a6978', userPin: 'tuf-2020' } as const;
const ROOT = CEREMONY_KEYS[0]!;
const TARGETS = CEREMONY_KEYS[1]!;

const backends: Backend[] = [simulatorBackend()];
const softhsm = softhsmAvailable();
if (softhsm) backends.unshift(softhsmBackend(softhsm));

describe.each(backends)('Token contract: $name', (backend) => {
  let token: Token | undefined;
  let products: string;

  const open = async () => (token = await backend.fresh());
  const provisioning = (extra: Partial<ProvisionOptions> = {}): ProvisionOptions => ({
    ...START,
    newSoPin: NEW.soPin,
    userPin: NEW.userPin,
    expect: backend.expect,
    ...extra,
  });
  const provisioned = async () => {
    const t = await open();
    await provisionToken(t, provisioning());
    return t;
  };
  const generate = (t: Token, extra: { curve?: Curve; productsDir?: string; userPin?: string; expect?: ExpectedToken } = {}) =>
    generateCeremonyKeys(t, { userPin: NEW.userPin, curve: 'P-256', productsDir: products, expect: backend.expect, ...extra });
  /** A token that went through the whole sequence: NEW PINs, root and targets on it. */
  const withKeys = async () => {
    const t = await provisioned();
    await generate(t);
    return t;
  };
  /** Provisioning the token again, from the state withKeys() leaves. */
  const again = (extra: Partial<ProvisionOptions> = {}) => provisioning({ soPin: NEW.soPin, ...extra });

  beforeEach(() => {
    products = mkdtempSync(join(tmpdir(), 'runbook-products-'));
  });
  afterEach(async () => {
    await token?.close();
    token = undefined;
    backend.cleanup();
    rmSync(products, { recursive: true, force: true });
  });

  describe('finding the token', () => {
    it('opens the one initialized token and reports what it is', async () => {
      const info = await (await open()).info();
      expect(info.manufacturer).toBe(backend.expect.manufacturer);
      expect(info.model).toBe(backend.expect.model);
      expect(info.flags & TokenFlag.TOKEN_INITIALIZED).toBeTruthy();
      expect(info.serial).not.toBe('');
    });

    it('refuses when no initialized token is present', async () => {
      await expect(backend.none()).toThrowWithCode('PKCS11_NO_TOKEN');
    });

    it('refuses to choose between two tokens', async () => {
      await expect(backend.two()).toThrowWithCode('PKCS11_TOKEN_AMBIGUOUS');
    });

    it('refuses a token of another kind before touching it', async () => {
      const t = await withKeys();
      const before = await tokenState(t, NEW.userPin);
      await expect(provisionToken(t, again({ expect: backend.other }))).toThrowWithCode('PKCS11_TOKEN_UNEXPECTED');
      await expect(generate(t, { expect: backend.other })).toThrowWithCode('PKCS11_TOKEN_UNEXPECTED');
      expect(await tokenState(t, NEW.userPin)).toEqual(before);
    });
  });

  describe('provisioning (re-initialize, SO PIN, user PIN)', () => {
    it('keeps the serial, writes the blank-padded label, and sets both PINs', async () => {
      const t = await open();
      const before = await t.info();
      const result = await provisionToken(t, provisioning());
      expect(result.serial).toBe(before.serial);
      const after = await t.info();
      expect(after.label).toBe('Nitrokey HSM - TUF');
      expect(after.flags & TokenFlag.USER_PIN_INITIALIZED).toBeTruthy();
      await t.login('user', NEW.userPin);
      await t.logout();
      // The new SO PIN is now the one that re-initializes the token; the old one no longer does.
      await expect(t.initToken(START.soPin, 'again')).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
      await t.initToken(NEW.soPin, 'again');
    });

    it('re-initialization erases the keys and leaves the user PIN to be set', async () => {
      const t = await withKeys();
      const serial = (await t.info()).serial;
      await t.initToken(NEW.soPin, 'wiped');
      const info = await t.info();
      expect(info.serial).toBe(serial);
      expect(info.flags & TokenFlag.USER_PIN_INITIALIZED).toBe(0);
      await expect(t.login('user', NEW.userPin)).toThrowWithCode('PKCS11_CKR_USER_PIN_NOT_INITIALIZED');
      // Private keys are only visible to the user: set a user PIN to look for them.
      await t.login('so', NEW.soPin);
      await t.initPin(NEW.userPin);
      await t.logout();
      expect((await tokenState(t, NEW.userPin)).objects).toEqual(NO_KEYS);
    });

    it('a wrong current SO PIN stops it at re-initialization, with keys and PINs as they were', async () => {
      const t = await withKeys();
      const before = await tokenState(t, NEW.userPin);
      await expect(provisionToken(t, again({ soPin: 'ffffffffffffffff' }))).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
      const after = await tokenState(t, NEW.userPin);
      // Only the count of wrong SO PINs moved, where the token reports it (SoftHSM2 does, OpenSC does not for this card).
      expect({ ...after, flags: after.flags & ~TokenFlag.SO_PIN_COUNT_LOW }).toEqual(before);
    });

    it.each([
      ['an SO PIN of 15 digits', { soPin: '0f1e2d3c4b5a697' }],
      ['an SO PIN that is not hex', { soPin: '0f1e2d3c4b5a697g' }],
      ['a new SO PIN of 17 digits', { newSoPin: '0f1e2d3c4b5a69780' }],
      ['a user PIN of 5 characters', { userPin: '12345' }],
      ['a user PIN of 16 characters', { userPin: '1234567890123456' }],
      ['a user PIN with a space', { userPin: 'tuf 2020' }],
    ])('refuses %s before the token sees it', async (_what, bad) => {
      const t = await withKeys();
      const before = await tokenState(t, NEW.userPin);
      await expect(provisionToken(t, again(bad))).toThrowWithCode('PKCS11_PIN_FORMAT');
      expect(await tokenState(t, NEW.userPin)).toEqual(before);
    });

    it.each([
      ['longer than 32 bytes', 'x'.repeat(33)],
      ['with a control character', 'TUF\u001b[2J'],
    ])('refuses a label %s before erasing anything', async (_what, label) => {
      const t = await withKeys();
      const before = await tokenState(t, NEW.userPin);
      await expect(provisionToken(t, again({ label }))).toThrowWithCode('PKCS11_LABEL_FORMAT');
      expect(await tokenState(t, NEW.userPin)).toEqual(before);
    });

    it('does not take an SO login as proof: a C_SetPIN that did nothing is caught', async () => {
      // On a SmartCard-HSM, C_Login as SO checks nothing, so only C_InitPIN
      // with the new SO PIN can show that the change never happened.
      const t = await open();
      const deaf = withFault(t, 'setPin', () => Promise.resolve());
      await expect(provisionToken(deaf, provisioning())).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
      // It says so, and the token is where the error says: re-initialized, old SO PIN, no user PIN.
      const info = await t.info();
      expect(info.flags & TokenFlag.USER_PIN_INITIALIZED).toBe(0);
      await t.initToken(START.soPin, 'again');
    });

    it('no PIN appears in any refusal, its causes or its stack', async () => {
      const pins = [START.soPin, START.userPin, NEW.soPin, NEW.userPin, 'deadbeefdeadbeef', 'wrong-pin', 'tuf 2020'];
      const t = await open();
      const failures = [
        provisionToken(t, provisioning({ soPin: 'deadbeefdeadbeef' })),
        provisionToken(t, provisioning({ userPin: 'tuf 2020' })),
        provisionToken(t, provisioning({ newSoPin: 'deadbeefdeadbee' })),
      ];
      for (const failure of failures) expectNoSecret(await failure.catch((e: unknown) => e), pins);
      await provisionToken(t, provisioning());
      expectNoSecret(await generate(t, { userPin: 'wrong-pin' }).catch((e: unknown) => e), pins);
      expectNoSecret(await t.initToken('deadbeefdeadbeef', 'x').catch((e: unknown) => e), pins);
    });
  });

  describe.each(['P-256', 'P-384'] as const)('ceremony keys on %s', (curve: Curve) => {
    it('generates root (id 12) and targets (id 13) as the templates say, and writes the four products', async () => {
      const t = await provisioned();
      const result = await generate(t, { curve });
      expect(result.keys.map((k) => k.role)).toEqual(['root', 'targets']);
      for (const key of result.keys) {
        const paths = productPaths(products, result.serial, key.role);
        const pub = readFileSync(paths.pub);
        const pem = readFileSync(paths.pem, 'utf8');
        // The .pub and .pem hold the same key, which is the one on the token.
        const fromPub = parsePublicKey(pub);
        expect(fromPub.curve).toBe(curve);
        expect(sameBytes(parsePublicKey(pem).point, fromPub.point)).toBe(true);
        const onToken = decodeEcPoint(curve, (await t.publicKey(key.id)).ecPoint);
        expect(sameBytes(onToken, fromPub.point)).toBe(true);
      }
      expect(readdirSync(join(products, result.serial)).sort()).toEqual(
        ['root', 'targets'].flatMap((role) => [`${result.serial}_${role}_pubkey.pem`, `${result.serial}_${role}_pubkey.pub`]),
      );
      await t.login('user', NEW.userPin);
      // Written out here, not taken from templates.ts: this is what must hold on the token (step 19).
      for (const [key, id, label] of [[ROOT, 0x12, 'root'], [TARGETS, 0x13, 'targets']] as const) {
        expect([...key.id]).toEqual([id]);
        expect((await t.objectsWithId(Uint8Array.of(id))).sort()).toEqual(['private-key', 'public-key']);
        expect(await t.keyAttributes(Uint8Array.of(id))).toEqual({
          private: {
            token: true, private: true, sensitive: true, extractable: false, alwaysSensitive: true, neverExtractable: true,
            sign: true, decrypt: false, unwrap: false, derive: false, label,
          },
          public: { token: true, private: false, verify: true, encrypt: false, wrap: false, label },
        } satisfies KeyPairAttributes);
      }
      await t.logout();
    });

    it('signs a prehash; the DER signature verifies against the published key', async () => {
      const t = await provisioned();
      const result = await generate(t, { curve });
      const message = randomBytes(200);
      const hash = curve === 'P-256' ? 'sha256' : 'sha384';
      const digest = createHash(hash).update(message).digest();
      for (const key of result.keys) {
        const der = await signPrehash(t, { id: key.id, curve, digest, userPin: NEW.userPin });
        expect(der[0]).toBe(0x30); // DER SEQUENCE, not raw r ‖ s
        const spki = readFileSync(key.files.pub);
        expect(verify(hash, message, { key: spki, format: 'der', type: 'spki' }, der)).toBe(true);
        expect(verify(hash, randomBytes(200), { key: spki, format: 'der', type: 'spki' }, der)).toBe(false);
      }
    });
  });

  describe('bad input around keys', () => {
    it('a wrong user PIN generates nothing', async () => {
      const t = await provisioned();
      await expect(generate(t, { userPin: 'wrong-pin' })).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
      expect((await tokenState(t, NEW.userPin)).objects).toEqual(NO_KEYS);
      expect(existsSync(join(products, (await t.info()).serial))).toBe(false);
    });

    it('refuses to generate over a key id already present, leaving the keys as they were', async () => {
      const t = await withKeys();
      const before = await tokenState(t, NEW.userPin);
      const elsewhere = join(products, 'second-run');
      await expect(generate(t, { productsDir: elsewhere })).toThrowWithCode('PKCS11_KEY_EXISTS');
      expect(await tokenState(t, NEW.userPin)).toEqual(before);
      expect(existsSync(elsewhere)).toBe(false);
    });

    it('refuses when a product file already exists, before generating anything', async () => {
      const t = await provisioned();
      const serial = (await t.info()).serial;
      const existing = productPaths(products, serial, 'targets').pem;
      mkdirSync(join(products, serial), { recursive: true });
      writeFileSync(existing, 'kept');
      await expect(generate(t)).toThrowWithCode('PRODUCT_EXISTS');
      expect(readFileSync(existing, 'utf8')).toBe('kept');
      expect((await tokenState(t, NEW.userPin)).objects).toEqual(NO_KEYS);
    });

    it('when the targets key cannot be made, the error names exactly what is on the token, and nothing is published', async () => {
      const t = await provisioned();
      const real = t.generateKeyPair.bind(t);
      const full = withFault(t, 'generateKeyPair', (spec: KeyPairSpec) =>
        spec.label === 'targets' ? Promise.reject(ckrError('CKR_DEVICE_MEMORY', `C_GenerateKeyPair on ${t.description}`)) : real(spec),
      );
      const err = (await generate(full).catch((e: unknown) => e)) as Pkcs11Error;
      expect(err).toMatchObject({ code: 'PKCS11_KEYGEN_INCOMPLETE', ckr: 'CKR_DEVICE_MEMORY' });
      const state = await tokenState(t, NEW.userPin);
      expect(state.objects['12']?.classes).toEqual(['private-key', 'public-key']);
      expect(state.objects['13']?.classes).toEqual([]);
      expect(err.onToken).toEqual(['root (public-key, private-key)']);
      expect(existsSync(join(products, state.serial))).toBe(false);
    });

    it('a key pair that does not come out as the templates say is not published', async () => {
      const t = await provisioned();
      const real = t.keyAttributes.bind(t);
      // A token that ignored CKA_DECRYPT=false, as pkcs11-tool --keypairgen leaves it.
      const lax = withFault(t, 'keyAttributes', async (id: Uint8Array) => {
        const a = await real(id);
        return { ...a, private: { ...a.private, decrypt: true } };
      });
      const err = (await generate(lax).catch((e: unknown) => e)) as Pkcs11Error;
      expect(err).toMatchObject({ code: 'PKCS11_KEYGEN_INCOMPLETE', onToken: ['root (public-key, private-key)'] });
      expect((err.cause as Pkcs11Error).code).toBe('PKCS11_KEY_ATTRIBUTES');
      expect(existsSync(join(products, (await t.info()).serial))).toBe(false);
    });

    it('signing refuses a prehash of the wrong length and an absent key', async () => {
      const t = await withKeys();
      const sha384 = createHash('sha384').update('x').digest();
      await expect(signPrehash(t, { id: ROOT.id, curve: 'P-256', digest: sha384, userPin: NEW.userPin })).toThrowWithCode('PKCS11_DIGEST_LENGTH');
      const sha256 = createHash('sha256').update('x').digest();
      await expect(signPrehash(t, { id: Uint8Array.of(0x42), curve: 'P-256', digest: sha256, userPin: NEW.userPin })).toThrowWithCode('PKCS11_KEY_NOT_FOUND');
      await expect(signPrehash(t, { id: ROOT.id, curve: 'P-384', digest: sha384, userPin: NEW.userPin })).toThrowWithCode('PKCS11_KEY_ATTRIBUTES');
    });
  });
});
