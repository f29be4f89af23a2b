/**
 * A Nitrokey HSM's serial, from its device certificate: the CHR without its
 * five-digit sequence number. OpenSC reports DENK0404144 for the device
 * whose CHR is DENK040414400000 (card-sc-hsm.c, sc_hsm_set_serialnr), and
 * the ceremony names the device's products directory after that serial.
 */
import { CvcError } from './errors.ts';
import { untrustedText } from '../untrusted-text.ts';

/** Digits of the sequence number at the end of a CHR (TR-03110 Part 3 A.6.1). */
export const SEQUENCE_DIGITS = 5;

export function serialOfChr(chr: string): string {
  const serial = chr.slice(0, -SEQUENCE_DIGITS);
  if (!/^[0-9]{5}$/.test(chr.slice(-SEQUENCE_DIGITS)) || serial.length < 2) {
    throw new CvcError('CVC_DEVICE_CHR', 'device', `the device certificate's CHR ${untrustedText(chr)} does not end in a five-digit sequence number: no serial can be derived from it`);
  }
  return serial;
}
