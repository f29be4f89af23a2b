/**
 * Where the products are. The ceremony leaves one directory per device under
 * `ceremony-products/`, named by the device's serial ("Provisioning the
 * YubiHSM 2", step 18: the 10-digit, 0-padded serial; "Provisioning the
 * Nitrokey HSM", step 22: the serial the provisioning printed, e.g.
 * DENK0102947).
 *
 * A DIR argument is either such a device directory (its name is a serial) or
 * a ceremony-products directory (anything else), whose entries must all be
 * device directories. Several DIRs make a history of ceremonies: each
 * ceremony-products DIR is one ceremony, and the device DIRs given on their
 * own are taken together as one more.
 */
import { realpath, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { entries } from './device-files.ts';
import { VerifyError } from './errors.ts';
import type { DeviceKind, Finding } from './report.ts';
import { kindOfSerial } from '../../ceremony.ts';

export interface DiscoverOptions {
  /** Directories named by a SoftHSM2 token serial are a rehearsal's Nitrokey HSMs. */
  readonly rehearsal?: boolean;
}

export interface DeviceDir {
  /** The DIR argument (as given). */
  readonly products: string;
  /** The ceremony the device belongs to (for the inventory match). */
  readonly ceremony: string;
  readonly dir: string;
  readonly serial: string;
  readonly kind: DeviceKind;
}

export interface Layout {
  readonly devices: DeviceDir[];
  /** Entries of a ceremony-products DIR that are no device directory. */
  readonly findings: Finding[];
  /** The ceremonies, in argument order. */
  readonly ceremonies: string[];
}

/** The ceremony that gathers the device DIRs given on their own. */
export const LOOSE_DEVICES = '(device directories)';

async function checkDir(dir: string): Promise<void> {
  let info;
  try {
    info = await stat(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new VerifyError('VERIFY_INPUT_NOT_FOUND', `${dir}: no such directory`, { cause: err });
    throw new VerifyError('VERIFY_INPUT_UNREADABLE', `${dir}: cannot be read (${code ?? 'error'})`, { cause: err });
  }
  if (!info.isDirectory()) throw new VerifyError('VERIFY_INPUT_NOT_DIRECTORY', `${dir}: is a file, not a products directory`);
}

/** Finds the device directories under the DIR arguments. Throws VerifyError for a DIR that cannot be verified at all. */
export async function discover(dirs: readonly string[], options: DiscoverOptions = {}): Promise<Layout> {
  const deviceKindOf = (name: string): DeviceKind | undefined => kindOfSerial(name, options);
  const devices: DeviceDir[] = [];
  const findings: Finding[] = [];
  const ceremonies: string[] = [];
  const seen = new Set<string>();
  for (const products of dirs) {
    await checkDir(products);
    // The same directory named twice (or through a link) is verified once;
    // otherwise its keys would be reported as reused.
    const real = await realpath(products);
    if (seen.has(real)) continue;
    seen.add(real);

    const name = basename(resolve(products));
    const kind = deviceKindOf(name);
    if (kind) {
      if (!ceremonies.includes(LOOSE_DEVICES)) ceremonies.push(LOOSE_DEVICES);
      devices.push({ products, ceremony: LOOSE_DEVICES, dir: products, serial: name, kind });
      continue;
    }
    ceremonies.push(products);
    const found: DeviceDir[] = [];
    const listed = entries(products);
    for (const entry of listed) {
      const path = join(products, entry.name);
      const entryKind = entry.isDirectory() ? deviceKindOf(entry.name) : undefined;
      if (entryKind) {
        found.push({ products, ceremony: products, dir: path, serial: entry.name, kind: entryKind });
      } else {
        findings.push({
          code: 'VERIFY_FILE_UNEXPECTED',
          check: 'files',
          file: path,
          message: entry.isDirectory()
            ? 'not named by a device serial (10-digit YubiHSM 2 or Nitrokey HSM serial)'
            : 'a ceremony-products directory holds only device directories (a link is not followed)',
        });
      }
    }
    if (found.length === 0) {
      // The published layout is ceremony/DATE/{ceremony-products,images}: point at the right level.
      const nested = listed.some((e) => e.isDirectory() && e.name === 'ceremony-products');
      const hint = nested ? `; did you mean ${join(products, 'ceremony-products')}?` : '';
      throw new VerifyError('VERIFY_INPUT_EMPTY', `${products}: holds no device directory (named by a 10-digit YubiHSM 2 serial or a Nitrokey HSM serial)${hint}`);
    }
    // In name order, as listed: each serial is its directory's name.
    devices.push(...found);
  }
  return { devices, findings, ceremonies };
}
