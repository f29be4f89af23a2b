/**
 * Option values more than one command reads, parsed one way: `--at` (verify,
 * nitrokey verify-attestation) and a Nitrokey HSM `--serial` (nitrokey
 * keygen, nitrokey verify-attestation). A value that does not fit is a usage
 * error (exit 2) that quotes it safely.
 */
import { SERIALS } from '../ceremony.ts';
import { untrustedText } from '../untrusted-text.ts';
import { CliError } from './errors.ts';

/**
 * `--at TIME`: the moment certificates must be valid at. An auditor checking
 * an old ceremony's products may ask "were they valid on the ceremony day?",
 * or re-run a verification exactly as it was done then.
 */
export function parseAt(value: string): Date {
  const at = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value) ? new Date(value) : undefined;
  if (!at || Number.isNaN(at.getTime())) {
    throw new CliError('CLI_USAGE', `--at ${untrustedText(value)}: expected an ISO 8601 date or time, e.g. 2020-10-30 or 2020-10-30T15:00:00Z`);
  }
  return at;
}

/** `--serial`: a Nitrokey HSM's, as OpenSC reports it and products directories are named. */
export function parseNitrokeySerial(value: string): string {
  const { pattern, description } = SERIALS.nitrokey;
  if (!pattern.test(value)) throw new CliError('CLI_USAGE', `--serial ${untrustedText(value)}: ${description}`);
  return value;
}
