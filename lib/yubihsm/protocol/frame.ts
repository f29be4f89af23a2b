import { YubiHsmError, type YubiHsmErrorCode } from '../errors.ts';
import { Command, commandName, RESPONSE_FLAG } from './commands.ts';
import { deviceError, type DeviceError } from './errors.ts';

/**
 * Message framing of the YubiHSM 2 native protocol (Yubico command
 * reference, "Command and response format"):
 *
 *     command (1) | length of data (2, big-endian) | data (length)
 *
 * A response is framed the same way with `command | 0x80`; an error response
 * is `0x7f | 0x0001 | code`. The device accepts and sends messages of at most
 * 2048 bytes, header included.
 */

/** The response code of an error frame, as a plain number for comparing with bytes received. */
export const ERROR_CODE: number = Command.Error;

/** Bytes in the header: command code and 16-bit length. */
export const FRAME_HEADER_BYTES = 3;
/** The largest message, header included, the device accepts or sends. */
export const MAX_MESSAGE_BYTES = 2048;
/** The largest data field of a message. */
export const MAX_DATA_BYTES = MAX_MESSAGE_BYTES - FRAME_HEADER_BYTES;

export interface Frame {
  /** Command code (request), `command | 0x80` (response) or 0x7f (error). */
  readonly code: number;
  readonly data: Uint8Array;
}

/** Frames a request or response. Refuses data the device could not accept. */
export function encodeFrame(code: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (!Number.isInteger(code) || code < 0 || code > 0xff) {
    throw new YubiHsmError('YUBIHSM_REQUEST_INVALID', `${code} is not a one-byte command code`);
  }
  if (data.length > MAX_DATA_BYTES) {
    throw new YubiHsmError(
      'YUBIHSM_REQUEST_INVALID',
      `${commandName(code & ~RESPONSE_FLAG)}: ${data.length} bytes of data exceed the device's ${MAX_DATA_BYTES}-byte limit`,
    );
  }
  const out = new Uint8Array(FRAME_HEADER_BYTES + data.length);
  out[0] = code;
  out[1] = data.length >>> 8;
  out[2] = data.length & 0xff;
  out.set(data, FRAME_HEADER_BYTES);
  return out;
}

/** The error response the device sends for `error`: `0x7f 00 01 code`. */
export function encodeErrorFrame(error: DeviceError | number): Uint8Array {
  return encodeFrame(Command.Error, Uint8Array.of(error));
}

/**
 * Parses exactly one frame. `bytes` are attacker-controlled (whoever is at the
 * other end): the header must be complete, the length field must match the
 * bytes present exactly, and the message must fit the device's limit.
 *
 * @param code the error code to throw with (host: YUBIHSM_FRAME_MALFORMED).
 */
export function decodeFrame(bytes: Uint8Array, what = 'frame', code: YubiHsmErrorCode = 'YUBIHSM_FRAME_MALFORMED'): Frame {
  if (bytes.length < FRAME_HEADER_BYTES) {
    throw new YubiHsmError(code, `${what}: ${bytes.length} bytes is shorter than a frame header`);
  }
  if (bytes.length > MAX_MESSAGE_BYTES) {
    throw new YubiHsmError(code, `${what}: ${bytes.length} bytes exceed the ${MAX_MESSAGE_BYTES}-byte message limit`);
  }
  const length = (bytes[1]! << 8) | bytes[2]!;
  if (FRAME_HEADER_BYTES + length !== bytes.length) {
    throw new YubiHsmError(code, `${what}: the header announces ${length} bytes of data, but ${bytes.length - FRAME_HEADER_BYTES} are present`);
  }
  return { code: bytes[0]!, data: bytes.subarray(FRAME_HEADER_BYTES) };
}

/**
 * The data of a response to `command`, or the device's error as a typed
 * YubiHsmError. The response is attacker-controlled: an error frame must
 * carry exactly one code byte, and any other response code than
 * `command | 0x80` is refused.
 */
