// The simulated SmartCard-HSM's own rules: the states SoftHSM2 cannot reach
// (retry counters that lock, an SO login that checks nothing, a full device),
// and what provisioning does when it meets them.
import { describe, expect, it } from 'vitest';
import { Pkcs11Error, ckrError } from '../../lib/pkcs11/errors.ts';
import { generateKeyPairs, type GenerateKeyPairsOptions } from '../../lib/pkcs11/generate.ts';
import { pinTries } from '../../lib/pkcs11/pin-tries.ts';
import { provisionToken, type ProvisionOptions } from '../../lib/pkcs11/provision.ts';
import { FACTORY_SO_PIN, FACTORY_USER_PIN, SO_PIN_TRIES, SimulatedSmartCardHsm } from '../../lib/pkcs11/simulator/smartcard-hsm.ts';
import { openSimulatedToken } from '../../lib/pkcs11/simulator/token.ts';
import { TokenFlag, type Token } from '../../lib/pkcs11/token.ts';
import { hasControl, withFault } from './support/inspect.ts';
import { KEYS, ROOT, TOKEN_LABEL } from './support/keys.ts';

const DEFAULT_SO_PIN = FACTORY_SO_PIN;
const NEW_SO = '0f1e2d3c4b5a6978';
const NEW_USER = 'tuf-2020';
const WRONG_SO = 'ffffffffffffffff';

/** Provisioning from the factory PINs to NEW_SO and NEW_USER. */
const provision = (token: Token, extra: Partial<ProvisionOptions> = {}) =>
  provisionToken(token, { soPin: DEFAULT_SO_PIN, newSoPin: NEW_SO, userPin: NEW_USER, label: TOKEN_LABEL, ...extra });
/** Generating the test's root and targets keys. */
const generate = (token: Token, extra: Partial<GenerateKeyPairsOptions> = {}) =>
  generateKeyPairs(token, { userPin: NEW_USER, curve: 'P-256', keys: KEYS, ...extra });

const flagsOf = (device: SimulatedSmartCardHsm) => device.info().flags;
const userFlags = (device: SimulatedSmartCardHsm) =>
  flagsOf(device) & (TokenFlag.USER_PIN_COUNT_LOW | TokenFlag.USER_PIN_FINAL_TRY | TokenFlag.USER_PIN_LOCKED);

describe('a factory-fresh device', () => {
  it('reports itself as OpenSC presents a Nitrokey HSM, with the factory PINs', async () => {
    const device = new SimulatedSmartCardHsm({ serial: 'DENK0102947' });
    const token = await openSimulatedToken([device]);
    expect(await token.info()).toMatchObject({ manufacturer: 'www.CardContact.de', model: 'PKCS#15 emulated', serial: 'DENK0102947' });
    await token.login('user', FACTORY_USER_PIN);
    await token.logout();
    await token.initToken(DEFAULT_SO_PIN, 'x');
  });

  it('makes up a serial of the DENK form when none is given', () => {
    expect(new SimulatedSmartCardHsm().serial).toMatch(/^DENK\d{7}$/);
  });

  it('an uninitialized chip in a second reader is ignored', async () => {
    const token = await openSimulatedToken([new SimulatedSmartCardHsm({ initialized: false }), new SimulatedSmartCardHsm({ serial: 'DENK0000001' })]);
    expect((await token.info()).serial).toBe('DENK0000001');
  });
});

