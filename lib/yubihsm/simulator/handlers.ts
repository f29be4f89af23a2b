// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect polyfill loaded first.
import 'reflect-metadata';
import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { X509Certificate } from '@peculiar/x509';
import { AttestationError } from '../attestation.ts';
import { CAPABILITY_BITS, hasCapabilities, type CapabilityName } from '../capabilities.ts';
import { Algorithm, curveOfAlgorithm } from '../protocol/algorithms.ts';
import { Command } from '../protocol/commands.ts';
import {
  decodeBlinkRequest,
  decodePseudoRandomRequest,
  encodeDeviceInfoResponse,
  encodeStorageInfoResponse,
  MAX_PSEUDO_RANDOM_BYTES,
  type FirmwareVersion,
} from '../protocol/device-commands.ts';
import { DeviceError } from '../protocol/errors.ts';
import {
  decodeChangeAuthenticationKeyRequest,
  decodeGenerateAsymmetricKeyRequest,
  decodeObjectId,
  decodePutAuthenticationKeyRequest,
  decodePutOpaqueRequest,
  decodeSignAttestationCertificateRequest,
  decodeSignEcdsaRequest,
  encodeObjectId,
  encodePublicKeyResponse,
  type ReceivedObject,
} from '../protocol/key-commands.ts';
import {
  decodeListObjectsRequest,
  decodeObjectRef,
  encodeListObjectsResponse,
  encodeObjectInfoResponse,
  type ObjectEntry,
} from '../protocol/object-commands.ts';
import { decodeSetLogIndexRequest } from '../protocol/log-commands.ts';
import { decodeGetOptionRequest, decodeSetOptionRequest } from '../protocol/option-commands.ts';
import { decodeLabel, ObjectOrigin, ObjectType } from '../protocol/objects.ts';
import { KEY_BYTES } from '../session/scp03.ts';
import { LOG_CAPACITY, type AuditLog } from './audit-log.ts';
import { issueAttestation } from './attestation-issuer.ts';
import { signPrehash } from '../../ecdsa.ts';
import { ecPublicKey } from '../../keys.ts';
import type { DeviceOptions } from './device-options.ts';
import { refuse } from './errors.ts';
import { MAX_OBJECTS, objectLength, PAGE_BYTES, TOTAL_PAGES, type ObjectStore, type StoredObject } from './object-store.ts';
import type { Session } from './sessions.ts';

/**
 * The commands an authenticated session can send, device side. Each handler
 * takes the command's data (attacker-controlled: the host sent it), parses
 * it with the device-side decoder of `../protocol` (the same module the host
 * encodes with), applies the device's rules, and returns the response data;
 * a refusal is thrown (a DeviceRefusal, or the decoder's YubiHsmError with a
 * device code) and becomes the device's error frame. Formats and rules:
 * Yubico command reference, one section per command, named on each handler.
 */

/** What the handlers need from the device. */
export interface DeviceState {
  readonly serial: number;
  readonly firmware: FirmwareVersion;
  readonly store: ObjectStore;
  readonly log: AuditLog;
  /** The device attestation key ("asymmetric key 0"; not a listed object). */
  readonly attestationKey: KeyObject;
  /** The device certificate (opaque 0). */
  readonly deviceCertificate: Uint8Array;
  /** Algorithms GET DEVICE INFO lists. */
  readonly algorithms: readonly Algorithm[];
  /** The device options (force-audit, command-audit). */
  readonly options: DeviceOptions;
  /** Flashes the LED for `seconds` (BLINK DEVICE). */
  blink(seconds: number): void;
}

/** What a handler reports for the audit log besides its result. */
export interface Outcome {
  readonly data: Uint8Array;
  /** The object acted on (0xffff when none). */
  readonly target?: number;
  /** The second object (the attestation key of SIGN ATTESTATION CERTIFICATE). */
  readonly second?: number;
  /** Something to do once the response is on its way (close the session, reset the device). */
  readonly after?: 'close-session' | 'reset';
}

/** Fields of a command that the audit log records even when the command fails. */
export interface Targets {
  target: number;
  second: number;
}

type Handler = (device: DeviceState, session: Session, data: Uint8Array, targets: Targets) => Outcome | Promise<Outcome>;

const EMPTY = new Uint8Array(0);

function needCapability(session: Session, name: CapabilityName): void {
  if (!hasCapabilities(session.authority.capabilities, CAPABILITY_BITS[name])) {
    throw refuse(DeviceError.InsufficientPermissions, `the session's authentication key lacks ${name}`);
  }
}

