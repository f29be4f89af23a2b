/**
 * Checks of one Nitrokey HSM's products ("Provisioning the Nitrokey HSM").
 *
 * For each TUF key, its public key as DER SubjectPublicKeyInfo (.pub) and as
 * PEM (.pem): both files hold the same key, a valid point on a named
 * ceremony curve.
 *
 * A ceremony that captures attestations adds the device's EF 2F02
 * (SERIAL_devaut.cvc: its Device Authentication certificate and its Device
 * Issuer CA's) and each key's EF CE (SERIAL_ROLE_attestation.cvc: the
 * authenticated CV request the device wrote when it generated the key). All
 * three, or none. Each key's is verified by lib/cvc: the device certificate
 * chains to CardContact's pinned Scheme Root CA, the device signed the
 * request and is the one that holds it, the attested key is the .pub, and
 * the device's serial is the directory's.
 *
 * Products without attestations (the PSF's 2020 ceremony captured none)
 * prove nothing about where their keys were made: a warning
 * (VERIFY_UNATTESTED), or a failure when attestation is required.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { basename, join } from 'node:path';
import { attestedKeySpki, CvcError, parseDevaut, serialOfChr, verifyKeyAttestation, type CvcErrorCode, type CvcPart, type KeyAttestation } from '../../cvc/index.ts';
import { PRODUCT_FILES, SERIALS } from '../../ceremony.ts';
import { escapeJsonText, untrustedText } from '../../untrusted-text.ts';
import { readPemPublicKey, readSpki, sameKey, type ReadKey } from './der.ts';
import { entries, fileName, passFiles, readDeviceFiles, type ExpectedFile } from './device-files.ts';
import { VerifyError } from './errors.ts';
import type { DeviceDir } from './layout.ts';
import type { DeviceOutcome, VerifyContext } from './outcome.ts';
import { DeviceRecorder } from './recorder.ts';
import { ATTESTATION_CHECKS, NITROKEY_ATTESTATION_CHECKS, ROLES, type CheckName, type NitrokeyAttestationSummary, type Role } from './report.ts';

/** The files of one device: the keys always, the attestations when the products hold any of them. */
function nitrokeyFiles(serial: string, attested: boolean): ExpectedFile[] {
  return [
    ...(attested ? [{ name: fileName(PRODUCT_FILES.deviceAuthentication(serial)) }] : []),
    ...ROLES.flatMap((role) => [
      ...(attested ? [{ name: fileName(PRODUCT_FILES.nitrokeyAttestation(serial, role)), role }] : []),
      { name: fileName(PRODUCT_FILES.publicKey(serial, role)), role },
      { name: fileName(PRODUCT_FILES.pem(serial, role)), role },
    ]),
  ];
}

/** The attestation products' names: any one of them present makes the device attested, and the others expected. */
function attestationNames(serial: string): string[] {
  return [fileName(PRODUCT_FILES.deviceAuthentication(serial)), ...ROLES.map((role) => fileName(PRODUCT_FILES.nitrokeyAttestation(serial, role)))];
}

/** One key file through `reader`; what the reader refuses is a finding. */
function read(path: string, bytes: Buffer | undefined, rec: DeviceRecorder, role: Role, reader: (bytes: Buffer) => ReadKey): ReadKey | undefined {
  if (!bytes) return undefined;
  try {
    return reader(bytes);
  } catch (err) {
    rec.failRead(err, 'key', path, role);
    return undefined;
  }
}

/**
 * The table column each lib/cvc code answers. Every signature and date of the
 * chain SRCA → DICA → device → request, and the files' bytes, are the chain;
 * a request the device did not authenticate, or that another card did (a key
 * imported from it), says nothing of where the key was made: origin; the
 * serial the device certificate gives: serial; the attested key against the
 * .pub: key. A record, so that a code lib/cvc adds has to be placed here.
 */
