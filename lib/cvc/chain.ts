/**
 * The device's chain, SRCA → DICA → device, checked link by link:
 *
 * - roles (CHAT under CardContact's OID): DICA 80, device 00 (the root's C0
 *   is checked when it is loaded, lib/cvc/trust.ts);
 * - keys: EC, inheriting the root's domain parameters (TR-03110 Part 3
 *   D.3.3: only the root carries them), valid points on that curve;
 * - the DICA's CAR names a pinned root; the simulated one only if allowed;
 * - the DICA is signed by the root, the device certificate by the DICA, and
 *   the device's CAR is the DICA's CHR (a self-signed or foreign device
 *   certificate fails here);
 * - every certificate is valid at `at`;
 * - the device CHR yields the serial.
 *
 * Checks run from the parsed structure down to the dates so that the first
 * failure reported is the most telling one. What depends only on the bytes
 * is checked once per distinct chain in a process (see verifiedChains).
 */
import { createHash } from 'node:crypto';
import { ROLE, SMARTCARD_HSM_ROLE_OID } from './algorithms.ts';
import type { CvcCurve } from './curves.ts';
import { CvcError, type CvcPart } from './errors.ts';
import { resolveKey, type ResolvedKey } from './key-object.ts';
import type { CvCertificate, Devaut } from './model.ts';
import { serialOfChr } from './serial.ts';
import { verifyTaSignature } from './signature.ts';
import { rootFor, type CvcRoot } from './trust.ts';
import { checkValidity } from './validity.ts';
import { untrustedText } from '../untrusted-text.ts';

export interface VerifiedDevice {
  readonly srca: CvcRoot;
  readonly dica: CvCertificate;
  readonly device: CvCertificate;
  /** The device's Device Authentication key, which signs the requests. */
  readonly deviceKey: ResolvedKey;
  /** The device CHR without its sequence number: OpenSC's serial. */
  readonly serial: string;
  readonly simulated: boolean;
}

export interface ChainOptions {
  readonly at: Date;
  readonly allowSimulated: boolean;
}

/** How a message names a certificate of the chain. */
export function describe(part: 'dica' | 'device', cert: CvCertificate): string {
  return `${part === 'dica' ? 'the Device Issuer CA' : 'the device'} certificate ${untrustedText(cert.chr)}`;
}

const ROLE_HEX = (b: number) => b.toString(16).toUpperCase().padStart(2, '0');

function checkRole(cert: CvCertificate, part: 'dica' | 'device', expected: number): void {
  const { oid, authorization } = cert.chat;
  const holds = Buffer.compare(oid, SMARTCARD_HSM_ROLE_OID) === 0 && authorization.length === 1 && authorization[0] === expected;
  if (!holds) {
    const found = Buffer.compare(oid, SMARTCARD_HSM_ROLE_OID) === 0 ? `role ${Buffer.from(authorization).toString('hex').toUpperCase() || '(none)'}` : 'a CHAT that is not a SmartCard-HSM role';
    throw new CvcError('CVC_ROLE', part, `${describe(part, cert)} has ${found}, not the ${part === 'dica' ? 'Device Issuer CA' : 'device'} role ${ROLE_HEX(expected)}`);
  }
}

/** An EC key without domain parameters: it inherits the root's. */
function checkInheritingKey(cert: CvCertificate, part: 'dica' | 'device'): void {
  if (cert.publicKey.kind !== 'ec') throw new CvcError('CVC_KEY_TYPE', part, `${describe(part, cert)} carries an RSA key; the SmartCard-HSM scheme's keys are EC`);
  if (cert.publicKey.curve !== undefined) {
    throw new CvcError('CVC_DOMAIN_PARAMETERS', part, `${describe(part, cert)} carries its own domain parameters; only the root may (TR-03110 Part 3 D.3.3)`);
  }
}

