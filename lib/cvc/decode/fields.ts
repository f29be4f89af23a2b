/**
 * The primitive fields of CV certificates and requests, decoded strictly:
 * references (CAR, CHR), dates, the profile identifier. Their bytes are
 * attacker-controlled; text from them reaches messages only through
 * lib/untrusted-text.ts.
 */
import { untrustedText } from '../../untrusted-text.ts';
import { tagName } from '../tags.ts';
import { tlvError, type Source, type Tlv } from './tlv.ts';

/**
 * A reference (CAR or CHR), TR-03110 Part 3 A.6.1: a two-letter country
 * code, a holder mnemonic of up to nine characters and a five-character
 * sequence number, 8 to 16 characters in all. TR-03110 allows ISO 8859-1;
 * every reference of the SmartCard-HSM scheme is letters and digits, and so
 * nothing else is accepted (a control character or a bidirectional override
 * in a name is an attack on whoever reads it, never a device's).
 */
const REFERENCE = /^[A-Za-z0-9]{8,16}$/;

export function decodeReference(tlv: Tlv, source: Source): string {
  const text = Buffer.from(tlv.value).toString('latin1');
  if (!REFERENCE.test(text)) {
    throw tlvError('CVC_MALFORMED', source, tlv.offset, `the ${tagName(tlv.tag)} ${untrustedText(text)} is not a reference: 8 to 16 letters and digits`);
  }
  return text;
}

/** The Certificate Profile Identifier (5F29): 00, the only profile TR-03110 Part 3 C.1.1 defines. */
export function decodeProfile(tlv: Tlv, source: Source): void {
  if (tlv.value.length !== 1 || tlv.value[0] !== 0x00) {
    throw tlvError('CVC_MALFORMED', source, tlv.offset, `the profile identifier is ${Buffer.from(tlv.value).toString('hex') || 'empty'}, not 00`);
  }
}

/**
 * A date (5F25, 5F24), TR-03110 Part 3 D.2.1.3: six bytes, each one decimal
 * digit (unpacked BCD), YYMMDD, the year in 2000–2099. The day must exist.
 */
export function decodeDate(tlv: Tlv, source: Source): { year: number; month: number; day: number } {
  const v = tlv.value;
  if (v.length !== 6 || v.some((d) => d > 9)) {
    throw tlvError('CVC_MALFORMED', source, tlv.offset, `the ${tagName(tlv.tag)} is not six unpacked BCD digits (${Buffer.from(v).toString('hex')})`);
  }
  const digits = (i: number) => v[i]! * 10 + v[i + 1]!;
  const year = 2000 + digits(0);
  const month = digits(2);
  const day = digits(4);
  const date = new Date(Date.UTC(year, month - 1, day));
  if (month < 1 || month > 12 || date.getUTCDate() !== day) {
    throw tlvError('CVC_MALFORMED', source, tlv.offset, `the ${tagName(tlv.tag)} ${year}-${month}-${day} is not a day of the calendar`);
  }
  return { year, month, day };
}

/** 00:00:00 UTC on that day. */
export function startOfDay(d: { year: number; month: number; day: number }): Date {
  return new Date(Date.UTC(d.year, d.month - 1, d.day));
}

/** 23:59:59.999 UTC on that day: a CV certificate is valid through its expiration date. */
export function endOfDay(d: { year: number; month: number; day: number }): Date {
  return new Date(Date.UTC(d.year, d.month - 1, d.day + 1) - 1);
}
