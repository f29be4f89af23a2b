// A bare host for driving the simulator with frames built here, from the
// command reference, not with the production client. SCP03 arithmetic comes
// from lib/yubihsm/session/scp03.ts (the primitives both sides share).
import { randomBytes } from 'node:crypto';
import {
  authenticateSessionMessage,
  deriveSessionKeys,
  openResponse,
  passwordToKeys,
  sealCommand,
  sessionContext,
  cardCryptogram,
  type ChannelState,
  type StaticKeys,
} from '../../../lib/yubihsm/session/scp03.ts';
import { makeDeviceIdentity, SimulatedYubiHsm, type DeviceIdentity, type SimulatorOptions } from '../../../lib/yubihsm/simulator/index.ts';

/** `code | len (2, BE) | data`, written out byte by byte. */
export function frame(code: number, ...parts: (Uint8Array | number[])[]): Uint8Array {
  const data = Buffer.concat(parts.map((p) => Buffer.from(p)));
  return Uint8Array.from([code, data.length >> 8, data.length & 0xff, ...data]);
}

export function u16(v: number): number[] {
  return [v >> 8, v & 0xff];
}

export function u64(v: bigint): number[] {
  const out: number[] = [];
  for (let i = 7; i >= 0; i--) out.push(Number((v >> BigInt(i * 8)) & 0xffn));
  return out;
}

export function label(text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [...bytes, ...new Array<number>(40 - bytes.length).fill(0)];
}

export interface Answer {
  code: number;
  data: Uint8Array;
}

export function parse(response: Uint8Array): Answer {
  const len = (response[1]! << 8) | response[2]!;
  if (response.length !== 3 + len) throw new Error(`response length field ${len} vs ${response.length - 3} bytes`);
  return { code: response[0]!, data: response.subarray(3) };
}

/** The device error byte of an error frame, or undefined for a success. */
export function errorOf(a: Answer): number | undefined {
  return a.code === 0x7f ? a.data[0] : undefined;
}

const identities = new Map<number, Promise<DeviceIdentity>>();
/** One device identity per serial, shared by a test file (an RSA key pair per device is slow). */
export function sharedIdentity(serial = 7550054): Promise<DeviceIdentity> {
  let identity = identities.get(serial);
  if (!identity) identities.set(serial, (identity = makeDeviceIdentity(serial)));
  return identity;
}

export async function device(options: SimulatorOptions = {}): Promise<SimulatedYubiHsm> {
  const serial = options.serial ?? 7550054;
  return SimulatedYubiHsm.create({ identity: await sharedIdentity(serial), ...options, serial });
}