/** The DICA's issuer: a pinned root, or CVC_UNTRUSTED_ROOT. */
function rootOf(dica: CvCertificate): CvcRoot {
  const srca = rootFor(dica.car);
  if (!srca) {
    throw new CvcError('CVC_UNTRUSTED_ROOT', 'dica', `${describe('dica', dica)} was issued by ${untrustedText(dica.car)}, which is not a pinned SmartCard-HSM root`);
  }
  return srca;
}

function checkAllowed(srca: CvcRoot, device: CvCertificate, options: ChainOptions): void {
  if (srca.simulated && !options.allowSimulated) {
    throw new CvcError('CVC_SIMULATED', 'srca', `${describe('device', device)} chains to the SIMULATED root ${srca.certificate.chr}, and simulated attestations were not allowed`);
  }
}

/** The signatures DICA ← root and device ← DICA, and the issuer link between them; the device's key. */
function checkSignatures(devaut: Devaut, srca: CvcRoot): ResolvedKey {
  const { device, dica } = devaut;
  const curve: CvcCurve | undefined = srca.key.curve;
  const dicaKey = resolveKey(dica.publicKey, 'dica', describe('dica', dica), curve);
  if (!verifyTaSignature(srca.key, srca.certificate.publicKey.algorithm, dica.signedBytes, dica.signature)) {
    throw new CvcError('CVC_DICA_SIGNATURE', 'dica', `${describe('dica', dica)} is not signed by the root ${srca.certificate.chr}`);
  }
  if (device.car !== dica.chr) {
    throw new CvcError('CVC_ISSUER', 'device', `${describe('device', device)} names ${untrustedText(device.car)} as its issuer, not the Device Issuer CA ${untrustedText(dica.chr)} that follows it`);
  }
  const deviceKey = resolveKey(device.publicKey, 'device', describe('device', device), curve);
  if (!verifyTaSignature(dicaKey, dica.publicKey.algorithm, device.signedBytes, device.signature)) {
    throw new CvcError('CVC_DEVICE_SIGNATURE', 'device', `${describe('device', device)} is not signed by the Device Issuer CA ${untrustedText(dica.chr)}`);
  }
  return deviceKey;
}

/**
 * Chains whose structure and signatures have verified, by the SHA-256 of
 * their exact bytes: a device's chain is checked again for each of its keys'
 * requests, and what depends only on the bytes need not be. Whether the root
 * may be simulated, the dates and the serial are checked on every call.
 */
const verifiedChains = new Map<string, { readonly srca: CvcRoot; readonly deviceKey: ResolvedKey }>();
const VERIFIED_CHAINS_KEPT = 64;

/** Forgets every verified chain: for the bench, which measures a device's first verification. */
export function forgetVerifiedChains(): void {
  verifiedChains.clear();
}

export function verifyChain(devaut: Devaut, options: ChainOptions): VerifiedDevice {
  const { device, dica } = devaut;
  const id = createHash('sha256').update(device.bytes).update(dica.bytes).digest('hex');
  let verified = verifiedChains.get(id);
  if (verified) {
    checkAllowed(verified.srca, device, options);
  } else {
    checkRole(device, 'device', ROLE.device);
    checkRole(dica, 'dica', ROLE.dica);
    checkInheritingKey(dica, 'dica');
    checkInheritingKey(device, 'device');
    const srca = rootOf(dica);
    checkAllowed(srca, device, options);
    verified = { srca, deviceKey: checkSignatures(devaut, srca) };
    if (verifiedChains.size >= VERIFIED_CHAINS_KEPT) verifiedChains.delete(verifiedChains.keys().next().value ?? '');
    verifiedChains.set(id, verified);
  }
  const { srca, deviceKey } = verified;

  const parts: [CvCertificate, CvcPart, string][] = [
    [srca.certificate, 'srca', `the root ${srca.certificate.chr}`],
    [dica, 'dica', describe('dica', dica)],
    [device, 'device', describe('device', device)],
  ];
  for (const [cert, part, who] of parts) checkValidity(cert, options.at, part, who);

  return { srca, dica, device, deviceKey, serial: serialOfChr(device.chr), simulated: srca.simulated };
}
