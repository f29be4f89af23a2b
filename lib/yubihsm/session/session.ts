/**
 * The host end of an authenticated SCP03 session (Yubico command reference,
 * "CREATE SESSION", "AUTHENTICATE SESSION", "SESSION MESSAGE", "CLOSE
 * SESSION"). The byte-level work is in `scp03.ts`; this class keeps the
 * channel state (counter, MAC chain), runs one exchange at a time, and turns
 * every failure into a typed YubiHsmError.
 */
import { randomBytes } from 'node:crypto';
import { YubiHsmError, type YubiHsmErrorCode } from '../errors.ts';
import { Command, commandName } from '../protocol/commands.ts';
import { deviceError, DeviceError } from '../protocol/errors.ts';
import { decodeFrame, decodeResponse, encodeFrame, ERROR_CODE, MAX_MESSAGE_BYTES } from '../protocol/frame.ts';
import { decodeCreateSessionResponse, decodeEmptyResponse, encodeCreateSessionRequest } from '../protocol/session-commands.ts';
import type { Transport } from '../transports/transport.ts';
import {
  authenticateSessionMessage,
  bytesEqual,
  cardCryptogram,
  CHALLENGE_BYTES,
  CRYPTOGRAM_BYTES,
  deriveSessionKeys,
  MAC_BYTES,
  openResponse,
  sealCommand,
  sessionContext,
  type ChannelState,
  type OpenFailure,
  type StaticKeys,
  wipeChannel,
  ZERO_CHAIN,
} from './scp03.ts';

export interface OpenSessionOptions {
  /** Names the device in error messages (serial or connector URL). */
  readonly device?: string;
  /** Source of the host challenge; tests pass a fixed one to compare frames byte for byte. */
  readonly hostChallenge?: () => Uint8Array;
}

export class Session {
  private state: ChannelState | undefined;
  /** Exchanges run strictly one after another: the counter and MAC chain are sequential. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The CLOSE SESSION under way, if any. */
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly transport: Transport,
    readonly authKeyId: number,
    readonly id: number,
    state: ChannelState,
    private readonly device: string,
  ) {
    this.state = state;
  }

  /**
   * CREATE SESSION, check the card cryptogram, AUTHENTICATE SESSION. A wrong
   * password shows here as YUBIHSM_CARD_CRYPTOGRAM_MISMATCH: the device
   * proves it holds the key before the host proves anything.
   *
   * After a mismatch the device still holds the half-open session in one of
   * its 16 slots. Left alone, it would stay there until the device's session
   * timeout, and a few mistyped passwords in a row would fill the device
   * (SESSIONS FULL). So the host answers with an AUTHENTICATE SESSION the
   * device must refuse (random cryptogram and MAC, nothing derived from the
   * keys that failed), which makes the device free the slot at once, as
   * libyubihsm also does by completing the exchange before it reports the
   * mismatch.
   */
  static async open(transport: Transport, authKeyId: number, keys: StaticKeys, options: OpenSessionOptions = {}): Promise<Session> {
    const device = options.device ?? 'the YubiHSM';
    const hostChallenge = options.hostChallenge?.() ?? new Uint8Array(randomBytes(CHALLENGE_BYTES));
    const create = encodeFrame(Command.CreateSession, encodeCreateSessionRequest({ authKeyId, hostChallenge }));
    const created = decodeCreateSessionResponse(decodeResponse(Command.CreateSession, await transport.send(create), device));

    const context = sessionContext(hostChallenge, created.cardChallenge);
    const sessionKeys = deriveSessionKeys(keys, context);
    const state: ChannelState = { keys: sessionKeys, sessionId: created.sessionId, counter: 1n, macChain: ZERO_CHAIN };
    try {
      if (!bytesEqual(cardCryptogram(sessionKeys, context), created.cardCryptogram)) {
        await releaseHalfOpenSession(transport, created.sessionId);
        throw new YubiHsmError(
          'YUBIHSM_CARD_CRYPTOGRAM_MISMATCH',
          `${device}: authentication key ${authKeyId} did not accept the password (the card cryptogram does not verify)`,
        );
      }
      const auth = authenticateSessionMessage(sessionKeys, created.sessionId, context);
      decodeEmptyResponse(decodeResponse(Command.AuthenticateSession, await transport.send(auth.message), device), 'AUTHENTICATE SESSION');
      state.macChain = auth.macChain;
    } catch (err) {
      wipeChannel(state);
      throw err;
    }
    return new Session(transport, authKeyId, created.sessionId, state, device);
  }

  /** True until closed, reset, or broken by a failed exchange. */
  get isOpen(): boolean {
    return this.state !== undefined;
  }

  /**
   * Sends `command` with `data` inside a SESSION MESSAGE and returns the
   * response data. The device's errors, inner or outer, come back as typed
   * YubiHsmErrors; an inner error (e.g. insufficient permissions) leaves the
   * session usable, anything that breaks the channel closes it.
   */
  send(command: Command, data: Uint8Array = new Uint8Array(0)): Promise<Uint8Array> {
    const run = this.queue.then(() => this.exchange(command, data));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async exchange(command: Command, data: Uint8Array): Promise<Uint8Array> {
    const state = this.state;
    const name = commandName(command);
    if (state === undefined) throw new YubiHsmError('YUBIHSM_SESSION_CLOSED', `${name}: session ${this.id} on ${this.device} is closed`);
    // The inner frame must leave room for the session id, padding and MAC in a 2048-byte message.
    const inner = encodeFrame(command, data);
    const sealed = sealCommand(state, inner);
    // The plaintext frame may carry key material (PUT AUTHENTICATION KEY); only the ciphertext is needed from here on.
    inner.fill(0);
    if (sealed.message.length > MAX_MESSAGE_BYTES) {
      throw new YubiHsmError('YUBIHSM_REQUEST_INVALID', `${name}: ${data.length} bytes of data do not fit in a session message`);
    }
    // From here on, any failure other than the device refusing the message
    // outright leaves the two ends' counters and chains out of step, so the
    // session is ended.
    let innerResponse: Uint8Array;
    let keepSession = false;
    try {
      const raw = await this.transport.send(sealed.message);
      // Outer frame; attacker-controlled.
      const outer = decodeFrame(raw, `SESSION MESSAGE response from ${this.device}`);
      if (outer.code === ERROR_CODE) {
        if (outer.data.length !== 1) {
          throw new YubiHsmError('YUBIHSM_FRAME_MALFORMED', `${name} on ${this.device}: an error frame with ${outer.data.length} data bytes instead of 1`);
        }
        // The device refused the message itself (it did not advance the
        // channel). INVALID SESSION and AUTHENTICATION FAILED mean it no
        // longer knows this session; other refusals leave it usable.
        const code = outer.data[0]!;
        keepSession = !SESSION_ENDING_ERRORS.has(code);
        throw deviceError(code, `${name} on ${this.device} (session ${this.id})`);
      }
      const opened = openResponse(state, sealed.macChain, raw);
      if (!opened.ok) {
        throw new YubiHsmError(OPEN_FAILURE_CODES[opened.reason], `${name} on ${this.device}: the session response fails its ${opened.reason} check`);
      }
      innerResponse = opened.inner;
    } catch (err) {
      if (!keepSession) this.end();
      throw err;
    }
    // Channel advanced: the device accepted the command and answered it.
    state.counter += 1n;
    state.macChain = sealed.macChain;
    // An inner error (e.g. insufficient permissions) is thrown typed here and leaves the session open.
    return decodeResponse(command, innerResponse, this.device);
  }

  /**
   * CLOSE SESSION; afterwards the session refuses to send. Closing twice,
   * even at the same time (a `finally` and a shutdown handler), sends one
   * CLOSE SESSION and resolves both callers with its outcome.
   */
  close(): Promise<void> {
    if (this.state === undefined) return Promise.resolve();
    this.closing ??= this.send(Command.CloseSession)
      .then((data) => decodeEmptyResponse(data, 'CLOSE SESSION'))
      .finally(() => this.end());
    return this.closing;
  }

  /** Forgets the channel and wipes its session keys; later sends fail with YUBIHSM_SESSION_CLOSED. */
  private end(): void {
    if (this.state !== undefined) wipeChannel(this.state);
    this.state = undefined;
  }

  /**
   * RESET DEVICE: the device erases every object, restores authentication key
   * 1 and reboots, so this session ends. A real device may drop the
   * connection before answering (it reboots), so a transport failure after
   * the command left is taken as the reset happening; a device error is not.
   */
  async reset(): Promise<void> {
    try {
      decodeEmptyResponse(await this.send(Command.ResetDevice), 'RESET DEVICE');
    } catch (err) {
      // A refusal (e.g. the key lacks reset-device) leaves the device, and this session, as they were.
      if (!(err instanceof YubiHsmError) || !isTransportCode(err.code)) throw err;
    }
    this.end();
  }
}

