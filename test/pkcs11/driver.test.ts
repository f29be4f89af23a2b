// The pkcs11js driver's own concerns: loading modules, refusing what is not
// one, reading pkcs11js errors, and leaving the module clean for the next open.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openPkcs11Token, translate } from '../../lib/pkcs11/driver.ts';
import type { Pkcs11Error } from '../../lib/pkcs11/errors.ts';
import { generateKeyPairs } from '../../lib/pkcs11/generate.ts';
import { SOFTHSM2 } from '../../lib/pkcs11/identity.ts';
import { defaultModulePaths, resolveModulePath } from '../../lib/pkcs11/module-paths.ts';
import type { SoftHsmShelf } from '../../lib/pkcs11/softhsm.ts';
import { KEYS } from './support/keys.ts';
import { softhsmAvailable } from './support/require-softhsm.ts';
import { FACTORY_PINS, discardShelf, shelfWithOne } from './support/softhsm.ts';

const scratch = mkdtempSync(join(tmpdir(), 'runbook-modules-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('loading a module', () => {
  it('refuses a path where there is no file', async () => {
    await expect(openPkcs11Token({ module: join(scratch, 'missing.so') })).toThrowWithCode('PKCS11_MODULE_NOT_FOUND');
  });

  it('refuses an executable that is not a PKCS#11 module', async () => {
    await expect(openPkcs11Token({ module: '/bin/ls' })).toThrowWithCode('PKCS11_MODULE_LOAD_FAILED');
  });

  it('refuses a file that is not a shared library at all', async () => {
    const text = join(scratch, 'notes.so');
    writeFileSync(text, 'not a library\n');
    await expect(openPkcs11Token({ module: text })).toThrowWithCode('PKCS11_MODULE_LOAD_FAILED');
  });

  const libc = ['/lib/x86_64-linux-gnu/libc.so.6', '/lib/aarch64-linux-gnu/libc.so.6', '/usr/lib/libSystem.B.dylib'].find((p) => existsSync(p));
  it.skipIf(!libc)('refuses a shared library without C_GetFunctionList', async () => {
    await expect(openPkcs11Token({ module: libc })).toThrowWithCode('PKCS11_MODULE_LOAD_FAILED');
  });

  const opensc = defaultModulePaths().find((p) => existsSync(p));
  it.skipIf(!opensc)("through OpenSC with no card reader, there is no token", async () => {
    await expect(openPkcs11Token({ module: opensc })).toThrowWithCode('PKCS11_NO_TOKEN');
    // And the module was finalized on the way out: a second attempt gets the same answer, not CKR_CRYPTOKI_ALREADY_INITIALIZED.
    await expect(openPkcs11Token({ module: opensc })).toThrowWithCode('PKCS11_NO_TOKEN');
  });
});

describe('default module locations', () => {
  it('know the Raspberry Pi and Debian multiarch directories', () => {
    expect(defaultModulePaths('linux', 'arm')[0]).toBe('/usr/lib/arm-linux-gnueabihf/opensc-pkcs11.so');
    expect(defaultModulePaths('linux', 'arm64')[0]).toBe('/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so');
    expect(defaultModulePaths('linux', 'x64')).toContain('/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so');
  });

  it('know macOS', () => {
    expect(defaultModulePaths('darwin', 'arm64')).toContain('/Library/OpenSC/lib/opensc-pkcs11.so');
    expect(defaultModulePaths('darwin', 'x64')).toContain('/usr/local/lib/opensc-pkcs11.so');
  });

  it('take the first that exists, and an explicit path over all of them', () => {
    const present = new Set(['/usr/lib/opensc-pkcs11.so', '/elsewhere/module.so']);
    const exists = (p: string) => present.has(p);
    if (process.platform === 'linux') expect(resolveModulePath(undefined, exists)).toBe('/usr/lib/opensc-pkcs11.so');
    expect(resolveModulePath('/elsewhere/module.so', exists)).toBe('/elsewhere/module.so');
    expect(() => resolveModulePath('/nowhere.so', exists)).toThrowWithCode('PKCS11_MODULE_NOT_FOUND');
    expect(() => resolveModulePath(undefined, () => false)).toThrowWithCode('PKCS11_MODULE_NOT_FOUND');
  });
});

describe('pkcs11js errors', () => {
  it('a CK_RV becomes PKCS11_<name>', () => {
    const err = new pkcs11js.Pkcs11Error('CKR_PIN_INCORRECT:160', 160, 'C_Login');
    expect(translate(err, 'C_Login')).toMatchObject({ code: 'PKCS11_CKR_PIN_INCORRECT', ckr: 'CKR_PIN_INCORRECT' });
  });

  it('a CK_RV known only by number is named from the table', () => {
    const err = new pkcs11js.Pkcs11Error('', 0xa4, 'C_Login');
    expect(translate(err, 'C_Login').code).toBe('PKCS11_CKR_PIN_LOCKED');
  });

  it('a vendor-defined CK_RV keeps that name', () => {
    const err = new pkcs11js.Pkcs11Error('', 0x80000123, 'C_Sign');
    expect(translate(err, 'C_Sign').code).toBe('PKCS11_CKR_VENDOR_DEFINED');
  });

  it('a native failure without a CK_RV is a module failure', () => {
    expect(translate(new TypeError('Parameter 1 MUST be Buffer'), 'C_Login').code).toBe('PKCS11_MODULE_FAILED');
  });
});

