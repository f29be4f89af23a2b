// SoftHSM2 tokens on a shelf, standing in for Nitrokey HSMs in rehearsals:
// only the inserted ones are seen, so the "exactly one HSM" rule holds as it
// would with devices, and at the end every token can be opened by an auditor
// with the standard tools.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPkcs11Token } from '../../lib/pkcs11/driver.ts';
import { generateKeyPairs } from '../../lib/pkcs11/generate.ts';
import { SOFTHSM2 } from '../../lib/pkcs11/identity.ts';
import { provisionToken } from '../../lib/pkcs11/provision.ts';
import { SoftHsmShelf, findSoftHsmModule } from '../../lib/pkcs11/softhsm.ts';
import type { Token } from '../../lib/pkcs11/token.ts';
import { KEYS, TOKEN_LABEL } from './support/keys.ts';
import { softhsmAvailable } from './support/require-softhsm.ts';
import { FACTORY_PINS } from './support/softhsm.ts';

const NEW = { soPin: '0f1e2d3c4b5a6978', userPin: 'tuf-2020' } as const;

let root: string;
let savedConf: string | undefined;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'runbook-shelf-'));
  savedConf = process.env.SOFTHSM2_CONF;
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
  if (savedConf === undefined) delete process.env.SOFTHSM2_CONF;
  else process.env.SOFTHSM2_CONF = savedConf;
});

describe('finding SoftHSM2', () => {
  const saved = process.env.RUNBOOK_SOFTHSM_MODULE;
  afterEach(() => {
    if (saved === undefined) delete process.env.RUNBOOK_SOFTHSM_MODULE;
    else process.env.RUNBOOK_SOFTHSM_MODULE = saved;
  });

  it('RUNBOOK_SOFTHSM_MODULE names the module, and set empty means "not installed"', () => {
    process.env.RUNBOOK_SOFTHSM_MODULE = '/somewhere/libsofthsm2.so';
    expect(findSoftHsmModule()).toBe('/somewhere/libsofthsm2.so');
    process.env.RUNBOOK_SOFTHSM_MODULE = '';
    expect(findSoftHsmModule()).toBeUndefined();
    expect(() => new SoftHsmShelf(root, FACTORY_PINS)).toThrowWithCode('PKCS11_MODULE_NOT_FOUND');
  });
});

describe('a shelf, before any token is made', () => {
  const shelf = () => new SoftHsmShelf(root, { module: '/nowhere/libsofthsm2.so', ...FACTORY_PINS });

  it('writes a configuration whose token directory holds the inserted tokens only', () => {
    const s = shelf();
    expect(s.conf).toBe(join(root, 'softhsm2.conf'));
    const lines = readFileSync(s.conf, 'utf8').split('\n');
    expect(lines).toContain(`directories.tokendir = ${join(root, 'tokens')}`);
    expect(lines).toContain('objectstore.backend = file');
    expect(lines).toContain('log.level = ERROR');
    expect(readdirSync(root).sort()).toEqual(['shelf', 'softhsm2.conf', 'tokens']);
  });

  it('use() points SOFTHSM2_CONF at it', () => {
    const s = shelf().use();
    expect(process.env.SOFTHSM2_CONF).toBe(s.conf);
  });

  it('refuses PINs a Nitrokey HSM would not take', () => {
    expect(() => new SoftHsmShelf(root, { module: '/x.so', soPin: '1234', userPin: '648219' })).toThrowWithCode('PKCS11_PIN_FORMAT');
    expect(() => new SoftHsmShelf(root, { module: '/x.so', soPin: FACTORY_PINS.soPin, userPin: '123' })).toThrowWithCode('PKCS11_PIN_FORMAT');
  });

  it('keeps its PINs out of what it shows', () => {
    const text = inspect(shelf(), { showHidden: true, depth: 10 });
    expect(text).not.toContain(FACTORY_PINS.soPin);
    expect(text).not.toContain(FACTORY_PINS.userPin);
  });

  it.each(['', '.', '..', '../escape', 'a/b', '.hidden', 'with space', 'tab\t', 'x'.repeat(65), 'nitro\u202ekey'])(
    'refuses the token name %j',
    async (name) => {
      const s = shelf();
      await expect(s.create(name)).toThrowWithCode('PKCS11_SHELF_NAME_INVALID');
      await expect(s.insert(name)).toThrowWithCode('PKCS11_SHELF_NAME_INVALID');
      await expect(s.remove(name)).toThrowWithCode('PKCS11_SHELF_NAME_INVALID');
    },
  );

  it('knows no token it did not make', async () => {
    const s = shelf();
    await expect(s.insert('Nitrokey-1')).toThrowWithCode('PKCS11_SHELF_TOKEN_UNKNOWN');
    await expect(s.remove('Nitrokey-1')).toThrowWithCode('PKCS11_SHELF_TOKEN_UNKNOWN');
    expect(await s.list()).toEqual([]);
  });
});

