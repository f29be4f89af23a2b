import { describe, expect, it } from 'vitest';
import { clearPasswordCache, keysFromPassword, passwordDerivationCount } from '../../lib/yubihsm/password.ts';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('password cache', () => {
  it('derives the factory keys for "password"', async () => {
    const keys = await keysFromPassword('password');
    expect(toHex(keys.enc) + toHex(keys.mac)).toBe('090b47dbed595654901dee1cc655e420' + '592fd483f759e29909a04c4505d2ce0a');
  });

  it('runs PBKDF2 once per distinct password, however many sessions ask', async () => {
    const before = passwordDerivationCount();
    const results = await Promise.all(Array.from({ length: 10 }, () => keysFromPassword('cache test one')));
    await keysFromPassword('cache test one');
    expect(passwordDerivationCount() - before).toBe(1);
    expect(new Set(results.map((k) => toHex(k.enc))).size).toBe(1);
    await keysFromPassword('cache test two');
    expect(passwordDerivationCount() - before).toBe(2);
  });

  it('treats a string and its UTF-8 bytes as the same password', async () => {
    const a = await keysFromPassword('pässword');
    const b = await keysFromPassword(new TextEncoder().encode('pässword'));
    expect(toHex(a.mac)).toBe(toHex(b.mac));
  });

  it('wipes the derived keys when the cache is cleared, and derives afresh afterwards', async () => {
    const keys = await keysFromPassword('cache test wipe');
    expect(keys.enc.some((b) => b !== 0)).toBe(true);
    const before = passwordDerivationCount();
    clearPasswordCache();
    await new Promise((resolve) => setImmediate(resolve));
    expect(keys.enc.every((b) => b === 0) && keys.mac.every((b) => b === 0)).toBe(true);
    const again = await keysFromPassword('cache test wipe');
    expect(passwordDerivationCount() - before).toBe(1);
    expect(again.enc.some((b) => b !== 0)).toBe(true);
  });
});
