import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pkcs11js from 'pkcs11js';
import { translate } from './driver.ts';
import { Pkcs11Error } from './errors.ts';
import { paddedLabel } from './label.ts';
import { checkSoPin, checkUserPin } from './pins.ts';
import { untrustedText } from '../untrusted-text.ts';

/**
 * SoftHSM2 tokens standing in for Nitrokey HSMs, for rehearsals, tests and
 * benches: a real PKCS#11 implementation behind the same pkcs11js driver
 * (driver.ts) that drives OpenSC for a real device.
 */

/** Where distributions put SoftHSM2's module. */
const CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so', // Debian, Ubuntu
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so', // Fedora
  '/usr/local/lib/softhsm/libsofthsm2.so',
  '/opt/homebrew/lib/softhsm/libsofthsm2.so', // macOS
];

/**
 * The SoftHSM2 module, or undefined when it is not installed.
 * RUNBOOK_SOFTHSM_MODULE overrides the search; set to the empty string it
 * means "not installed" (how the tests exercise a machine without it).
 */
export function findSoftHsmModule(): string | undefined {
  const override = process.env.RUNBOOK_SOFTHSM_MODULE;
  if (override !== undefined) return override || undefined;
  return CANDIDATES.find((path) => existsSync(path));
}

/** How OpenSC labels a SmartCard-HSM it has not seen initialized: what a new Nitrokey HSM shows. */
const FRESH_LABEL = 'SmartCard-HSM';

/** A token's name on the shelf: a directory name, so no separator, and no leading dot (no ".", "..", nor hidden names). */
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

export interface SoftHsmShelfOptions {
  /** libsofthsm2.so; default: findSoftHsmModule(). */
  readonly module?: string;
  /** The SO PIN each new token gets: for a stand-in for a new Nitrokey HSM, its factory 3537363231383830. */
  readonly soPin: string;
  /** The user PIN each new token gets: for a new Nitrokey HSM, its factory 648219. */
  readonly userPin: string;
}

/**
 * A bag of SoftHSM2 tokens, each standing in for one Nitrokey HSM, of which
 * only those "inserted" are seen.
 *
 * Layout under the shelf's directory DIR:
 * - `DIR/softhsm2.conf`: SoftHSM2's configuration, `directories.tokendir = DIR/tokens`.
 * - `DIR/tokens/<name>/`: the inserted tokens, the only ones a module
 *   initialized with that configuration lists (so the ceremony's "exactly one
 *   HSM inserted" rule, select.ts, holds or fails as it would with devices).
 * - `DIR/shelf/<name>/`: the tokens in their bags.
 *
 * SoftHSM2's file store keeps each token in a directory of its own (named by
 * a UUID when SoftHSM2 makes it); the directory's name is not part of the
 * token, whose serial is stored inside, so renaming it to `<name>` and moving
 * it between the two places is all inserting and removing take.
 *
 * SoftHSM2 reads SOFTHSM2_CONF at each C_Initialize (PKCS#11 v2.40 §5.4) and
 * scans the token directory then: the module must be finalized (every Token
 * opened on it closed) whenever tokens are created, inserted or removed, and
 * opened again afterwards. `use()` points this process and the processes it
 * starts at this shelf. PINs are held in private fields, never written
 * anywhere and never on an argv: tokens are made in process through pkcs11js.
 *
 * How a stand-in differs from the device, as checked against SoftHSM 2.6.1:
 * - C_InitToken (§5.5) with the right SO PIN re-initializes an initialized
 *   token in place, as a SmartCard-HSM does: same directory, same serial
 *   (the one `create` returns, so products are named by it), objects erased,
 *   user PIN unset.
 * - A wrong PIN sets CKF_USER_PIN_COUNT_LOW / CKF_SO_PIN_COUNT_LOW (§3.2),
 *   which the right one clears, but SoftHSM2 never reports a final try and
 *   never locks a PIN: locking is rehearsed on the simulated SmartCard-HSM.
 */
export class SoftHsmShelf {
  /** The shelf's directory, absolute. */
  readonly dir: string;
  /** `DIR/softhsm2.conf`, for SOFTHSM2_CONF. */
  readonly conf: string;
  /** The SoftHSM2 module the tokens are made with. */
  readonly module: string;
  readonly #soPin: string;
  readonly #userPin: string;