/**
 * Sends an AUTHENTICATE SESSION for `sessionId` that cannot verify (random
 * host cryptogram and C-MAC), so the device ends the half-open session
 * (AUTHENTICATION FAILED frees its slot). Whatever comes back, or fails to,
 * is ignored: the caller is already reporting the real failure.
 */
async function releaseHalfOpenSession(transport: Transport, sessionId: number): Promise<void> {
  const data = new Uint8Array(1 + CRYPTOGRAM_BYTES + MAC_BYTES);
  data[0] = sessionId;
  data.set(randomBytes(CRYPTOGRAM_BYTES + MAC_BYTES), 1);
  await transport.send(encodeFrame(Command.AuthenticateSession, data)).catch(() => undefined);
}

/** Outer device errors after which the device no longer knows the session. */
const SESSION_ENDING_ERRORS: ReadonlySet<number> = new Set<number>([DeviceError.InvalidSession, DeviceError.AuthenticationFailed]);

const OPEN_FAILURE_CODES: Readonly<Record<OpenFailure, YubiHsmErrorCode>> = {
  command: 'YUBIHSM_RESPONSE_UNEXPECTED',
  length: 'YUBIHSM_FRAME_MALFORMED',
  session: 'YUBIHSM_RESPONSE_MAC_MISMATCH',
  mac: 'YUBIHSM_RESPONSE_MAC_MISMATCH',
  padding: 'YUBIHSM_RESPONSE_DECRYPT_FAILED',
};

function isTransportCode(code: string): boolean {
  return (
    code === 'YUBIHSM_CONNECTOR_UNREACHABLE' ||
    code === 'YUBIHSM_USB_TRANSFER_FAILED' ||
    code === 'YUBIHSM_CONNECTOR_HTTP_STATUS' ||
    code === 'YUBIHSM_LINK_FAILED' ||
    code === 'YUBIHSM_TIMEOUT'
  );
}
