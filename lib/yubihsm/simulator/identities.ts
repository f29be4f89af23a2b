// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect polyfill loaded first.
import 'reflect-metadata';
import { createPublicKey } from 'node:crypto';
import { X509Certificate } from '@peculiar/x509';
import { decodeDeviceSerial } from '../attestation.ts';
import { makeDeviceIdentity, type DeviceIdentity } from './ca.ts';
import { SimulatorError, type SimulatorErrorCode } from './errors.ts';

/**
 * One identity per serial. A real YubiHSM 2 carries its attestation key and
 * device certificate (opaque 0) for life: RESET DEVICE keeps them, and the
 * serial in the certificate is the one printed on the casing. A simulated
 * device with the same serial must therefore have the same identity
 * whenever it is made: across restarts through a state directory
 * (state-dir.ts), and within a process through this memo, so that two
 * devices made for serial 7550054 present the same device certificate and
 * their attestations chain the same way.
 */

const memo = new Map<number, Promise<DeviceIdentity>>();

/** The identity of `serial` in this process, made on first use (an RSA-2048 key pair and a certificate from the simulated sub-CA). */
export function identityForSerial(serial: number): Promise<DeviceIdentity> {
  let identity = memo.get(serial);
  if (!identity) {
    identity = makeDeviceIdentity(serial);
    memo.set(serial, identity);
    // A failure is not remembered: the next device for this serial tries again.
    void identity.catch(() => memo.delete(serial));
  }
  return identity;
}

/** Makes `identity` the one this process uses for `serial`, unless it already uses one (read from a state directory). */
export function rememberIdentity(serial: number, identity: DeviceIdentity): void {
  if (!memo.has(serial)) memo.set(serial, Promise.resolve(identity));
}

/**
 * Checks that an identity is a device certificate for `serial` (extension
 * .2, as opaque 0 states it) whose public key is the attestation key's.
 * Fails with `code` (SIMULATOR_OPTION_INVALID for a supplied identity,
 * SIMULATOR_STATE_INVALID for one read from a state directory).
 */
export function checkIdentity(identity: DeviceIdentity, serial: number, code: SimulatorErrorCode): void {
  let cert: X509Certificate;
  let stated: number;
  try {
    cert = new X509Certificate(identity.certificate);
    stated = decodeDeviceSerial(cert);
  } catch (err) {
    throw new SimulatorError(code, 'the device certificate cannot be read', { cause: err });
  }
  if (stated !== serial) throw new SimulatorError(code, `the device certificate is for serial ${stated}, not ${serial}`);
  const fromKey = createPublicKey(identity.attestationKey).export({ type: 'spki', format: 'der' });
  if (!Buffer.from(cert.publicKey.rawData).equals(fromKey)) {
    throw new SimulatorError(code, `the attestation key of serial ${serial} is not the key its device certificate certifies`);
  }
}

/** True when two identities are the same key and certificate. */
export function sameIdentity(a: DeviceIdentity, b: DeviceIdentity): boolean {
  const spki = (i: DeviceIdentity) => createPublicKey(i.attestationKey).export({ type: 'spki', format: 'der' });
  return Buffer.from(a.certificate).equals(Buffer.from(b.certificate)) && spki(a).equals(spki(b));
}