/**
 * An object the session may see: it exists and shares a domain with the
 * session's authentication key. Objects outside the session's domains do not
 * exist as far as the session can tell (OBJECT NOT FOUND).
 */
function visible(device: DeviceState, session: Session, type: number, id: number): StoredObject {
  const o = device.store.get(type, id);
  if (!o || (o.domains & session.authority.domains) === 0) {
    throw refuse(DeviceError.ObjectNotFound, `no object 0x${id.toString(16)} of type ${type} in the session's domains`);
  }
  return o;
}

/**
 * Checks the fields every object-creating command starts with (PUT
 * AUTHENTICATION KEY, GENERATE ASYMMETRIC KEY, PUT OPAQUE) against the
 * session, as the device checks them: domains not empty and within the
 * session's; capabilities within the session's delegated capabilities
 * (Yubico, "Capabilities": an authentication key can give the objects it
 * creates only capabilities it may delegate). Picks the id when the host
 * asked for 0 (Yubico, "Object ID").
 */
function checkCreation<T extends ReceivedObject>(c: T, device: DeviceState, session: Session, type: ObjectType, targets: Targets): T {
  targets.target = c.id;
  if (c.domains === 0) throw refuse(DeviceError.InvalidData, 'an object needs at least one domain');
  if ((c.domains & ~session.authority.domains) !== 0) {
    throw refuse(DeviceError.InsufficientPermissions, "the object's domains are not all the session's");
  }
  if (!hasCapabilities(session.authority.delegated, c.capabilities)) {
    throw refuse(DeviceError.InsufficientPermissions, "the object's capabilities exceed the session's delegated capabilities");
  }
  if (c.id === 0xffff) throw refuse(DeviceError.InvalidId, 'id 0xffff is reserved');
  const id = c.id === 0 ? device.store.freeId(type) : c.id;
  targets.target = id;
  return { ...c, id };
}

/** ECHO (0x01): the data back, unchanged. */
export function echo(data: Uint8Array): Uint8Array {
  return Uint8Array.from(data);
}

/**
 * GET DEVICE INFO (0x06): firmware major, minor, patch (1 each) | serial (4)
 * | log store size (1) | log entries used (1) | supported algorithms (1 each).
 */
export function deviceInfo(device: DeviceState, data: Uint8Array): Uint8Array {
  if (data.length !== 0) throw refuse(DeviceError.WrongLength, 'GET DEVICE INFO takes no data');
  return encodeDeviceInfoResponse({
    version: device.firmware,
    serial: device.serial,
    logTotal: LOG_CAPACITY,
    logUsed: device.log.used,
    algorithms: device.algorithms,
  });
}

/** RESET DEVICE (0x08): no data; needs reset-device. The reset happens after the response is sent. */
const resetDevice: Handler = (_device, session, data) => {
  needCapability(session, 'reset-device');
  if (data.length !== 0) throw refuse(DeviceError.WrongLength, 'RESET DEVICE takes no data');
  return { data: EMPTY, after: 'reset' };
};

/** CLOSE SESSION (0x40): no data; the slot is freed after the response. */
const closeSession: Handler = (_device, _session, data) => {
  if (data.length !== 0) throw refuse(DeviceError.WrongLength, 'CLOSE SESSION takes no data');
  return { data: EMPTY, after: 'close-session' };
};

/**
 * PUT AUTHENTICATION KEY (0x44): id (2) | label (40) | domains (2) |
 * capabilities (8) | algorithm (1) | delegated capabilities (8) | K-ENC (16)
 * | K-MAC (16); answers the id (2). Needs put-authentication-key. Both the
 * capabilities and the delegated capabilities must be within the session's
 * delegated capabilities.
 */
const putAuthenticationKey: Handler = (device, session, data, targets) => {
  needCapability(session, 'put-authentication-key');
  const c = checkCreation(decodePutAuthenticationKeyRequest(data), device, session, ObjectType.AuthenticationKey, targets);
  const delegated = c.delegatedCapabilities;
  if (c.algorithm !== (Algorithm.Aes128YubicoAuthentication as number)) {
    throw refuse(DeviceError.InvalidData, `algorithm ${c.algorithm} is not aes128-yubico-authentication`);
  }
  if (!hasCapabilities(session.authority.delegated, delegated)) {
    throw refuse(DeviceError.InsufficientPermissions, "the new key's delegated capabilities exceed the session's");
  }
  device.store.add({
    id: c.id,
    type: ObjectType.AuthenticationKey,
    algorithm: Algorithm.Aes128YubicoAuthentication,
    label: c.label,
    domains: c.domains,
    capabilities: c.capabilities,
    delegated,
    origin: ObjectOrigin.Imported,
    staticKeys: { enc: c.encKey, mac: c.macKey },
  });
  return { data: encodeObjectId(c.id), target: c.id };
};

