import { randomBytes, type KeyObject } from 'node:crypto';
import { ALL_CAPABILITIES } from '../capabilities.ts';
import { Algorithm } from '../protocol/algorithms.ts';
import { Command, RESPONSE_FLAG } from '../protocol/commands.ts';
import { DeviceError } from '../protocol/errors.ts';
import type { FirmwareVersion } from '../protocol/device-commands.ts';
import { encodeErrorFrame, encodeFrame, FRAME_HEADER_BYTES, MAX_MESSAGE_BYTES } from '../protocol/frame.ts';
import { encodeLabel, ObjectOrigin, ObjectType } from '../protocol/objects.ts';
import { decodeCreateSessionRequest, encodeCreateSessionResponse } from '../protocol/session-commands.ts';
import {
  CHALLENGE_BYTES,
  CRYPTOGRAM_BYTES,
  cardCryptogram,
  MAC_BYTES,
  deriveSessionKeys,
  openCommand,
  passwordToKeys,
  sealResponse,
  sessionContext,
  verifyAuthenticateSession,
  type StaticKeys,
} from '../session/scp03.ts';
import { AuditLog, NO_KEY } from './audit-log.ts';
import type { DeviceIdentity } from './ca.ts';
import { DeviceOptions } from './device-options.ts';
import { asRefusal, refuse, SimulatorError } from './errors.ts';
import { deviceInfo, echo, SESSION_HANDLERS, type DeviceState, type Outcome, type Targets } from './handlers.ts';
import { checkIdentity, identityForSerial, rememberIdentity, sameIdentity } from './identities.ts';
import { ALL_DOMAINS, ObjectStore } from './object-store.ts';
import { SessionTable } from './sessions.ts';
import { StateDir } from './state-dir.ts';
import type { SavedDeviceState } from './state-file.ts';

/**
 * A simulated YubiHSM 2: the device side of the native protocol, with real
 * cryptography (SCP03 sessions, EC key generation, ECDSA, RSA-signed
 * attestation certificates) and the device's rules (sessions, capabilities,
 * delegated capabilities, domains, ids, labels, message size, audit log).
 *
 * `transmit` takes one request frame and returns one response frame, as the
 * device does over USB; every malformed or refused request gets the device's
 * error frame, never an exception. Exceptions are reserved for the simulated
 * link itself (a fault hook dropped it, the device is rebooting after RESET
 * DEVICE, or it was closed).
 */

/** Fault hooks for tests of the host side. They act on the link, not on the device's rules. */
export interface FaultHooks {
  /**
   * Answer this many requests, then drop the simulated USB link: every later
   * `transmit` fails with SIMULATOR_DISCONNECTED until `reconnect()`.
   */
  dropAfter?: number;
  /** Wait this many milliseconds before answering each request. */
  delayMs?: number;
  /**
   * Called with the 1-based number of each request and the request; bytes it
   * returns are sent instead of the device's response (the command has still
   * been executed, as when a response is corrupted on the way back).
   */
  garbage?: (requestNumber: number, request: Uint8Array) => Uint8Array | undefined;
}

export interface SimulatorOptions {
  /** Serial number (printed 0-padded to 10 digits). Default 7550054, the device pictured in the PSF runbook. */
  serial?: number;
  /** Firmware version reported by GET DEVICE INFO and in attestations. Default 2.1.2, the PSF devices' firmware. */
  firmware?: FirmwareVersion;
  /** Milliseconds since the epoch; drives session timeouts and the audit log's systick. Default Date.now. */
  clock?: () => number;
  /** Fault hooks (can also be changed later through `faults`). */
  faults?: FaultHooks;
  /**
   * A device attestation key and certificate to use instead of the serial's
   * (an RSA-2048 key pair per device takes tens of milliseconds). The
   * certificate must be one issued for this serial. Without it, devices with
   * the same serial share one identity per process (identities.ts), or the
   * one stored in `stateDir`.
   */
  identity?: DeviceIdentity;
  /**
   * How long the device is off the bus after RESET DEVICE (milliseconds,
   * more than 0; default 100). A real YubiHSM 2 answers the reset, reboots
   * and comes back a few seconds later (python-yubihsm's tests wait 5 s);
   * the default is short so that rehearsals with six devices stay fast.
   * Measured on `clock`.
   */
  rebootMs?: number;
  /**
   * A directory where the device keeps its identity and its non-volatile
   * state (objects with their keys, options, audit log) across processes,
   * one subdirectory per serial (state-dir.ts). Without it, the state lives
   * as long as the object.
   */
  stateDir?: string;
}

