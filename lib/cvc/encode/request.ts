/**
 * A CV request and its authentication, as a SmartCard-HSM returns them from
 * GENERATE ASYMMETRIC KEY PAIR (TR-03110 Part 3 C.2; inverse of
 * lib/cvc/decode/request.ts):
 *
 *   67 { 7F21 { 7F4E { 5F29, 42, 7F49, 5F20 }, 5F37 }, 42, 5F37 }
 */
import type { CvPublicKey } from '../model.ts';
import { TAG } from '../tags.ts';
import { encodeProfile, encodeReference } from './fields.ts';
import { encodePublicKey } from './public-key.ts';
import { concat, tlv } from './tlv.ts';

export interface RequestFields {
  /** The inner CAR; OpenSC asks with UTCA00001. */
  readonly car?: string;
  readonly publicKey: CvPublicKey;
  readonly chr: string;
}

/** The inner 7F4E: what the new key self-signs. */
export function encodeRequestBody(f: RequestFields): Uint8Array {
  return tlv(
    TAG.body,
    encodeProfile(),
    ...(f.car !== undefined ? [encodeReference(TAG.car, f.car)] : []),
    encodePublicKey(f.publicKey),
    encodeReference(TAG.chr, f.chr),
  );
}

/** The inner 7F21: body and self-signature. */
export function encodeRequest(body: Uint8Array, signature: Uint8Array): Uint8Array {
  return tlv(TAG.certificate, body, tlv(TAG.signature, signature));
}

/** What the device's outer signature covers: the inner 7F21 followed by the outer 42 (the device's CHR). */
export function authenticationInput(request: Uint8Array, outerCar: string): Uint8Array {
  return concat(request, encodeReference(TAG.car, outerCar));
}

/** The 67 element: the signed input and the device's signature over it. */
export function encodeAuthenticatedRequest(request: Uint8Array, outerCar: string, signature: Uint8Array): Uint8Array {
  return tlv(TAG.authentication, authenticationInput(request, outerCar), tlv(TAG.signature, signature));
}
