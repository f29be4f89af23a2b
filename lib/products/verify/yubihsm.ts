/**
 * Checks of one YubiHSM 2's products ("Provisioning the YubiHSM 2").
 *
 * Step 18 leaves SERIAL_cert.der (the device certificate Yubico issued at
 * manufacture), and for each TUF key an attestation certificate and the raw
 * public point (.pub); step 20 adds each key's PEM. What they must prove:
 *
 *  - each attestation chains: attestation → device certificate → Yubico
 *    sub-CA → Yubico root (embedded, pinned), every signature and validity
 *    period checked;
 *  - the device certificate and every attestation name the serial the
 *    operator wrote down (step 1) and confirmed (step 9), which is the
 *    directory's name;
 *  - each key was generated on the device (not imported), is the object the
 *    provisioning created for its role, and may only sign with ECDSA;
 *  - the attested key is the published key, in both the .pub and the .pem.
 */
import type { X509Certificate } from '@peculiar/x509';
import { basename, join } from 'node:path';
import { sameBytes } from '../../keys.ts';
import type { TrustCertificate } from '../trust/anchors.ts';
import { capabilities, capabilityNames } from '../../yubihsm/capabilities.ts';
import { PRODUCT_FILES, YUBIHSM } from '../../ceremony.ts';
import { fileName } from './device-files.ts';
import { decodeAttestationValue, ATTESTATION_OID, domainList, firmwareString, ORIGIN, originName, type AttestationField } from '../../yubihsm/attestation.ts';
import { certificateKey, curveOfPointLength, isCa, readCertificate, readPemPublicKey, readPoint, sameDer, sameKey, type ReadCertificate, type ReadKey } from './der.ts';
import { readDeviceFiles, passFiles, type ExpectedFile } from './device-files.ts';
import type { DeviceDir } from './layout.ts';
import type { DeviceOutcome, VerifyContext } from './outcome.ts';
import { DeviceRecorder } from './recorder.ts';
import { ROLES, type CheckName, type Role } from './report.ts';
import { signedBy } from './signature.ts';
import type { VerifyCheckCode } from './errors.ts';
import { untrustedText } from '../../untrusted-text.ts';

/**
 * The objects the ceremony creates for the TUF keys (step yubihsm.keys): the
 * root key as object 3, the targets key as object 4, labelled for their role.
 */
const CEREMONY_OBJECTS: Readonly<Record<Role, { objectId: number; label: string }>> = {
  root: { objectId: YUBIHSM.keys.root.id, label: YUBIHSM.keys.root.label },
  targets: { objectId: YUBIHSM.keys.targets.id, label: YUBIHSM.keys.targets.label },
};

/** The only capability the TUF keys are given: signing with ECDSA. */
const CEREMONY_CAPABILITIES = capabilities(...YUBIHSM.keyCapabilities);


function yubihsmFiles(serial: string): ExpectedFile[] {
  return [
    { name: fileName(PRODUCT_FILES.deviceCertificate(serial)) },
    ...ROLES.flatMap((role) => [
      { name: fileName(PRODUCT_FILES.attestation(serial, role)), role },
      { name: fileName(PRODUCT_FILES.publicKey(serial, role)), role },
      { name: fileName(PRODUCT_FILES.pem(serial, role)), role },
    ]),
  ];
}

/** The critical extensions this verifier processes: basicConstraints (device certificate) and keyUsage. */
const UNDERSTOOD_CRITICAL = new Set(['2.5.29.19', '2.5.29.15']);

/** RFC 5280 4.2: a certificate with a critical extension the verifier does not process is refused. */
function criticalUnderstood(read: ReadCertificate, path: string, rec: DeviceRecorder, role?: Role): boolean {
  const unknown = read.extensions.filter((e) => e.critical && !UNDERSTOOD_CRITICAL.has(e.oid));
  for (const e of unknown) rec.fail('chain', 'VERIFY_CHAIN_EXTENSION', `critical extension ${e.oid} is not one this verifier processes`, { role, file: path });
  return unknown.length === 0;
}

function validAt(cert: X509Certificate, at: Date): boolean {
  return cert.notBefore.getTime() <= at.getTime() && at.getTime() <= cert.notAfter.getTime();
}

/** A name from a certificate in the products (attacker-controlled), made safe to print. */
function name(dn: string): string {
  return untrustedText(dn, 80);
}

function window(cert: X509Certificate): string {
  return `${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}`;
}

