import { generateKeyPairSync, randomInt, type KeyObject } from 'node:crypto';
import { attestKey, makeSimulatedDevice } from '../../cvc/index.ts';
import { signPrehash } from '../../ecdsa.ts';
import { ecPublicKey, type Curve } from '../../keys.ts';
import { ckrError } from '../errors.ts';
import { USER_PIN_MAX, USER_PIN_MIN } from '../pins.ts';
import type { PrivateKeyFlag, PublicKeyFlag } from '../templates.ts';
import { TokenFlag, type KeyPairAttributes, type TokenInfo } from '../token.ts';
import { untrustedText } from '../../untrusted-text.ts';
import { settle } from '../../settle.ts';
import type { AttestationReader, KeyRequest, ReadOptions } from '../attestation.ts';

/**
 * A SmartCard-HSM (the chip inside a Nitrokey HSM), as the device itself
 * behaves under OpenSC's `sc-hsm` driver. This file is the device: its PINs,
 * retry counters and key store. Sessions and login state are OpenSC's side
 * and live in ./token.ts.
 *
 * The rules, as OpenSC's card-sc-hsm.c and framework-pkcs15.c apply them:
 * - The SO PIN is the 8-byte initialization code, typed as 16 hex digits
 *   (case does not matter: it is decoded to bytes). It has 15 tries, and once
 *   they are spent it can never be unblocked: the device cannot be
 *   re-initialized again.
 * - INITIALIZE DEVICE (C_InitToken) checks the SO PIN against the current
 *   initialization code, erases every key and leaves the user PIN to be set.
 *   The serial number is the chip's own and never changes.
 * - The user PIN has 6 to 15 characters and 3 tries; OpenSC reports
 *   CKF_USER_PIN_COUNT_LOW below the maximum, CKF_USER_PIN_FINAL_TRY with one
 *   try left and CKF_USER_PIN_LOCKED at none. SO PIN state is not reported.
 * - RESET RETRY COUNTER (C_InitPIN) and CHANGE REFERENCE DATA on the SO PIN
 *   (C_SetPIN) are the only operations that verify the SO PIN.
 *
 * Keys are real: P-256 and P-384 pairs from node:crypto, and CKM_ECDSA
 * signatures over the caller's prehash.
 *
 * Attestation, as the card and OpenSC's sc-hsm driver do it: a device made by
 * `SimulatedSmartCardHsm.create` has a Device Authentication key and EF 2F02
 * (its device certificate and a Device Issuer CA's, under the SIMULATED
 * scheme root of lib/cvc). Each generated key gets the card's next key
 * reference (the lowest free one from 1, whatever its CKA_ID) and, in EF
 * CE<reference>, an authenticated CV request for it signed by the device key,
 * byte for byte in the real format. INITIALIZE DEVICE erases keys and their
 * EF CE files; EF 2F02 is the chip's and stays.
 */

export interface SmartCardHsmOptions {
  /** The chip's serial, e.g. "DENK0102947"; default: a random one of that form. */
  readonly serial?: string;
  /** Current SO PIN; default: the factory 3537363231383830. */
  readonly soPin?: string;
  /** Current user PIN, or null for "not set"; default: the factory 648219. */
  readonly userPin?: string | null;
  /** False for a chip that was never initialized (OpenSC lists it, but not as an initialized token). */
  readonly initialized?: boolean;
  /** The token label; default: "SmartCard-HSM", as OpenSC names a card it has not seen initialized. */
  readonly label?: string;
  /** How many key pairs fit in the device's memory; a further C_GenerateKeyPair fails with CKR_DEVICE_MEMORY. */
  readonly keyCapacity?: number;
  /** The chip's Device Authentication identity; none: a chip that attests nothing (see `create`, which makes one). */
  readonly identity?: SimulatedDeviceIdentity;
}

/** A simulated chip's Device Authentication key, its CHR, and EF 2F02 (lib/cvc's makeSimulatedDevice). */
export interface SimulatedDeviceIdentity {
  /** EF 2F02: the device certificate followed by the Device Issuer CA certificate. */
  readonly devaut: Uint8Array;
  readonly deviceKey: KeyObject;
  /** The device certificate's CHR: the serial followed by five digits. */
  readonly chr: string;
}

/** Key references the card gives generated keys: 1 to 255 (0 is the Device Authentication key). */
const KEY_REFERENCES = 255;
/** The first byte of an authenticated CV request (tag 67). */
const AUTHENTICATED_REQUEST = 0x67;