/**
 * GENERATE ASYMMETRIC KEY (0x46): id (2) | label (40) | domains (2) |
 * capabilities (8) | algorithm (1); answers the id (2). Needs
 * generate-asymmetric-key. The simulator generates EC P-256 and P-384 keys
 * (node:crypto). Other algorithms, including those GET DEVICE INFO lists
 * because a 2.1 device has them (RSA, the other curves), are refused with
 * INVALID DATA, the device's answer to an algorithm it cannot use here.
 */
const generateAsymmetricKey: Handler = (device, session, data, targets) => {
  needCapability(session, 'generate-asymmetric-key');
  const c = checkCreation(decodeGenerateAsymmetricKeyRequest(data), device, session, ObjectType.AsymmetricKey, targets);
  const curve = curveOfAlgorithm(c.algorithm);
  if (!curve) throw refuse(DeviceError.InvalidData, `the simulator generates ec-p256 and ec-p384 keys, not algorithm ${c.algorithm}`);
  device.store.add({
    id: c.id,
    type: ObjectType.AsymmetricKey,
    algorithm: c.algorithm,
    label: c.label,
    domains: c.domains,
    capabilities: c.capabilities,
    delegated: 0n,
    origin: ObjectOrigin.Generated,
    privateKey: generateKeyPairSync('ec', { namedCurve: curve }).privateKey,
  });
  return { data: encodeObjectId(c.id), target: c.id };
};

/**
 * PUT OPAQUE (0x42): id (2) | label (40) | domains (2) | capabilities (8) |
 * algorithm (1) | data; answers the id (2). Needs put-opaque. Used to store
 * the certificate of a user attestation key under the key's id.
 */
const putOpaque: Handler = (device, session, data, targets) => {
  needCapability(session, 'put-opaque');
  const c = checkCreation(decodePutOpaqueRequest(data), device, session, ObjectType.Opaque, targets);
  const content = c.content;
  if (content.length === 0) throw refuse(DeviceError.WrongLength, 'an opaque object needs data');
  if (c.algorithm !== (Algorithm.OpaqueData as number) && c.algorithm !== (Algorithm.OpaqueX509Certificate as number)) {
    throw refuse(DeviceError.InvalidData, `algorithm ${c.algorithm} is not an opaque algorithm`);
  }
  device.store.add({
    id: c.id,
    type: ObjectType.Opaque,
    algorithm: c.algorithm,
    label: c.label,
    domains: c.domains,
    capabilities: c.capabilities,
    delegated: 0n,
    origin: ObjectOrigin.Imported,
    data: content,
  });
  return { data: encodeObjectId(c.id), target: c.id };
};

/** GET OPAQUE (0x43): id (2); answers the data. Needs get-opaque. */
const getOpaque: Handler = (device, session, data, targets) => {
  const id = decodeObjectId(data, 'GET OPAQUE request', 'YUBIHSM_DEVICE_WRONG_LENGTH');
  targets.target = id;
  needCapability(session, 'get-opaque');
  const o = visible(device, session, ObjectType.Opaque, id);
  return { data: Uint8Array.from(o.data ?? EMPTY), target: id };
};

/** The capability DELETE OBJECT needs for each type ("Capabilities": delete-*). */
const DELETE_CAPABILITY: Partial<Record<number, CapabilityName>> = {
  [ObjectType.Opaque]: 'delete-opaque',
  [ObjectType.AuthenticationKey]: 'delete-authentication-key',
  [ObjectType.AsymmetricKey]: 'delete-asymmetric-key',
  [ObjectType.WrapKey]: 'delete-wrap-key',
  [ObjectType.HmacKey]: 'delete-hmac-key',
  [ObjectType.Template]: 'delete-template',
  [ObjectType.OtpAeadKey]: 'delete-otp-aead-key',
};

