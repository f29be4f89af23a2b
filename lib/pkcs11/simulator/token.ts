import { encodeEcPoint, EC_PARAMS } from '../ec-point.ts';
import { Pkcs11Error, ckrError } from '../errors.ts';
import { paddedLabel } from '../label.ts';
import { selectToken } from '../select.ts';
import { settle } from '../../settle.ts';
import { PRIVATE_KEY_FLAGS, PUBLIC_KEY_FLAGS } from '../templates.ts';
import { idHex, type EcPublicKeyObject, type KeyPairAttributes, type KeyPairSpec, type ObjectClass, type Token, type TokenInfo, type UserType } from '../token.ts';
import { untrustedText } from '../../untrusted-text.ts';
import type { AttestationReader } from '../attestation.ts';
import { simulatedAttestationReader, type SimulatedKeyPair, type SimulatedSmartCardHsm } from './smartcard-hsm.ts';

/**
 * The Token interface over simulated SmartCard-HSMs: the part OpenSC plays
 * between PKCS#11 and the device (one session, who is logged in, the SO PIN
 * it keeps after an SO login). Used by `runbook rehearse` and by tests that
 * need states SoftHSM2 cannot reach (locked PINs, a full device).
 *
 * `devices` are the simulated readers' contents; like the real driver, this
 * refuses none or several initialized ones.
 */
export function openSimulatedToken(devices: readonly SimulatedSmartCardHsm[]): Promise<Token> {
  return settle(() => {
    const chosen = selectToken(
      devices.map((device) => ({ slot: device, info: device.info() })),
      'the simulated SmartCard-HSM reader',
    );
    const token = new SimulatedToken(chosen.slot);
    CHIPS.set(token, chosen.slot);
    return token;
  });
}

/** The chip behind each token this module opened. */
const CHIPS = new WeakMap<Token, SimulatedSmartCardHsm>();

/**
 * The attestation reader of the simulated chip behind `token`: undefined for
 * a token this module did not open (a real one, SoftHSM2) or a chip that
 * attests nothing. It reads the chip, not the session, so it still reads
 * after the token is closed, as sc-hsm-tool reads a card OpenSC let go of.
 */
export function simulatedTokenAttestation(token: Token): AttestationReader | undefined {
  const chip = CHIPS.get(token);
  return chip === undefined ? undefined : simulatedAttestationReader(chip);
}

class SimulatedToken implements Token {
  private session: { user: UserType | undefined; soCode: string | undefined } | undefined;
  private closed = false;

  constructor(private readonly device: SimulatedSmartCardHsm) {}

  get description(): string {
    return `simulated SmartCard-HSM ${untrustedText(this.device.serial)}`;
  }

  info(): Promise<TokenInfo> {
    return this.run(() => this.device.info());
  }

  initToken(soPin: string, label: string): Promise<void> {
    return this.run(() => {
      // The same label rule as the real driver: 32 bytes, blank-padded; the device keeps it trimmed.
      const padded = paddedLabel(label);
      this.session = undefined;
      this.device.initialize(soPin, padded.trimEnd());
    });
  }

  login(user: UserType, pin: string): Promise<void> {
    return this.run(() => {
      const session = (this.session ??= { user: undefined, soCode: undefined });
      if (session.user !== undefined) {
        throw ckrError(session.user === user ? 'CKR_USER_ALREADY_LOGGED_IN' : 'CKR_USER_ANOTHER_ALREADY_LOGGED_IN', `C_Login on ${this.description}`);
      }
      if (user === 'so') {
        session.soCode = this.device.acceptSoLogin(pin);
      } else {
        this.device.verifyUserPin(pin);
      }
      session.user = user;
    });
  }

  logout(): Promise<void> {
    return this.run(() => {
      // OpenSC forgets the SO PIN it kept when the session ends.
      this.session = undefined;
    });
  }

  setPin(oldPin: string, newPin: string): Promise<void> {
    return this.run(() => {
      const user = this.loggedIn('C_SetPIN');
      if (user === 'so') this.device.changeSoPin(oldPin, newPin);
      else this.device.changeUserPin(oldPin, newPin);
    });
  }

  initPin(pin: string): Promise<void> {
    return this.run(() => {
      if (this.loggedIn('C_InitPIN') !== 'so') throw ckrError('CKR_USER_NOT_LOGGED_IN', `C_InitPIN on ${this.description} needs an SO session`);
      this.device.resetUserPin(this.session?.soCode ?? '', pin);
    });
  }

  objectsWithId(id: Uint8Array): Promise<ObjectClass[]> {
    return this.run(() => {
      // Private keys are CKA_PRIVATE objects: invisible until the user logs in (PKCS#11 §4.4).
      const userIn = this.session?.user === 'user';
      return this.device.keysWithId(id).flatMap((): ObjectClass[] => (userIn ? ['public-key', 'private-key'] : ['public-key']));
    });
  }

  generateKeyPair(spec: KeyPairSpec): Promise<void> {
    return this.run(() => {
      this.requireUser('C_GenerateKeyPair');
      this.device.generateKeyPair(spec.curve, spec.id, spec.label, { public: PUBLIC_KEY_FLAGS, private: PRIVATE_KEY_FLAGS });
    });
  }

  publicKey(id: Uint8Array): Promise<EcPublicKeyObject> {
    return this.run(() => {
      const pair = this.pair(id);
      return { ecParams: Uint8Array.from(EC_PARAMS[pair.curve]), ecPoint: encodeEcPoint(pair.point) };
    });
  }

  keyAttributes(id: Uint8Array): Promise<KeyPairAttributes> {
    return this.run(() => {
      this.requireUser('C_GetAttributeValue');
      return this.pair(id).attributes;
    });
  }

  sign(id: Uint8Array, digest: Uint8Array): Promise<Uint8Array> {
    return this.run(() => {
      this.requireUser('C_Sign');
      return this.device.sign(this.pair(id), digest);
    });
  }

  close(): Promise<void> {
    this.session = undefined;
    this.closed = true;
    return Promise.resolve();
  }

  private run<T>(fn: () => T): Promise<T> {
    return settle(() => {
      if (this.closed) throw ckrError('CKR_CRYPTOKI_NOT_INITIALIZED', `${this.description} is closed`);
      return fn();
    });
  }

  private loggedIn(what: string): UserType {
    const user = this.session?.user;
    if (!user) throw ckrError('CKR_USER_NOT_LOGGED_IN', `${what} on ${this.description}`);
    return user;
  }

  private requireUser(what: string): void {
    if (this.loggedIn(what) !== 'user') throw ckrError('CKR_USER_NOT_LOGGED_IN', `${what} on ${this.description} needs a user session`);
  }

  private pair(id: Uint8Array): SimulatedKeyPair {
    const [only, ...more] = this.device.keysWithId(id);
    const hex = idHex(id);
    if (!only) throw new Pkcs11Error('PKCS11_KEY_NOT_FOUND', `no key with id ${hex} on ${this.description}`);
    if (more.length > 0) throw new Pkcs11Error('PKCS11_KEY_EXISTS', `${more.length + 1} keys with id ${hex} on ${this.description}`);
    return only;
  }
}
