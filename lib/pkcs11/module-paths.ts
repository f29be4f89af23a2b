import { existsSync } from 'node:fs';
import { Pkcs11Error } from './errors.ts';

/**
 * Where OpenSC's PKCS#11 module lives, which is how a Nitrokey HSM is reached.
 *
 * The PSF runbook's ceremony computer was a Raspberry Pi (32-bit Raspberry Pi OS,
 * armhf multiarch directory) and its scripts also knew the macOS location;
 * Debian and Raspberry Pi OS 64-bit put the module under their own multiarch
 * directories, with a copy of the link under `pkcs11/`. The first that exists
 * wins; a path given by flag or front matter replaces the whole list.
 */
export function defaultModulePaths(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string[] {
  if (platform === 'darwin') {
    return [
      '/Library/OpenSC/lib/opensc-pkcs11.so', // the OpenSC installer package
      '/opt/homebrew/lib/opensc-pkcs11.so', // Homebrew on Apple silicon
      '/usr/local/lib/opensc-pkcs11.so', // Homebrew on Intel; the PSF runbook's path
    ];
  }
  if (platform === 'linux') {
    const multiarch = MULTIARCH[arch];
    const debian = multiarch
      ? [`/usr/lib/${multiarch}/opensc-pkcs11.so`, `/usr/lib/${multiarch}/pkcs11/opensc-pkcs11.so`]
      : [];
    return [...debian, '/usr/lib/opensc-pkcs11.so', '/usr/local/lib/opensc-pkcs11.so'];
  }
  return [];
}

/** Debian multiarch tuples by Node's `process.arch`. */
const MULTIARCH: Record<string, string> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu', // Raspberry Pi OS 64-bit
  arm: 'arm-linux-gnueabihf', // Raspberry Pi OS 32-bit, as in the PSF runbook's ceremony
};

/** The module to load: `explicit` if given (it must exist), else the first default that exists. */
export function resolveModulePath(explicit?: string, exists: (path: string) => boolean = existsSync): string {
  if (explicit !== undefined) {
    if (!exists(explicit)) throw new Pkcs11Error('PKCS11_MODULE_NOT_FOUND', `no PKCS#11 module at ${explicit}`);
    return explicit;
  }
  const candidates = defaultModulePaths();
  const found = candidates.find((path) => exists(path));
  if (!found) {
    throw new Pkcs11Error(
      'PKCS11_MODULE_NOT_FOUND',
      `OpenSC's PKCS#11 module was not found (looked in ${candidates.join(', ') || 'no default location on this platform'}); install OpenSC or give the module path`,
    );
  }
  return found;
}
