import { open, readdir } from 'node:fs/promises';
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

/** At most MAX_PRODUCT_BYTES + 1 bytes of a file: enough to tell that it is too large. */
async function readBounded(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(MAX_PRODUCT_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0 || (length += bytesRead) === buffer.length) break;
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
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
export async function readDeviceFiles(dir: string, expected: readonly ExpectedFile[], rec: DeviceRecorder): Promise<Map<string, Buffer>> {
  const wanted = new Set(expected.map((e) => e.name));
  const present = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of present) {
    if (wanted.has(entry.name) && entry.isFile()) continue;
    const path = join(dir, entry.name);
    rec.fail('files', 'VERIFY_FILE_UNEXPECTED', `${path}: not a product of this device's provisioning`, { file: path });
  }
  const names = new Set(present.filter((e) => e.isFile()).map((e) => e.name));
  const files = new Map<string, Buffer>();
  await Promise.all(
    expected.map(async ({ name, role }) => {
      const path = join(dir, name);
      if (!names.has(name)) {
        rec.fail('files', 'VERIFY_FILE_MISSING', `${path}: missing`, { role, file: path });
        return;
      }
      const bytes = await readBounded(path);
      if (bytes.length > MAX_PRODUCT_BYTES) {
        rec.fail('files', 'VERIFY_FILE_UNEXPECTED', `${path}: larger than ${MAX_PRODUCT_BYTES} bytes, which no product is; not read`, { role, file: path });
        return;
      }
      files.set(name, bytes);
    }),
  );
  return files;
}

/** Records `files` as passing for each role none of whose files is missing. */
export function passFiles(roles: readonly Role[], rec: DeviceRecorder): void {
  for (const role of roles) if (!rec.failed('files', role)) rec.pass('files', role);
}