/** Resolves once the device is back on the bus after RESET DEVICE (its reboot runs on its clock; by default the real one). */
export async function afterReboot(dev: SimulatedYubiHsm, limitMs = 5_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (dev.isRebooting) {
    if (Date.now() > end) throw new Error(`the device was still rebooting after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const keyCache = new Map<string, StaticKeys>();
export function keysOf(password: string): StaticKeys {
  let k = keyCache.get(password);
  if (!k) keyCache.set(password, (k = passwordToKeys(password)));
  return k;
}

export class RawSession {
  constructor(
    private readonly dev: SimulatedYubiHsm,
    readonly channel: ChannelState,
  ) {}

  get id(): number {
    return this.channel.sessionId;
  }

  /** Sends one inner command; returns the decrypted inner answer. */
  async send(code: number, ...parts: (Uint8Array | number[])[]): Promise<Answer> {
    const { message, macChain } = sealCommand(this.channel, frame(code, ...parts));
    const raw = await this.dev.transmit(message);
    const outer = parse(raw);
    if (outer.code !== 0x85) return outer;
    const opened = openResponse(this.channel, macChain, raw);
    if (!opened.ok) throw new Error(`response did not verify: ${opened.reason}`);
    this.channel.macChain = macChain;
    this.channel.counter += 1n;
    return parse(opened.inner);
  }

  /** As send, failing unless the device answered `code | 0x80`. */
  async ok(code: number, ...parts: (Uint8Array | number[])[]): Promise<Uint8Array> {
    const a = await this.send(code, ...parts);
    if (a.code !== (code | 0x80)) throw new Error(`command 0x${code.toString(16)} answered 0x${a.code.toString(16)} error ${errorOf(a)}`);
    return a.data;
  }
}

/** CREATE SESSION + AUTHENTICATE SESSION; returns the error byte instead when the device refuses. */
export async function tryOpen(dev: SimulatedYubiHsm, keyId: number, password: string): Promise<RawSession | number> {
  const hostChallenge = new Uint8Array(randomBytes(8));
  const created = parse(await dev.transmit(frame(0x03, u16(keyId), hostChallenge)));
  if (created.code === 0x7f) return created.data[0]!;
  if (created.code !== 0x83 || created.data.length !== 17) throw new Error('bad CREATE SESSION answer');
  const sessionId = created.data[0]!;
  const context = sessionContext(hostChallenge, created.data.subarray(1, 9));
  const keys = deriveSessionKeys(keysOf(password), context);
  const cardOk = Buffer.from(cardCryptogram(keys, context)).equals(Buffer.from(created.data.subarray(9, 17)));
  const { message, macChain } = authenticateSessionMessage(keys, sessionId, context);
  const auth = parse(await dev.transmit(message));
  if (auth.code === 0x7f) return auth.data[0]!;
  if (!cardOk) throw new Error('the card cryptogram did not verify although authentication succeeded');
  if (auth.code !== 0x84) throw new Error('bad AUTHENTICATE SESSION answer');
  return new RawSession(dev, { keys, sessionId, counter: 1n, macChain });
}

export async function open(dev: SimulatedYubiHsm, keyId = 1, password = 'password'): Promise<RawSession> {
  const s = await tryOpen(dev, keyId, password);
  if (typeof s === 'number') throw new Error(`session refused with device error ${s}`);
  return s;
}

/** Command codes and device errors, from the command reference (kept here, not imported, so tests check the numbers). */
export const CMD = {
  echo: 0x01,
  createSession: 0x03,
  authenticateSession: 0x04,
  sessionMessage: 0x05,
  deviceInfo: 0x06,
  reset: 0x08,
  closeSession: 0x40,
  putOpaque: 0x42,
  getOpaque: 0x43,
  putAuthKey: 0x44,
  generateAsym: 0x46,
  listObjects: 0x48,
  getLogEntries: 0x4d,
  getObjectInfo: 0x4e,
  setOption: 0x4f,
  getOption: 0x50,
  getPseudoRandom: 0x51,
  getStorageInfo: 0x41,
  getPublicKey: 0x54,
  signEcdsa: 0x56,
  deleteObject: 0x58,
  signAttestation: 0x64,
  setLogIndex: 0x67,
  blink: 0x6b,
  changeAuthKey: 0x6c,
} as const;

export const ERR = {
  invalidCommand: 0x01,
  invalidData: 0x02,
  invalidSession: 0x03,
  authFail: 0x04,
  sessionsFull: 0x05,
  wrongLength: 0x08,
  insufficientPermissions: 0x09,
  logFull: 0x0a,
  objectNotFound: 0x0b,
  invalidId: 0x0c,
  objectExists: 0x11,
  storageFailed: 0x07,
} as const;

export const TYPE = { opaque: 1, authKey: 2, asym: 3 } as const;
export const ALG = { ecP256: 12, ecP384: 13, opaqueData: 30, opaqueX509: 31, authKey: 38 } as const;

/** GENERATE ASYMMETRIC KEY data. */
export function generateData(id: number, text: string, domains: number, caps: bigint, alg: number): number[] {
  return [...u16(id), ...label(text), ...u16(domains), ...u64(caps), alg];
}

/** PUT AUTHENTICATION KEY data for a password. */
export function putAuthKeyData(id: number, text: string, domains: number, caps: bigint, delegated: bigint, password: string): number[] {
  const k = keysOf(password);
  return [...u16(id), ...label(text), ...u16(domains), ...u64(caps), ALG.authKey, ...u64(delegated), ...k.enc, ...k.mac];
}
