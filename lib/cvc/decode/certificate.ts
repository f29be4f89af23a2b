/**
 * A CV certificate (7F21), TR-03110 Part 3 C.1 and Table C.1, in the order
 * the profile fixes:
 *
 *   7F21 { 7F4E { 5F29 CPI, 42 CAR, 7F49 public key, 5F20 CHR,
 *                 7F4C CHAT { 06 role OID, 53 authorization },
 *                 5F25 effective date, 5F24 expiration date,
 *                 [65 extensions] },
 *          5F37 signature }
 *
 * The signature covers the 7F4E element, tag and length included, exactly as
 * read (never re-encoded). Every byte is attacker-controlled.
 */
import type { CvCertificate, CvChat } from '../model.ts';
import { TAG } from '../tags.ts';
import { decodeDate, decodeProfile, decodeReference, endOfDay, startOfDay } from './fields.ts';
import { decodePublicKey } from './public-key.ts';
import { Elements } from './reader.ts';
import { children, tlvError, type Source, type Tlv } from './tlv.ts';

export function decodeCertificate(tlv: Tlv, source: Source): CvCertificate {
  if (tlv.tag !== TAG.certificate) throw tlvError('CVC_MALFORMED', source, tlv.offset, 'not a CV certificate (7F21)');
  const outer = Elements.of(tlv, source, 'the certificate (7F21)');
  const body = outer.take(TAG.body);
  const signature = outer.take(TAG.signature);
  outer.end();
  if (signature.value.length === 0) throw tlvError('CVC_MALFORMED', source, signature.offset, 'the certificate has an empty signature');

  const b = Elements.of(body, source, 'the certificate body (7F4E)');
  decodeProfile(b.take(TAG.profile), source);
  const car = decodeReference(b.take(TAG.car), source);
  const publicKey = decodePublicKey(b.take(TAG.publicKey), source);
  const chr = decodeReference(b.take(TAG.chr), source);
  const chat = decodeChat(b.take(TAG.chat), source);
  const effective = b.take(TAG.effectiveDate);
  const from = decodeDate(effective, source);
  const to = decodeDate(b.take(TAG.expirationDate), source);
  const extensions = b.optional(TAG.extensions);
  b.end();
  // The extensions are not interpreted (the SmartCard-HSM chain has none that
  // matter), but they must be well-formed data objects all the same.
  if (extensions) children(extensions, source);

  const validFrom = startOfDay(from);
  const validTo = endOfDay(to);
  if (validTo < validFrom) throw tlvError('CVC_MALFORMED', source, effective.offset, 'the certificate expires before it takes effect');
  return {
    bytes: tlv.bytes,
    signedBytes: body.bytes,
    car,
    publicKey,
    chr,
    chat,
    validFrom,
    validTo,
    ...(extensions ? { extensions: extensions.value } : {}),
    signature: signature.value,
  };
}

function decodeChat(tlv: Tlv, source: Source): CvChat {
  const e = Elements.of(tlv, source, 'the CHAT (7F4C)');
  const oid = e.take(TAG.oid, 'role identifier (06)');
  const authorization = e.take(TAG.authorization);
  e.end();
  return { oid: oid.value, authorization: authorization.value };
}
