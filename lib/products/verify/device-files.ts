import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, type Dirent } from 'node:fs';
import { VerifyError } from './errors.ts';
import { join } from 'node:path';
import type { DeviceRecorder } from './recorder.ts';
import type { Role } from './report.ts';

/** A file the provisioning leaves in a device directory, and the role it belongs to (none: the device's own). */
export interface ExpectedFile {
  readonly name: string;
  readonly role?: Role;
}

/**
 * No product is anywhere near this size (certificates under 2 KiB, keys
 * under 300 bytes); a larger file is refused unread rather than loaded
 * whole into memory.
 */
export const MAX_PRODUCT_BYTES = 64 * 1024;

/**
 * Opened without following a link, and without waiting on a FIFO: the entry
 * was a regular file when the directory was listed, but the products may be
 * changed under the verifier between the listing and the open.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * At most MAX_PRODUCT_BYTES + 1 bytes of a regular file (undefined for
 * anything else): enough to tell that it is too large. Read synchronously: products are a few hundred bytes, and a
 * history of ceremonies has hundreds of them, for which a round trip through
 * the thread pool each would cost more than the reads.
 */
function readBounded(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (err) {
    // O_NOFOLLOW on a link: ELOOP.
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') return undefined;
    throw err;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return undefined;
    const buffer = Buffer.allocUnsafe(Math.min(info.size, MAX_PRODUCT_BYTES) + 1);
    let length = 0;
    for (;;) {
      const bytesRead = readSync(fd, buffer, length, buffer.length - length, null);
      if (bytesRead === 0 || (length += bytesRead) === buffer.length) break;
    }
    return Buffer.from(buffer.subarray(0, length));
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a device directory's files: the expected ones (absent ones are
 * VERIFY_FILE_MISSING) and nothing else (anything else is
 * VERIFY_FILE_UNEXPECTED: products are published as they are, and a stray
 * file is either a mistake or something slipped in). Everything read here
 * is attacker-controlled: a symbolic link is not followed (it is
 * unexpected), and a file larger than any product is refused unread.
 */
export function readDeviceFiles(dir: string, expected: readonly ExpectedFile[], rec: DeviceRecorder): Map<string, Buffer> {
  const wanted = new Set(expected.map((e) => e.name));
  const present = entries(dir);
  for (const entry of present) {
    if (wanted.has(entry.name) && entry.isFile()) continue;
    const path = join(dir, entry.name);
    rec.fail('files', 'VERIFY_FILE_UNEXPECTED', "not a product of this device's provisioning (a link or special file is not followed)", { file: path });
  }
  const names = new Set(present.filter((e) => e.isFile()).map((e) => e.name));
  const files = new Map<string, Buffer>();
  for (const { name, role } of expected) {
    const path = join(dir, name);
    if (!names.has(name)) {
      rec.fail('files', 'VERIFY_FILE_MISSING', 'missing', { role, file: path });
      continue;
    }
    const bytes = unreadable(path, () => readBounded(path));
    if (bytes === undefined) {
      rec.fail('files', 'VERIFY_FILE_UNEXPECTED', 'no longer a regular file when opened; not read', { role, file: path });
      continue;
    }
    if (bytes.length > MAX_PRODUCT_BYTES) {
      rec.fail('files', 'VERIFY_FILE_UNEXPECTED', `larger than ${MAX_PRODUCT_BYTES} bytes, which no product is; not read`, { role, file: path });
      continue;
    }
    files.set(name, bytes);
  }
  return files;
}

/** A directory's entries in name order (readdir's order is the filesystem's): the same products always give the same report. */
export function entries(dir: string): Dirent[] {
  return unreadable(dir, () => readdirSync(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A directory or file the verifier may not read is a problem of the machine, not a finding about the products. */
function unreadable<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new VerifyError('VERIFY_INPUT_UNREADABLE', `${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
}

/** Records `files` as passing for each role none of whose files is missing. */
export function passFiles(roles: readonly Role[], rec: DeviceRecorder): void {
  for (const role of roles) if (!rec.failed('files', role)) rec.pass('files', role);
}

/** A product's file name inside its device directory (lib/ceremony.ts's PRODUCT_FILES name it with the directory). */
export function fileName(path: string): string {
  return path.slice(path.indexOf('/') + 1);
}
