// SoftHSM2 fixtures for the PKCS#11 tests: a private token directory per
// test file, tokens made with softhsm2-util, and the rule on skipping.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where distributions put SoftHSM2's module; RUNBOOK_SOFTHSM_MODULE overrides. */
const CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so', // Debian, Ubuntu
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so', // Fedora
  '/usr/local/lib/softhsm/libsofthsm2.so',
  '/opt/homebrew/lib/softhsm/libsofthsm2.so', // macOS
];

export const softhsmModule: string | undefined = process.env.RUNBOOK_SOFTHSM_MODULE ?? CANDIDATES.find((p) => existsSync(p));

/** CI sets RUNBOOK_REQUIRE_SOFTHSM=1: there a missing SoftHSM2 is a failure, never a skip. */
export const softhsmRequired = process.env.RUNBOOK_REQUIRE_SOFTHSM === '1';

/**
 * True when the SoftHSM2 suites can run. When they cannot, say so loudly: a
 * quiet skip would let the real-implementation half of the contract go
 * untested without anyone noticing.
 */
export function softhsmAvailable(): boolean {
  if (softhsmModule) return true;
  const banner = [
    '',
    '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
    '!!! SoftHSM2 is not installed: the PKCS#11 contract suite runs against the',
    '!!! simulated SmartCard-HSM only. Install it (Debian: apt-get install',
    '!!! softhsm2 opensc) or set RUNBOOK_SOFTHSM_MODULE to libsofthsm2.so.',
    '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
    '',
  ].join('\n');
  process.stderr.write(banner);
  return false;
}

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

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'runbook-softhsm-'));
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

  /** softhsm2-util --init-token --free: test fixture PINs on its argv are not secrets. */
  initToken(token: SoftHsmToken): void {
    execFileSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', token.label, '--so-pin', token.soPin, '--pin', token.userPin],
      { env: { ...process.env, SOFTHSM2_CONF: this.conf }, stdio: 'pipe' },
    );
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
