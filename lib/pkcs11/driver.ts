import pkcs11js from 'pkcs11js';
import { ckrName, isCkrName } from './ckr.ts';
import { EC_PARAMS } from './ec-point.ts';
import { Pkcs11Error, ckrError } from './errors.ts';
import { paddedLabel } from './label.ts';
import { resolveModulePath } from './module-paths.ts';
import { selectToken, type SlotCandidate } from './select.ts';
import { settle } from '../settle.ts';
import { PRIVATE_KEY_FLAGS, PUBLIC_KEY_FLAGS, attributeName, type PrivateKeyFlag, type PublicKeyFlag } from './templates.ts';
import { untrustedText } from '../untrusted-text.ts';
import {
  idHex,
  type EcPublicKeyObject,
  type KeyPairAttributes,
  type KeyPairSpec,
  type ObjectClass,
  type Token,
  type TokenInfo,
  type UserType,
} from './token.ts';

/**
 * The Token interface over a real PKCS#11 module, through pkcs11js: OpenSC's
 * `opensc-pkcs11.so` for a Nitrokey HSM, SoftHSM2 in tests and benches.
 *
 * Everything the PSF runbook did with nitrohsm-provision and with pkcs11-tool
 * invocations happens here in process, so no PIN is ever on an argv where
 * `ps` shows it.
 */

export interface OpenPkcs11Options {
  /** Path of the PKCS#11 module; default: OpenSC at its usual place for this OS (module-paths.ts). */
  readonly module?: string;
}

/**
 * Loads the module, initializes it (C_Initialize, §5.4) and opens the one
 * initialized token it shows ("Provisioning the Nitrokey HSM", step 3).
 * On any refusal the module is finalized again, so a later attempt in the
 * same process starts clean.
 */
export function openPkcs11Token(options: OpenPkcs11Options = {}): Promise<Token> {
  return settle(() => {
    const path = resolveModulePath(options.module);
    const library = Library.load(path);
    try {
      const chosen = selectToken(library.candidates(), `the PKCS#11 module ${path}`);
      return new Pkcs11Token(library, chosen.slot, chosen.info.serial);
    } catch (err) {
      library.release();
      throw err;
    }
  });
}

type Handle = Buffer;

/**
 * Key generation and signing run on a worker thread (the *Async calls), so
 * the module is told it may be called from more than one thread and should
 * use the OS's locks (§5.4, CK_C_INITIALIZE_ARGS with CKF_OS_LOCKING_OK).
 */
const INIT_ARGS: pkcs11js.InitializationOptions = { flags: pkcs11js.CKF_OS_LOCKING_OK };

/** One loaded and initialized module. pkcs11js allows one C_Initialize per module per process. */
class Library {
  private released = false;

  private constructor(
    readonly path: string,
    readonly p11: pkcs11js.PKCS11,
  ) {}

  static load(path: string): Library {
    const p11 = new pkcs11js.PKCS11();
    try {
      p11.load(path);
    } catch (err) {
      // dlopen failed or the file has no C_GetFunctionList: not a PKCS#11 module.
      throw new Pkcs11Error('PKCS11_MODULE_LOAD_FAILED', `${path} is not a loadable PKCS#11 module`, { cause: err });
    }
    try {
      p11.C_Initialize(INIT_ARGS);
    } catch (err) {
      p11.close();
      throw translate(err, `C_Initialize of ${path}`);
    }
    return new Library(path, p11);
  }

  /** Every slot with a token present, with its token information. */
  candidates(): SlotCandidate<Handle>[] {
    const slots = call(() => this.p11.C_GetSlotList(true), `C_GetSlotList of ${this.path}`);
    return slots.map((slot) => ({ slot, info: tokenInfo(this.p11, slot, this.path) }));
  }

  /**
   * C_Finalize then C_Initialize. OpenSC reads the card's PKCS#15 structure
   * when it is initialized and does not notice that C_InitToken replaced it,
   * so after a re-initialization it must start over to see the new token.
   */
  restart(): void {
    call(() => this.p11.C_Finalize(), `C_Finalize of ${this.path}`);
    call(() => this.p11.C_Initialize(INIT_ARGS), `C_Initialize of ${this.path}`);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      this.p11.C_Finalize();
    } catch {
      // Already finalized (a failed restart): closing the library is all that is left.
    }
    this.p11.close();
  }
}

class Pkcs11Token implements Token {
  private session: Handle | undefined;
  private closed = false;

  constructor(
    private readonly library: Library,
    private slot: Handle,
    private readonly serial: string,
  ) {}

  get description(): string {
    return `token ${untrustedText(this.serial)} in slot ${slotNumber(this.slot)} of ${this.library.path}`;
  }