/** Reads a DER certificate product; records VERIFY_DER_MALFORMED under `chain`. */
function certificate(bytes: Buffer | undefined, path: string, rec: DeviceRecorder, role?: Role): ReadCertificate | undefined {
  if (!bytes) return undefined;
  try {
    return readCertificate(bytes);
  } catch (err) {
    rec.failRead(err, 'chain', path, role);
    return undefined;
  }
}

/**
 * The device certificate: issued by a trusted sub-CA, valid, a CA (it issues
 * the attestations). Returns the root the chain ends at (when the sub-CA's
 * signature verifies) and whether the chain holds; findings are recorded
 * without a role, as both keys' chains go through it.
 */
function deviceChain(device: ReadCertificate, path: string, ctx: VerifyContext, rec: DeviceRecorder): { root?: TrustCertificate; ok: boolean } {
  const { cert, extensions } = device;
  const candidates = ctx.trust.bySubject.get(cert.issuer) ?? [];
  if (candidates.length === 0) {
    rec.fail('chain', 'VERIFY_CHAIN_ISSUER', `issued by ${name(cert.issuer)}, which is not a trusted YubiHSM attestation sub-CA`, { file: path });
    return { ok: false };
  }
  let issuer: TrustCertificate | undefined;
  for (const candidate of candidates) {
    if (signedBy(device, candidate.cert)) {
      issuer = candidate;
      break;
    }
  }
  if (!issuer) {
    rec.fail('chain', 'VERIFY_CHAIN_SIGNATURE', `the signature does not verify with the key of the trusted ${name(cert.issuer)}`, { file: path });
    return { ok: false };
  }
  let ok = true;
  for (const c of [cert, issuer.cert, issuer.root?.cert]) {
    if (c && !validAt(c, ctx.at)) {
      const whose = c === cert ? '' : `the trusted ${name(c.subject)} is `;
      rec.fail('chain', 'VERIFY_CHAIN_VALIDITY', `${whose}valid ${window(c)}, not at ${ctx.at.toISOString()}`, { file: path });
      ok = false;
    }
  }
  if (!criticalUnderstood(device, path, rec)) ok = false;
  if (!isCa(extensions)) {
    rec.fail('chain', 'VERIFY_CHAIN_ISSUER', 'not a CA certificate, so it cannot issue attestations', { file: path });
    ok = false;
  }
  const root = issuer.root ?? issuer;
  if (root.source === 'simulated' && !ctx.allowSimulated) {
    rec.fail('chain', 'VERIFY_SIMULATED', "issued by the YubiHSM simulator's CA, not by Yubico; --allow-simulated accepts simulated products", { file: path });
    ok = false;
  }
  return { root, ok };
}

/** The device certificate names the directory's serial, in its subject and in extension .2. */
function deviceSerial(device: ReadCertificate, path: string, serial: number, rec: DeviceRecorder): void {
  const { cert } = device;
  const expectedCn = `YubiHSM Attestation (${serial})`;
  const cns = cert.subjectName.getField('CN');
  if (cns.length !== 1 || cns[0] !== expectedCn) {
    rec.fail('serial', 'VERIFY_SERIAL_MISMATCH', `subject is ${name(cert.subject)}, not CN=${expectedCn}`, { file: path });
  }
  const stated = field(device, 'serial', path, rec);
  if (stated !== undefined && stated !== serial) rec.fail('serial', 'VERIFY_SERIAL_MISMATCH', `states serial ${stated}, not ${serial}`, { file: path });
}

/** The check column each Yubico extension answers. */
const FIELD_CHECK: Record<AttestationField, CheckName> = {
  firmware: 'chain',
  serial: 'serial',
  origin: 'origin',
  domains: 'chain',
  capabilities: 'capabilities',
  objectId: 'label',
  label: 'label',
};

/** One Yubico extension's value; a missing or repeated one is recorded against the column it answers. */
function single(cert: ReadCertificate, field: AttestationField, path: string, rec: DeviceRecorder, role?: Role): Uint8Array | undefined {
  const found = cert.extensions.filter((e) => e.oid === ATTESTATION_OID[field]);
  if (found.length === 1 && found[0]) return found[0].value;
  const what = found.length === 0 ? 'is missing' : `appears ${found.length} times`;
  rec.fail(FIELD_CHECK[field], 'VERIFY_ATTESTATION_MALFORMED', `Yubico extension ${ATTESTATION_OID[field]} (${field}) ${what}`, { role, file: path });
  return undefined;
}

