/**
 * BER-TLV encoding in the one form lib/cvc/decode/tlv.ts accepts: tags as
 * the integer of their bytes (0x7F21), definite lengths in the shortest form
 * (X.690 §10.1). For the simulator, which writes what a SmartCard-HSM
 * writes, and for DER SubjectPublicKeyInfo, whose single-byte tags and
 * lengths follow the same rules.
 */

/** The bytes of a tag given as the integer of its bytes. */
export function encodeTag(tag: number): Uint8Array {
  if (!Number.isInteger(tag) || tag <= 0 || tag > 0xffffff) throw new RangeError(`not a tag: ${tag}`);
  const out: number[] = [];
  for (let t = tag; t > 0; t = Math.floor(t / 0x100)) out.unshift(t % 0x100);
  return Uint8Array.from(out);
}

/** A length in the shortest definite form. */
export function encodeLength(length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 0xffffff) throw new RangeError(`not a length: ${length}`);
  if (length < 0x80) return Uint8Array.of(length);
  if (length < 0x100) return Uint8Array.of(0x81, length);
  if (length < 0x10000) return Uint8Array.of(0x82, length >> 8, length & 0xff);
  return Uint8Array.of(0x83, length >> 16, (length >> 8) & 0xff, length & 0xff);
}

/** One element whose value is the concatenation of `values`. */
export function tlv(tag: number, ...values: readonly Uint8Array[]): Uint8Array {
  const value = concat(...values);
  return concat(encodeTag(tag), encodeLength(value.length), value);
}

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
