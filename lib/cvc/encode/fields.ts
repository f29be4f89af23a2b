/**
 * The primitive fields of CV certificates and requests, encoded as a
 * SmartCard-HSM encodes them (inverse of lib/cvc/decode/fields.ts).
 */
import { TAG } from '../tags.ts';
import { tlv } from './tlv.ts';

/** A reference (CAR 42 or CHR 5F20), TR-03110 Part 3 A.6.1: 8 to 16 letters and digits. */
export function encodeReference(tag: typeof TAG.car | typeof TAG.chr, reference: string): Uint8Array {
  if (!/^[A-Za-z0-9]{8,16}$/.test(reference)) throw new RangeError(`not a CV reference: ${JSON.stringify(reference)}`);
  return tlv(tag, Buffer.from(reference, 'latin1'));
}

/** The profile identifier 5F29 00. */
export function encodeProfile(): Uint8Array {
  return tlv(TAG.profile, Uint8Array.of(0x00));
}

/** A date (5F25, 5F24): the UTC day of `date` as six unpacked BCD digits YYMMDD, TR-03110 Part 3 D.2.1.3. */
export function encodeDate(tag: typeof TAG.effectiveDate | typeof TAG.expirationDate, date: Date): Uint8Array {
  const year = date.getUTCFullYear();
  if (year < 2000 || year > 2099) throw new RangeError(`a CV date is in 2000–2099, not ${year}`);
  const digits = `${String(year - 2000).padStart(2, '0')}${String(date.getUTCMonth() + 1).padStart(2, '0')}${String(date.getUTCDate()).padStart(2, '0')}`;
  return tlv(tag, Uint8Array.from(digits, (d) => Number(d)));
}