const softhsm = softhsmAvailable();
describe.skipIf(!softhsm)('on SoftHSM2', () => {
  const module = softhsm ?? '';
  const PINS = FACTORY_PINS;
  let shelf: SoftHsmShelf;
  beforeEach(async () => {
    ({ shelf } = await shelfWithOne(module));
  });
  /** Spies on pkcs11js's methods, put back after each test so none wraps another. */
  const spies: { mockRestore(): void }[] = [];
  /**
   * The native prototype that really holds pkcs11js's C_* methods (PKCS11.prototype
   * inherits them): a spy set anywhere else shadows them and cannot be restored.
   * pkcs11js wraps these methods when an instance is made, so spies set now see
   * every call of instances made later.
   */
  const spyOnModule = (name: string) => {
    let owner = pkcs11js.PKCS11.prototype as object | null;
    while (owner && !Object.hasOwn(owner, name)) owner = Object.getPrototypeOf(owner) as object | null;
    if (!owner) throw new Error(`pkcs11js has no ${name}`);
    const made = vi.spyOn(owner as Record<string, (...args: unknown[]) => unknown>, name);
    spies.push(made);
    return made;
  };
  afterEach(() => {
    for (const s of spies.splice(0)) s.mockRestore();
    discardShelf(shelf);
  });

  it('opens and closes the module repeatedly in one process', async () => {
    for (let i = 0; i < 3; i++) {
      const token = await openPkcs11Token({ module });
      await token.login('user', PINS.userPin);
      await token.close();
    }
  });

  /** Every C_* call the driver makes into the module from now on, in order, with its arguments. */
  const recordCalls = (): (() => [string, unknown[]][]) => {
    const names: string[] = [];
    for (const name in pkcs11js.PKCS11.prototype) if (name.startsWith('C_')) names.push(name);
    const made = names.map((name) => [name, spyOnModule(name)] as const);
    return () =>
      made
        .flatMap(([name, spy]) => spy.mock.calls.map((args, i) => ({ name, args, order: spy.mock.invocationCallOrder[i] ?? 0 })))
        .sort((a, b) => a.order - b.order)
        .map(({ name, args }): [string, unknown[]] => [name, args]);
  };

  it('C_InitToken: sessions closed first (CKR_SESSION_EXISTS), a 32-byte label, then the library re-initialized', async () => {
    const recorded = recordCalls();
    const token = await openPkcs11Token({ module });
    try {
      await token.login('user', PINS.userPin);
      const from = recorded().length;
      await token.initToken(PINS.soPin, 'reset while logged in');
      const calls = recorded().slice(from);
      const names = calls.map(([name]) => name);
      expect(names.slice(0, 6)).toEqual(['C_Logout', 'C_CloseSession', 'C_CloseAllSessions', 'C_InitToken', 'C_Finalize', 'C_Initialize']);
      const label = calls.find(([name]) => name === 'C_InitToken')?.[1][2];
      expect(label).toBe('reset while logged in' + ' '.repeat(11));
      expect(Buffer.byteLength(label as string)).toBe(32);
      // The token is found again after the restart, by serial, and works.
      expect((await token.info()).label).toBe('reset while logged in');
      await token.login('so', PINS.soPin);
      await token.initPin(PINS.userPin);
      await token.logout();
    } finally {
      await token.close();
    }
    await expect(token.info()).toThrowWithCode('PKCS11_CKR_CRYPTOKI_NOT_INITIALIZED');
  });

  it('a refused login leaves no session open behind it', async () => {
    const recorded = recordCalls();
    const token = await openPkcs11Token({ module });
    try {
      await expect(token.login('user', 'wrong-pin')).toThrowWithCode('PKCS11_CKR_PIN_INCORRECT');
      const names = recorded().map(([name]) => name);
      expect(names.slice(names.indexOf('C_OpenSession'))).toEqual(['C_OpenSession', 'C_Login', 'C_Logout', 'C_CloseSession']);
      await token.login('user', PINS.userPin);
    } finally {
      await token.close();
    }
  });

  it('a flag the token returns as anything but a one-byte CK_BBOOL is refused, not read as false', async () => {
    const { C_GetAttributeValue: original } = pkcs11js.PKCS11.prototype as unknown as Record<string, (...args: unknown[]) => pkcs11js.Attribute[]>;
    // CKA_DECRYPT of the private key comes back as two zero bytes.
    spyOnModule('C_GetAttributeValue').mockImplementation(function (this: pkcs11js.PKCS11, ...args: unknown[]) {
      return (original as (...a: unknown[]) => pkcs11js.Attribute[]).apply(this, args).map((a) => (a.type === pkcs11js.CKA_DECRYPT ? { ...a, value: Buffer.alloc(2) } : a));
    });
    const token = await openPkcs11Token({ module });
    try {
      const err = (await generateKeyPairs(token, { userPin: PINS.userPin, curve: 'P-256', keys: KEYS, expect: SOFTHSM2 }).catch((e: unknown) => e)) as Pkcs11Error;
      expect(err.code).toBe('PKCS11_KEYGEN_INCOMPLETE');
      expect((err.cause as Pkcs11Error).code).toBe('PKCS11_KEY_ATTRIBUTES');
    } finally {
      await token.close();
    }
  });

  it('a failed open leaves the module finalized', async () => {
    await shelf.create('second');
    await shelf.insert('second');
    const recorded = recordCalls();
    await expect(openPkcs11Token({ module })).toThrowWithCode('PKCS11_TOKEN_AMBIGUOUS');
    expect(recorded().at(-1)?.[0]).toBe('C_Finalize');
  });
});
