/**
 * A typed client for the YubiHSM 2 native protocol, over any transport.
 *
 * `YubiHsmClient` speaks the unauthenticated commands (ECHO, GET DEVICE
 * INFO) and opens sessions; `YubiHsmSession` carries the commands the
 * ceremony needs (runbook "Provisioning the YubiHSM 2": reset, replace the
 * default authentication key, generate the TUF root and targets keys, export
 * their public keys and attestation certificates, sign), and the device
 * management commands around them (storage, random bytes, options and the
 * audit log, blinking the LED to find a device, changing a password). Every
 * device error surfaces as a YubiHsmError whose code names it.
 */
import { capabilities as capabilityField, type Capabilities, type CapabilityName } from './capabilities.ts';
import { YubiHsmError } from './errors.ts';
import { keysFromPassword } from './password.ts';
import { CURVE_ALGORITHM, curveOfAlgorithm, type Algorithm } from './protocol/algorithms.ts';
import { Command } from './protocol/commands.ts';
import {
  decodeDeviceInfoResponse,
  decodePseudoRandomResponse,
  decodeStorageInfoResponse,
  encodeBlinkRequest,
  encodeEchoRequest,
  encodePseudoRandomRequest,
  type DeviceInfo,
  type StorageInfo,
} from './protocol/device-commands.ts';
import { decodeResponse, encodeFrame } from './protocol/frame.ts';
import {
  AUTHENTICATION_KEY_ALGORITHM,
  decodeCertificateResponse,
  decodeObjectId,
  decodePublicKeyResponse,
  decodeSignEcdsaResponse,
  DEVICE_ATTESTATION_ID,
  encodeChangeAuthenticationKeyRequest,
  encodeGenerateAsymmetricKeyRequest,
  encodeObjectId,
  encodePutAuthenticationKeyRequest,
  encodeSignAttestationCertificateRequest,
  encodeSignEcdsaRequest,
} from './protocol/key-commands.ts';
import { decodeLogEntriesResponse, encodeSetLogIndexRequest, type LogEntries } from './protocol/log-commands.ts';
import {
  decodeListObjectsResponse,
  decodeObjectInfoResponse,
  encodeListObjectsRequest,
  encodeObjectRef,
  type ListObjectsFilter,
  type ObjectEntry,
  type ObjectInfo,
} from './protocol/object-commands.ts';
import { domainsField, ObjectType } from './protocol/objects.ts';
import {
  decodeCommandAuditValue,
  decodeForceAuditValue,
  DeviceOption,
  encodeCommandAuditValue,
  encodeForceAuditValue,
  encodeGetOptionRequest,
  encodeSetOptionRequest,
  type AuditSetting,
  type CommandAudit,
} from './protocol/option-commands.ts';
import { decodeEmptyResponse } from './protocol/session-commands.ts';
import type { StaticKeys } from './session/scp03.ts';
import { Session, type OpenSessionOptions } from './session/session.ts';
import { DEFAULT_CONNECTOR_URL, HttpTransport, type HttpTransportOptions } from './transports/http.ts';
import type { Transport } from './transports/transport.ts';
import { openUsbTransport, type UsbTransportOptions } from './transports/usb.ts';
import type { Curve } from '../keys.ts';

export type { CommandAudit, DeviceInfo, LogEntries, ListObjectsFilter, ObjectEntry, ObjectInfo, StorageInfo };

/** Capabilities as names (yubihsm-shell spelling) or as the 64-bit field. */
export type CapabilitiesInput = readonly CapabilityName[] | Capabilities;

/** Credentials of an authentication key: a password (derived once, cached) or the two keys. */
export type Credentials = { readonly password: string } | { readonly keys: StaticKeys };

export interface NewObjectOptions {
  /** Object id; 0 lets the device choose. */
  readonly id: number;
  /** At most 40 bytes of UTF-8. */
  readonly label: string;
  /** Domain numbers, 1..16. */
  readonly domains: readonly number[];
  readonly capabilities: CapabilitiesInput;
}

export interface PutAuthenticationKeyOptions extends NewObjectOptions {
  readonly delegatedCapabilities: CapabilitiesInput;
  readonly credentials: Credentials;
}

export interface GenerateEcKeyOptions extends NewObjectOptions {
  readonly curve: Curve;
}