describe('the SO PIN', () => {
  it('an SO login with a wrong PIN succeeds: the device checks it only at C_SetPIN or C_InitPIN', async () => {
    const device = new SimulatedSmartCardHsm();
    const token = await openSimulatedToken([device]);
    await token.login('so', WRONG_SO);
    await expect(token.setPin(WRONG_SO, NEW_SO)).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
    await expect(token.initPin(NEW_USER)).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
    expect(device.soPinTriesLeft).toBe(SO_PIN_TRIES - 2);
    await token.logout();
  });

  it('is hex: upper and lower case are the same PIN', async () => {
    const token = await openSimulatedToken([new SimulatedSmartCardHsm({ soPin: 'ABCDEF0123456789' })]);
    await token.initToken('abcdef0123456789', 'x');
  });

  it('a right SO PIN resets the count of wrong ones', async () => {
    const device = new SimulatedSmartCardHsm();
    const token = await openSimulatedToken([device]);
    await expect(token.initToken(WRONG_SO, 'x')).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
    expect(device.soPinTriesLeft).toBe(SO_PIN_TRIES - 1);
    await token.initToken(DEFAULT_SO_PIN, 'x');
    expect(device.soPinTriesLeft).toBe(SO_PIN_TRIES);
  });

  it('after 15 wrong tries the device is locked for good, even with the right PIN', async () => {
    const device = new SimulatedSmartCardHsm();
    const token = await openSimulatedToken([device]);
    for (let i = 0; i < SO_PIN_TRIES; i++) await expect(token.initToken(WRONG_SO, 'x')).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
    await expect(token.initToken(DEFAULT_SO_PIN, 'x')).toThrowWithCode('PKCS11_CKR_PIN_LOCKED');
    await expect(provision(token)).toThrowWithCode('PKCS11_CKR_PIN_LOCKED');
  });

  it('a new SO PIN that is not 16 hex digits is refused by the device too', async () => {
    const token = await openSimulatedToken([new SimulatedSmartCardHsm()]);
    await token.login('so', DEFAULT_SO_PIN);
    await expect(token.setPin(DEFAULT_SO_PIN, '1234')).toThrowWithCode('PKCS11_CKR_PIN_LEN_RANGE');
    await expect(token.setPin(DEFAULT_SO_PIN, 'zzzzzzzzzzzzzzzz')).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
  });
});

describe('the user PIN', () => {
  it('counts down 3 tries with the flags OpenSC reports, then locks', async () => {
    const device = new SimulatedSmartCardHsm();
    const token = await openSimulatedToken([device]);
    expect(userFlags(device)).toBe(0);
    await expect(token.login('user', 'wrong-1')).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
    expect(userFlags(device)).toBe(TokenFlag.USER_PIN_COUNT_LOW);
    await expect(token.login('user', 'wrong-2')).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
    expect(userFlags(device)).toBe(TokenFlag.USER_PIN_FINAL_TRY);
    await expect(token.login('user', 'wrong-3')).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
    expect(userFlags(device)).toBe(TokenFlag.USER_PIN_LOCKED);
    await expect(token.login('user', FACTORY_USER_PIN)).toThrowWithCode('PKCS11_CKR_PIN_LOCKED');
  });

  it('a right PIN before the lock resets the count', async () => {
    const device = new SimulatedSmartCardHsm();
    const token = await openSimulatedToken([device]);
    await expect(token.login('user', 'wrong-1')).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
    await token.login('user', FACTORY_USER_PIN);
    expect(userFlags(device)).toBe(0);
  });

  it('C_InitPIN by the SO unblocks a locked user PIN', async () => {
    const device = new SimulatedSmartCardHsm();
    const token = await openSimulatedToken([device]);
    for (const pin of ['wrong-1', 'wrong-2', 'wrong-3']) await expect(token.login('user', pin)).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
    await token.login('so', DEFAULT_SO_PIN);
    await token.initPin(NEW_USER);
    await token.logout();
    await token.login('user', NEW_USER);
  });

  it('must be 6 to 15 characters on the device', async () => {
    const token = await openSimulatedToken([new SimulatedSmartCardHsm()]);
    await token.login('so', DEFAULT_SO_PIN);
    await expect(token.initPin('12345')).toThrowWithCode('PKCS11_CKR_PIN_LEN_RANGE');
    await expect(token.initPin('1234567890123456')).toThrowWithCode('PKCS11_CKR_PIN_LEN_RANGE');
  });

  it('can be changed by the user in a user session', async () => {
    const token = await openSimulatedToken([new SimulatedSmartCardHsm()]);
    await token.login('user', FACTORY_USER_PIN);
    await token.setPin(FACTORY_USER_PIN, NEW_USER);
    await token.logout();
    await token.login('user', NEW_USER);
  });
});

