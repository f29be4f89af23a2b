/**
 * Certificate signature checks. The certificate is the structure
 * @peculiar/asn1-x509 parsed (strict DER, lib/products/verify/der.ts); the
 * signature is checked by node:crypto (OpenSSL) over the to-be-signed bytes
 * exactly as they appear in the file. Each issuer key is imported once: a
 * history of ceremonies checks hundreds of certificates against the same few
 * sub-CAs, and each device certificate signs two attestations.
 *
 * RFC 5280 4.1.1.2: the signature algorithm outside the signed part must be
 * the one inside it, and it must fit the issuer's key (an "ECDSA" signature
 * is never checked with an RSA key, nor the reverse).
 */
import 'reflect-metadata';
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import type { X509Certificate } from '@peculiar/x509';
import { sameDer, type ReadCertificate } from './der.ts';

/** The signature algorithms Yubico's chain and the simulator's use, and their ECDSA siblings. */
const ALGORITHMS: Readonly<Record<string, { hash: string; key: 'rsa' | 'ec' }>> = {
  '1.2.840.113549.1.1.11': { hash: 'sha256', key: 'rsa' }, // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': { hash: 'sha384', key: 'rsa' }, // sha384WithRSAEncryption
  '1.2.840.113549.1.1.13': { hash: 'sha512', key: 'rsa' }, // sha512WithRSAEncryption
  '1.2.840.10045.4.3.2': { hash: 'sha256', key: 'ec' }, // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': { hash: 'sha384', key: 'ec' }, // ecdsa-with-SHA384
  '1.2.840.10045.4.3.4': { hash: 'sha512', key: 'ec' }, // ecdsa-with-SHA512
};

const keys = new WeakMap<X509Certificate | ReadCertificate, KeyObject | null>();

function issuerKey(issuer: X509Certificate | ReadCertificate): KeyObject | null {
  let key = keys.get(issuer);
  if (key === undefined) {
    try {
      // A certificate read from a product gives its key straight from the parsed structure.
      const spki = 'cert' in issuer ? AsnConvert.serialize(issuer.asn.tbsCertificate.subjectPublicKeyInfo) : issuer.publicKey.rawData;
      key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    } catch {
      key = null;
    }
    keys.set(issuer, key);
  }
  return key;
}

/** True when `issuer`'s key verifies `child`'s signature; false for any failure (unknown algorithm, wrong key type, bad signature). */
export function signedBy(child: ReadCertificate, issuer: X509Certificate | ReadCertificate): boolean {
  const { asn } = child;
  const algorithm = ALGORITHMS[asn.signatureAlgorithm.algorithm];
  const key = issuerKey(issuer);
  if (!algorithm || !key || key.asymmetricKeyType !== algorithm.key || !asn.tbsCertificateRaw) return false;
  if (!sameDer(asn.signatureAlgorithm, asn.tbsCertificate.signature)) return false;
  try {
    // X.509 ECDSA signatures are DER ECDSA-Sig-Value, node:crypto's default encoding.
    return verify(algorithm.hash, new Uint8Array(asn.tbsCertificateRaw), key, new Uint8Array(asn.signatureValue));
  } catch {
    return false;
  }
}