const softhsm = softhsmAvailable();
describe.skipIf(!softhsm)('tokens on the shelf (SoftHSM2)', () => {
  const module = softhsm ?? '';
  let open: Token | undefined;
  afterEach(async () => {
    await open?.close();
    open = undefined;
  });
  const shelf = () => new SoftHsmShelf(root, { module, ...FACTORY_PINS }).use();

  it('one inserted is the only one seen; two are refused; all can be audited at the end', async () => {
    const s = shelf();
    const names = ['Nitrokey-1', 'Nitrokey-2', 'Nitrokey-3.spare'];
    const serials: string[] = [];
    for (const name of names) serials.push((await s.create(name)).serial);
    expect(new Set(serials).size).toBe(3);
    expect(await s.list()).toEqual(names.map((name) => ({ name, inserted: false })));

    // In their bags, none is seen.
    await expect(openPkcs11Token({ module })).toThrowWithCode('PKCS11_NO_TOKEN');

    // Exactly one inserted: that one, as a factory-fresh Nitrokey HSM would look (but made by SoftHSM).
    await s.insert('Nitrokey-2');
    open = await openPkcs11Token({ module });
    expect(await open.info()).toMatchObject({ serial: serials[1], label: 'SmartCard-HSM', ...SOFTHSM2 });
    await open.close();

    // Two inserted: refused, as with two devices plugged in.
    await s.insert('Nitrokey-1');
    await expect(openPkcs11Token({ module })).toThrowWithCode('PKCS11_TOKEN_AMBIGUOUS');
    await s.remove('Nitrokey-1');

    // The ceremony's sequence on the one inserted, with the factory PINs it was made with.
    open = await openPkcs11Token({ module });
    const provisioned = await provisionToken(open, { ...FACTORY_PINS, newSoPin: NEW.soPin, userPin: NEW.userPin, label: TOKEN_LABEL, expect: SOFTHSM2 });
    // SoftHSM2 re-initializes an initialized token in place (C_InitToken with its SO PIN), and the serial survives.
    expect(provisioned.serial).toBe(serials[1]);
    const generated = await generateKeyPairs(open, { userPin: NEW.userPin, curve: 'P-256', keys: KEYS, expect: SOFTHSM2 });
    expect(generated.serial).toBe(serials[1]);
    await open.close();
    open = undefined;
    await s.remove('Nitrokey-2');
    expect((await s.list()).every((t) => !t.inserted)).toBe(true);

    // The end of the rehearsal: every token in, for the auditor.
    await s.insertAll();
    expect(await s.list()).toEqual(names.map((name) => ({ name, inserted: true })));

    // An independent look, with OpenSC's tool and nothing of ours but the configuration; no PIN on its argv.
    const env = { ...process.env, SOFTHSM2_CONF: join(root, 'softhsm2.conf') };
    const argv = ['--module', module, '--list-slots'];
    const listing = execFileSync('pkcs11-tool', argv, { env, encoding: 'utf8' });
    for (const serial of serials) expect(listing).toMatch(new RegExp(`serial num\\s*:\\s*${serial}\\b`));
    expect(listing.match(/token label\s*:\s*SmartCard-HSM/g)).toHaveLength(2);
    expect(listing.match(new RegExp(`token label\\s*:\\s*${TOKEN_LABEL}`, 'g'))).toHaveLength(1);
    // The provisioned one holds the two public keys; they are readable without a login (CKA_PRIVATE false).
    const objects = execFileSync('pkcs11-tool', ['--module', module, '--token-label', TOKEN_LABEL, '--list-objects', '--type', 'pubkey'], { env, encoding: 'utf8' });
    expect(objects.match(/label:\s*(root|targets)/g)?.map((l) => l.split(/\s+/)[1]).sort()).toEqual(['root', 'targets']);
    for (const secret of [...Object.values(FACTORY_PINS), ...Object.values(NEW)]) expect(argv.join(' ')).not.toContain(secret);
  });

  it('each token keeps its own state while shelved', async () => {
    const s = shelf();
    const a = await s.create('a');
    await s.create('b');
    await s.insert('a');
    open = await openPkcs11Token({ module });
    await provisionToken(open, { ...FACTORY_PINS, newSoPin: NEW.soPin, userPin: NEW.userPin, label: TOKEN_LABEL, expect: SOFTHSM2 });
    await open.close();
    await s.remove('a');
    await s.insert('b');
    open = await openPkcs11Token({ module });
    expect((await open.info()).label).toBe('SmartCard-HSM');
    await open.close();
    await s.remove('b');
    await s.insert('a');
    open = await openPkcs11Token({ module });
    expect(await open.info()).toMatchObject({ serial: a.serial, label: TOKEN_LABEL });
    await open.login('user', NEW.userPin);
  });

  it('inserting and removing twice changes nothing; a name is used once', async () => {
    const s = shelf();
    await s.create('a');
    await expect(s.create('a')).toThrowWithCode('PKCS11_SHELF_NAME_TAKEN');
    await s.insert('a');
    await s.insert('a');
    await expect(s.create('a')).toThrowWithCode('PKCS11_SHELF_NAME_TAKEN');
    expect(await s.list()).toEqual([{ name: 'a', inserted: true }]);
    await s.remove('a');
    await s.remove('a');
    expect(await s.list()).toEqual([{ name: 'a', inserted: false }]);
  });

  it('a token is made without disturbing the one inserted, and SOFTHSM2_CONF is left as it was', async () => {
    const s = shelf();
    const first = await s.create('first');
    await s.insert('first');
    process.env.SOFTHSM2_CONF = '/elsewhere/softhsm2.conf';
    await s.create('second');
    expect(process.env.SOFTHSM2_CONF).toBe('/elsewhere/softhsm2.conf');
    s.use();
    open = await openPkcs11Token({ module });
    expect((await open.info()).serial).toBe(first.serial);
    // No staging directory is left behind.
    expect(readdirSync(root).sort()).toEqual(['shelf', 'softhsm2.conf', 'tokens']);
  });

  it('cannot make a token while the module is open in this process, and leaves the open token working', async () => {
    const s = shelf();
    await s.create('first');
    await s.insert('first');
    open = await openPkcs11Token({ module });
    await expect(s.create('second')).toThrowWithCode('PKCS11_CKR_CRYPTOKI_ALREADY_INITIALIZED');
    expect(await s.list()).toEqual([{ name: 'first', inserted: true }]);
    await open.login('user', FACTORY_PINS.userPin);
    await open.logout();
  });
});
