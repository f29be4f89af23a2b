// The strict BER-TLV codec of TR-03110 data objects: one encoding per
// element, and every other one refused with a typed error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { children, decodeElement, decodeOnly, decodeSequence, type Source } from '../../lib/cvc/decode/tlv.ts';
import { encodeLength, encodeTag, tlv } from '../../lib/cvc/encode/tlv.ts';
import { failure } from './support.ts';

const SRC: Source = { part: 'request', name: 'test' };
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/ /g, ''), 'hex'));
const decode = (s: string) => decodeOnly(hex(s), SRC);

describe('decoding', () => {
  it('reads one-, two- and three-byte tags and short and long lengths', () => {
    expect(decode('42 02 4142')).toMatchObject({ tag: 0x42, constructed: false, value: hex('4142'), offset: 0 });
    expect(decode('7F21 03 5F2900')).toMatchObject({ tag: 0x7f21, constructed: true });
    expect(decode('5F37 00')).toMatchObject({ tag: 0x5f37, constructed: false, value: new Uint8Array(0) });
    expect(decode('7F8101 00').tag).toBe(0x7f8101);
    const long = new Uint8Array(300).fill(7);
    expect(decodeOnly(Uint8Array.from([0x86, 0x82, 0x01, 0x2c, ...long]), SRC).value).toEqual(long);
    expect(decodeOnly(Uint8Array.from([0x86, 0x81, 0x80, ...long.subarray(0, 128)]), SRC).value.length).toBe(128);
  });

  it('gives the children of a constructed element with their offsets in the file', () => {
    const outer = decode('67 08 42 01 41 5F37 02 0102');
    const inner = children(outer, SRC);
    expect(inner.map((t) => [t.tag, t.offset])).toEqual([
      [0x42, 2],
      [0x5f37, 5],
    ]);
    expect(decodeSequence(hex('42 00 42 00'), SRC, 10).map((t) => t.offset)).toEqual([10, 12]);
  });

  it.each([
    ['an indefinite length', '7F21 80 0000'],
    ['81 for a length under 128', '42 81 05 0102030405'],
    ['82 for a length under 256', '42 82 0005 0102030405'],
    ['83 for a length under 65 536', '42 83 000005 0102030405'],
    ['a four-byte length field', '42 84 00000001 01'],
    ['00 as a tag', '00 00'],
    ['FF as a tag', 'FF 00'],
    ['a multi-byte tag with a leading 80', '7F 80 21 00'],
    ['a multi-byte tag for a number under 31', '5F 1E 00'],
    ['a four-byte tag', '7F 81 81 01 00'],
  ])('refuses %s (CVC_MALFORMED)', (_what, bytes) => {
    expect(failure(() => decode(bytes))).toEqual({ code: 'CVC_MALFORMED', part: 'request' });
  });

  it.each([
    ['an empty file', ''],
    ['a cut tag', '7F'],
    ['a missing length', '42'],
    ['a cut length', '42 82 01'],
    ['a value longer than the bytes', '42 05 0102'],
  ])('refuses %s (CVC_TRUNCATED)', (_what, bytes) => {
    expect(failure(() => decode(bytes))).toEqual({ code: 'CVC_TRUNCATED', part: 'request' });
  });

  it('refuses bytes after the element (CVC_TRAILING_BYTES)', () => {
    expect(failure(() => decode('42 01 41 00'))).toEqual({ code: 'CVC_TRAILING_BYTES', part: 'request' });
  });

  it('refuses children of a primitive element', () => {
    expect(failure(() => children(decode('42 02 4200'), SRC))?.code).toBe('CVC_MALFORMED');
  });

  it('decodeElement reads one element and leaves what follows', () => {
    const bytes = hex('42 01 41 99');
    expect(decodeElement(bytes, 0, SRC).bytes).toEqual(hex('42 01 41'));
  });
});

describe('encoding', () => {
  it('writes lengths in the shortest form', () => {
    expect([0, 127, 128, 255, 256, 65535, 65536].map((n) => Buffer.from(encodeLength(n)).toString('hex'))).toEqual([
      '00',
      '7f',
      '8180',
      '81ff',
      '820100',
      '82ffff',
      '83010000',
    ]);
  });

  it('writes tags as their bytes', () => {
    expect(encodeTag(0x7f21)).toEqual(hex('7F21'));
    expect(encodeTag(0x42)).toEqual(hex('42'));
    expect(() => encodeTag(0)).toThrow(RangeError);
  });

  it('round-trips through the decoder, for any tag and value', () => {
    const tagArb = fc.oneof(
      fc.integer({ min: 0x01, max: 0xfe }).filter((b) => (b & 0x1f) !== 0x1f),
      fc.tuple(fc.constantFrom(0x1f, 0x3f, 0x5f, 0x7f, 0x9f, 0xbf, 0xdf), fc.integer({ min: 0x1f, max: 0x7f })).map(([a, b]) => a * 0x100 + b),
    );
    fc.assert(
      fc.property(tagArb, fc.uint8Array({ maxLength: 70_000 }), (tag, value) => {
        const element = decodeOnly(tlv(tag, value), SRC);
        expect(element.tag).toBe(tag);
        expect(element.value).toEqual(value);
      }),
      { numRuns: 200 },
    );
  });

  it('decodes only what it could have encoded: any bytes either re-encode identically or are refused with a code', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        let element;
        try {
          element = decodeOnly(bytes, SRC);
        } catch (err) {
          expect(['CVC_MALFORMED', 'CVC_TRUNCATED', 'CVC_TRAILING_BYTES']).toContain((err as { code?: string }).code);
          return;
        }
        expect(tlv(element.tag, element.value)).toEqual(bytes);
      }),
      { numRuns: 2000 },
    );
  });
});
