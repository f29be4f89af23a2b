import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceIdentity } from './ca.ts';
import { SimulatorError } from './errors.ts';
import { checkIdentity } from './identities.ts';
import { decodeDeviceState, encodeDeviceState, type SavedDeviceState } from './state-file.ts';

/**
 * Where a simulated YubiHSM 2 keeps what a real one keeps in its flash: one
 * directory per serial under the state directory (`<dir>/0007550054/`),
 * readable by the owner only, holding
 *
 *   identity.pem  the attestation key (PKCS#8) and the device certificate,
 *                 written once: the serial's identity for good
 *   state.json    objects (with their keys), options and Log Store
 *                 (state-file.ts), rewritten after every command
 *
 * Every file is written whole to a temporary name beside it, flushed, and
 * then renamed over the old one, so a crash leaves the old state or the new
 * one, never half of one; key material is created with mode 0600. The
 * identity is published with link(2) instead of rename, which fails rather
 * than replace: two processes making the same serial's identity at once end
 * up with one, the first.
 */

const IDENTITY_FILE = 'identity.pem';
const STATE_FILE = 'state.json';
/** Owner read/write only: the files hold private keys. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/** Writes `data` to `path` through a flushed temporary file: renamed over `path`, or (`replace` false) linked to it, failing with EEXIST if it exists. */
function writeWhole(path: string, data: string, replace: boolean): void {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fd = openSync(temp, 'wx', FILE_MODE);
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (replace) renameSync(temp, path);
    else publishOnce(temp, path);
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // Renamed away already, or never created.
    }
  }
}

/**
 * Gives `temp` the name `path` unless something has it: link(2), which fails
 * with EEXIST rather than replace. Filesystems without hard links get a
 * check and a rename, which only a process racing in between can defeat.
 */
function publishOnce(temp: string, path: string): void {
  try {
    linkSync(temp, path);
    return;
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw err;
  }
  if (existsSync(path)) throw Object.assign(new Error(`${path} exists`), { code: 'EEXIST' });
  renameSync(temp, path);
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw new SimulatorError('SIMULATOR_STATE_INVALID', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The PEM blocks of a text, by label. */
function pemBlocks(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/-----BEGIN ([A-Z ]+)-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END \1-----/g)) out.set(m[1]!, m[0]);
  return out;
}

export class StateDir {
  private constructor(
    /** The serial's directory. */
    readonly dir: string,
    readonly serial: number,
  ) {}

  /** The directory for `serial` under `root`, created (mode 0700) if need be. */
  static open(root: string, serial: number): StateDir {
    const dir = join(root, String(serial).padStart(10, '0'));
    try {
      mkdirSync(dir, { recursive: true, mode: DIR_MODE });
      chmodSync(dir, DIR_MODE);
    } catch (err) {
      throw new SimulatorError('SIMULATOR_STATE_UNWRITABLE', `cannot create the state directory ${dir}: ${(err as Error).message}`, { cause: err });
    }
    return new StateDir(dir, serial);
  }

  get identityPath(): string {
    return join(this.dir, IDENTITY_FILE);
  }

  get statePath(): string {
    return join(this.dir, STATE_FILE);
  }

  /** The stored identity, checked to be this serial's, or undefined when none is stored yet. */
  readIdentity(): DeviceIdentity | undefined {
    const path = this.identityPath;
    const text = readIfPresent(path);
    if (text === undefined) return undefined;
    const blocks = pemBlocks(text);
    const keyPem = blocks.get('PRIVATE KEY');
    const certPem = blocks.get('CERTIFICATE');
    if (keyPem === undefined || certPem === undefined) {
      throw new SimulatorError('SIMULATOR_STATE_INVALID', `${path} does not hold a PRIVATE KEY and a CERTIFICATE`);
    }
    let identity: DeviceIdentity;
    try {
      identity = { attestationKey: createPrivateKey(keyPem), certificate: new Uint8Array(new X509Certificate(certPem).raw) };
    } catch (err) {
      throw new SimulatorError('SIMULATOR_STATE_INVALID', `${path}: ${(err as Error).message}`, { cause: err });
    }
    checkIdentity(identity, this.serial, 'SIMULATOR_STATE_INVALID');
    return identity;
  }

  /**
   * Stores `identity` as this serial's, unless one is stored already (another
   * process got there first): returns the one that is stored.
   */
  writeIdentity(identity: DeviceIdentity): DeviceIdentity {
    const keyPem = identity.attestationKey.export({ type: 'pkcs8', format: 'pem' });
    const certPem = new X509Certificate(identity.certificate).toString();
    try {
      writeWhole(this.identityPath, `${keyPem.toString()}${certPem}`, false);
      return identity;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') {
        throw new SimulatorError('SIMULATOR_STATE_UNWRITABLE', `cannot write ${this.identityPath}: ${(err as Error).message}`, { cause: err });
      }
    }
    const stored = this.readIdentity();
    if (!stored) throw new SimulatorError('SIMULATOR_STATE_INVALID', `${this.identityPath} appeared and vanished`);
    return stored;
  }

  /** The stored state, or undefined for a device never used with this directory. */
  readState(): SavedDeviceState | undefined {
    const text = readIfPresent(this.statePath);
    return text === undefined ? undefined : decodeDeviceState(text, this.serial, this.statePath);
  }

  /** Replaces the stored state. */
  writeState(state: SavedDeviceState): void {
    try {
      writeWhole(this.statePath, encodeDeviceState(this.serial, state), true);
    } catch (err) {
      throw new SimulatorError('SIMULATOR_STATE_UNWRITABLE', `cannot write ${this.statePath}: ${(err as Error).message}`, { cause: err });
    }
  }
}