  private get p11(): pkcs11js.PKCS11 {
    if (this.closed) throw new Pkcs11Error('PKCS11_CKR_CRYPTOKI_NOT_INITIALIZED', `${this.description} is closed`, { ckr: 'CKR_CRYPTOKI_NOT_INITIALIZED' });
    return this.library.p11;
  }

  info(): Promise<TokenInfo> {
    return settle(() => tokenInfo(this.p11, this.slot, this.library.path));
  }

  initToken(soPin: string, label: string): Promise<void> {
    return settle(() => {
      const padded = paddedLabel(label);
      // §5.5: C_InitToken fails with CKR_SESSION_EXISTS while any session is open.
      this.closeSession();
      call(() => this.p11.C_CloseAllSessions(this.slot), `C_CloseAllSessions on ${this.description}`);
      call(() => this.p11.C_InitToken(this.slot, soPin, padded), `C_InitToken on ${this.description}`);
      this.library.restart();
      this.slot = this.refind();
    });
  }

  login(user: UserType, pin: string): Promise<void> {
    return settle(() => {
      const opened = this.session === undefined;
      const session = this.openSession();
      const type = user === 'so' ? pkcs11js.CKU_SO : pkcs11js.CKU_USER;
      try {
        call(() => this.p11.C_Login(session, type, pin), `C_Login as ${user === 'so' ? 'SO' : 'user'} on ${this.description}`);
      } catch (err) {
        // A refused login leaves no session behind that this call opened (§5.6).
        if (opened) this.closeSessionQuietly();
        throw err;
      }
    });
  }

  logout(): Promise<void> {
    return settle(() => this.closeSession());
  }

  setPin(oldPin: string, newPin: string): Promise<void> {
    return settle(() => {
      const session = this.requireSession('C_SetPIN');
      call(() => this.p11.C_SetPIN(session, oldPin, newPin), `C_SetPIN on ${this.description}`);
    });
  }

  initPin(pin: string): Promise<void> {
    return settle(() => {
      const session = this.requireSession('C_InitPIN');
      call(() => this.p11.C_InitPIN(session, pin), `C_InitPIN on ${this.description}`);
    });
  }

