import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ProductsError } from './errors.ts';

/**
 * Writes one ceremony product, create-exclusive and atomically.
 *
 * Products are what the ceremony publishes; the PSF runbook's tools refused to
 * overwrite an existing file, and so do we: if `path` exists, nothing is
 * written and PRODUCT_EXISTS is thrown, whatever the contents.
 *
 * Atomic: the bytes go to a temporary file beside the target, are flushed to
 * disk, and are then hard-linked to the target name. link(2) fails if the
 * name exists, so exclusivity and atomicity come from one system call; a
 * crash leaves either no product or the whole product, never half of one.
 * Filesystems without hard links (the PSF runbook's vfat flash stick) fall back to
 * an exclusive copy, which is still never an overwrite.
 */
export async function writeProduct(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(temp, 'wx', 0o444);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await publish(temp, path);
    await syncDir(dir);
  } catch (err) {
    if (err instanceof ProductsError) throw err;
    throw new ProductsError('PRODUCT_WRITE_FAILED', `cannot write ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * Refuses, before any work is done, a product that already exists, with the
 * same PRODUCT_EXISTS `writeProduct` would give later: for a step whose work
 * cannot be undone (a key generated on a device) and must not start when its
 * product could not be published. Anything at `path`, even a dangling link,
 * counts, as it does for link(2).
 */
export async function refuseExistingProduct(path: string): Promise<void> {
  try {
    await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ProductsError('PRODUCT_WRITE_FAILED', `cannot check ${path}: ${(err as Error).message}`, { cause: err });
  }
  throw exists(path, undefined);
}

async function publish(temp: string, path: string): Promise<void> {
  try {
    await link(temp, path);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw exists(path, err);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw err;
  }
  try {
    await copyFile(temp, path, constants.COPYFILE_EXCL);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw exists(path, err);
    throw err;
  }
}

function exists(path: string, cause: unknown): ProductsError {
  return new ProductsError('PRODUCT_EXISTS', `${path} already exists; ceremony products are never overwritten`, { cause });
}

/**
 * Makes a new directory entry durable (a file just created or linked in
 * `dir`). Some platforms cannot open a directory for fsync; the file's own
 * fsync is all there is then.
 */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // EINVAL/EISDIR on filesystems that do not support it: nothing more to do.
  } finally {
    await handle.close();
  }
}
