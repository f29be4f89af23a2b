// The Token contract: one suite, run against SoftHSM2 (a real PKCS#11
// implementation, through the pkcs11js driver) and the simulated
// SmartCard-HSM. What passes here holds for both, so provisioning code
// written against Token behaves the same on either.
import { createHash, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePublicKey, sameBytes, type Curve } from '../../lib/products/keys.ts';
import { decodeEcPoint } from '../../lib/pkcs11/ec-point.ts';
import { CEREMONY_KEYS, generateCeremonyKeys, productPaths } from '../../lib/pkcs11/generate.ts';
import { provisionToken } from '../../lib/pkcs11/provision.ts';
import { signPrehash } from '../../lib/pkcs11/sign.ts';
import { TokenFlag, type Token } from '../../lib/pkcs11/token.ts';
import { START, simulatorBackend, softhsmBackend, type Backend } from './support/backends.ts';
import { softhsmAvailable, softhsmRequired } from './support/softhsm.ts';

const NEW = { soPin: '0f1e2d3c4b5a6978', userPin: 'tuf-2020' } as const;
const ROOT = CEREMONY_KEYS[0]!;
const TARGETS = CEREMONY_KEYS[1]!;

const backends: Backend[] = [simulatorBackend()];
if (softhsmAvailable()) backends.unshift(softhsmBackend());
else if (softhsmRequired) {
  it('SoftHSM2 is installed (RUNBOOK_REQUIRE_SOFTHSM=1)', () => {
    throw new Error('RUNBOOK_REQUIRE_SOFTHSM=1 but no libsofthsm2.so was found; the contract suite must not skip in CI');
  });
}

