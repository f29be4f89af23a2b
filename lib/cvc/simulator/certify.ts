/**
 * Issuing a CV certificate: encode the body, sign it, whole (tag and length
 * included), with the issuer's key and the issuer's algorithm (TR-03110
 * Part 3 C.1: a certificate is signed as the issuer's public key says), and
 * wrap body and signature in 7F21. For the simulated CA and devices.
 */
import type { KeyObject } from 'node:crypto';
import type { TaAlgorithm } from '../algorithms.ts';
import { encodeCertificate, encodeCertificateBody, type CertificateFields } from '../encode/certificate.ts';
import { signTa } from '../sign.ts';

export interface Issuer {
  readonly key: KeyObject;
  /** The algorithm of the issuer's public key (in its certificate). */
  readonly algorithm: TaAlgorithm;
}

export function issueCertificate(fields: CertificateFields, issuer: Issuer): Uint8Array {
  const body = encodeCertificateBody(fields);
  return encodeCertificate(body, signTa(issuer.key, issuer.algorithm, body));
}
