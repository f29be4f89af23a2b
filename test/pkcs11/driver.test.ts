// The pkcs11js driver's own concerns: loading modules, refusing what is not
// one, reading pkcs11js errors, and leaving the module clean for the next open.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { afterAll, describe, expect, it } from 'vitest';
import { openPkcs11Token, translate } from '../../lib/pkcs11/driver.ts';
import { defaultModulePaths, resolveModulePath } from '../../lib/pkcs11/module-paths.ts';
import { SoftHsmStore, softhsmAvailable, softhsmModule, softhsmRequired } from './support/softhsm.ts';

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

  it('refuses a shared library without C_GetFunctionList', async () => {
    const libc = ['/lib/x86_64-linux-gnu/libc.so.6', '/lib/aarch64-linux-gnu/libc.so.6', '/usr/lib/libSystem.B.dylib'].find((p) => existsSync(p));
    if (!libc) return;
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

const withSoftHsm = softhsmAvailable() || softhsmRequired;
describe.skipIf(!withSoftHsm)('on SoftHSM2', () => {
  it('opens and closes the module repeatedly in one process', async () => {
    const store = new SoftHsmStore().use();
    try {
      store.initToken({ label: 'repeat', soPin: '3537363231383830', userPin: '648219' });
      for (let i = 0; i < 3; i++) {
        const token = await openPkcs11Token({ module: softhsmModule });
        await token.login('user', '648219');
        await token.close();
      }
    } finally {
      store.remove();
    }
  });

  it('C_InitToken closes the session it would otherwise trip over (CKR_SESSION_EXISTS)', async () => {
    const store = new SoftHsmStore().use();
    try {
      store.initToken({ label: 'busy', soPin: '3537363231383830', userPin: '648219' });
      const token = await openPkcs11Token({ module: softhsmModule });
      await token.login('user', '648219');
      await token.initToken('3537363231383830', 'reset while logged in');
      expect((await token.info()).label).toBe('reset while logged in');
      await token.close();
      await expect(token.info()).toThrowWithCode('PKCS11_CKR_CRYPTOKI_NOT_INITIALIZED');
    } finally {
      store.remove();
    }
  });
});