const CHECK_OF: Readonly<Record<CvcErrorCode, CheckName>> = {
  CVC_MALFORMED: 'chain',
  CVC_TRUNCATED: 'chain',
  CVC_TRAILING_BYTES: 'chain',
  CVC_UNSUPPORTED_ALGORITHM: 'chain',
  CVC_UNKNOWN_CURVE: 'chain',
  CVC_DOMAIN_PARAMETERS: 'chain',
  CVC_BAD_KEY: 'chain',
  CVC_TRUST_PIN: 'chain',
  CVC_UNTRUSTED_ROOT: 'chain',
  CVC_SIMULATED: 'chain',
  CVC_CHAIN_LENGTH: 'chain',
  CVC_ROLE: 'chain',
  CVC_ISSUER: 'chain',
  CVC_KEY_TYPE: 'chain',
  CVC_DICA_SIGNATURE: 'chain',
  CVC_DEVICE_SIGNATURE: 'chain',
  CVC_NOT_YET_VALID: 'chain',
  CVC_EXPIRED: 'chain',
  CVC_DEVICE_CHR: 'serial',
  CVC_NOT_AUTHENTICATED: 'origin',
  CVC_OUTER_CAR: 'origin',
  CVC_OUTER_SIGNATURE: 'chain',
  CVC_INNER_SIGNATURE: 'chain',
  CVC_KEY_MISMATCH: 'key',
  CVC_KEY_MALFORMED: 'key',
  CVC_SERIAL_MISMATCH: 'serial',
};

/**
 * The product a failure is about, by the part of the material lib/cvc names;
 * whether it concerns the device (both keys) or one key. An attested key
 * that is not the published one names the .pub, as a YubiHSM's does.
 */
function placeOf(code: CvcErrorCode, part: CvcPart, files: { devaut: string; request: string; pub: string }): { file: string; device: boolean } {
  if (code === 'CVC_KEY_MISMATCH') return { file: files.pub, device: false };
  switch (part) {
    case 'devaut':
    case 'srca':
    case 'dica':
    case 'device':
      return { file: files.devaut, device: true };
    case 'request':
    case 'key':
      return { file: files.request, device: false };
    case 'public-key':
      return { file: files.pub, device: false };
  }
}

/**
 * A lib/cvc message made safe for a terminal. It may quote a CHR or CAR read
 * from the products (attacker-controlled): C0 and C1 controls and
 * bidirectional formatting characters are shown escaped, never obeyed.
 */