describe.each(backends)('Token contract: $name', (backend) => {
  let token: Token | undefined;
  let products: string;

  const open = async () => (token = await backend.fresh());
  const provisioned = async () => {
    const t = await open();
    await provisionToken(t, { ...START, newSoPin: NEW.soPin, userPin: NEW.userPin, expect: backend.expect });
    return t;
  };

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
      const t = await open();
      await expect(provisionToken(t, { ...START, newSoPin: NEW.soPin, userPin: NEW.userPin, expect: backend.other })).toThrowWithCode(
        'PKCS11_TOKEN_UNEXPECTED',
      );
      // Untouched: the starting user PIN still works.
      await t.login('user', START.userPin);
      await t.logout();
    });
  });

  describe('provisioning (re-initialize, SO PIN, user PIN)', () => {
    it('keeps the serial, writes the blank-padded label, and sets both PINs', async () => {
      const t = await open();
      const before = await t.info();
      const result = await provisionToken(t, { ...START, newSoPin: NEW.soPin, userPin: NEW.userPin, expect: backend.expect });
      expect(result.serial).toBe(before.serial);
      const after = await t.info();
      expect(after.label).toBe('Nitrokey HSM - TUF');
      expect(after.flags & TokenFlag.USER_PIN_INITIALIZED).toBeTruthy();
      // The new SO PIN is now the one that re-initializes the token; the old one no longer does.
      await expect(t.initToken(START.soPin, 'again')).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
      await t.initToken(NEW.soPin, 'again');
    });

    it('re-initialization erases the keys and leaves the user PIN to be set', async () => {
      const t = await provisioned();
      await generateCeremonyKeys(t, { userPin: NEW.userPin, curve: 'P-256', productsDir: products, expect: backend.expect });
      const serial = (await t.info()).serial;
      await t.initToken(NEW.soPin, 'wiped');
      const info = await t.info();
      expect(info.serial).toBe(serial);
      expect(info.flags & TokenFlag.USER_PIN_INITIALIZED).toBe(0);
      expect(await t.objectsWithId(ROOT.id)).toEqual([]);
      await expect(t.login('user', NEW.userPin)).toThrowWithCode('PKCS11_CKR_USER_PIN_NOT_INITIALIZED');
    });

    it('a wrong current SO PIN stops it at re-initialization, with the token unchanged', async () => {
      const t = await open();
      await expect(provisionToken(t, { soPin: 'ffffffffffffffff', newSoPin: NEW.soPin, userPin: NEW.userPin, expect: backend.expect })).toThrowWithCode(
        'PKCS11_CKR_PIN_INCORRECT',
      );
      await t.login('user', START.userPin);
      await t.logout();
    });

    it.each([
      ['an SO PIN of 15 digits', { soPin: '353736323138383' }],
      ['an SO PIN that is not hex', { soPin: '353736323138383g' }],
      ['a new SO PIN of 17 digits', { newSoPin: '0f1e2d3c4b5a69780' }],
      ['a user PIN of 5 characters', { userPin: '12345' }],
      ['a user PIN of 16 characters', { userPin: '1234567890123456' }],
      ['a user PIN with a space', { userPin: 'tuf 2020' }],
    ])('refuses %s before the token sees it', async (_what, bad) => {
      const t = await open();
      const flags = (await t.info()).flags;
      await expect(provisionToken(t, { ...START, newSoPin: NEW.soPin, userPin: NEW.userPin, expect: backend.expect, ...bad })).toThrowWithCode(
        'PKCS11_PIN_FORMAT',
      );
      expect((await t.info()).flags).toBe(flags);
      await t.login('user', START.userPin);
      await t.logout();
    });

    it('refuses a label longer than 32 bytes before erasing anything', async () => {
      const t = await open();
      await expect(
        provisionToken(t, { ...START, newSoPin: NEW.soPin, userPin: NEW.userPin, expect: backend.expect, label: 'x'.repeat(33) }),
      ).toThrowWithCode('PKCS11_LABEL_FORMAT');
      await t.login('user', START.userPin);
      await t.logout();
    });

    it('no PIN appears in the message of any refusal', async () => {
      const t = await open();
      const secret = 'deadbeefdeadbeef';
      const err = await provisionToken(t, { soPin: secret, newSoPin: NEW.soPin, userPin: NEW.userPin, expect: backend.expect }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      const text = `${(err as Error).message} ${String((err as Error).cause)}`;
      for (const pin of [secret, NEW.soPin, NEW.userPin]) expect(text).not.toContain(pin);
    });
  });

  describe.each(['P-256', 'P-384'] as const)('ceremony keys on %s', (curve: Curve) => {
    it('generates root (id 12) and targets (id 13) and writes the four products', async () => {
      const t = await provisioned();
      const result = await generateCeremonyKeys(t, { userPin: NEW.userPin, curve, productsDir: products, expect: backend.expect });
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
      await t.login('user', NEW.userPin);
      for (const key of [ROOT, TARGETS]) {
        expect((await t.objectsWithId(key.id)).sort()).toEqual(['private-key', 'public-key']);
        const a = await t.keyAttributes(key.id);
        expect(a.private).toMatchObject({ token: true, sensitive: true, extractable: false, neverExtractable: true, sign: true, decrypt: false, unwrap: false, derive: false });
        expect(a.public).toEqual({ token: true, verify: true, encrypt: false, wrap: false });
      }
      await t.logout();
    });

    it('signs a prehash; the DER signature verifies against the published key', async () => {
      const t = await provisioned();
      const result = await generateCeremonyKeys(t, { userPin: NEW.userPin, curve, productsDir: products, expect: backend.expect });
      const message = randomBytes(200);
      const hash = curve === 'P-256' ? 'sha256' : 'sha384';
      const digest = createHash(hash).update(message).digest();
      for (const key of result.keys) {
        const der = await signPrehash(t, { id: key.id, curve, digest, userPin: NEW.userPin });
        const spki = readFileSync(key.files.pub);
        expect(verify(hash, message, { key: spki, format: 'der', type: 'spki' }, der)).toBe(true);
        expect(verify(hash, randomBytes(200), { key: spki, format: 'der', type: 'spki' }, der)).toBe(false);
      }
    });
  });

  describe('bad input around keys', () => {
    it('a wrong user PIN generates nothing', async () => {
      const t = await provisioned();
      await expect(generateCeremonyKeys(t, { userPin: 'wrong-pin', curve: 'P-256', productsDir: products, expect: backend.expect })).toThrowWithCode(
        'PKCS11_CKR_PIN_INCORRECT',
      );
      expect(await t.objectsWithId(ROOT.id)).toEqual([]);
      expect(existsSync(join(products, (await t.info()).serial))).toBe(false);
    });

    it('refuses to generate over a key id already present, leaving the keys as they were', async () => {
      const t = await provisioned();
      const first = await generateCeremonyKeys(t, { userPin: NEW.userPin, curve: 'P-256', productsDir: products, expect: backend.expect });
      const elsewhere = join(products, 'second-run');
      await expect(generateCeremonyKeys(t, { userPin: NEW.userPin, curve: 'P-256', productsDir: elsewhere, expect: backend.expect })).toThrowWithCode(
        'PKCS11_KEY_EXISTS',
      );
      const point = decodeEcPoint('P-256', (await t.publicKey(ROOT.id)).ecPoint);
      expect(sameBytes(point, parsePublicKey(first.keys[0]!.spki).point)).toBe(true);
      expect(existsSync(elsewhere)).toBe(false);
    });

    it('refuses when a product file already exists, before generating anything', async () => {
      const t = await provisioned();
      const serial = (await t.info()).serial;
      const existing = productPaths(products, serial, 'targets').pem;
      mkdirSync(join(products, serial), { recursive: true });
      writeFileSync(existing, 'kept');
      await expect(generateCeremonyKeys(t, { userPin: NEW.userPin, curve: 'P-256', productsDir: products, expect: backend.expect })).toThrowWithCode(
        'PRODUCT_EXISTS',
      );
      expect(readFileSync(existing, 'utf8')).toBe('kept');
      expect(await t.objectsWithId(ROOT.id)).toEqual([]);
    });

    it('signing refuses a prehash of the wrong length and an absent key', async () => {
      const t = await provisioned();
      await generateCeremonyKeys(t, { userPin: NEW.userPin, curve: 'P-256', productsDir: products, expect: backend.expect });
      const sha384 = createHash('sha384').update('x').digest();
      await expect(signPrehash(t, { id: ROOT.id, curve: 'P-256', digest: sha384, userPin: NEW.userPin })).toThrowWithCode('PKCS11_DIGEST_LENGTH');
      const sha256 = createHash('sha256').update('x').digest();
      await expect(signPrehash(t, { id: Uint8Array.of(0x42), curve: 'P-256', digest: sha256, userPin: NEW.userPin })).toThrowWithCode('PKCS11_KEY_NOT_FOUND');
    });
  });
});