export interface EcPublicKeyResult {
  readonly algorithm: Algorithm | number;
  /** The curve, when it is one the ceremony uses. */
  readonly curve: Curve | undefined;
  /** The bare coordinates X ‖ Y, as the device returns them (the PSF runbook's `.pub` files hold 0x04 ‖ X ‖ Y). */
  readonly point: Uint8Array;
}

function toField(c: CapabilitiesInput): Capabilities {
  return typeof c === 'bigint' ? c : capabilityField(...c);
}

async function credentialKeys(c: Credentials): Promise<StaticKeys> {
  return 'password' in c ? keysFromPassword(c.password) : c.keys;
}

export interface ClientOptions {
  /** Names the device in messages (a serial, a connector URL). */
  readonly device?: string;
}

export class YubiHsmClient {
  readonly device: string;

  constructor(
    readonly transport: Transport,
    options: ClientOptions = {},
  ) {
    this.device = options.device ?? 'the YubiHSM';
  }

  /**
   * A client through a yubihsm-connector (Yubico's, or `runbook simulate
   * yubihsm`). Fails unless the connector reports status=OK.
   */
  static async connector(url: string = DEFAULT_CONNECTOR_URL, options: HttpTransportOptions = {}): Promise<YubiHsmClient> {
    const transport = new HttpTransport(url, options);
    const status = await transport.requireReady();
    const name = status.serial !== undefined ? `YubiHSM 2 serial ${status.serial} (connector ${transport.url})` : `the YubiHSM 2 at ${transport.url}`;
    return new YubiHsmClient(transport, { device: name });
  }

  /** A client straight over USB: exactly one YubiHSM 2 attached, or the one with `options.serial`. */
  static async usb(options: UsbTransportOptions = {}): Promise<YubiHsmClient> {
    const transport = await openUsbTransport(options);
    return new YubiHsmClient(transport, { device: transport.name });
  }

  private async plain(command: Command, data?: Uint8Array): Promise<Uint8Array> {
    return decodeResponse(command, await this.transport.send(encodeFrame(command, data)), this.device);
  }

  /** ECHO outside a session: proves the device is there and framing works. */
  async echo(data: Uint8Array): Promise<Uint8Array> {
    const out = await this.plain(Command.Echo, encodeEchoRequest(data));
    return Uint8Array.from(out);
  }

  /** GET DEVICE INFO (no session needed): the serial the operator checks (runbook step 9). */
  async getDeviceInfo(): Promise<DeviceInfo> {
    return decodeDeviceInfoResponse(await this.plain(Command.GetDeviceInfo));
  }

  /**
   * Opens an authenticated session with authentication key `authKeyId`. A
   * password is derived once per process (lib/yubihsm/password.ts).
   */
  async openSession(authKeyId: number, credentials: Credentials, options: Omit<OpenSessionOptions, 'device'> = {}): Promise<YubiHsmSession> {
    const keys = await credentialKeys(credentials);
    const session = await Session.open(this.transport, authKeyId, keys, { ...options, device: this.device });
    return new YubiHsmSession(session, this.device);
  }

  /** Closes the transport (open sessions are left to the device's timeout). */
  async close(): Promise<void> {
    await this.transport.close();
  }
}

export class YubiHsmSession {
  constructor(
    readonly session: Session,
    readonly device: string,
  ) {}

  /** The device's session id (0..15). */
  get id(): number {
    return this.session.id;
  }

  get authKeyId(): number {
    return this.session.authKeyId;
  }

  get isOpen(): boolean {
    return this.session.isOpen;
  }

  /** ECHO inside the session. */
  async echo(data: Uint8Array): Promise<Uint8Array> {
    return Uint8Array.from(await this.session.send(Command.Echo, encodeEchoRequest(data)));
  }

  /** GET DEVICE INFO inside the session. */
  async getDeviceInfo(): Promise<DeviceInfo> {
    return decodeDeviceInfoResponse(await this.session.send(Command.GetDeviceInfo));
  }

  /**
   * RESET DEVICE (runbook "Provisioning the YubiHSM 2", step 10): every
   * object is erased and authentication key 1 (password "password") is
   * restored. The session ends with it.
   */
  async resetDevice(): Promise<void> {
    await this.session.reset();
  }

