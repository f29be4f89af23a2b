/**
 * Decoding the two files of a SmartCard-HSM key attestation, for display and
 * for the verifier: EF 2F02 (device certificate, then DICA certificate) and
 * an EF CE.. request. Decoding checks the encoding only; nothing here is
 * verified (lib/cvc/attestation.ts does that).
 */
import { decodeDevaut } from './decode/devaut.ts';
import { decodeRequest } from './decode/request.ts';
import type { Source } from './decode/tlv.ts';
import type { CvRequest, Devaut } from './model.ts';

export const DEVAUT_SOURCE: Source = { part: 'devaut', name: 'the device certificates (EF 2F02)' };
export const REQUEST_SOURCE: Source = { part: 'request', name: 'the key attestation (EF CE..)' };

/** EF 2F02's two certificates. Throws CvcError (part 'devaut') for anything but exactly two well-formed CV certificates. */
export function parseDevaut(bytes: Uint8Array): Devaut {
  return decodeDevaut(bytes, DEVAUT_SOURCE);
}

/** An EF CE.. request, authenticated (67) or bare (7F21). Throws CvcError (part 'request') when malformed. */
export function parseRequest(bytes: Uint8Array): CvRequest {
  return decodeRequest(bytes, REQUEST_SOURCE);
}
