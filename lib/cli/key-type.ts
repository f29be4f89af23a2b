/**
 * `--type p256|p384`: the curve of a device's keys, in the PSF programs'
 * spelling (lib/ceremony.ts's keyTypeFlag), read alike by `pem`,
 * `yubihsm provision` and `nitrokey keygen`.
 */
import type { Curve } from '../keys.ts';
import { curveOfKeyType } from '../ceremony.ts';
import { untrustedText } from '../untrusted-text.ts';
import { CliError } from './errors.ts';

/** Commander's parser for `--type`: a wrong spelling is a usage error as it is read. */
export function parseKeyType(value: string): Curve {
  const curve = curveOfKeyType(value);
  if (curve === undefined) throw new CliError('CLI_USAGE', `--type ${untrustedText(value)}: expected p256 or p384`);
  return curve;
}

/** The `--type` a command cannot do without: commander has no required option that also parses. */
export function requireKeyType(curve: Curve | undefined): Curve {
  if (curve === undefined) throw new CliError('CLI_USAGE', '--type is required: p256 or p384 (the curve of the keys, from the front matter)');
  return curve;
}