  constructor(dir: string, options: SoftHsmShelfOptions) {
    const module = options.module ?? findSoftHsmModule();
    if (module === undefined) {
      throw new Pkcs11Error('PKCS11_MODULE_NOT_FOUND', 'SoftHSM2 is not installed (no libsofthsm2.so found; RUNBOOK_SOFTHSM_MODULE names one)');
    }
    // The tokens stand in for Nitrokey HSMs: give them PINs a Nitrokey HSM would take.
    checkSoPin(options.soPin);
    checkUserPin(options.userPin);
    this.module = module;
    this.#soPin = options.soPin;
    this.#userPin = options.userPin;
    this.dir = resolve(dir);
    this.conf = join(this.dir, 'softhsm2.conf');
    mkdirSync(this.tokens, { recursive: true });
    mkdirSync(this.shelved, { recursive: true });
    writeFileSync(this.conf, configuration(this.tokens));
  }

  private get tokens(): string {
    return join(this.dir, 'tokens');
  }

  private get shelved(): string {
    return join(this.dir, 'shelf');
  }

  /** Points this process (and the processes it starts) at the shelf: SOFTHSM2_CONF=DIR/softhsm2.conf. */
  use(): this {
    process.env.SOFTHSM2_CONF = this.conf;
    return this;
  }