describe('a wrong user PIN at key generation', () => {
  it('is refused with the device\'s code, counted, and the last try is never spent', async () => {
    const device = new SimulatedSmartCardHsm();
    const token = await openSimulatedToken([device]);
    await provision(token);
    expect(pinTries(await token.info(), 'user')).toBe('ok');
    await expect(generate(token, { userPin: 'wrong-1' })).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
    expect(pinTries(await token.info(), 'user')).toBe('count-low');
    await expect(generate(token, { userPin: 'wrong-2' })).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
    expect(pinTries(await token.info(), 'user')).toBe('final-try');
    // Now even the right PIN is not tried: a slip would lock the device's user PIN.
    await expect(generate(token)).toThrowWithCode('PKCS11_TOKEN_DANGEROUS_STATE');
    expect(pinTries(await token.info(), 'user')).toBe('final-try');
    expect(device.keysWithId(ROOT.id)).toHaveLength(0);
    // The SO unblocks it (C_InitPIN, RESET RETRY COUNTER); then the keys are made.
    await token.login('so', NEW_SO);
    await token.initPin(NEW_USER);
    await token.logout();
    expect(pinTries(await token.info(), 'user')).toBe('ok');
    expect((await generate(token)).keys).toHaveLength(2);
  });

  it('a right PIN after a wrong one clears the count', async () => {
    const token = await openSimulatedToken([new SimulatedSmartCardHsm()]);
    await provision(token);
    await expect(generate(token, { userPin: 'wrong-1' })).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
    await generate(token);
    expect(pinTries(await token.info(), 'user')).toBe('ok');
  });

  it('the SO PIN\'s tries are not reported through PKCS#11 (as OpenSC does for this card)', async () => {
    const device = new SimulatedSmartCardHsm();
    const token = await openSimulatedToken([device]);
    await expect(token.initToken(WRONG_SO, 'x')).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
    expect(device.soPinTriesLeft).toBe(SO_PIN_TRIES - 1);
    expect(pinTries(await token.info(), 'so')).toBe('ok');
  });
});

describe('provisioning refuses a device in a dangerous state', () => {
  it.each([
    ['one user PIN try left', 2],
    ['a locked user PIN', 3],
  ])('%s', async (_what, wrong) => {
    const device = new SimulatedSmartCardHsm();
    const token = await openSimulatedToken([device]);
    for (let i = 0; i < wrong; i++) await expect(token.login('user', `wrong-${i}`)).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
    await expect(provision(token)).toThrowWithCode('PKCS11_TOKEN_DANGEROUS_STATE');
    await expect(generate(token, { userPin: FACTORY_USER_PIN })).toThrowWithCode('PKCS11_TOKEN_DANGEROUS_STATE');
    // Nothing was tried: the SO PIN count is untouched.
    expect(device.soPinTriesLeft).toBe(SO_PIN_TRIES);
  });

  it('a device whose self-test failed', async () => {
    const device = new SimulatedSmartCardHsm();
    device.failSelfTest();
    const token = await openSimulatedToken([device]);
    await expect(provision(token)).toThrowWithCode('PKCS11_TOKEN_DANGEROUS_STATE');
  });
});

describe('nothing half-done goes unreported', () => {
  it('when the targets key does not fit after root was made, the error names what is on the token', async () => {
    const device = new SimulatedSmartCardHsm({ keyCapacity: 1 });
    const token = await openSimulatedToken([device]);
    await provision(token);
    const err = await generate(token, { curve: 'P-384' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Pkcs11Error);
    expect((err as Pkcs11Error).code).toBe('PKCS11_KEYGEN_INCOMPLETE');
    expect((err as Pkcs11Error).ckr).toBe('CKR_DEVICE_MEMORY');
    expect((err as Pkcs11Error).onToken).toEqual(['root (public-key, private-key)']);
    expect(device.keysWithId(ROOT.id)).toHaveLength(1);
  });

  it('when the card is pulled after the re-initialization, the error keeps the token\'s code', async () => {
    const device = new SimulatedSmartCardHsm();
    const real = await openSimulatedToken([device]);
    // The device vanishes just as the new SO PIN is being set.
    const token = withFault(real, 'setPin', () => Promise.reject(ckrError('CKR_DEVICE_REMOVED', `C_SetPIN on ${real.description}`)));
    const err = await provision(token).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Pkcs11Error);
    expect((err as Pkcs11Error).code).toBe('PKCS11_CKR_DEVICE_REMOVED');
    expect((err as Pkcs11Error).ckr).toBe('CKR_DEVICE_REMOVED');
    // It had been re-initialized: the user PIN is unset and the factory SO PIN still rules.
    expect(flagsOf(device) & TokenFlag.USER_PIN_INITIALIZED).toBe(0);
    await real.initToken(DEFAULT_SO_PIN, 'again');
  });
});

