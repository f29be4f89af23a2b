// The Token contract: one suite, run against SoftHSM2 (a real PKCS#11
// implementation, through the pkcs11js driver) and the simulated
// SmartCard-HSM. What passes here holds for both, so provisioning code
// written against Token behaves the same on either.
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeEcPoint } from '../../lib/pkcs11/ec-point.ts';
import { ckrError, type Pkcs11Error } from '../../lib/pkcs11/errors.ts';
import { generateKeyPairs, type KeyPairRequest } from '../../lib/pkcs11/generate.ts';
import type { ExpectedToken } from '../../lib/pkcs11/identity.ts';
import { pinTries } from '../../lib/pkcs11/pin-tries.ts';
import { changeSoPin, provisionToken, reinitializeToken, setUserPin, type ProvisionOptions } from '../../lib/pkcs11/provision.ts';
import { signPrehash } from '../../lib/pkcs11/sign.ts';
import { TokenFlag, type KeyPairAttributes, type KeyPairSpec, type Token } from '../../lib/pkcs11/token.ts';
import { COORDINATE_BYTES, parsePublicKey, sameBytes, type Curve } from '../../lib/keys.ts';
import { START, simulatorBackend, softhsmBackend, type Backend } from './support/backends.ts';
import { NO_KEYS, expectNoSecret, tokenState, withFault } from './support/inspect.ts';
import { KEYS, ROOT, TARGETS, TOKEN_LABEL } from './support/keys.ts';
import { softhsmAvailable } from './support/require-softhsm.ts';

const NEW = { soPin: '0f1e2d3c4b5a6978', userPin: 'tuf-2020' } as const;

const backends: Backend[] = [simulatorBackend()];
const softhsm = softhsmAvailable();
if (softhsm) backends.unshift(softhsmBackend(softhsm));

