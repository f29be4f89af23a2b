import { dirname, join } from 'node:path';
import { projectRoot } from '../../lib/paths.ts';

/** ../shared beside the clone: the PSF runbook and the fixtures. */
export const sharedDir = join(dirname(projectRoot), 'shared');
/** The real products of the PSF's 2020-10-30 ceremony. */
export const psfProducts = join(sharedDir, 'fixtures', 'psf-2020-10-30', 'ceremony-products');
/** Yubico's public attestation root CA and sub-CA. */
export const yubicoFixtures = join(sharedDir, 'fixtures', 'yubico');