/** DELETE OBJECT (0x58): id (2) | type (1); no data back. Needs the delete capability of the type. */
const deleteObject: Handler = (device, session, data, targets) => {
  const { id, type } = decodeObjectRef(data, 'DELETE OBJECT');
  targets.target = id;
  const capability = DELETE_CAPABILITY[type];
  if (!capability) throw refuse(DeviceError.InvalidData, `type ${type} cannot be deleted`);
  needCapability(session, capability);
  if (id === 0 || id === 0xffff) throw refuse(DeviceError.InvalidId, 'the device objects cannot be deleted');
  visible(device, session, type, id);
  device.store.delete(type, id);
  return { data: EMPTY, target: id };
};

function asymmetricKey(device: DeviceState, session: Session, id: number): StoredObject & { privateKey: KeyObject } {
  const o = visible(device, session, ObjectType.AsymmetricKey, id);
  if (!o.privateKey) throw refuse(DeviceError.InvalidData, `object 0x${id.toString(16)} holds no key`);
  return o as StoredObject & { privateKey: KeyObject };
}

/** GET PUBLIC KEY (0x54): id (2); answers algorithm (1) | X ‖ Y for EC keys (the uncompressed point without its 0x04). No capability needed. */
const getPublicKey: Handler = (device, session, data, targets) => {
  const id = decodeObjectId(data, 'GET PUBLIC KEY request', 'YUBIHSM_DEVICE_WRONG_LENGTH');
  targets.target = id;
  const o = asymmetricKey(device, session, id);
  return { data: encodePublicKeyResponse({ algorithm: o.algorithm, key: ecPublicKey(createPublicKey(o.privateKey)).point.subarray(1) }), target: id };
};

/** The largest digest SIGN ECDSA accepts: SHA-512's. */
export const MAX_DIGEST_BYTES = 64;

/**
 * SIGN ECDSA (0x56): id (2) | digest; answers the DER signature. Needs
 * sign-ecdsa on the session and on the key. A digest longer than the curve
 * order is truncated to its leftmost bits (FIPS 186-4 6.4).
 */
const signEcdsa: Handler = (device, session, data, targets) => {
  const { keyId: id, digest } = decodeSignEcdsaRequest(data);
  targets.target = id;
  needCapability(session, 'sign-ecdsa');
  const o = asymmetricKey(device, session, id);
  if (!hasCapabilities(o.capabilities, CAPABILITY_BITS['sign-ecdsa'])) {
    throw refuse(DeviceError.InsufficientPermissions, `key 0x${id.toString(16)} lacks sign-ecdsa`);
  }
  const curve = curveOfAlgorithm(o.algorithm);
  if (!curve) throw refuse(DeviceError.InvalidData, `key 0x${id.toString(16)} is not an EC key`);
  if (digest.length === 0 || digest.length > MAX_DIGEST_BYTES) {
    throw refuse(DeviceError.WrongLength, `a digest of ${digest.length} bytes`);
  }
  return { data: signPrehash(curve, o.privateKey, digest, 'der'), target: id };
};

/**
 * SIGN ATTESTATION CERTIFICATE (0x64): key id (2) | attestation key id (2);
 * answers the DER certificate. Needs sign-attestation-certificate on the
 * session. Attestation key 0 is the device attestation key, and its
 * certificate the device certificate (opaque 0). Any other attestation key is
 * an asymmetric key with sign-attestation-certificate whose certificate is
 * the opaque object with the same id ("Attestation").
 */
const signAttestationCertificate: Handler = async (device, session, data, targets) => {
  const { keyId: id, attestationKeyId: attestationId } = decodeSignAttestationCertificateRequest(data);
  targets.target = id;
  targets.second = attestationId;
  needCapability(session, 'sign-attestation-certificate');
  const key = asymmetricKey(device, session, id);
  let signingKey = device.attestationKey;
  let issuerDer = device.deviceCertificate;
  if (attestationId !== 0) {
    const attesting = asymmetricKey(device, session, attestationId);
    if (!hasCapabilities(attesting.capabilities, CAPABILITY_BITS['sign-attestation-certificate'])) {
      throw refuse(DeviceError.InsufficientPermissions, `key 0x${attestationId.toString(16)} lacks sign-attestation-certificate`);
    }
    signingKey = attesting.privateKey;
    issuerDer = visible(device, session, ObjectType.Opaque, attestationId).data ?? EMPTY;
  }
  let issuer: X509Certificate;
  try {
    issuer = new X509Certificate(issuerDer);
  } catch {
    throw refuse(DeviceError.InvalidData, `opaque 0x${attestationId.toString(16)} is not a certificate`);
  }
  try {
    const der = await issueAttestation({
      publicKey: createPublicKey(key.privateKey),
      signingKey,
      issuer,
      info: {
        firmware: device.firmware,
        serial: device.serial,
        origin: key.origin,
        domains: key.domains,
        capabilities: key.capabilities,
        objectId: key.id,
        label: decodeLabel(key.label),
      },
    });
    return { data: der, target: id, second: attestationId };
  } catch (err) {
    if (err instanceof AttestationError) throw refuse(DeviceError.InvalidData, err.message);
    throw err;
  }
};

