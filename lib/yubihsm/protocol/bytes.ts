import { YubiHsmError, type YubiHsmErrorCode } from '../errors.ts';

/**
 * A bounded, big-endian reader over bytes that came from elsewhere (the
 * device, the connector, or, on the device side, the host). Every read is
 * bounds-checked and fails with a typed error naming what was being read;
 * nothing here can read past the end or loop on bad input.
 */
export class Reader {
  private offset = 0;

  /**
   * @param bytes the bytes to read (not copied).
   * @param what names the message for error text ("GET OBJECT INFO response").
   * @param code the error code for a short or overlong message (host side:
   *   YUBIHSM_RESPONSE_MALFORMED; the device side may choose its own).
   */
  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
    private readonly code: YubiHsmErrorCode = 'YUBIHSM_RESPONSE_MALFORMED',
  ) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  get position(): number {
    return this.offset;
  }

  private need(n: number, field: string): void {
    if (n > this.remaining) {
      throw new YubiHsmError(
        this.code,
        `${this.what}: ${field} needs ${n} bytes at offset ${this.offset}, but only ${this.remaining} remain`,
      );
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.bytes[this.offset++]!;
  }

  u16(field: string): number {
    this.need(2, field);
    const v = (this.bytes[this.offset]! << 8) | this.bytes[this.offset + 1]!;
    this.offset += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const b = this.bytes;
    const o = this.offset;
    this.offset += 4;
    return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  u64(field: string): bigint {
    this.need(8, field);
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.offset, 8).getBigUint64(0);
    this.offset += 8;
    return v;
  }

  /** `n` bytes, as a view (callers that keep them should copy). */
  bytesN(n: number, field: string): Uint8Array {
    this.need(n, field);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** Everything left. */
  rest(): Uint8Array {
    const out = this.bytes.subarray(this.offset);
    this.offset = this.bytes.length;
    return out;
  }

  /** Fails unless every byte was consumed: trailing bytes are a malformed message, not something to ignore. */
  end(): void {
    if (this.remaining !== 0) {
      throw new YubiHsmError(this.code, `${this.what}: ${this.remaining} unexpected trailing bytes at offset ${this.offset}`);
    }
  }
}

/**
 * Device side: a reader over a request's data (attacker-controlled: the host
 * sent it). A request shorter or longer than its command's layout is WRONG
 * LENGTH (device error 0x08), which is what the device answers.
 */
export function requestReader(data: Uint8Array, what: string): Reader {
  return new Reader(data, `${what} request`, 'YUBIHSM_DEVICE_WRONG_LENGTH');
}

/** A growable big-endian writer for building messages. */
export class Writer {
  private buf: Uint8Array;
  private length = 0;

  constructor(initialCapacity = 64) {
    this.buf = new Uint8Array(initialCapacity);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    // The outgrown buffer may hold key material too (see wipe).
    this.buf.fill(0);
    this.buf = next;
  }

  u8(v: number): this {
    checkUint(v, 0xff, 'u8');
    this.ensure(1);
    this.buf[this.length++] = v;
    return this;
  }

  u16(v: number): this {
    checkUint(v, 0xffff, 'u16');
    this.ensure(2);
    this.buf[this.length++] = v >>> 8;
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    checkUint(v, 0xffff_ffff, 'u32');
    this.ensure(4);
    this.buf[this.length++] = v >>> 24;
    this.buf[this.length++] = (v >>> 16) & 0xff;
    this.buf[this.length++] = (v >>> 8) & 0xff;
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  u64(v: bigint): this {
    if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new YubiHsmError('YUBIHSM_REQUEST_INVALID', `${v} does not fit in 64 bits`);
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.length, 8).setBigUint64(0, v);
    this.length += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  /** The bytes written so far (a copy, so the writer can be reused). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  /** Overwrites everything written with zeros (after `finish`, when the message held key material). */
  wipe(): void {
    this.buf.fill(0);
    this.length = 0;
  }
}

function checkUint(v: number, max: number, kind: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new YubiHsmError('YUBIHSM_REQUEST_INVALID', `${v} is not a ${kind} (0..${max})`);
  }
}