/** The factory authentication key: id 1, label as on a new device, password "password" (Yubico, "Default Authentication Key"). */
export const FACTORY_AUTH_KEY_ID = 1;
export const FACTORY_AUTH_KEY_LABEL = 'DEFAULT AUTHKEY CHANGE THIS ASAP';
export const FACTORY_PASSWORD = 'password';
export const DEFAULT_SERIAL = 7550054;
export const DEFAULT_FIRMWARE: FirmwareVersion = { major: 2, minor: 1, patch: 2 };
export const DEFAULT_REBOOT_MS = 100;

/**
 * The algorithms GET DEVICE INFO lists: those of firmware 2.0 and 2.1,
 * every algorithm from rsa-pkcs1-sha1 (1) to ec-p224 (47). The recorded
 * answers of test/yubihsm/published-vectors.test.ts list these 47, and
 * python-yubihsm's device tests expect at least 47 on any device. The
 * algorithms after 47 in Yubico's list (rsa-pkcs1-decrypt,
 * ec-p256-yubico-authentication, the AES modes) came with later firmware;
 * the simulator reports the 2.1 list whatever `firmware` says.
 *
 * The device lists more than the simulator implements (SIMULATED_ALGORITHMS).
 * A key of another algorithm (RSA, other curves, HMAC, wrap, OTP, SSH
 * templates) is refused when it is asked for, with INVALID DATA, the error a
 * device gives an algorithm the command cannot use.
 */
export const DEVICE_ALGORITHMS: readonly Algorithm[] = Array.from({ length: 47 }, (_, i) => (i + 1) as Algorithm);

/** The algorithms the simulator implements: EC P-256 and P-384 keys and ECDSA, opaque objects, symmetric authentication keys. */
export const SIMULATED_ALGORITHMS: readonly Algorithm[] = [
  Algorithm.EcP256,
  Algorithm.EcP384,
  Algorithm.OpaqueData,
  Algorithm.OpaqueX509Certificate,
  Algorithm.Aes128YubicoAuthentication,
  Algorithm.EcdsaSha256,
  Algorithm.EcdsaSha384,
];

/** The largest serial: it must print in 10 digits and fit the 4-byte field of GET DEVICE INFO. */
const MAX_SERIAL = 0xffff_ffff;

/** Factory keys are derived once per process (PBKDF2 is deliberately slow). */
let factoryKeys: StaticKeys | undefined;
function factoryStaticKeys(): StaticKeys {
  factoryKeys ??= passwordToKeys(FACTORY_PASSWORD);
  return factoryKeys;
}

function checkOptions(serial: number, firmware: FirmwareVersion, rebootMs: number): void {
  if (!Number.isFinite(rebootMs) || rebootMs <= 0) {
    // Never zero: a host that does not wait for the reboot must fail here as it would on a device.
    throw new SimulatorError('SIMULATOR_OPTION_INVALID', `rebootMs ${rebootMs} is not a number of milliseconds above 0`);
  }
  if (!Number.isSafeInteger(serial) || serial < 0 || serial > MAX_SERIAL) {
    throw new SimulatorError('SIMULATOR_OPTION_INVALID', `serial ${serial} is not an integer in 0..${MAX_SERIAL}`);
  }
  for (const part of [firmware.major, firmware.minor, firmware.patch]) {
    if (!Number.isInteger(part) || part < 0 || part > 0xff) {
      throw new SimulatorError('SIMULATOR_OPTION_INVALID', `firmware version ${firmware.major}.${firmware.minor}.${firmware.patch} has a part outside 0..255`);
    }
  }
}

