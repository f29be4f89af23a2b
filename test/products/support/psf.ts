/**
 * The PSF 2020-10-30 products, copied to a temporary directory so that a
 * test can tamper with them; and the inventory those products really match.
 */
import { chmod, cp, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { join } from 'node:path';
import type { VerifyInventory } from '../../../lib/products/verify/index.ts';
import { psfProducts } from '../../support/paths.ts';

/**
 * The PSF runbook's inventory ("Prepare the environment", steps 8-13). The products
 * agree with it as a multiset: 0013200460 is the P-384 YubiHSM (YubiHSM2-2),
 * DENK0102947 the P-256 Nitrokey (NitrokeyHSM-5).
 */
export const PSF_INVENTORY: VerifyInventory = {
  title: 'PSF TUF key ceremony, 2020-10-30',
  hsms: [
    { id: 'YubiHSM2-1', kind: 'yubihsm2', keyType: 'P-256' },
    { id: 'YubiHSM2-2', kind: 'yubihsm2', keyType: 'P-384' },
    { id: 'YubiHSM2-3', kind: 'yubihsm2', keyType: 'P-256' },
    { id: 'NitrokeyHSM-4', kind: 'nitrokey-hsm', keyType: 'P-384' },
    { id: 'NitrokeyHSM-5', kind: 'nitrokey-hsm', keyType: 'P-256' },
    { id: 'NitrokeyHSM-6', kind: 'nitrokey-hsm', keyType: 'P-384' },
  ],
};

export const PSF_YUBIHSMS = ['0013200460', '0013200461', '0013200462'] as const;
export const PSF_NITROKEYS = ['DENK0102947', 'DENK0103189', 'DENK0200473'] as const;

async function makeWritable(path: string): Promise<void> {
  const info = await stat(path);
  await chmod(path, info.isDirectory() ? 0o755 : 0o644);
  if (info.isDirectory()) for (const name of await readdir(path)) await makeWritable(join(path, name));
}

/** A temporary directory holding `ceremony-products/`, a writable copy of the PSF products. */
async function copyPsf(): Promise<{ root: string; products: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'runbook-verify-'));
  const products = join(root, 'ceremony-products');
  await cp(psfProducts, products, { recursive: true });
  await makeWritable(products);
  return { root, products, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/**
 * A writable copy of the PSF products, made afresh before each test
 * (`each`) or once for the file (`all`), removed after; `products` is its
 * path once the hook has run.
 */
export function psfCopy(scope: 'each' | 'all'): { readonly products: string } {
  const state = { products: '' };
  let cleanup = async () => {};
  (scope === 'each' ? beforeEach : beforeAll)(async () => {
    ({ products: state.products, cleanup } = await copyPsf());
  });
  (scope === 'each' ? afterEach : afterAll)(() => cleanup());
  return state;
}