function shownMessage(message: string): string {
  // eslint-disable-next-line no-control-regex
  return escapeJsonText(message.replace(/[\u0000-\u001f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** A YYYY-MM-DD date from what lib/cvc gives for a certificate's validity. */
function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function summary(a: KeyAttestation): NitrokeyAttestationSummary {
  return {
    root: a.srca.chr,
    issuer: a.dica.chr,
    device: a.device.chr,
    serial: a.serial,
    key: a.attestedKey.chr,
    validFrom: day(a.device.validFrom),
    validTo: day(a.device.validTo),
  };
}

interface RoleInput {
  readonly role: Role;
  readonly devaut: Buffer;
  readonly devautPath: string;
  readonly request: Buffer;
  readonly requestPath: string;
  /** The .pub, when it holds a valid key (a malformed one is a finding of its own already). */
  readonly pub: ReadKey | undefined;
  readonly pubPath: string;
}

/** One key's attestation: what it proved, when it holds; whether the key it attests is the .pub. */
interface Attested {
  readonly attestation?: KeyAttestation;
  readonly keyHolds: boolean;
}

/**
 * Verifies one key's attestation with lib/cvc, recording each failure as a
 * finding with lib/cvc's code; returns the attestation when it holds.
 *
 * lib/cvc stops at the first failure. So that every problem is on the report
 * at once, and each column says what it can: a wrong serial or key is
 * recorded and the attestation verified again without that comparison; and
 * when the chain or the request fails, the serial and the key are still
 * compared with what the files state (unverified, as a YubiHSM's key is read
 * from an attestation whose signature fails).
 */
function attest(input: RoleInput, device: DeviceDir, ctx: VerifyContext, rec: DeviceRecorder, out: DeviceOutcome, recorded: Set<CvcErrorCode>): Attested {
  const fail = (code: CvcErrorCode, part: CvcPart, message: string) => {
    const { file, device: deviceWide } = placeOf(code, part, { devaut: input.devautPath, request: input.requestPath, pub: input.pubPath });
    const check = CHECK_OF[code];
    // A fault of EF 2F02 is the device's: found through either key, reported once, for both.
    if (!deviceWide) rec.fail(check, code, shownMessage(message), { role: input.role, file });
    else if (!recorded.has(code)) {
      recorded.add(code);
      rec.fail(check, code, shownMessage(message), { file });
    }
  };
  const { pub } = input;
  let publicKey: Uint8Array | undefined = pub?.spki;
  let serial: string | undefined = device.serial;
  for (;;) {
    let attestation: KeyAttestation;
    try {
      attestation = verifyKeyAttestation({ devaut: input.devaut, request: input.request, publicKey, serial, at: ctx.at, allowSimulated: ctx.allowSimulated });
    } catch (err) {
      if (!(err instanceof CvcError)) throw err;
      // The pinned root does not match: the verifier's installation was altered, not the products.
      if (err.code === 'CVC_TRUST_PIN') throw new VerifyError('VERIFY_TRUST_PIN', err.message, { cause: err });
      if (err.code === 'CVC_SIMULATED') out.simulated = true;
      fail(err.code, err.part, err.message);
      const check = CHECK_OF[err.code];
      if (check === 'key' && publicKey !== undefined) publicKey = undefined;
      else if (check === 'serial' && serial !== undefined) serial = undefined;
      else {
        if (serial !== undefined && stated('serial', () => statedSerial(input.devaut, serial ?? ''), fail)) rec.pass('serial', input.role);
        const keyHolds = publicKey !== undefined && pub !== undefined && stated('key', () => statedKey(input.request, pub), fail);
        return { keyHolds };
      }
      continue;
    }
    rec.pass('chain', input.role);
    rec.pass('origin', input.role);
    if (serial !== undefined) rec.pass('serial', input.role);
    return { attestation, keyHolds: publicKey !== undefined };
  }
}

/**
 * A comparison with what a file states, outside verification: true when it
 * holds; false when it fails (recorded with `fail`) or cannot be made (the
 * file is unreadable: a finding already).
 */
function stated(check: 'serial' | 'key', compare: () => void, fail: (code: CvcErrorCode, part: CvcPart, message: string) => void): boolean {
  try {
    compare();
    return true;
  } catch (err) {
    if (!(err instanceof CvcError)) throw err;
    if (CHECK_OF[err.code] === check) fail(err.code, err.part, err.message);
    return false;
  }
}

/** The serial EF 2F02's device certificate gives is `serial`; CVC_SERIAL_MISMATCH otherwise. */
function statedSerial(devaut: Uint8Array, serial: string): void {
  const { device } = parseDevaut(devaut);
  const stated = serialOfChr(device.chr);
  if (stated !== serial) {
    throw new CvcError('CVC_SERIAL_MISMATCH', 'device', `Nitrokey HSM ${untrustedText(device.chr)} has serial ${untrustedText(stated)}, not ${untrustedText(serial)} as its products directory says`);
  }
}

/** The key the request states is the .pub; CVC_KEY_MISMATCH otherwise. */
function statedKey(request: Uint8Array, pub: ReadKey): void {
  const stated = publicKeyObject(attestedKeySpki(request));
  if (!stated.equals(publicKeyObject(pub.spki))) {
    throw new CvcError('CVC_KEY_MISMATCH', 'key', 'the key its request states is not the published public key');
  }
}

function publicKeyObject(spki: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
}

export function verifyNitrokey(device: DeviceDir, ctx: VerifyContext): DeviceOutcome {
  const rec = new DeviceRecorder();
  const s = device.serial;
  const out: DeviceOutcome = {
    device,
    rec,
    keys: new Map(),
    attestations: new Map(),
    nitrokeyAttestations: new Map(),
    notApplicable: new Set(ATTESTATION_CHECKS.filter((c) => !NITROKEY_ATTESTATION_CHECKS.includes(c))),
    // A SoftHSM2 token standing in for a Nitrokey HSM in a rehearsal.
    simulated: SERIALS.softhsm.pattern.test(s),
  };
  const present = new Set(entries(device.dir).map((e) => e.name));
  const attested = attestationNames(s).some((name) => present.has(name));
  const files = readDeviceFiles(device.dir, nitrokeyFiles(s, attested), rec);
  passFiles(ROLES, rec);

  if (!attested) {
    const message = `no attestation (${fileName(PRODUCT_FILES.deviceAuthentication(s))}, ${s}_{${ROLES.join(',')}}_attestation.cvc): nothing proves the keys were generated on a genuine Nitrokey HSM`;
    if (ctx.requireAttestation) rec.fail('chain', 'VERIFY_UNATTESTED', message, { file: device.dir });
    else {
      rec.warn('chain', 'VERIFY_UNATTESTED', message, { file: device.dir });
      for (const check of NITROKEY_ATTESTATION_CHECKS) out.notApplicable.add(check);
    }
  }

  const devautName = fileName(PRODUCT_FILES.deviceAuthentication(s));
  const devautPath = join(device.dir, devautName);
  const devaut = files.get(devautName);
  // The device-wide codes recorded already (EF 2F02 is verified through each key).
  const recorded = new Set<CvcErrorCode>();
  for (const role of ROLES) {
    const pubName = fileName(PRODUCT_FILES.publicKey(s, role));
    const pemName = fileName(PRODUCT_FILES.pem(s, role));
    const requestName = fileName(PRODUCT_FILES.nitrokeyAttestation(s, role));
    const pubPath = join(device.dir, pubName);
    const pemPath = join(device.dir, pemName);
    const requestPath = join(device.dir, requestName);
    const pub = read(pubPath, files.get(pubName), rec, role, (bytes) => readSpki(bytes));
    const request = files.get(requestName);
    const { attestation, keyHolds } = devaut && request ? attest({ role, devaut, devautPath, request, requestPath, pub, pubPath }, device, ctx, rec, out, recorded) : { keyHolds: false };

    // Without a .pub to hold it to (missing: one that cannot be read is a
    // finding of its own), the .pem is held to the attested key.
    let attestedKey: ReadKey | undefined;
    if (attestation && !files.has(pubName)) attestedKey = read(requestPath, Buffer.from(attestation.attestedKey.spki), rec, role, (bytes) => readSpki(bytes));
    const reference = pub ?? attestedKey;
    // The .pem is compared with the .pub (validated): only a different key needs its own point check.
    const pem = read(pemPath, files.get(pemName), rec, role, (bytes) => readPemPublicKey(bytes.toString('latin1'), reference));
    const key = pub ?? pem ?? attestedKey;
    if (key) out.keys.set(role, key);
    if (reference && pem && !sameKey(reference, pem)) {
      rec.fail('key', 'VERIFY_PEM_MISMATCH', pub ? `not the key of ${basename(pubPath)}` : `not the key ${basename(requestPath)} attests`, { role, file: pemPath });
    }

    if (attestation) {
      out.nitrokeyAttestations.set(role, summary(attestation));
      if (attestation.simulated) out.simulated = true;
      out.anchor ??= { source: attestation.simulated ? 'simulated' : 'cardcontact', subject: attestation.srca.chr, sha256: attestation.srca.sha256 };
    }
    // The .pub and the .pem agree (a mismatch is a finding, which fails the
    // key whatever passes); with attestations, the attested key is the .pub.
    if (pub && pem && (!attested || keyHolds)) rec.pass('key', role);
  }
  return out;
}