export const SO_PIN_TRIES = 15;
export const USER_PIN_TRIES = 3;
/** The SO PIN (initialization code) a new SmartCard-HSM ships with: "57621880" in ASCII, as 16 hex digits. */
export const FACTORY_SO_PIN = '3537363231383830';
/** The user PIN a new Nitrokey HSM ships with. */
export const FACTORY_USER_PIN = '648219';

export interface SimulatedKeyPair {
  /** The card's key reference (EF CC<ref>, EF CE<ref>): its own numbering, not the CKA_ID. */
  readonly keyReference: number;
  readonly id: Uint8Array;
  readonly label: string;
  readonly curve: Curve;
  /** What C_GetAttributeValue reports: the template's flags over the device's defaults. */
  readonly attributes: KeyPairAttributes;
  /** The uncompressed public point. */
  readonly point: Uint8Array;
  /** Never leaves this module except to sign: the device keeps it. */
  readonly privateKey: KeyObject;
}

export class SimulatedSmartCardHsm {
  readonly serial: string;
  private label: string;
  private initialized: boolean;
  private soCode: string;
  private soTriesLeft = SO_PIN_TRIES;
  private userPin: string | undefined;
  private userTriesLeft = USER_PIN_TRIES;
  private readonly keys: SimulatedKeyPair[] = [];
  private readonly keyCapacity: number;
  private selfTestFailed = false;
  private readonly identity: SimulatedDeviceIdentity | undefined;
  /** EF CE<key reference>: what OpenSC wrote there when the key was generated. */
  private readonly certificateFiles = new Map<number, Uint8Array>();

  /** A chip with a Device Authentication identity of its own, under the SIMULATED scheme root: it attests the keys it generates. */
  static async create(options: Omit<SmartCardHsmOptions, 'identity'> = {}): Promise<SimulatedSmartCardHsm> {
    const serial = options.serial ?? randomSerial();
    const { devaut, deviceKey, chr } = await makeSimulatedDevice(serial);
    return new SimulatedSmartCardHsm({ ...options, serial, identity: { devaut, deviceKey, chr } });
  }

  constructor(options: SmartCardHsmOptions = {}) {
    this.serial = options.serial ?? randomSerial();
    this.identity = options.identity;
    this.soCode = (options.soPin ?? FACTORY_SO_PIN).toUpperCase();
    this.userPin = options.userPin === null ? undefined : (options.userPin ?? FACTORY_USER_PIN);
    this.initialized = options.initialized ?? true;
    this.label = options.label ?? 'SmartCard-HSM';
    this.keyCapacity = options.keyCapacity ?? 32;
  }

  /** CK_TOKEN_INFO as OpenSC builds it for this device. */
  info(): TokenInfo {
    let flags = TokenFlag.RNG | TokenFlag.LOGIN_REQUIRED;
    if (this.initialized) flags |= TokenFlag.TOKEN_INITIALIZED;
    if (this.userPin !== undefined) {
      flags |= TokenFlag.USER_PIN_INITIALIZED;
      if (this.userTriesLeft === 1) flags |= TokenFlag.USER_PIN_FINAL_TRY;
      else if (this.userTriesLeft === 0) flags |= TokenFlag.USER_PIN_LOCKED;
      else if (this.userTriesLeft < USER_PIN_TRIES) flags |= TokenFlag.USER_PIN_COUNT_LOW;
    }
    if (this.selfTestFailed) flags |= TokenFlag.ERROR_STATE;
    return { label: this.label, manufacturer: 'www.CardContact.de', model: 'PKCS#15 emulated', serial: this.serial, flags };
  }

  /** Wrong SO PINs still allowed before the device is locked for good (not visible through PKCS#11). */
  get soPinTriesLeft(): number {
    return this.soTriesLeft;
  }

  /** The device's self-test failed: from now on it reports CKF_ERROR_STATE. */
  failSelfTest(): void {
    this.selfTestFailed = true;
  }

  /** INITIALIZE DEVICE, as OpenSC's C_InitToken sends it. */
  initialize(soPin: string, label: string): void {
    const code = this.decodeSoPin(soPin, 'C_InitToken');
    // A device that was initialized before demands its current initialization code.
    if (this.initialized) this.checkSoCode(code, 'C_InitToken');
    this.initialized = true;
    this.soCode = code;
    this.label = label;
    this.keys.length = 0;
    this.certificateFiles.clear();
    this.userPin = undefined;
    this.userTriesLeft = USER_PIN_TRIES;
  }

  /**
   * What OpenSC does on C_Login as SO: the device has no way to verify the
   * SO PIN on its own, so the driver only checks its form and keeps it for a
   * later C_InitPIN. A wrong SO PIN passes here.
   */
  acceptSoLogin(soPin: string): string {
    this.requireInitialized('C_Login');
    return this.decodeSoPin(soPin, 'C_Login');
  }