describe.each(backends)('Token contract: $name', (backend) => {
  let token: Token | undefined;

  const open = async () => (token = await backend.fresh());
  const provisioning = (extra: Partial<ProvisionOptions> = {}): ProvisionOptions => ({
    ...START,
    newSoPin: NEW.soPin,
    userPin: NEW.userPin,
    label: TOKEN_LABEL,
    expect: backend.expect,
    ...extra,
  });
  const provisioned = async () => {
    const t = await open();
    await provisionToken(t, provisioning());
    return t;
  };
  const generate = (t: Token, extra: { curve?: Curve; keys?: readonly KeyPairRequest[]; userPin?: string; expect?: ExpectedToken } = {}) =>
    generateKeyPairs(t, { userPin: NEW.userPin, curve: 'P-256', keys: KEYS, expect: backend.expect, ...extra });
  /** A token that went through the whole sequence: NEW PINs, root and targets on it. */
  const withKeys = async () => {
    const t = await provisioned();
    await generate(t);
    return t;
  };
  /** Provisioning the token again, from the state withKeys() leaves. */
  const again = (extra: Partial<ProvisionOptions> = {}) => provisioning({ soPin: NEW.soPin, ...extra });

  afterEach(async () => {
    await token?.close();
    token = undefined;
    backend.cleanup();
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

  describe('provisioning in three stages (reinitializeToken, changeSoPin, setUserPin)', () => {
    it('does what provisionToken does, one PIN at a time', async () => {
      const t = await open();
      const before = await t.info();
      expect(await reinitializeToken(t, { soPin: START.soPin, label: TOKEN_LABEL, expect: backend.expect })).toEqual({ serial: before.serial });
      expect((await t.info()).flags & TokenFlag.USER_PIN_INITIALIZED).toBe(0);
      await changeSoPin(t, { soPin: START.soPin, newSoPin: NEW.soPin });
      expect(await setUserPin(t, { soPin: NEW.soPin, userPin: NEW.userPin })).toEqual({ serial: before.serial });
      expect(await t.info()).toMatchObject({ label: TOKEN_LABEL, serial: before.serial });
      await generate(t);
      await expect(t.initToken(START.soPin, 'again')).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
    });

    it('a wrong SO PIN at each stage is the device\'s refusal, and can be typed again', async () => {
      const t = await open();
      await expect(reinitializeToken(t, { soPin: 'ffffffffffffffff', label: TOKEN_LABEL, expect: backend.expect })).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
      await reinitializeToken(t, { soPin: START.soPin, label: TOKEN_LABEL, expect: backend.expect });
      await expect(changeSoPin(t, { soPin: 'ffffffffffffffff', newSoPin: NEW.soPin })).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
      await changeSoPin(t, { soPin: START.soPin, newSoPin: NEW.soPin });
      await expect(setUserPin(t, { soPin: START.soPin, userPin: NEW.userPin })).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
      await setUserPin(t, { soPin: NEW.soPin, userPin: NEW.userPin });
      await t.login('user', NEW.userPin);
      await t.logout();
    });

    it('each stage checks its input before the token sees it', async () => {
      const t = await withKeys();
      const before = await tokenState(t, NEW.userPin);
      await expect(reinitializeToken(t, { soPin: NEW.soPin, label: 'x'.repeat(33), expect: backend.expect })).toThrowWithCode('PKCS11_LABEL_FORMAT');
      await expect(reinitializeToken(t, { soPin: NEW.soPin, label: TOKEN_LABEL, expect: backend.other })).toThrowWithCode('PKCS11_TOKEN_UNEXPECTED');
      await expect(reinitializeToken(t, { soPin: 'nothex', label: TOKEN_LABEL, expect: backend.expect })).toThrowWithCode('PKCS11_PIN_FORMAT');
      await expect(changeSoPin(t, { soPin: NEW.soPin, newSoPin: '1234' })).toThrowWithCode('PKCS11_PIN_FORMAT');
      await expect(setUserPin(t, { soPin: NEW.soPin, userPin: '12345' })).toThrowWithCode('PKCS11_PIN_FORMAT');
      expect(await tokenState(t, NEW.userPin)).toEqual(before);
    });
  });

  describe.each(['P-256', 'P-384'] as const)('ceremony keys on %s', (curve: Curve) => {
    it('generates root (id 12) and targets (id 13) as the templates say, and returns their public keys', async () => {
      const t = await provisioned();
      const result = await generate(t, { curve });
      expect(result.serial).toBe((await t.info()).serial);
      expect(result.keys.map((k) => [k.role, [...k.id], k.label, k.curve])).toEqual([
        ['root', [0x12], 'root', curve],
        ['targets', [0x13], 'targets', curve],
      ]);
      for (const key of result.keys) {
        // The point is the token's CKA_EC_POINT, uncompressed.
        expect(key.point).toHaveLength(1 + 2 * COORDINATE_BYTES[curve]);
        expect(key.point[0]).toBe(0x04);
        const onToken = decodeEcPoint(curve, (await t.publicKey(key.id)).ecPoint);
        expect(sameBytes(onToken, key.point)).toBe(true);
        // The SPKI and the PEM hold that same key, on that curve.
        const fromSpki = parsePublicKey(key.spki);
        expect(fromSpki.curve).toBe(curve);
        expect(sameBytes(fromSpki.point, key.point)).toBe(true);
        expect(sameBytes(parsePublicKey(key.pem).point, key.point)).toBe(true);
        // And node:crypto, independently, reads the PEM as exactly that DER.
        expect(key.pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
        const der = createPublicKey(key.pem).export({ type: 'spki', format: 'der' });
        expect(sameBytes(der, key.spki)).toBe(true);
        expect(createPublicKey({ key: Buffer.from(key.spki), format: 'der', type: 'spki' }).asymmetricKeyDetails?.namedCurve).toBe(
          curve === 'P-256' ? 'prime256v1' : 'secp384r1',
        );
      }
      expect(sameBytes(result.keys[0]!.point, result.keys[1]!.point)).toBe(false);
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
        const spki = Buffer.from(key.spki);
        expect(verify(hash, message, { key: spki, format: 'der', type: 'spki' }, der)).toBe(true);
        expect(verify(hash, randomBytes(200), { key: spki, format: 'der', type: 'spki' }, der)).toBe(false);
      }
    });
  });

  describe('bad input around keys', () => {
    it('a wrong user PIN generates nothing; the token counts the try, and the right PIN still works', async () => {
      const t = await provisioned();
      const err = await generate(t, { userPin: 'wrong-pin' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PKCS11_CKR_PIN_INCORRECT', ckr: 'CKR_PIN_INCORRECT' });
      expectNoSecret(err, ['wrong-pin', NEW.userPin]);
      // The caller can tell the operator: one wrong try counted (SoftHSM2 and OpenSC both report it).
      expect(pinTries(await t.info(), 'user')).toBe('count-low');
      // Looking (tokenState logs in with the right PIN) resets the count.
      expect((await tokenState(t, NEW.userPin)).objects).toEqual(NO_KEYS);
      expect(pinTries(await t.info(), 'user')).toBe('ok');
      await expect(generate(t, { userPin: 'wrong-pin' })).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
      const result = await generate(t);
      expect(result.keys).toHaveLength(2);
      expect(pinTries(await t.info(), 'user')).toBe('ok');
    });

    it('refuses to generate over a key id already present, leaving the keys as they were', async () => {
      const t = await withKeys();
      const before = await tokenState(t, NEW.userPin);
      await expect(generate(t)).toThrowWithCode('PKCS11_KEY_EXISTS');
      expect(await tokenState(t, NEW.userPin)).toEqual(before);
    });

    it('refuses all when any one requested id is taken, before generating anything', async () => {
      const t = await provisioned();
      await generate(t, { keys: [TARGETS] });
      const before = await tokenState(t, NEW.userPin);
      const err = (await generate(t).catch((e: unknown) => e)) as Pkcs11Error;
      expect(err).toMatchObject({ code: 'PKCS11_KEY_EXISTS', onToken: ['targets (public-key, private-key)'] });
      expect(await tokenState(t, NEW.userPin)).toEqual(before);
      expect(before.objects['12']?.classes).toEqual([]);
    });

    it('only the requested ids matter: keys under other ids do not stop it', async () => {
      const t = await provisioned();
      await generate(t, { keys: [{ role: 'other', id: Uint8Array.of(0x42), label: 'other' }] });
      const result = await generate(t);
      expect(result.keys.map((k) => k.label)).toEqual(['root', 'targets']);
    });

    it.each([
      ['no key at all', []],
      ['the same id twice', [ROOT, { ...TARGETS, id: ROOT.id }]],
      ['the same role twice', [ROOT, { ...TARGETS, role: 'root' }]],
      ['an empty id', [{ ...ROOT, id: new Uint8Array(0) }]],
      ['an empty label', [{ ...ROOT, label: '' }]],
      ['a label with a control character', [{ ...ROOT, label: 'root\u001b[2J' }]],
      ['a label with a bidirectional override', [{ ...ROOT, label: 'toor\u202e' }]],
    ] as [string, KeyPairRequest[]][])('refuses a request with %s before the token sees the PIN', async (_what, keys) => {
      const t = await provisioned();
      const before = await tokenState(t, NEW.userPin);
      // Even with a wrong PIN: the request is refused first, and no try is spent.
      await expect(generate(t, { keys, userPin: 'wrong-pin' })).toThrowWithCode('PKCS11_KEY_REQUEST_INVALID');
      expect(await tokenState(t, NEW.userPin)).toEqual(before);
      expect(pinTries(await t.info(), 'user')).toBe('ok');
    });

    it('when the targets key cannot be made, the error names exactly what is on the token', async () => {
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
    });

    it('a key pair that does not come out as the templates say is not returned', async () => {
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
