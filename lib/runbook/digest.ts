/**
 * One SHA-256 over everything that executes in a ceremony: the runbook, the
 * ceremony steps (steps/), the library (lib/), the command that starts them
 * (bin/, which also decides what code is loaded), the package manifest
 * (package.json: module type, entry points) and the dependency lock
 * (package-lock.json). A ceremony pins this value in advance, as the PSF runbook's
 * pre-ceremony pinned its binaries' hashes, so witnesses can confirm that the
 * runbook being run is the one that was reviewed.
 *
 * The digest is the SHA-256 of a manifest in `sha256sum` format, one line
 * per file, `<sha256 hex>  <path>\n`, sorted by path (paths relative to the
 * project root, `/`-separated). File names are part of what is hashed, so a
 * renamed or moved file changes the digest. `runbook digest --verbose`
 * prints the manifest, which `sha256sum -c` can verify from the project root.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { projectRoot } from '../paths.ts';
import { toError } from './diagnostics.ts';
import { RunbookFormatError } from './errors.ts';
import { readRunbookBytes } from './source.ts';

/** The trees and files, relative to the project root, whose code runs in a ceremony. */
export const EXECUTED = ['bin', 'steps', 'lib', 'package.json', 'package-lock.json'] as const;

export interface DigestEntry {
  /** `/`-separated, relative to the project root. */
  readonly path: string;
  readonly sha256: string;
}

export interface Digest {
  /** SHA-256 (hex) of the manifest. */
  readonly sha256: string;
  readonly files: readonly DigestEntry[];
  /** The manifest text the digest is taken over. */
  readonly manifest: string;
}

/**
 * Digests `runbook` together with the project's executed code. The runbook
 * is named by its path relative to `root`, or by its base name when it lives
 * outside (so the digest does not depend on where a copy was put).
 */
export async function digestRunbook(runbook: string, root: string = projectRoot, bytes?: Uint8Array): Promise<Digest> {
  // Read as every command reads a runbook (a FIFO or an outsized file is refused, not read),
  // unless the caller already read it: then the digest is of the very bytes it parsed.
  const read = bytes === undefined ? await readRunbookBytes(runbook) : { bytes };
  if ('problem' in read) throw toError(read.problem);

  // Path in the manifest → the file to read, or the runbook's bytes, already read.
  const files = new Map<string, string | Uint8Array>();
  const inside = relative(root, runbook);
  files.set(inside.startsWith('..') || inside === '' ? basename(runbook) : toPosix(inside), read.bytes);
  for (const entry of EXECUTED) {
    for (const file of await listFiles(join(root, entry))) files.set(toPosix(relative(root, file)), file);
  }

  const entries: DigestEntry[] = [];
  for (const path of [...files.keys()].sort(byBytes)) {
    const source = files.get(path)!;
    const bytes =
      typeof source === 'string'
        ? await readFile(source).catch((err: unknown) => {
            throw new RunbookFormatError('FILE_UNREADABLE', { file: path, line: 1, column: 1 }, 'cannot read the file', { cause: err });
          })
        : source;
    entries.push({ path, sha256: sha256(bytes) });
  }
  const manifest = entries.map((e) => `${e.sha256}  ${e.path}\n`).join('');
  return { sha256: sha256(Buffer.from(manifest, 'utf8')), files: entries, manifest };
}

/** Regular files under `path` (itself if it is one), following symbolic links as the loader would; nothing if absent. */
async function listFiles(path: string, ancestors: ReadonlySet<string> = new Set()): Promise<string[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return [];
  if (info.isFile()) return [path];
  if (!info.isDirectory()) return [];
  // Links are followed (what runs is what they point at), but never into a
  // directory that contains the one being listed: a link loop would never end.
  const real = await realpath(path);
  if (ancestors.has(real)) return [];
  const inside = new Set(ancestors).add(real);
  const out: string[] = [];
  for (const name of await readdir(path)) out.push(...(await listFiles(join(path, name), inside)));
  return out;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}

/** Code-unit order, independent of the locale, so every machine sorts alike. */
function byBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
