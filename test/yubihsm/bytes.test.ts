import { describe, expect, it } from 'vitest';
import { Reader, Writer } from '../../lib/yubihsm/protocol/bytes.ts';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('Writer', () => {
  it('writes big-endian integers and grows as needed', () => {
    const w = new Writer(1).u8(0x01).u16(0x0203).u32(0x04050607).u64(0x08090a0b0c0d0e0fn).bytes(Uint8Array.of(0x10));
    expect(toHex(w.finish())).toBe('0102030405060708090a0b0c0d0e0f10');
  });

  it('refuses values that do not fit the field', () => {
    expect(() => new Writer().u8(256)).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
    expect(() => new Writer().u16(-1)).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
    expect(() => new Writer().u16(1.5)).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
    expect(() => new Writer().u32(2 ** 32)).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
    expect(() => new Writer().u64(1n << 64n)).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
  });
});

describe('Reader', () => {
  it('reads what the writer wrote', () => {
    const r = new Reader(Uint8Array.from(Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex')), 'test');
    expect([r.u8('a'), r.u16('b'), r.u32('c'), r.u64('d')]).toEqual([1, 0x0203, 0x04050607, 0x08090a0b0c0d0e0fn]);
    expect(r.remaining).toBe(1);
    expect(() => r.end()).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    expect(toHex(r.rest())).toBe('10');
    r.end();
  });

  it('reads u32 values with the top bit set as unsigned', () => {
    expect(new Reader(Uint8Array.of(0xff, 0xff, 0xff, 0xfe), 't').u32('x')).toBe(0xfffffffe);
  });

  it('never reads past the end, with the code it was given', () => {
    const r = new Reader(Uint8Array.of(1), 'test', 'YUBIHSM_REQUEST_INVALID');
    expect(() => r.u16('x')).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
    expect(() => r.bytesN(2, 'x')).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
    expect(r.u8('x')).toBe(1);
    expect(() => r.u8('x')).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
  });
});