  objectsWithId(id: Uint8Array): Promise<ObjectClass[]> {
    return settle(() => {
      const session = this.openSession();
      const handles = this.find(session, [
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_ID, value: Buffer.from(id) },
      ]);
      return handles.map((handle) => {
        const [cls] = this.attributes(session, handle, [pkcs11js.CKA_CLASS]);
        const value = cls ? readUlong(cls) : -1;
        return value === pkcs11js.CKO_PUBLIC_KEY ? 'public-key' : value === pkcs11js.CKO_PRIVATE_KEY ? 'private-key' : 'other';
      });
    });
  }

  async generateKeyPair(spec: KeyPairSpec): Promise<void> {
    const session = this.requireSession('C_GenerateKeyPair');
    const id = Buffer.from(spec.id);
    // Both halves: EC, with the same CKA_ID and CKA_LABEL, and the ceremony's flags (templates.ts).
    const common = (cls: number): pkcs11js.Template => [
      { type: pkcs11js.CKA_CLASS, value: cls },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
      { type: pkcs11js.CKA_ID, value: id },
      { type: pkcs11js.CKA_LABEL, value: spec.label },
    ];
    const publicTemplate: pkcs11js.Template = [
      ...common(pkcs11js.CKO_PUBLIC_KEY),
      { type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from(EC_PARAMS[spec.curve]) },
      ...flagTemplate(PUBLIC_KEY_FLAGS),
    ];
    const privateTemplate: pkcs11js.Template = [...common(pkcs11js.CKO_PRIVATE_KEY), ...flagTemplate(PRIVATE_KEY_FLAGS)];
    const mechanism = { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN };
    try {
      // Asynchronous: on a real card this takes seconds, and the operator's prompt must stay alive.
      await this.p11.C_GenerateKeyPairAsync(session, mechanism, publicTemplate, privateTemplate);
    } catch (err) {
      throw translate(err, `C_GenerateKeyPair (${spec.curve}, id ${idHex(spec.id)}) on ${this.description}`);
    }
  }

  publicKey(id: Uint8Array): Promise<EcPublicKeyObject> {
    return settle(() => {
      const session = this.openSession();
      const handle = this.one(session, pkcs11js.CKO_PUBLIC_KEY, id);
      const [params, point] = this.attributes(session, handle, [pkcs11js.CKA_EC_PARAMS, pkcs11js.CKA_EC_POINT]);
      return { ecParams: new Uint8Array(params ?? []), ecPoint: new Uint8Array(point ?? []) };
    });
  }

  keyAttributes(id: Uint8Array): Promise<KeyPairAttributes> {
    return settle(() => {
      const session = this.requireSession('C_GetAttributeValue');
      const read = <F extends string>(cls: number, flags: readonly F[]) => {
        const handle = this.one(session, cls, id);
        const types = [...flags.map((f) => CKA_OF_FLAG[f as keyof typeof CKA_OF_FLAG]), pkcs11js.CKA_LABEL];
        const values = this.attributes(session, handle, types);
        const bools = Object.fromEntries(flags.map((f, i) => [f, readBool(values[i], `${attributeName(f)} of key ${idHex(id)} on ${this.description}`)])) as Record<F, boolean>;
        // Attacker-controlled (it comes from the token): compared, and escaped wherever it is shown.
        return { ...bools, label: values[flags.length]?.toString('utf8') ?? '' };
      };
      return {
        private: read(pkcs11js.CKO_PRIVATE_KEY, [...keysOf(PRIVATE_KEY_FLAGS), 'alwaysSensitive', 'neverExtractable'] as const),
        public: read(pkcs11js.CKO_PUBLIC_KEY, keysOf(PUBLIC_KEY_FLAGS)),
      };
    });
  }

  async sign(id: Uint8Array, digest: Uint8Array): Promise<Uint8Array> {
    const session = this.requireSession('C_Sign');
    const key = this.one(session, pkcs11js.CKO_PRIVATE_KEY, id);
    call(() => this.p11.C_SignInit(session, { mechanism: pkcs11js.CKM_ECDSA }, key), `C_SignInit (CKM_ECDSA) on ${this.description}`);
    try {
      // 2 × 66 bytes covers every curve up to P-521; the token says how much it used.
      const signature = await this.p11.C_SignAsync(session, Buffer.from(digest), Buffer.alloc(132));
      return new Uint8Array(signature);
    } catch (err) {
      throw translate(err, `C_Sign (CKM_ECDSA) on ${this.description}`);
    }
  }

  close(): Promise<void> {
    return settle(() => {
      if (this.closed) return;
      try {
        this.closeSession();
      } finally {
        this.closed = true;
        this.library.release();
      }
    });
  }

  private openSession(): Handle {
    if (!this.session) {
      const flags = pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION;
      this.session = call(() => this.p11.C_OpenSession(this.slot, flags), `C_OpenSession on ${this.description}`);
    }
    return this.session;
  }

  private requireSession(what: string): Handle {
    if (!this.session) {
      throw new Pkcs11Error('PKCS11_CKR_USER_NOT_LOGGED_IN', `${what} on ${this.description} needs a login first`, { ckr: 'CKR_USER_NOT_LOGGED_IN' });
    }
    return this.session;
  }

  private closeSession(): void {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    try {
      this.p11.C_Logout(session);
    } catch {
      // CKR_USER_NOT_LOGGED_IN: a session opened for reading only.
    }
    call(() => this.p11.C_CloseSession(session), `C_CloseSession on ${this.description}`);
  }

  private closeSessionQuietly(): void {
    try {
      this.closeSession();
    } catch {
      // The login's own error is the one the operator needs.
    }
  }

  private find(session: Handle, template: pkcs11js.Template): Handle[] {
    const what = `C_FindObjects on ${this.description}`;
    call(() => this.p11.C_FindObjectsInit(session, template), what);
    try {
      const found: Handle[] = [];
      for (;;) {
        const batch = call(() => this.p11.C_FindObjects(session, 16), what);
        if (batch.length === 0) return found;
        found.push(...batch);
      }
    } finally {
      call(() => this.p11.C_FindObjectsFinal(session), what);
    }
  }

  /** The one object of this class with this CKA_ID. */
  private one(session: Handle, cls: number, id: Uint8Array): Handle {
    const kind = cls === pkcs11js.CKO_PRIVATE_KEY ? 'private key' : 'public key';
    const handles = this.find(session, [
      { type: pkcs11js.CKA_CLASS, value: cls },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_ID, value: Buffer.from(id) },
    ]);
    const [only, ...more] = handles;
    const hex = idHex(id);
    if (!only) throw new Pkcs11Error('PKCS11_KEY_NOT_FOUND', `no ${kind} with id ${hex} on ${this.description}`);
    if (more.length > 0) throw new Pkcs11Error('PKCS11_KEY_EXISTS', `${handles.length} ${kind}s with id ${hex} on ${this.description}`);
    return only;
  }

  private attributes(session: Handle, handle: Handle, types: number[]): (Buffer | undefined)[] {
    const result = call(
      () => this.p11.C_GetAttributeValue(session, handle, types.map((type) => ({ type }))),
      `C_GetAttributeValue on ${this.description}`,
    );
    return types.map((type) => {
      const value = result.find((a) => a.type === type)?.value;
      return Buffer.isBuffer(value) ? value : undefined;
    });
  }

  /** The same token after the library restarted: found again by serial, since slot ids may change. */
  private refind(): Handle {
    const again = this.library.candidates().find((c) => c.info.serial === this.serial);
    if (!again) {
      throw new Pkcs11Error('PKCS11_TOKEN_LOST', `token ${untrustedText(this.serial)} was re-initialized but is no longer listed by ${this.library.path}; check the device`);
    }
    return again.slot;
  }
}

