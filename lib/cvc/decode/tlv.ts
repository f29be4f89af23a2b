/**
 * Strict BER-TLV decoding, as TR-03110 Part 3 D.2 and ISO/IEC 7816-4 §5.2
 * define the data objects of CV certificates.
 *
 * Every byte decoded here is attacker-controlled: it comes from a file a
 * third party hands the verifier (EF 2F02 and EF CE.. as read from a device,
 * or as published). The decoder therefore accepts one encoding of each
 * element and refuses everything else, so that two verifiers cannot read the
 * same bytes differently and a signature always covers exactly what was
 * decoded:
 * - tags: one to three bytes (ISO/IEC 7816-4 §5.2.2.1); 00 and FF are not
 *   tags (they pad files); the multi-byte form only for tag numbers ≥ 31,
 *   without a leading 80 byte (X.690 §8.1.2.4.2);
 * - lengths: definite and in the shortest form (X.690 §10.1, DER), at most
 *   three length bytes after 81/82/83;
 * - a value never runs past the bytes that hold it (CVC_TRUNCATED);
 * - the contents of a constructed element are exactly a sequence of elements.
 */
import { CvcError, type CvcPart } from '../errors.ts';
import { tagHex } from '../tags.ts';

/** Which file is decoded, for messages and errors: "EF 2F02", part 'devaut'. */
export interface Source {
  readonly part: CvcPart;
  /** The file as a person would name it. */
  readonly name: string;
}

/** One decoded element. */
export interface Tlv {
  /** The tag, as the integer of its bytes (0x7F21). */
  readonly tag: number;
  /** True when the tag says constructed (bit 6 of its first byte). */
  readonly constructed: boolean;
  /** The whole element, tag and length included, as it appears in the input: what a signature covers. */
  readonly bytes: Uint8Array;
  /** The value. */
  readonly value: Uint8Array;
  /** Where the element starts, from the beginning of the file. */
  readonly offset: number;
}

/** An error at `offset` of `source`. */
export function tlvError(code: 'CVC_MALFORMED' | 'CVC_TRUNCATED' | 'CVC_TRAILING_BYTES', source: Source, offset: number, problem: string): CvcError {
  return new CvcError(code, source.part, `${source.name}, byte ${offset}: ${problem}`);
}

/** Longest length field accepted: 83 and three bytes (16 MiB, far beyond what a card holds). */
const MAX_LENGTH_BYTES = 3;

/**
 * The element starting at `at` in `input`, which is the slice of a file that
 * starts at file offset `base`. The element may end before the input does.
 */
export function decodeElement(input: Uint8Array, at: number, source: Source, base = 0): Tlv {
  let i = at;
  const where = () => base + i;
  const byte = (what: string): number => {
    const b = input[i];
    if (b === undefined) throw tlvError('CVC_TRUNCATED', source, where(), `the bytes end inside ${what}`);
    i++;
    return b;
  };

  // Tag (ISO/IEC 7816-4 §5.2.2.1; X.690 §8.1.2).
  const first = byte('a tag');
  if (first === 0x00 || first === 0xff) {
    throw tlvError('CVC_MALFORMED', source, base + at, `${tagHex(first)} is not a tag (it is file padding)`);
  }
  let tag = first;
  if ((first & 0x1f) === 0x1f) {
    let more = true;
    let count = 0;
    while (more) {
      const b = byte('a tag');
      count++;
      if (count === 1 && b === 0x80) throw tlvError('CVC_MALFORMED', source, base + at, 'a multi-byte tag is padded with a leading 80 byte');
      if (count === 1 && b < 0x1f) throw tlvError('CVC_MALFORMED', source, base + at, `tag number ${b} is written in the multi-byte form reserved for numbers from 31`);
      if (count > 2) throw tlvError('CVC_MALFORMED', source, base + at, 'a tag longer than three bytes');
      tag = tag * 0x100 + b;
      more = (b & 0x80) !== 0;
    }
  }

  // Length (X.690 §8.1.3, shortest form as §10.1 requires).
  const lengthAt = i;
  const l0 = byte('a length');
  let length: number;
  if (l0 < 0x80) {
    length = l0;
  } else if (l0 === 0x80) {
    throw tlvError('CVC_MALFORMED', source, base + lengthAt, `the element ${tagHex(tag)} has an indefinite length`);
  } else {
    const n = l0 & 0x7f;
    if (n > MAX_LENGTH_BYTES) throw tlvError('CVC_MALFORMED', source, base + lengthAt, `the element ${tagHex(tag)} has a ${n}-byte length field`);
    length = 0;
    for (let k = 0; k < n; k++) length = length * 0x100 + byte('a length');
    // The shortest form: 81 only from 128, 82 only from 256, 83 only from 65 536.
    if (length < (n === 1 ? 0x80 : 0x100 ** (n - 1))) {
      throw tlvError('CVC_MALFORMED', source, base + lengthAt, `the element ${tagHex(tag)} has a length (${length}) not written in its shortest form`);
    }
  }

  const end = i + length;
  if (end > input.length) {
    throw tlvError('CVC_TRUNCATED', source, base + at, `the element ${tagHex(tag)} declares ${length} bytes, but only ${input.length - i} remain`);
  }
  return {
    tag,
    constructed: (first & 0x20) !== 0,
    bytes: input.subarray(at, end),
    value: input.subarray(i, end),
    offset: base + at,
  };
}

/** The elements of `input` (a slice starting at file offset `base`), which must be exactly a sequence of elements. */
export function decodeSequence(input: Uint8Array, source: Source, base = 0): Tlv[] {
  const out: Tlv[] = [];
  let at = 0;
  while (at < input.length) {
    const tlv = decodeElement(input, at, source, base);
    out.push(tlv);
    at += tlv.bytes.length;
  }
  return out;
}

/** The elements inside a constructed element. */
export function children(tlv: Tlv, source: Source): Tlv[] {
  if (!tlv.constructed) throw tlvError('CVC_MALFORMED', source, tlv.offset, `the element ${tagHex(tlv.tag)} is primitive where a constructed one is required`);
  return decodeSequence(tlv.value, source, tlv.offset + (tlv.bytes.length - tlv.value.length));
}

/**
 * Exactly one element filling the whole of `input` (a file): bytes after it
 * are CVC_TRAILING_BYTES.
 */
export function decodeOnly(input: Uint8Array, source: Source): Tlv {
  if (input.length === 0) throw tlvError('CVC_TRUNCATED', source, 0, 'the file is empty');
  const tlv = decodeElement(input, 0, source);
  if (tlv.bytes.length !== input.length) {
    throw tlvError('CVC_TRAILING_BYTES', source, tlv.bytes.length, `${input.length - tlv.bytes.length} bytes follow the element ${tagHex(tlv.tag)}`);
  }
  return tlv;
}