  /** CHANGE REFERENCE DATA on the SO PIN (C_SetPIN in an SO session): verifies the old one. */
  changeSoPin(oldPin: string, newPin: string): void {
    const oldCode = this.decodeSoPin(oldPin, 'C_SetPIN');
    const newCode = this.decodeSoPin(newPin, 'C_SetPIN');
    this.checkSoCode(oldCode, 'C_SetPIN');
    this.soCode = newCode;
  }

  /** RESET RETRY COUNTER (C_InitPIN): verifies the SO PIN kept at login, then sets the user PIN. */
  resetUserPin(soCode: string, newUserPin: string): void {
    this.checkUserPinLength(newUserPin, 'C_InitPIN');
    this.checkSoCode(soCode, 'C_InitPIN');
    this.userPin = newUserPin;
    this.userTriesLeft = USER_PIN_TRIES;
  }

  /** VERIFY on the user PIN (C_Login as user). */
  verifyUserPin(pin: string): void {
    this.requireInitialized('C_Login');
    if (this.userPin === undefined) throw ckrError('CKR_USER_PIN_NOT_INITIALIZED', `C_Login on ${this.describe()}`);
    if (this.userTriesLeft === 0) throw ckrError('CKR_PIN_LOCKED', `C_Login on ${this.describe()}`);
    this.checkUserPinLength(pin, 'C_Login');
    if (pin !== this.userPin) {
      this.userTriesLeft--;
      throw ckrError('CKR_PIN_INCORRECT', `C_Login as user on ${this.describe()}`);
    }
    this.userTriesLeft = USER_PIN_TRIES;
  }

  /** CHANGE REFERENCE DATA on the user PIN (C_SetPIN in a user session). */
  changeUserPin(oldPin: string, newPin: string): void {
    this.checkUserPinLength(newPin, 'C_SetPIN');
    this.verifyUserPin(oldPin);
    this.userPin = newPin;
  }

  /**
   * GENERATE ASYMMETRIC KEY PAIR for an EC curve. Where the templates leave
   * a flag out, the device takes the permissive value (every usage allowed,
   * not sensitive, extractable): PKCS#11 leaves these defaults to the token
   * (§4.9), and a template that forgets one must show in what is read back.
   */
  generateKeyPair(
    curve: Curve,
    id: Uint8Array,
    label: string,
    templates: { readonly public: Partial<Record<PublicKeyFlag, boolean>>; readonly private: Partial<Record<PrivateKeyFlag, boolean>> },
  ): SimulatedKeyPair {
    if (this.keys.length >= this.keyCapacity) throw ckrError('CKR_DEVICE_MEMORY', `C_GenerateKeyPair on ${this.describe()}`);
    // OpenSC's PKCS#15 layer gives each key a unique id; it refuses a second key with one already in use.
    if (this.keys.some((k) => Buffer.compare(k.id, id) === 0)) {
      throw ckrError('CKR_ATTRIBUTE_VALUE_INVALID', `C_GenerateKeyPair on ${this.describe()} (id in use)`);
    }
    const priv = { token: false, private: true, sensitive: false, extractable: true, sign: true, decrypt: true, unwrap: true, derive: true, ...templates.private };
    const attributes: KeyPairAttributes = {
      // §4.9: a key generated sensitive and non-extractable has always been so.
      private: { ...priv, alwaysSensitive: priv.sensitive, neverExtractable: !priv.extractable, label },
      public: { token: false, private: false, verify: true, encrypt: true, wrap: true, ...templates.public, label },
    };
    const keyReference = this.freeKeyReference();
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
    const pair: SimulatedKeyPair = { keyReference, id: Uint8Array.from(id), label, curve, attributes, point: ecPublicKey(publicKey).point, privateKey };
    this.keys.push(pair);
    // OpenSC's sc-hsm driver writes the card's answer to GENERATE ASYMMETRIC KEY PAIR, the authenticated request, to EF CE<ref>.
    if (this.identity) this.certificateFiles.set(keyReference, attestKey(this.identity, { publicKey, privateKey }));
    return pair;
  }

  /** The chip has a Device Authentication key and EF 2F02, so its generated keys carry attestations. */
  get attests(): boolean {
    return this.identity !== undefined;
  }

  /** READ BINARY of EF 2F02 (no PIN): the device and Device Issuer CA certificates; undefined on a chip without them. */
  readDeviceCertificates(): Uint8Array | undefined {
    return this.identity ? Uint8Array.from(this.identity.devaut) : undefined;
  }

  /** The key references that have an EF CE, ascending (ENUMERATE OBJECTS lists them; no PIN). */
  certificateFileReferences(): number[] {
    return [...this.certificateFiles.keys()].sort((a, b) => a - b);
  }