function tokenInfo(p11: pkcs11js.PKCS11, slot: Handle, path: string): TokenInfo {
  const raw = call(() => p11.C_GetTokenInfo(slot), `C_GetTokenInfo for slot ${slotNumber(slot)} of ${path}`);
  // CK_TOKEN_INFO strings are fixed-width and blank-padded (§3.2).
  return {
    label: raw.label.trimEnd(),
    manufacturer: raw.manufacturerID.trimEnd(),
    model: raw.model.trimEnd(),
    serial: raw.serialNumber.trimEnd(),
    flags: raw.flags,
  };
}

function slotNumber(slot: Handle): string {
  return slot.length === 8 ? slot.readBigUInt64LE().toString() : slot.toString('hex');
}

/** CKA_* types of the boolean attributes in templates.ts and KeyPairAttributes. */
const CKA_OF_FLAG = {
  token: pkcs11js.CKA_TOKEN,
  private: pkcs11js.CKA_PRIVATE,
  sensitive: pkcs11js.CKA_SENSITIVE,
  extractable: pkcs11js.CKA_EXTRACTABLE,
  alwaysSensitive: pkcs11js.CKA_ALWAYS_SENSITIVE,
  neverExtractable: pkcs11js.CKA_NEVER_EXTRACTABLE,
  sign: pkcs11js.CKA_SIGN,
  decrypt: pkcs11js.CKA_DECRYPT,
  unwrap: pkcs11js.CKA_UNWRAP,
  derive: pkcs11js.CKA_DERIVE,
  verify: pkcs11js.CKA_VERIFY,
  encrypt: pkcs11js.CKA_ENCRYPT,
  wrap: pkcs11js.CKA_WRAP,
} as const satisfies Record<PrivateKeyFlag | PublicKeyFlag | 'alwaysSensitive' | 'neverExtractable', number>;

function flagTemplate(flags: Readonly<Partial<Record<keyof typeof CKA_OF_FLAG, boolean>>>): pkcs11js.Template {
  return Object.entries(flags).map(([flag, value]) => ({ type: CKA_OF_FLAG[flag as keyof typeof CKA_OF_FLAG], value }));
}

function keysOf<T extends object>(record: T): (keyof T & string)[] {
  return Object.keys(record) as (keyof T & string)[];
}

/**
 * A CK_BBOOL (one byte, CK_FALSE or CK_TRUE) as the token returned it. Anything
 * else is refused rather than read as false: a check that a flag is false
 * must not pass because the token sent nothing, or two bytes.
 */
function readBool(value: Buffer | undefined, what: string): boolean {
  if (value?.length !== 1 || (value[0] !== 0 && value[0] !== 1)) {
    throw new Pkcs11Error('PKCS11_KEY_ATTRIBUTES', `${what} is not a CK_BBOOL (${value ? `${value.length} bytes` : 'absent'})`);
  }
  return value[0] === 1;
}

function readUlong(value: Buffer): number {
  return value.length === 8 ? Number(value.readBigUInt64LE()) : value.length === 4 ? value.readUInt32LE() : -1;
}

/** Runs one call into the module, turning whatever it throws into a Pkcs11Error. */
function call<T>(fn: () => T, what: string): T {
  try {
    return fn();
  } catch (err) {
    throw translate(err, what);
  }
}

/**
 * pkcs11js reports every CK_RV, from synchronous and *Async calls alike, as
 * its Pkcs11Error, whose message is the CKR name and whose `code` is the
 * number; anything else is a native failure without one.
 */
export function translate(err: unknown, what: string): Pkcs11Error {
  if (err instanceof Pkcs11Error) return err;
  if (err instanceof pkcs11js.Pkcs11Error) {
    return ckrError(isCkrName(err.message) ? err.message : ckrName(err.code), what, err);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new Pkcs11Error('PKCS11_MODULE_FAILED', `${what}: ${message}`, { cause: err });
}