/**
 * The identity a device gets: the one stored in its state directory, else
 * the one supplied, else the serial's in this process; stored in the state
 * directory if it had none.
 */
async function resolveIdentity(serial: number, supplied: DeviceIdentity | undefined, dir: StateDir | undefined): Promise<DeviceIdentity> {
  if (supplied) checkIdentity(supplied, serial, 'SIMULATOR_OPTION_INVALID');
  const stored = dir?.readIdentity();
  if (stored) {
    if (supplied && !sameIdentity(stored, supplied)) {
      throw new SimulatorError('SIMULATOR_OPTION_INVALID', `${dir?.identityPath ?? 'the state directory'} holds another identity for serial ${serial} than the one supplied`);
    }
    rememberIdentity(serial, stored);
    return stored;
  }
  const identity = supplied ?? (await identityForSerial(serial));
  return dir ? dir.writeIdentity(identity) : identity;
}

/** Commands the device runs even when forced audit cannot log them (see SimulatedYubiHsm.refusesForLog). */
const RUN_WHEN_LOG_FULL: ReadonlySet<number> = new Set<number>([
  Command.CreateSession,
  Command.AuthenticateSession,
  Command.GetDeviceInfo,
  Command.GetLogEntries,
  Command.SetLogIndex,
]);

export class SimulatedYubiHsm implements DeviceState {
  readonly serial: number;
  readonly firmware: FirmwareVersion;
  readonly store = new ObjectStore();
  readonly log = new AuditLog();
  readonly options = new DeviceOptions();
  readonly attestationKey: KeyObject;
  readonly deviceCertificate: Uint8Array;
  readonly algorithms = DEVICE_ALGORITHMS;
  /** How long RESET DEVICE keeps the device off the bus. */
  readonly rebootMs: number;
  /** Fault hooks in force; tests may change them at any time. */
  faults: FaultHooks;
  /**
   * Unexpected exceptions inside the simulator (bugs, not device errors).
   * The host got CommandUnexecuted (0xff) for each; tests assert this stays empty.
   */
  readonly internalErrors: unknown[] = [];

  private readonly clock: () => number;
  private readonly sessions: SessionTable;
  private readonly stateDir: StateDir | undefined;
  private bootTime: number;
  private requests = 0;
  private connected = true;
  private closed = false;
  /** Until when (on `clock`) the device is rebooting after RESET DEVICE. */
  private rebootUntil: number | undefined;
  /** Until when (on `clock`) the LED blinks (BLINK DEVICE). */
  private blinkUntil: number | undefined;
  /** The device handles one request at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * Makes a device: in factory state, or as its state directory left it
   * (then it boots: a power-on entry is logged). Its identity is the
   * serial's (see SimulatorOptions.identity).
   */
  static async create(options: SimulatorOptions = {}): Promise<SimulatedYubiHsm> {
    const serial = options.serial ?? DEFAULT_SERIAL;
    checkOptions(serial, options.firmware ?? DEFAULT_FIRMWARE, options.rebootMs ?? DEFAULT_REBOOT_MS);
    const dir = options.stateDir === undefined ? undefined : StateDir.open(options.stateDir, serial);
    const identity = await resolveIdentity(serial, options.identity, dir);
    const saved = dir?.readState();
    return new SimulatedYubiHsm(options, identity, dir, saved);
  }

  private constructor(options: SimulatorOptions, identity: DeviceIdentity, stateDir: StateDir | undefined, saved: SavedDeviceState | undefined) {
    this.serial = options.serial ?? DEFAULT_SERIAL;
    this.firmware = options.firmware ?? DEFAULT_FIRMWARE;
    this.rebootMs = options.rebootMs ?? DEFAULT_REBOOT_MS;
    this.clock = options.clock ?? Date.now;
    this.faults = { ...options.faults };
    this.attestationKey = identity.attestationKey;
    this.deviceCertificate = identity.certificate;
    this.sessions = new SessionTable(this.clock);
    this.stateDir = stateDir;
    this.bootTime = this.clock();
    if (saved) this.restore(saved);
    else this.factoryReset();
    this.persist();
  }

