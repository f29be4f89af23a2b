/**
 * A CV request as the SmartCard-HSM stores it in EF CE<key reference> when
 * it generates a key (TR-03110 Part 3 C.2; SmartCard-HSM: GENERATE
 * ASYMMETRIC KEY PAIR returns it and OpenSC writes it, pkcs15-sc-hsm.c
 * sc_hsm_generate_key):
 *
 *   67 {                                  authentication, by the device
 *     7F21 { 7F4E { 5F29 CPI, [42 CAR], 7F49 public key, 5F20 CHR, [65] },
 *            5F37 inner signature }       self-signature by the new key
 *     42 outer CAR                        the device's CHR
 *     5F37 outer signature }              over 7F21 ‖ 42, by the device key
 *
 * A bare 7F21 request (no 67) decodes too, so that a caller can say what it
 * is; it attests nothing. Every byte is attacker-controlled.
 */
import type { CvRequest, CvRequestBody } from '../model.ts';
import { TAG } from '../tags.ts';
import { decodeProfile, decodeReference } from './fields.ts';
import { decodePublicKey } from './public-key.ts';
import { Elements } from './reader.ts';
import { children, decodeOnly, tlvError, type Source, type Tlv } from './tlv.ts';

/** The request filling the whole of `bytes`. */
export function decodeRequest(bytes: Uint8Array, source: Source): CvRequest {
  const top = decodeOnly(bytes, source);
  if (top.tag === TAG.certificate) return { inner: decodeRequestBody(top, source) };
  if (top.tag !== TAG.authentication) {
    throw tlvError('CVC_MALFORMED', source, 0, 'not a CV request: it starts with neither an authenticated request (67) nor a CV request (7F21)');
  }
  const e = Elements.of(top, source, 'the authenticated request (67)');
  const inner = e.take(TAG.certificate, 'CV request (7F21)');
  const car = e.take(TAG.car, 'outer CAR (42)');
  const signature = e.take(TAG.signature, 'outer signature (5F37)');
  e.end();
  if (signature.value.length === 0) throw tlvError('CVC_MALFORMED', source, signature.offset, 'the request has an empty outer signature');
  return {
    inner: decodeRequestBody(inner, source),
    outer: {
      car: decodeReference(car, source),
      // 7F21 and 42 are adjacent in the file: the outer signature's input is the run of bytes they span.
      signedBytes: bytes.subarray(inner.offset, car.offset + car.bytes.length),
      signature: signature.value,
    },
  };
}

function decodeRequestBody(tlv: Tlv, source: Source): CvRequestBody {
  const outer = Elements.of(tlv, source, 'the CV request (7F21)');
  const body = outer.take(TAG.body);
  const signature = outer.take(TAG.signature, 'inner signature (5F37)');
  outer.end();
  if (signature.value.length === 0) throw tlvError('CVC_MALFORMED', source, signature.offset, 'the request has an empty inner signature');

  const b = Elements.of(body, source, 'the request body (7F4E)');
  decodeProfile(b.take(TAG.profile), source);
  const car = b.optional(TAG.car);
  const publicKey = decodePublicKey(b.take(TAG.publicKey), source);
  const chr = decodeReference(b.take(TAG.chr), source);
  const extensions = b.optional(TAG.extensions);
  b.end();
  if (extensions) children(extensions, source);
  return {
    bytes: tlv.bytes,
    signedBytes: body.bytes,
    ...(car ? { car: decodeReference(car, source) } : {}),
    publicKey,
    chr,
    ...(extensions ? { extensions: extensions.value } : {}),
    signature: signature.value,
  };
}
