import { mkdtemp, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { refuseExistingProduct, writeProduct } from '../../lib/products/write.ts';

async function scratch(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'runbook-write-'));
}

describe('writeProduct', () => {
  it('creates the file, and the folders above it, with the given bytes', async () => {
    const dir = await scratch();
    const path = join(dir, '0013200460', '0013200460_root_pubkey.pub');
    await writeProduct(path, Uint8Array.of(4, 1, 2, 3));
    expect([...(await readFile(path))]).toEqual([4, 1, 2, 3]);
    // Products are read-only once written.
    expect((await stat(path)).mode & 0o222).toBe(0);
  });

  it('never overwrites: an existing product is left as it was', async () => {
    const dir = await scratch();
    const path = join(dir, 'key.pem');
    await writeFile(path, 'original');
    await expect(writeProduct(path, 'replacement')).toThrowWithCode('PRODUCT_EXISTS');
    expect(await readFile(path, 'utf8')).toBe('original');
  });

  it('leaves no temporary file behind, whether it succeeds or refuses', async () => {
    const dir = await scratch();
    await writeProduct(join(dir, 'a'), 'one');
    await expect(writeProduct(join(dir, 'a'), 'two')).toThrowWithCode('PRODUCT_EXISTS');
    expect(await readdir(dir)).toEqual(['a']);
  });

  it('of two concurrent writers of one product, exactly one wins', async () => {
    const dir = await scratch();
    const path = join(dir, 'race');
    const results = await Promise.allSettled(['x', 'y', 'z'].map((v) => writeProduct(path, v)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(['x', 'y', 'z']).toContain(await readFile(path, 'utf8'));
  });

  it('reports a folder it cannot create as a write failure', async () => {
    const dir = await scratch();
    await writeFile(join(dir, 'file'), '');
    await expect(writeProduct(join(dir, 'file', 'below'), 'x')).toThrowWithCode('PRODUCT_WRITE_FAILED');
  });
});

describe('refuseExistingProduct', () => {
  it('passes where nothing is, and refuses what writeProduct would refuse, even a dangling link', async () => {
    const dir = await scratch();
    await refuseExistingProduct(join(dir, 'absent', 'key.pub'));
    await writeFile(join(dir, 'key.pem'), 'kept');
    await expect(refuseExistingProduct(join(dir, 'key.pem'))).toThrowWithCode('PRODUCT_EXISTS');
    await symlink(join(dir, 'nowhere'), join(dir, 'dangling'));
    await expect(refuseExistingProduct(join(dir, 'dangling'))).toThrowWithCode('PRODUCT_EXISTS');
    await expect(writeProduct(join(dir, 'dangling'), 'x')).toThrowWithCode('PRODUCT_EXISTS');
  });

  it('reports a path it cannot check as a write failure', async () => {
    const dir = await scratch();
    await writeFile(join(dir, 'file'), '');
    await expect(refuseExistingProduct(join(dir, 'file', 'below'))).toThrowWithCode('PRODUCT_WRITE_FAILED');
  });
});