describe('sessions', () => {
  it('private keys are invisible until the user logs in', async () => {
    const token = await openSimulatedToken([new SimulatedSmartCardHsm()]);
    await provision(token);
    await generate(token);
    expect(await token.objectsWithId(ROOT.id)).toEqual(['public-key']);
    await token.login('user', NEW_USER);
    expect(await token.objectsWithId(ROOT.id)).toEqual(['public-key', 'private-key']);
  });

  it('refuses a second login and work that needs a login', async () => {
    const token = await openSimulatedToken([new SimulatedSmartCardHsm()]);
    await expect(token.generateKeyPair({ curve: 'P-256', id: ROOT.id, label: 'root' })).toThrowWithCode('PKCS11_CKR_USER_NOT_LOGGED_IN');
    await token.login('user', FACTORY_USER_PIN);
    await expect(token.login('so', DEFAULT_SO_PIN)).toThrowWithCode('PKCS11_CKR_USER_ANOTHER_ALREADY_LOGGED_IN');
    await expect(token.initPin(NEW_USER)).toThrowWithCode('PKCS11_CKR_USER_NOT_LOGGED_IN');
  });

  it('a closed token refuses everything', async () => {
    const token = await openSimulatedToken([new SimulatedSmartCardHsm()]);
    await token.close();
    await expect(token.info()).toThrowWithCode('PKCS11_CKR_CRYPTOKI_NOT_INITIALIZED');
  });
});

describe('hostile token data', () => {
  const hostile = ['../../etc', 'DENK/0102947', '', '.hidden', 'x'.repeat(33), 'DENK\u001b[2J\u202e7490210'];

  it.each(hostile)('a serial of %j, which cannot name files, stops key generation', async (serial) => {
    const token = await openSimulatedToken([new SimulatedSmartCardHsm({ serial })]);
    await expect(generate(token, { userPin: FACTORY_USER_PIN })).toThrowWithCode('PKCS11_TOKEN_UNEXPECTED');
  });

  it.each(hostile)('a serial of %j stops provisioning before the device is erased', async (serial) => {
    const device = new SimulatedSmartCardHsm({ serial });
    const token = await openSimulatedToken([device]);
    await token.login('user', FACTORY_USER_PIN);
    await token.generateKeyPair({ curve: 'P-256', id: ROOT.id, label: 'root' });
    await token.logout();
    const err = await provision(token).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Pkcs11Error);
    expect((err as Pkcs11Error).code).toBe('PKCS11_TOKEN_UNEXPECTED');
    // Nothing was presented to the device and nothing erased; no control character reached the message.
    expect(hasControl((err as Error).message)).toBe(false);
    expect(device.soPinTriesLeft).toBe(SO_PIN_TRIES);
    expect(device.keysWithId(ROOT.id)).toHaveLength(1);
  });

  it('labels and serials of two tokens are escaped in the refusal', async () => {
    const err = await openSimulatedToken([
      new SimulatedSmartCardHsm({ label: '\u001b]0;title\u0007' }),
      new SimulatedSmartCardHsm({ serial: 'DENK\u009b2J' }),
    ]).catch((e: unknown) => e);
    expect((err as Pkcs11Error).code).toBe('PKCS11_TOKEN_AMBIGUOUS');
    expect(hasControl((err as Error).message)).toBe(false);
  });
});

describe('key attributes come from the templates, not from the simulator', () => {
  it('a template that leaves a flag out gets the permissive default', () => {
    const device = new SimulatedSmartCardHsm();
    const pair = device.generateKeyPair('P-256', ROOT.id, 'root', { public: {}, private: { sensitive: true, extractable: false } });
    expect(pair.attributes.private).toMatchObject({ decrypt: true, unwrap: true, derive: true, token: false, alwaysSensitive: true, neverExtractable: true });
    expect(pair.attributes.public).toMatchObject({ encrypt: true, wrap: true, token: false });
  });
});