  /**
   * Makes a new token standing in for a factory-fresh Nitrokey HSM: label
   * "SmartCard-HSM", the shelf's SO PIN and user PIN, no keys; and leaves it
   * in its bag (`DIR/shelf/<name>/`). It is made in a private token directory
   * of its own, so the tokens inserted now are neither seen nor touched.
   * Fails with PKCS11_CKR_CRYPTOKI_ALREADY_INITIALIZED while this process has
   * the module open.
   */
  async create(name: string): Promise<{ serial: string }> {
    checkName(name);
    if ((await this.where(name)) !== undefined) {
      throw new Pkcs11Error('PKCS11_SHELF_NAME_TAKEN', `the SoftHSM2 shelf ${this.dir} already has a token named ${untrustedText(name)}`);
    }
    const staging = await mkdtemp(join(this.dir, '.create-'));
    try {
      const tokendir = join(staging, 'tokens');
      await mkdir(tokendir);
      const conf = join(staging, 'softhsm2.conf');
      await writeFile(conf, configuration(tokendir));
      const serial = this.initFresh(conf);
      const made = await readdir(tokendir);
      const [only, ...more] = made;
      if (only === undefined || more.length > 0) {
        throw new Pkcs11Error('PKCS11_MODULE_FAILED', `SoftHSM2 at ${this.module} left ${made.length} token directories for one new token`);
      }
      await rename(join(tokendir, only), join(this.shelved, name));
      return { serial };
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** Puts the token in (`DIR/tokens/<name>/`); an inserted one stays so. The module must be finalized. */
  async insert(name: string): Promise<void> {
    await this.move(name, 'inserted');
  }

  /** Takes the token out and back into its bag; a shelved one stays so. The module must be finalized. */
  async remove(name: string): Promise<void> {
    await this.move(name, 'shelved');
  }

  /**
   * Puts every token in: at the end of a rehearsal, so that an auditor can
   * open them all (`SOFTHSM2_CONF=DIR/softhsm2.conf pkcs11-tool --list-slots`).
   */
  async insertAll(): Promise<void> {
    for (const name of await readdir(this.shelved)) {
      if (NAME.test(name)) await this.insert(name);
    }
  }

  /** Every token, by name, and whether it is inserted. */
  async list(): Promise<{ name: string; inserted: boolean }[]> {
    const [inserted, shelved] = await Promise.all([readdir(this.tokens), readdir(this.shelved)]);
    return [
      ...inserted.filter((n) => NAME.test(n)).map((name) => ({ name, inserted: true })),
      ...shelved.filter((n) => NAME.test(n)).map((name) => ({ name, inserted: false })),
    ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private async move(name: string, to: 'inserted' | 'shelved'): Promise<void> {
    checkName(name);
    const now = await this.where(name);
    if (now === undefined) {
      throw new Pkcs11Error('PKCS11_SHELF_TOKEN_UNKNOWN', `the SoftHSM2 shelf ${this.dir} has no token named ${untrustedText(name)}`);
    }
    if (now === to) return;
    const [from, into] = to === 'inserted' ? [this.shelved, this.tokens] : [this.tokens, this.shelved];
    // rename(2) within one directory tree: the token is in one place or the other, never half moved.
    await rename(join(from, name), join(into, name));
  }

  private async where(name: string): Promise<'inserted' | 'shelved' | undefined> {
    const [inserted, shelved] = await Promise.all([readdir(this.tokens), readdir(this.shelved)]);
    return inserted.includes(name) ? 'inserted' : shelved.includes(name) ? 'shelved' : undefined;
  }

  /**
   * What `softhsm2-util --init-token --free` and a first C_InitPIN do, in
   * process, against the configuration `conf`: C_InitToken on the spare slot
   * (§5.5), then C_InitPIN as the SO. The module is finalized again before
   * returning, and SOFTHSM2_CONF is put back as it was.
   */
  private initFresh(conf: string): string {
    const previous = process.env.SOFTHSM2_CONF;
    const restore = () => {
      if (previous === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = previous;
    };
    process.env.SOFTHSM2_CONF = conf;
    const call = <T>(what: string, fn: () => T): T => {
      try {
        return fn();
      } catch (err) {
        throw translate(err, `${what} of ${this.module} (making a SoftHSM2 token)`);
      }
    };
    const p11 = new pkcs11js.PKCS11();
    try {
      p11.load(this.module);
    } catch (err) {
      restore();
      throw new Pkcs11Error('PKCS11_MODULE_LOAD_FAILED', `${this.module} is not a loadable PKCS#11 module`, { cause: err });
    }
    try {
      // Never finalize a module this call did not initialize: it may be another Token's.
      call('C_Initialize', () => p11.C_Initialize());
      try {
        const spare = call('C_GetSlotList', () =>
          p11.C_GetSlotList(true).find((slot) => (p11.C_GetTokenInfo(slot).flags & pkcs11js.CKF_TOKEN_INITIALIZED) === 0),
        );
        if (!spare) throw new Pkcs11Error('PKCS11_MODULE_FAILED', `SoftHSM2 at ${this.module} shows no spare slot for a new token`);
        call('C_InitToken', () => p11.C_InitToken(spare, this.#soPin, paddedLabel(FRESH_LABEL)));
        const session = call('C_OpenSession', () => p11.C_OpenSession(spare, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION));
        try {
          call('C_Login', () => p11.C_Login(session, pkcs11js.CKU_SO, this.#soPin));
          call('C_InitPIN', () => p11.C_InitPIN(session, this.#userPin));
          call('C_Logout', () => p11.C_Logout(session));
        } finally {
          quietly(() => p11.C_CloseSession(session));
        }
        return call('C_GetTokenInfo', () => p11.C_GetTokenInfo(spare)).serialNumber.trimEnd();
      } finally {
        // A failure here would hide the error that matters; the next C_Initialize reports a module left initialized.
        quietly(() => p11.C_Finalize());
      }
    } finally {
      p11.close();
      restore();
    }
  }
}

function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // Clean-up after the call whose outcome is reported.
  }
}

function checkName(name: string): void {
  if (!NAME.test(name)) {
    throw new Pkcs11Error(
      'PKCS11_SHELF_NAME_INVALID',
      `a SoftHSM2 token's name on the shelf is 1 to 64 of A-Z a-z 0-9 . _ - and does not start with a dot, not ${untrustedText(name)}`,
    );
  }
}

/** SoftHSM2's configuration (softhsm2.conf(5)) for a token directory. */
function configuration(tokendir: string): string {
  return [
    '# SoftHSM2 tokens standing in for Nitrokey HSMs (runbook, lib/pkcs11/softhsm.ts).',
    `directories.tokendir = ${tokendir}`,
    'objectstore.backend = file',
    'log.level = ERROR',
    '',
  ].join('\n');
}