/** One Yubico extension, decoded; a missing, repeated or malformed one is recorded. */
function field<F extends AttestationField>(cert: ReadCertificate, f: F, path: string, rec: DeviceRecorder, role?: Role): ReturnType<(typeof decodeAttestationValue)[F]> | undefined {
  const bytes = single(cert, f, path, rec, role);
  if (bytes === undefined) return undefined;
  try {
    return decodeAttestationValue[f](bytes) as ReturnType<(typeof decodeAttestationValue)[F]>;
  } catch (err) {
    rec.fail(FIELD_CHECK[f], 'VERIFY_ATTESTATION_MALFORMED', (err as Error).message, { role, file: path });
    return undefined;
  }
}

/** Verifies one YubiHSM 2 device directory. */
export function verifyYubiHsm(device: DeviceDir, ctx: VerifyContext): DeviceOutcome {
  const rec = new DeviceRecorder();
  const out: DeviceOutcome = { device, rec, keys: new Map(), attestations: new Map(), nitrokeyAttestations: new Map(), notApplicable: new Set(), simulated: false };
  const s = device.serial;
  const serial = Number.parseInt(s, 10);
  const expected = yubihsmFiles(s);
  const files = readDeviceFiles(device.dir, expected, rec);
  passFiles(ROLES, rec);
  const p = (name: string) => join(device.dir, name);

  // The device certificate: the middle of every chain.
  const deviceName = fileName(PRODUCT_FILES.deviceCertificate(s));
  const devicePath = p(deviceName);
  const deviceCert = certificate(files.get(deviceName), devicePath, rec);
  let chainOk = false;
  if (deviceCert) {
    const chain = deviceChain(deviceCert, devicePath, ctx, rec);
    if (chain.root) {
      out.anchor = { source: chain.root.source, subject: chain.root.cert.subject, sha256: chain.root.sha256 };
      out.simulated = chain.root.source === 'simulated';
    }
    chainOk = chain.ok;
    deviceSerial(deviceCert, devicePath, serial, rec);
  }

  for (const role of ROLES) {
    const names = {
      att: fileName(PRODUCT_FILES.attestation(s, role)),
      pub: fileName(PRODUCT_FILES.publicKey(s, role)),
      pem: fileName(PRODUCT_FILES.pem(s, role)),
    };
    const attPath = p(names.att);
    const pubPath = p(names.pub);
    const pemPath = p(names.pem);
    const att = certificate(files.get(names.att), attPath, rec, role);

    // The attested key, then the published ones against it.
    let attested: ReadKey | undefined;
    if (att) {
      try {
        attested = certificateKey(att);
        out.keys.set(role, attested);
      } catch (err) {
        rec.failRead(err, 'key', attPath, role);
      }
      attestationChain(att, attPath, deviceCert, devicePath, chainOk, ctx, rec, role);
      attestationStatement(att, attPath, serial, rec, role, out);
    }
    publishedKeys(attested, files.get(names.pub), pubPath, files.get(names.pem), pemPath, rec, role, out);
  }
  return out;
}

function attestationChain(
  read: ReadCertificate,
  attPath: string,
  device: ReadCertificate | undefined,
  devicePath: string,
  deviceChainOk: boolean,
  ctx: VerifyContext,
  rec: DeviceRecorder,
  role: Role,
): void {
  if (!device) return; // the device certificate's finding stands for this chain too
  const att = read.cert;
  let ok = true;
  // The issuer name must be the device certificate's subject, byte for byte, as the device writes it.
  if (!sameDer(read.asn.tbsCertificate.issuer, device.asn.tbsCertificate.subject)) {
    rec.fail('chain', 'VERIFY_CHAIN_ISSUER', `issued by ${name(att.issuer)}, not by the device certificate ${name(device.cert.subject)}`, { role, file: attPath });
    ok = false;
  } else if (!signedBy(read, device)) {
    rec.fail('chain', 'VERIFY_CHAIN_SIGNATURE', `the signature does not verify with the key of ${basename(devicePath)}`, { role, file: attPath });
    ok = false;
  }
  if (!validAt(att, ctx.at)) {
    rec.fail('chain', 'VERIFY_CHAIN_VALIDITY', `valid ${window(att)}, not at ${ctx.at.toISOString()}`, { role, file: attPath });
    ok = false;
  }
  if (!criticalUnderstood(read, attPath, rec, role)) ok = false;
  if (ok && deviceChainOk) rec.pass('chain', role);
}