  /**
   * PUT AUTHENTICATION KEY (runbook step 13: the new authentication key 2,
   * `tuf-authkey`). Returns the id the device stored it under.
   */
  async putAuthenticationKey(o: PutAuthenticationKeyOptions): Promise<number> {
    const keys = await credentialKeys(o.credentials);
    const data = encodePutAuthenticationKeyRequest({
      id: o.id,
      label: o.label,
      domains: domainsField(...o.domains),
      capabilities: toField(o.capabilities),
      algorithm: AUTHENTICATION_KEY_ALGORITHM,
      delegatedCapabilities: toField(o.delegatedCapabilities),
      encKey: keys.enc,
      macKey: keys.mac,
    });
    try {
      return decodeObjectId(await this.session.send(Command.PutAuthenticationKey, data), 'PUT AUTHENTICATION KEY response');
    } finally {
      // The request holds K-ENC and K-MAC in the clear; it has been sealed (or refused) by now.
      data.fill(0);
    }
  }

  /** DELETE OBJECT (runbook step 15: the default authentication key 1 goes). */
  async deleteObject(id: number, type: ObjectType | number): Promise<void> {
    decodeEmptyResponse(await this.session.send(Command.DeleteObject, encodeObjectRef(id, type)), 'DELETE OBJECT');
  }

  /** GENERATE ASYMMETRIC KEY on P-256 or P-384 (runbook step 15: `tuf-root` and `tuf-targets`). Returns the id. */
  async generateEcKey(o: GenerateEcKeyOptions): Promise<number> {
    const data = encodeGenerateAsymmetricKeyRequest({
      id: o.id,
      label: o.label,
      domains: domainsField(...o.domains),
      capabilities: toField(o.capabilities),
      algorithm: CURVE_ALGORITHM[o.curve],
    });
    return decodeObjectId(await this.session.send(Command.GenerateAsymmetricKey, data), 'GENERATE ASYMMETRIC KEY response');
  }

  /** GET PUBLIC KEY: the key's algorithm and bare point X ‖ Y (the PSF runbook's `_pubkey.pub` product, before the 0x04 prefix). */
  async getPublicKey(id: number): Promise<EcPublicKeyResult> {
    const pub = decodePublicKeyResponse(await this.session.send(Command.GetPublicKey, encodeObjectId(id)));
    return { algorithm: pub.algorithm, curve: curveOfAlgorithm(pub.algorithm), point: pub.key };
  }

  /** GET OPAQUE: opaque 0 is the device's attestation certificate (the PSF runbook's `_cert.der` product). */
  async getOpaque(id: number): Promise<Uint8Array> {
    return Uint8Array.from(await this.session.send(Command.GetOpaque, encodeObjectId(id)));
  }

  /** The device attestation certificate (opaque 0), checked to be one DER SEQUENCE. */
  async getDeviceCertificate(): Promise<Uint8Array> {
    return decodeCertificateResponse(await this.getOpaque(DEVICE_ATTESTATION_ID), 'device certificate (opaque 0)');
  }

  /**
   * SIGN ATTESTATION CERTIFICATE: a certificate for key `keyId` signed by
   * attestation key `attestationKeyId` (0: the device's), the PSF runbook's
   * `_root_attestation.der` / `_targets_attestation.der` products.
   */
  async signAttestationCertificate(keyId: number, attestationKeyId = DEVICE_ATTESTATION_ID): Promise<Uint8Array> {
    const data = encodeSignAttestationCertificateRequest(keyId, attestationKeyId);
    return decodeCertificateResponse(await this.session.send(Command.SignAttestationCertificate, data), 'SIGN ATTESTATION CERTIFICATE response');
  }

  /** SIGN ECDSA over a digest the host computed (the prehash); returns a DER ECDSA-Sig-Value. */
  async signEcdsa(keyId: number, digest: Uint8Array): Promise<Uint8Array> {
    return decodeSignEcdsaResponse(await this.session.send(Command.SignEcdsa, encodeSignEcdsaRequest(keyId, digest)));
  }

  /** LIST OBJECTS, with optional filters. */
  async listObjects(filter: ListObjectsFilter = {}): Promise<ObjectEntry[]> {
    return decodeListObjectsResponse(await this.session.send(Command.ListObjects, encodeListObjectsRequest(filter)));
  }

  /** GET OBJECT INFO. */
  async getObjectInfo(id: number, type: ObjectType | number): Promise<ObjectInfo> {
    return decodeObjectInfoResponse(await this.session.send(Command.GetObjectInfo, encodeObjectRef(id, type)));
  }

