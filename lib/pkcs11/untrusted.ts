import { untrustedText } from '../untrusted-text.ts';
import { Pkcs11Error } from './errors.ts';

/**
 * The serial is what the operator writes down ("Provisioning the Nitrokey
 * HSM", step 18) and what names the products' folder and files (step 22), so
 * it must be what a device serial looks like (DENK0102947, or SoftHSM's hex)
 * and never a path, before anything is done with the token.
 */
export function checkSerial(serial: string, where: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/.test(serial)) {
    throw new Pkcs11Error('PKCS11_TOKEN_UNEXPECTED', `${where} reports a serial number that cannot name product files (${untrustedText(serial)})`);
  }
  return serial;
}