  /** Puts back what the state directory held, and boots (a power-on entry in the log). */
  private restore(saved: SavedDeviceState): void {
    try {
      this.addDeviceObjects();
      this.store.restore(saved.store);
      this.options.restore(saved.options);
      this.log.restore(saved.log);
    } catch (err) {
      const where = this.stateDir?.statePath ?? 'the state directory';
      throw new SimulatorError('SIMULATOR_STATE_INVALID', `${where}: ${(err as Error).message}`, { cause: err });
    }
    this.log.boot(this.options.forced);
  }

  /** The device's own objects, which RESET DEVICE keeps: the device certificate at opaque 0. */
  private addDeviceObjects(): void {
    this.store.clear();
    this.store.add(
      {
        id: 0,
        type: ObjectType.Opaque,
        algorithm: Algorithm.OpaqueX509Certificate,
        label: encodeLabel(''),
        domains: ALL_DOMAINS,
        capabilities: 0n,
        delegated: 0n,
        origin: ObjectOrigin.Imported,
        data: this.deviceCertificate,
      },
      true,
    );
  }

  /**
   * Factory state (Yubico, "Factory Reset"): every object deleted except the
   * device certificate at opaque 0, authentication key 1 restored (all
   * domains, all capabilities and delegated capabilities, password
   * "password"), options back to their defaults, every session ended, the
   * log initialised.
   */
  private factoryReset(): void {
    this.sessions.closeAll();
    this.addDeviceObjects();
    this.options.reset();
    this.store.add({
      id: FACTORY_AUTH_KEY_ID,
      type: ObjectType.AuthenticationKey,
      algorithm: Algorithm.Aes128YubicoAuthentication,
      label: encodeLabel(FACTORY_AUTH_KEY_LABEL),
      domains: ALL_DOMAINS,
      capabilities: ALL_CAPABILITIES,
      delegated: ALL_CAPABILITIES,
      origin: ObjectOrigin.Imported,
      staticKeys: factoryStaticKeys(),
    });
    this.bootTime = this.clock();
    this.log.initialise();
  }

  /** Milliseconds since boot, as the log's 32-bit systick. */
  private systick(): number {
    return Math.max(0, Math.floor(this.clock() - this.bootTime)) >>> 0;
  }

  /** Open sessions (authenticated or not). */
  get openSessions(): number {
    return this.sessions.count;
  }

  /** Requests received so far (the count `faults.dropAfter` is compared with). */
  get requestCount(): number {
    return this.requests;
  }

  /** True while the device is on the bus: the link is up and it is not rebooting. */
  get isConnected(): boolean {
    return this.connected && !this.closed && !this.isRebooting;
  }

  /** True while the device is rebooting after RESET DEVICE (for `rebootMs` on `clock`). */
  get isRebooting(): boolean {
    if (this.rebootUntil === undefined) return false;
    if (this.clock() < this.rebootUntil) return true;
    this.rebootUntil = undefined;
    return false;
  }

  /** True while the LED blinks after BLINK DEVICE. */
  get isBlinking(): boolean {
    return this.blinkUntil !== undefined && this.clock() < this.blinkUntil;
  }

  /** BLINK DEVICE: the LED flashes for `seconds`. */
  blink(seconds: number): void {
    this.blinkUntil = this.clock() + seconds * 1000;
  }

  /**
   * Plugs the device back in after a drop: a power cycle, as on the real
   * device. Sessions are gone; objects and the log stay; a boot is logged.
   * The drop counter restarts.
   */
  reconnect(): void {
    if (this.closed) throw new SimulatorError('SIMULATOR_CLOSED', `the simulated YubiHSM ${this.serial} is closed`);
    this.connected = true;
    this.requests = 0;
    this.faults = { ...this.faults, dropAfter: undefined };
    this.sessions.closeAll();
    this.bootTime = this.clock();
    this.log.boot(this.options.forced);
    this.persist();
  }