export function decodeResponse(command: Command, bytes: Uint8Array, device = 'the YubiHSM'): Uint8Array {
  const name = commandName(command);
  const frame = decodeFrame(bytes, `${name} response from ${device}`);
  return responseData(command, frame, device);
}

/** As decodeResponse, for a frame already parsed (the inner frame of a session message). */
export function responseData(command: Command, frame: Frame, device = 'the YubiHSM'): Uint8Array {
  const name = commandName(command);
  if (frame.code === ERROR_CODE) {
    if (frame.data.length !== 1) {
      throw new YubiHsmError('YUBIHSM_FRAME_MALFORMED', `${name} error response from ${device}: ${frame.data.length} data bytes instead of 1`);
    }
    throw deviceError(frame.data[0]!, `${name} on ${device}`);
  }
  if (frame.code !== (command | RESPONSE_FLAG)) {
    throw new YubiHsmError(
      'YUBIHSM_RESPONSE_UNEXPECTED',
      `${name} on ${device}: the answer is to ${commandName(frame.code & ~RESPONSE_FLAG)} (0x${frame.code.toString(16)})`,
    );
  }
  return frame.data;
}

/**
 * Collects one frame from a stream of chunks (an HTTP body, USB packets),
 * wherever the chunks are cut. `push` returns the frame once its announced
 * length has arrived; bytes past the frame, or a frame announcing more than
 * the device's limit, are refused at once rather than buffered.
 */
export class FrameAssembler {
  private chunks: Uint8Array[] = [];
  private received = 0;
  private expected: number | undefined;

  constructor(
    private readonly what = 'frame',
    private readonly code: YubiHsmErrorCode = 'YUBIHSM_FRAME_MALFORMED',
  ) {}

  /** Bytes received so far. */
  get length(): number {
    return this.received;
  }

  /** True once a whole frame has arrived. */
  get complete(): boolean {
    return this.expected !== undefined && this.received === this.expected;
  }

  /** Adds a chunk; returns the whole frame when it is complete, else undefined. */
  push(chunk: Uint8Array): Uint8Array | undefined {
    if (chunk.length === 0) return this.complete ? this.take() : undefined;
    this.chunks.push(chunk);
    this.received += chunk.length;
    if (this.expected === undefined && this.received >= FRAME_HEADER_BYTES) {
      const head = this.peekHeader();
      this.expected = FRAME_HEADER_BYTES + ((head[1]! << 8) | head[2]!);
      if (this.expected > MAX_MESSAGE_BYTES) {
        throw new YubiHsmError(this.code, `${this.what}: the header announces ${this.expected} bytes, over the ${MAX_MESSAGE_BYTES}-byte limit`);
      }
    }
    if (this.expected !== undefined && this.received > this.expected) {
      throw new YubiHsmError(this.code, `${this.what}: ${this.received - this.expected} bytes past the end of the frame`);
    }
    return this.complete ? this.take() : undefined;
  }

  /** Call when the stream ended: returns the frame, or fails if it is incomplete. */
  finish(): Uint8Array {
    if (!this.complete) {
      throw new YubiHsmError(
        this.code,
        this.expected === undefined
          ? `${this.what}: the stream ended after ${this.received} bytes, before a whole header`
          : `${this.what}: the stream ended after ${this.received} of ${this.expected} bytes`,
      );
    }
    return this.take();
  }

  private peekHeader(): Uint8Array {
    const head = new Uint8Array(FRAME_HEADER_BYTES);
    let n = 0;
    for (const c of this.chunks) {
      const take = Math.min(c.length, FRAME_HEADER_BYTES - n);
      head.set(c.subarray(0, take), n);
      n += take;
      if (n === FRAME_HEADER_BYTES) break;
    }
    return head;
  }

  private take(): Uint8Array {
    const out = new Uint8Array(this.received);
    let n = 0;
    for (const c of this.chunks) {
      out.set(c, n);
      n += c.length;
    }
    return out;
  }
}