/**
 * LIST OBJECTS (0x48): a sequence of filters tag (1) | value (id 2, type 1,
 * domains 2, capabilities 8, algorithm 1, label 40); answers id (2) |
 * type (1) | sequence (1) for each object the session can see that passes
 * every filter. Domains and capabilities filters match objects sharing at
 * least one domain / capability with the filter; a label matches its 40
 * bytes exactly.
 */
const listObjects: Handler = (device, session, data) => {
  const f = decodeListObjectsRequest(data);
  const entries: ObjectEntry[] = [];
  for (const o of device.store.list()) {
    if ((o.domains & session.authority.domains) === 0) continue;
    if (f.id !== undefined && o.id !== f.id) continue;
    if (f.type !== undefined && (o.type as number) !== f.type) continue;
    if (f.domains !== undefined && (o.domains & f.domains) === 0) continue;
    if (f.capabilities !== undefined && (o.capabilities & f.capabilities) === 0n) continue;
    if (f.algorithm !== undefined && (o.algorithm as number) !== f.algorithm) continue;
    if (f.label !== undefined && Buffer.compare(o.label, f.label) !== 0) continue;
    entries.push({ id: o.id, type: o.type, sequence: o.sequence });
  }
  return { data: encodeListObjectsResponse(entries) };
};

/**
 * GET OBJECT INFO (0x4e): id (2) | type (1); answers capabilities (8) |
 * id (2) | length (2) | domains (2) | type (1) | algorithm (1) |
 * sequence (1) | origin (1) | label (40) | delegated capabilities (8).
 */
const getObjectInfo: Handler = (device, session, data, targets) => {
  const { id, type } = decodeObjectRef(data, 'GET OBJECT INFO');
  targets.target = id;
  const o = visible(device, session, type, id);
  const info = encodeObjectInfoResponse({
    capabilities: o.capabilities,
    id: o.id,
    size: objectLength(o),
    domains: o.domains,
    type: o.type,
    algorithm: o.algorithm,
    sequence: o.sequence,
    origin: o.origin,
    label: o.label,
    delegatedCapabilities: o.delegated,
  });
  return { data: info, target: id };
};

/** GET LOG ENTRIES (0x4d): no data; answers the Log Store (see audit-log.ts). Needs get-log-entries. */
const getLogEntries: Handler = (device, session, data) => {
  needCapability(session, 'get-log-entries');
  if (data.length !== 0) throw refuse(DeviceError.WrongLength, 'GET LOG ENTRIES takes no data');
  return { data: device.log.encode() };
};

/**
 * GET STORAGE INFO (0x41): no data; answers total records (2) | free
 * records (2) | total pages (2) | free pages (2) | page size (2). No
 * capability needed.
 */
const getStorageInfo: Handler = (device, _session, data) => {
  if (data.length !== 0) throw refuse(DeviceError.WrongLength, 'GET STORAGE INFO takes no data');
  const { store } = device;
  return {
    data: encodeStorageInfoResponse({
      totalRecords: MAX_OBJECTS,
      freeRecords: MAX_OBJECTS - store.records,
      totalPages: TOTAL_PAGES,
      freePages: TOTAL_PAGES - store.pages,
      pageSize: PAGE_BYTES,
    }),
  };
};

/**
 * GET PSEUDO RANDOM (0x51): count (2); answers that many bytes from the
 * device's random generator (here node:crypto's). Needs get-pseudo-random.
 * A count whose answer would not fit a session response is refused with
 * INVALID DATA (the reference does not say what the device answers).
 */
const getPseudoRandom: Handler = (_device, session, data) => {
  const count = decodePseudoRandomRequest(data);
  needCapability(session, 'get-pseudo-random');
  if (count > MAX_PSEUDO_RANDOM_BYTES) throw refuse(DeviceError.InvalidData, `${count} random bytes do not fit in a session response`);
  return { data: new Uint8Array(randomBytes(count)) };
};