/** What the device states about the key (Yubico's extensions), against what the ceremony did. */
function attestationStatement(att: ReadCertificate, path: string, serial: number, rec: DeviceRecorder, role: Role, out: DeviceOutcome): void {
  const firmware = field(att, 'firmware', path, rec, role);
  const domains = field(att, 'domains', path, rec, role);
  const stated = field(att, 'serial', path, rec, role);
  const origin = field(att, 'origin', path, rec, role);
  const objectId = field(att, 'objectId', path, rec, role);
  const label = field(att, 'label', path, rec, role);
  const caps = field(att, 'capabilities', path, rec, role);
  const fail = (check: CheckName, code: VerifyCheckCode, message: string) => rec.fail(check, code, message, { role, file: path });
  const want = CEREMONY_OBJECTS[role];

  if (stated !== undefined) {
    if (stated !== serial) fail('serial', 'VERIFY_SERIAL_MISMATCH', `attests a key of device ${stated}, not ${serial}`);
    else if (!rec.failed('serial', role)) rec.pass('serial', role);
  }
  if (origin !== undefined) {
    // Exactly "generated": a key generated elsewhere and imported under wrap
    // (0x11) existed outside this device.
    if (origin !== ORIGIN.generated) fail('origin', 'VERIFY_ORIGIN', `the key's origin is "${originName(origin)}", not generated on the device`);
    else rec.pass('origin', role);
  }
  if (objectId !== undefined && objectId !== want.objectId) fail('label', 'VERIFY_OBJECT_ID', `object id ${objectId}, not ${want.objectId} (the ${role} key's)`);
  if (label !== undefined && label !== want.label) fail('label', 'VERIFY_LABEL', `label ${untrustedText(label)}, not "${want.label}"`);
  if (objectId !== undefined && label !== undefined && !rec.failed('label', role)) rec.pass('label', role);
  if (caps !== undefined) {
    if (caps !== CEREMONY_CAPABILITIES) fail('capabilities', 'VERIFY_CAPABILITIES', `capabilities ${capabilityNames(caps).join(', ') || '(none)'}, not sign-ecdsa alone`);
    else rec.pass('capabilities', role);
  }
  if (firmware !== undefined && domains !== undefined && stated !== undefined && origin !== undefined && caps !== undefined && objectId !== undefined && label !== undefined) {
    out.attestations.set(role, {
      firmware: firmwareString(firmware),
      serial: stated,
      origin: originName(origin),
      domains: domainList(domains),
      capabilities: capabilityNames(caps),
      objectId,
      label,
    });
  }
}

/**
 * The .pub (raw uncompressed point, "Provisioning the YubiHSM 2" step 18)
 * and the .pem (step 20) hold the attested key. Without an attested key
 * (attestation missing or unreadable) the two are still compared with each
 * other, so that every disagreement is on the report.
 */
function publishedKeys(
  attested: ReadKey | undefined,
  pub: Buffer | undefined,
  pubPath: string,
  pem: Buffer | undefined,
  pemPath: string,
  rec: DeviceRecorder,
  role: Role,
  out: DeviceOutcome,
): void {
  // A published key byte-identical to the attested one (already validated)
  // needs no point check of its own; any other is checked, so that a
  // malformed key is told apart from another valid key.
  let pubKey: ReadKey | undefined;
  if (pub) {
    const curve = curveOfPointLength(pub.length);
    try {
      if (attested && sameBytes(pub, attested.point)) pubKey = attested;
      else if (!curve) rec.fail('key', 'VERIFY_KEY_MALFORMED', `${pub.length} bytes; an uncompressed P-256 point has 65, a P-384 point 97`, { role, file: pubPath });
      else pubKey = readPoint(curve, pub);
    } catch (err) {
      rec.failRead(err, 'key', pubPath, role);
    }
    if (pubKey && attested && pubKey !== attested) rec.fail('key', 'VERIFY_PUB_MISMATCH', 'not the key the attestation certifies', { role, file: pubPath });
    if (pubKey && !out.keys.has(role)) out.keys.set(role, pubKey);
  }
  let pemKey: ReadKey | undefined;
  if (pem) {
    const reference = attested ?? pubKey;
    try {
      pemKey = readPemPublicKey(pem.toString('latin1'), reference);
    } catch (err) {
      rec.failRead(err, 'key', pemPath, role);
    }
    if (pemKey && reference && !sameKey(reference, pemKey)) {
      rec.fail('key', 'VERIFY_PEM_MISMATCH', attested ? 'not the key the attestation certifies' : `not the key of ${basename(pubPath)}`, { role, file: pemPath });
    }
  }
  if (attested && pubKey && pemKey && !rec.failed('key', role)) rec.pass('key', role);
}