  /** READ BINARY of EF CE<ref> (no PIN); undefined when there is no such file. */
  readCertificateFile(keyReference: number): Uint8Array | undefined {
    const file = this.certificateFiles.get(keyReference);
    return file === undefined ? undefined : Uint8Array.from(file);
  }

  /** Stores other bytes in EF CE<ref>, as writing a certificate for the key over its request does (pkcs11-tool --write-object --type cert). */
  writeCertificateFile(keyReference: number, bytes: Uint8Array): void {
    this.certificateFiles.set(keyReference, Uint8Array.from(bytes));
  }

  /** Key pairs with this CKA_ID. */
  keysWithId(id: Uint8Array): SimulatedKeyPair[] {
    return this.keys.filter((k) => Buffer.compare(k.id, id) === 0);
  }

  /** COMPUTE DIGITAL SIGNATURE with plain ECDSA over the caller's hash; raw r ‖ s as OpenSC hands it on. */
  sign(pair: SimulatedKeyPair, digest: Uint8Array): Uint8Array {
    return signPrehash(pair.curve, pair.privateKey, digest, 'raw');
  }

  /** The lowest key reference no key holds, as OpenSC's sc_hsm_determine_free_id picks it. */
  private freeKeyReference(): number {
    const used = new Set(this.keys.map((k) => k.keyReference));
    for (let ref = 1; ref <= KEY_REFERENCES; ref++) if (!used.has(ref)) return ref;
    throw ckrError('CKR_DEVICE_MEMORY', `C_GenerateKeyPair on ${this.describe()} (no free key reference)`);
  }

  private describe(): string {
    return `simulated SmartCard-HSM ${untrustedText(this.serial)}`;
  }

  private requireInitialized(what: string): void {
    if (!this.initialized) throw ckrError('CKR_USER_PIN_NOT_INITIALIZED', `${what} on ${this.describe()} (not initialized)`);
  }

  /** OpenSC accepts only 16 hex digits as an SO PIN: other lengths are CKR_PIN_LEN_RANGE, other characters CKR_PIN_INCORRECT. */
  private decodeSoPin(pin: string, what: string): string {
    if (pin.length !== 16) throw ckrError('CKR_PIN_LEN_RANGE', `${what} on ${this.describe()}`);
    if (!/^[0-9A-Fa-f]{16}$/.test(pin)) throw ckrError('CKR_PIN_INCORRECT', `${what} on ${this.describe()}`);
    return pin.toUpperCase();
  }

  /** The device's own check of the initialization code, with its counter of 15 that nothing resets once spent. */
  private checkSoCode(code: string, what: string): void {
    if (this.soTriesLeft === 0) throw ckrError('CKR_PIN_LOCKED', `${what} on ${this.describe()}: the SO PIN is locked for good`);
    if (code !== this.soCode) {
      this.soTriesLeft--;
      // The failing try itself reports a wrong PIN (SW 63C0); only later ones report the lock.
      throw ckrError('CKR_PIN_INCORRECT', `${what} (SO PIN) on ${this.describe()}`);
    }
    this.soTriesLeft = SO_PIN_TRIES;
  }

  private checkUserPinLength(pin: string, what: string): void {
    if (pin.length < USER_PIN_MIN || pin.length > USER_PIN_MAX) throw ckrError('CKR_PIN_LEN_RANGE', `${what} on ${this.describe()}`);
  }
}

/** A serial of the form OpenSC reads from a Nitrokey HSM 2: DENK and seven digits. */
function randomSerial(): string {
  return `DENK${String(randomInt(0, 10_000_000)).padStart(7, '0')}`;
}

/** The reader of a simulated chip's attestation material, as sc-hsm-tool reads a real one's; undefined for a chip that attests nothing. */
export function simulatedAttestationReader(device: SimulatedSmartCardHsm): AttestationReader | undefined {
  if (!device.attests) return undefined;
  return {
    description: `simulated SmartCard-HSM ${untrustedText(device.serial)}`,
    read: (options: ReadOptions = {}) =>
      settle(() => {
        const devaut = device.readDeviceCertificates();
        if (!devaut) return undefined;
        const requests: KeyRequest[] = [];
        for (const keyReference of device.certificateFileReferences()) {
          const file = device.readCertificateFile(keyReference);
          // A certificate stored over the request leaves nothing to read for that key.
          if (file?.[0] !== AUTHENTICATED_REQUEST) continue;
          requests.push({ keyReference, request: file });
          if (options.enough?.(requests) === true) break;
        }
        return { devaut, requests };
      }),
  };
}