/**
 * SET OPTION (0x4f): tag (1) | length (2) | value; no data back. Needs
 * set-option. Force-audit takes one setting byte, command-audit pairs of
 * command (1) | setting (1); see device-options.ts for the rules.
 */
const setOption: Handler = (device, session, data) => {
  const { option, value } = decodeSetOptionRequest(data);
  needCapability(session, 'set-option');
  device.options.set(option, value);
  return { data: EMPTY };
};

/** GET OPTION (0x50): tag (1); answers the option's value. Needs get-option. */
const getOption: Handler = (device, session, data) => {
  const option = decodeGetOptionRequest(data);
  needCapability(session, 'get-option');
  return { data: device.options.get(option) };
};

/**
 * SET LOG INDEX (0x67): index (2); no data back. Marks the log entries up to
 * and including `index` as read, so the Log Store may reuse them. Needs
 * get-log-entries, the capability of the audit log. An index that names no
 * entry held is refused with INVALID DATA.
 */
const setLogIndex: Handler = (device, session, data) => {
  const index = decodeSetLogIndexRequest(data);
  needCapability(session, 'get-log-entries');
  if (!device.log.setIndex(index)) throw refuse(DeviceError.InvalidData, `no log entry ${index} is held`);
  return { data: EMPTY };
};

/** BLINK DEVICE (0x6b): seconds (1); no data back. No capability needed. */
const blinkDevice: Handler = (device, _session, data) => {
  device.blink(decodeBlinkRequest(data));
  return { data: EMPTY };
};

/**
 * CHANGE AUTHENTICATION KEY (0x6c): id (2) | algorithm (1) | K-ENC (16) |
 * K-MAC (16); answers the id (2). A session may change only its own
 * authentication key (another id is INVALID ID, as python-yubihsm's device
 * tests expect), and that key must hold change-authentication-key. The
 * algorithm stays the key's (firmware 2.1 has symmetric authentication keys
 * only); the key's other attributes and sequence are kept, and the session
 * goes on with the keys it was opened with.
 */
const changeAuthenticationKey: Handler = (device, session, data, targets) => {
  const req = decodeChangeAuthenticationKeyRequest(data);
  targets.target = req.id;
  needCapability(session, 'change-authentication-key');
  if (req.id !== session.authority.keyId) {
    throw refuse(DeviceError.InvalidId, `a session may change only its own authentication key 0x${session.authority.keyId.toString(16)}`);
  }
  const key = visible(device, session, ObjectType.AuthenticationKey, req.id);
  if (req.algorithm !== (key.algorithm as number)) {
    throw refuse(DeviceError.InvalidData, `authentication key 0x${req.id.toString(16)} is algorithm ${key.algorithm}, not ${req.algorithm}`);
  }
  if (req.key.length !== 2 * KEY_BYTES) throw refuse(DeviceError.WrongLength, `an aes128-yubico-authentication key is ${2 * KEY_BYTES} bytes`);
  device.store.replaceKeys(ObjectType.AuthenticationKey, req.id, { enc: req.key.slice(0, KEY_BYTES), mac: req.key.slice(KEY_BYTES) });
  req.key.fill(0);
  return { data: encodeObjectId(req.id), target: req.id };
};

/** The commands a session may carry, by code. */
export const SESSION_HANDLERS: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [Command.Echo, (_d, _s, data) => ({ data: echo(data) })],
  [Command.GetDeviceInfo, (d, _s, data) => ({ data: deviceInfo(d, data) })],
  [Command.ResetDevice, resetDevice],
  [Command.CloseSession, closeSession],
  [Command.PutOpaque, putOpaque],
  [Command.GetOpaque, getOpaque],
  [Command.PutAuthenticationKey, putAuthenticationKey],
  [Command.GenerateAsymmetricKey, generateAsymmetricKey],
  [Command.ListObjects, listObjects],
  [Command.GetLogEntries, getLogEntries],
  [Command.GetObjectInfo, getObjectInfo],
  [Command.GetPublicKey, getPublicKey],
  [Command.SignEcdsa, signEcdsa],
  [Command.DeleteObject, deleteObject],
  [Command.SignAttestationCertificate, signAttestationCertificate],
  [Command.GetStorageInfo, getStorageInfo],
  [Command.GetPseudoRandom, getPseudoRandom],
  [Command.SetOption, setOption],
  [Command.GetOption, getOption],
  [Command.SetLogIndex, setLogIndex],
  [Command.BlinkDevice, blinkDevice],
  [Command.ChangeAuthenticationKey, changeAuthenticationKey],
]);