  /** Unplugs the device for good; later requests fail with SIMULATOR_CLOSED. */
  close(): void {
    this.closed = true;
    this.sessions.closeAll();
  }

  /**
   * One request frame in, one response frame out (attacker-controlled input:
   * the host sends whatever it likes). Device errors come back as error
   * frames; only the link rejects: dropped (SIMULATOR_DISCONNECTED), the
   * device rebooting (SIMULATOR_REBOOTING) or closed (SIMULATOR_CLOSED), or
   * its state directory unwritable (SIMULATOR_STATE_UNWRITABLE).
   */
  transmit(request: Uint8Array): Promise<Uint8Array> {
    const run = this.queue.then(() => this.transmitNow(Uint8Array.from(request)));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async transmitNow(request: Uint8Array): Promise<Uint8Array> {
    if (this.closed) throw new SimulatorError('SIMULATOR_CLOSED', `the simulated YubiHSM ${this.serial} is closed`);
    if (!this.connected) throw new SimulatorError('SIMULATOR_DISCONNECTED', `the simulated YubiHSM ${this.serial} is disconnected`);
    if (this.isRebooting) {
      throw new SimulatorError('SIMULATOR_REBOOTING', `the simulated YubiHSM ${this.serial} is rebooting after a reset and is not on the bus`);
    }
    const number = ++this.requests;
    if (this.faults.dropAfter !== undefined && number > this.faults.dropAfter) {
      this.connected = false;
      this.sessions.closeAll();
      throw new SimulatorError('SIMULATOR_DISCONNECTED', `the simulated YubiHSM ${this.serial} dropped the connection after ${this.faults.dropAfter} requests`);
    }
    if (this.faults.delayMs) await new Promise((resolve) => setTimeout(resolve, this.faults.delayMs));
    let response: Uint8Array;
    try {
      response = await this.process(request);
    } catch (err) {
      this.internalErrors.push(err);
      response = encodeErrorFrame(DeviceError.CommandUnexecuted);
    }
    // What the command changed is in flash before the answer leaves.
    this.persist();
    return this.faults.garbage?.(number, request) ?? response;
  }

  /** Writes the non-volatile state to the state directory, if the device has one. */
  private persist(): void {
    this.stateDir?.writeState({ store: this.store.snapshot(), options: this.options.snapshot(), log: this.log.snapshot() });
  }

  /**
   * RESET DEVICE, once its answer is on the way: factory state, then the
   * device drops off the bus and reboots for `rebootMs`, as a real one does
   * (the host must reconnect: python-yubihsm's reset test closes the
   * connection and waits before opening a new one). The log's ticks count
   * from the end of the reboot.
   */
  private resetAndReboot(): void {
    this.factoryReset();
    this.rebootUntil = this.clock() + this.rebootMs;
    this.bootTime = this.rebootUntil;
  }

  /**
   * Forced audit: while the Log Store is full, the device refuses commands
   * it would have to log (Yubico, "Logging and Logs"). Establishing a
   * session is always allowed (so the log can be read and freed), and so, in
   * the simulator, are GET LOG ENTRIES and SET LOG INDEX, which free it, and
   * GET DEVICE INFO, which shows it full; python-yubihsm's forced-audit test
   * reads and frees a full log this way.
   */
  private refusesForLog(command: number): boolean {
    return this.options.forced && this.log.full && this.options.audited(command) && !RUN_WHEN_LOG_FULL.has(command);
  }

  /** Parses the outer frame and dispatches; always returns a frame. */
  private async process(request: Uint8Array): Promise<Uint8Array> {
    // The header must be whole, the message within the device's buffer, and
    // the length field must match the bytes that came.
    if (request.length < FRAME_HEADER_BYTES || request.length > MAX_MESSAGE_BYTES) {
      return encodeErrorFrame(DeviceError.WrongLength);
    }
    const code = request[0]!;
    const length = (request[1]! << 8) | request[2]!;
    const data = request.subarray(FRAME_HEADER_BYTES);
    if (length !== data.length) return encodeErrorFrame(DeviceError.WrongLength);

    if ((code as Command) === Command.SessionMessage) return this.sessionMessage(request, data);
    const targets: Targets = { target: NO_KEY, second: NO_KEY };
    let response: Uint8Array = encodeErrorFrame(DeviceError.CommandUnexecuted);
    try {
      if (this.refusesForLog(code)) throw refuse(DeviceError.LogFull, 'the log is full and forced audit is on');
      response = encodeFrame(code | RESPONSE_FLAG, this.plainCommand(code, data, targets));
    } catch (err) {
      const refusal = asRefusal(err);
      if (!refusal) throw err;
      response = encodeErrorFrame(refusal.deviceCode);
    } finally {
      this.logCommand(code, length, NO_KEY, targets, response);
    }
    return response;
  }

  /** The commands the device accepts outside a session (Yubico command reference: no session needed). */
  private plainCommand(code: number, data: Uint8Array, targets: Targets): Uint8Array {
    // A host-sent byte; unknown codes fall to the default.
    switch (code as Command) {
      case Command.Echo:
        return echo(data);
      case Command.GetDeviceInfo:
        return deviceInfo(this, data);
      case Command.CreateSession:
        return this.createSession(data, targets);
      case Command.AuthenticateSession:
        return this.authenticateSession(data, targets);
      default:
        // Unknown commands, and commands that only travel inside a session.
        throw refuse(DeviceError.InvalidCommand, `command 0x${code.toString(16)} is not accepted outside a session`);
    }
  }

  /**
   * Logs a command if command-audit says so. With forced audit on and the
   * store full nothing more can be logged: the commands that still ran
   * (refusesForLog) go unlogged, authentications counted.
   */
  private logCommand(command: number, length: number, sessionKey: number, targets: Targets, response: Uint8Array): void {
    if (!this.options.audited(command)) return;
    if (this.options.forced && this.log.full) {
      if ((command as Command) === Command.AuthenticateSession) this.log.countUnloggedAuthentication();
      return;
    }
    this.log.append(
      { command, length, sessionKey, targetKey: targets.target, secondKey: targets.second, result: response[0] ?? Command.Error },
      this.systick(),
    );
  }

  /**
   * CREATE SESSION (0x03): key id (2) | host challenge (8); answers session
   * id (1) | card challenge (8) | card cryptogram (8). The key must be an
   * authentication key; a slot must be free.
   */
  private createSession(data: Uint8Array, targets: Targets): Uint8Array {
    const { authKeyId: keyId, hostChallenge } = decodeCreateSessionRequest(data);
    targets.target = keyId;
    const key = this.store.get(ObjectType.AuthenticationKey, keyId);
    if (!key?.staticKeys) throw refuse(DeviceError.ObjectNotFound, `no authentication key 0x${keyId.toString(16)}`);
    const cardChallenge = new Uint8Array(randomBytes(CHALLENGE_BYTES));
    const context = sessionContext(hostChallenge, cardChallenge);
    const keys = deriveSessionKeys(key.staticKeys, context);
    const session = this.sessions.open(
      { keyId, domains: key.domains, capabilities: key.capabilities, delegated: key.delegated },
      context,
      keys,
    );
    return encodeCreateSessionResponse({ sessionId: session.id, cardChallenge, cardCryptogram: cardCryptogram(keys, context) });
  }

  /**
   * AUTHENTICATE SESSION (0x04): session id (1) | host cryptogram (8) |
   * C-MAC (8). A wrong cryptogram or MAC (wrong password) ends the session
   * with AUTHENTICATION FAILED.
   */
  private authenticateSession(data: Uint8Array, targets: Targets): Uint8Array {
    if (data.length !== 1 + CRYPTOGRAM_BYTES + MAC_BYTES) throw refuse(DeviceError.WrongLength, `AUTHENTICATE SESSION takes ${1 + CRYPTOGRAM_BYTES + MAC_BYTES} bytes`);
    const session = this.sessions.get(data[0]!);
    if (!session || session.authenticated) throw refuse(DeviceError.InvalidSession, `session ${data[0]} is not awaiting authentication`);
    targets.target = session.authority.keyId;
    const chain = verifyAuthenticateSession(session.channel.keys, session.context, data);
    if (!chain) {
      this.sessions.close(session.id);
      throw refuse(DeviceError.AuthenticationFailed, 'host cryptogram or MAC did not verify');
    }
    session.authenticated = true;
    session.channel.counter = 1n;
    session.channel.macChain = chain;
    session.lastUsed = this.clock();
    return new Uint8Array(0);
  }

  /**
   * SESSION MESSAGE (0x05): session id (1) | encrypted inner command | C-MAC
   * (8); answers 0x85 with session id | encrypted inner response | R-MAC (8).
   * A MAC that does not verify ends the session. Errors of the inner command
   * travel encrypted inside the response, as on the device.
   */
  private async sessionMessage(request: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
    const sessionId = data[0];
    const session = sessionId === undefined ? undefined : this.sessions.get(sessionId);
    const outerFailure = (error: DeviceError): Uint8Array => {
      const response = encodeErrorFrame(error);
      this.logCommand(Command.SessionMessage, data.length, session?.authority.keyId ?? NO_KEY, { target: NO_KEY, second: NO_KEY }, response);
      return response;
    };
    if (!session || !session.authenticated) return outerFailure(DeviceError.InvalidSession);
    const opened = openCommand(session.channel, request);
    if (!opened.ok) {
      if (opened.reason === 'mac') {
        this.sessions.close(session.id);
        return outerFailure(DeviceError.AuthenticationFailed);
      }
      return outerFailure(opened.reason === 'padding' ? DeviceError.InvalidData : DeviceError.WrongLength);
    }
    session.lastUsed = this.clock();

    const inner = opened.inner;
    const targets: Targets = { target: NO_KEY, second: NO_KEY };
    let outcome: Outcome | undefined;
    let innerResponse: Uint8Array;
    // An empty inner frame is logged as the error code.
    const innerCode = inner[0] ?? Command.Error;
    let innerLength = 0;
    try {
      if (inner.length < FRAME_HEADER_BYTES) throw refuse(DeviceError.WrongLength, 'the inner command is shorter than a header');
      innerLength = (inner[1]! << 8) | inner[2]!;
      const innerData = inner.subarray(FRAME_HEADER_BYTES);
      if (innerLength !== innerData.length) throw refuse(DeviceError.WrongLength, 'the inner length field does not match');
      const handler = SESSION_HANDLERS.get(innerCode);
      if (!handler) throw refuse(DeviceError.InvalidCommand, `command 0x${innerCode.toString(16)} is not accepted in a session`);
      if (this.refusesForLog(innerCode)) throw refuse(DeviceError.LogFull, 'the log is full and forced audit is on');
      outcome = await handler(this, session, innerData, targets);
      innerResponse = encodeFrame(innerCode | RESPONSE_FLAG, outcome.data);
    } catch (err) {
      const refusal = asRefusal(err);
      if (!refusal) throw err;
      innerResponse = encodeErrorFrame(refusal.deviceCode);
      outcome = undefined;
    }
    this.logCommand(innerCode, innerLength, session.authority.keyId, targets, innerResponse);

    const response = sealResponse(session.channel, opened.macChain, innerResponse);
    session.channel.macChain = opened.macChain;
    session.channel.counter += 1n;
    if (outcome?.after === 'close-session') this.sessions.close(session.id);
    if (outcome?.after === 'reset') this.resetAndReboot();
    return response;
  }
}
