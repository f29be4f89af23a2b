// SoftHSM2 fixtures for the PKCS#11 tests and the bench: where the module is,
// and a private token directory per store with tokens made in process through
// pkcs11js (so no PIN is ever on an argv, not even a fixture's).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { paddedLabel } from '../../../lib/pkcs11/label.ts';

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
 * The SoftHSM2 module, or undefined. RUNBOOK_SOFTHSM_MODULE overrides the
 * search; set to the empty string it means "not installed", which is how the
 * RUNBOOK_REQUIRE_SOFTHSM=1 failure is exercised on a machine that has it.
 */
export const softhsmModule: string | undefined =
  process.env.RUNBOOK_SOFTHSM_MODULE !== undefined ? process.env.RUNBOOK_SOFTHSM_MODULE || undefined : CANDIDATES.find((p) => existsSync(p));

export interface SoftHsmToken {
  readonly label: string;
  readonly soPin: string;
  readonly userPin: string;
}

/**
 * A SoftHSM2 configuration in a fresh temporary directory, selected through
 * SOFTHSM2_CONF (which SoftHSM reads at every C_Initialize, so one process
 * can switch between them as long as the module is finalized in between).
 */
export class SoftHsmStore {
  readonly dir: string;
  readonly conf: string;

  constructor(
    readonly module: string,
    root: string = tmpdir(),
  ) {
    this.dir = mkdtempSync(join(root, 'runbook-softhsm-'));
    this.conf = join(this.dir, 'softhsm2.conf');
    writeFileSync(
      this.conf,
      [`directories.tokendir = ${this.dir}`, 'objectstore.backend = file', 'log.level = ERROR', 'slots.removable = false', ''].join('\n'),
    );
  }

  /** Points this process (and children) at this store. */
  use(): this {
    process.env.SOFTHSM2_CONF = this.conf;
    return this;
  }

  /**
   * What `softhsm2-util --init-token --free` does, in process: C_InitToken on
   * the spare slot, then C_InitPIN as the SO. The module is finalized again
   * before returning, so the code under test starts from its own C_Initialize.
   */
  initToken(token: SoftHsmToken): void {
    this.use();
    const p11 = new pkcs11js.PKCS11();
    p11.load(this.module);
    p11.C_Initialize();
    try {
      const spare = p11.C_GetSlotList(true).find((slot) => (p11.C_GetTokenInfo(slot).flags & pkcs11js.CKF_TOKEN_INITIALIZED) === 0);
      if (!spare) throw new Error(`SoftHSM2 at ${this.module} shows no spare slot`);
      p11.C_InitToken(spare, token.soPin, paddedLabel(token.label));
      const session = p11.C_OpenSession(spare, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      p11.C_Login(session, pkcs11js.CKU_SO, token.soPin);
      p11.C_InitPIN(session, token.userPin);
      p11.C_CloseSession(session);
    } finally {
      p11.C_Finalize();
      p11.close();
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
