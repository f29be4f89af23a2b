/**
 * The products directory, before a device is touched: a device is never
 * reset, and no key generated, when its products could not be published.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { productFiles, type HsmKind } from '../lib/ceremony.ts';
import { StepError } from './errors.ts';

/**
 * Refuses a serial whose products already exist. A second run over a device
 * provisioned earlier in this ceremony, or the wrong device plugged in, stops
 * here; products are never overwritten (lib/products/write.ts) and the
 * earlier ones stay as they are.
 */
export async function refuseExistingProducts(productsDir: string, kind: HsmKind, serial: string, device: string): Promise<void> {
  const present: string[] = [];
  // Attestation files included: a Nitrokey HSM attested earlier has products too.
  for (const file of productFiles(kind, serial, { attested: true })) {
    try {
      await lstat(join(productsDir, file));
      present.push(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unwritable(productsDir, err);
    }
  }
  if (present.length > 0) {
    throw new StepError(
      'STEP_PRODUCTS_EXIST',
      `${device}: products for serial ${serial} already exist in ${productsDir} (${present.join(', ')}); ` +
        'nothing was done to the device. Was it provisioned already, or is it the wrong device?',
    );
  }
}

/**
 * Proves the products directory takes a new file by creating and removing
 * one, which also catches a read-only file system and, for root, what
 * permission bits would not.
 */
export async function checkWritable(productsDir: string, device: string): Promise<void> {
  const probe = join(productsDir, `.runbook-probe-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(productsDir, { recursive: true });
    const handle = await open(probe, 'wx');
    await handle.close();
    await unlink(probe);
  } catch (err) {
    throw unwritable(productsDir, err, device);
  }
}

function unwritable(productsDir: string, err: unknown, device?: string): StepError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return new StepError(
    'STEP_PRODUCTS_UNWRITABLE',
    `${device === undefined ? '' : `${device}: `}the products directory ${productsDir} cannot be written (${code}); nothing was done to the device`,
    { cause: err },
  );
}