  /** GET LOG ENTRIES: the device's audit log, for the ceremony transcript. */
  async getLogEntries(): Promise<LogEntries> {
    return decodeLogEntriesResponse(await this.session.send(Command.GetLogEntries));
  }

  /**
   * SET LOG INDEX: tells the device the entries up to `index` (the number of
   * the last entry read) have been read and may be reused; with forced audit
   * on, a full log blocks the device until this is done. Needs
   * get-log-entries.
   */
  async setLogIndex(index: number): Promise<void> {
    decodeEmptyResponse(await this.session.send(Command.SetLogIndex, encodeSetLogIndexRequest(index)), 'SET LOG INDEX');
  }

  /** GET STORAGE INFO: records and pages, total and free. */
  async getStorageInfo(): Promise<StorageInfo> {
    return decodeStorageInfoResponse(await this.session.send(Command.GetStorageInfo));
  }

  /** GET PSEUDO RANDOM: `count` bytes from the device's random generator. Needs get-pseudo-random. */
  async getPseudoRandom(count: number): Promise<Uint8Array> {
    return decodePseudoRandomResponse(await this.session.send(Command.GetPseudoRandom, encodePseudoRandomRequest(count)), count);
  }

  /** BLINK DEVICE: flashes the device's LED for `seconds` (0..255), to tell one device from another. */
  async blinkDevice(seconds: number): Promise<void> {
    decodeEmptyResponse(await this.session.send(Command.BlinkDevice, encodeBlinkRequest(seconds)), 'BLINK DEVICE');
  }

  /** SET OPTION with a raw value (see setForceAudit, setCommandAudit for the audit options). Needs set-option. */
  async setOption(option: DeviceOption | number, value: Uint8Array): Promise<void> {
    decodeEmptyResponse(await this.session.send(Command.SetOption, encodeSetOptionRequest(option, value)), 'SET OPTION');
  }

  /** GET OPTION: an option's raw value. Needs get-option. */
  async getOption(option: DeviceOption | number): Promise<Uint8Array> {
    return Uint8Array.from(await this.session.send(Command.GetOption, encodeGetOptionRequest(option)));
  }

  /** Sets force-audit: when on, the device refuses what it cannot log while the log is full. */
  async setForceAudit(setting: AuditSetting): Promise<void> {
    await this.setOption(DeviceOption.ForceAudit, encodeForceAuditValue(setting));
  }

  async getForceAudit(): Promise<AuditSetting> {
    return decodeForceAuditValue(await this.getOption(DeviceOption.ForceAudit), 'YUBIHSM_RESPONSE_MALFORMED');
  }

  /** Sets command-audit for the commands given (the others keep theirs). */
  async setCommandAudit(settings: readonly CommandAudit[]): Promise<void> {
    await this.setOption(DeviceOption.CommandAudit, encodeCommandAuditValue(settings));
  }

  /** Command-audit: every command the device lists, with its setting. */
  async getCommandAudit(): Promise<CommandAudit[]> {
    return decodeCommandAuditValue(await this.getOption(DeviceOption.CommandAudit), 'YUBIHSM_RESPONSE_MALFORMED');
  }

  /**
   * CHANGE AUTHENTICATION KEY (firmware 2.1.0 and later): new credentials for
   * the session's own authentication key, which must hold
   * change-authentication-key. The device refuses any other `keyId` (INVALID
   * ID). This session goes on; later sessions need the new credentials.
   * Returns the id the device changed.
   */
  async changeAuthenticationKey(credentials: Credentials, keyId: number = this.authKeyId): Promise<number> {
    const keys = await credentialKeys(credentials);
    const data = encodeChangeAuthenticationKeyRequest(keyId, keys.enc, keys.mac);
    try {
      const changed = decodeObjectId(await this.session.send(Command.ChangeAuthenticationKey, data), 'CHANGE AUTHENTICATION KEY response');
      if (changed !== keyId) {
        throw new YubiHsmError('YUBIHSM_RESPONSE_MALFORMED', `CHANGE AUTHENTICATION KEY on ${this.device}: asked to change key ${keyId}, the device answers ${changed}`);
      }
      return changed;
    } finally {
      // The request holds K-ENC and K-MAC in the clear; it has been sealed (or refused) by now.
      data.fill(0);
    }
  }

  /** CLOSE SESSION. */
  async close(): Promise<void> {
    await this.session.close();
  }
}
