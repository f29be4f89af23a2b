import { join } from 'node:path';
import { projectPath } from '../../lib/paths.ts';

/** The tests' fixtures, inside the repository (see test/fixtures/README.md). */
export const fixturesDir = projectPath('test', 'fixtures');
/** The real products of the PSF's 2020-10-30 ceremony. */
export const psfProducts = join(fixturesDir, 'psf-2020-10-30', 'ceremony-products');
/** Yubico's public attestation root CA and sub-CA. */
export const yubicoFixtures = join(fixturesDir, 'yubico');
