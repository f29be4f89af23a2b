// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect polyfill loaded first.
import 'reflect-metadata';
import type { KeyObject, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { attestationExtensions, type YubiHsmAttestation } from '../attestation.ts';
import { publicCryptoKey, randomSerialHex, RSA_SHA256, signingKey } from './ca.ts';
import { CA_NOT_AFTER, CA_NOT_BEFORE, attestationCn } from './ca-names.ts';

/**
 * SIGN ATTESTATION CERTIFICATE, the certificate itself (Yubico,
 * "Attestation"; command reference, "SIGN ATTESTATION CERTIFICATE").
 *
 * Shaped as real devices shape it (compare SERIAL_root_attestation.der in
 * the PSF products, firmware 2.1.2):
 *
 *   version 3; serial number 16 random bytes (a positive INTEGER, so 17
 *   bytes when the high bit is set); signature sha256WithRSAEncryption when
 *   the attestation key is RSA (the device key always is); issuer the
 *   attesting certificate's subject, byte for byte; validity 2017-01-01 to
 *   2071-10-05 (UTCTime, GeneralizedTime); subject
 *   `CN=YubiHSM Attestation id:0x0003` as a UTF8String; the attested key's
 *   public key; and only Yubico's extensions .1 .2 .3 .4 .5 .6 .9, in that
 *   order, none critical (no key identifiers, no basic constraints).
 */

export interface AttestationRequest {
  /** The attested key's public half. */
  readonly publicKey: KeyObject;
  /** What the device states about the key (firmware, serial, origin, domains, capabilities, id, label). */
  readonly info: YubiHsmAttestation;
  /** The certificate of the attesting key (the device certificate, for attestation key 0). */
  readonly issuer: x509.X509Certificate;
  /** The attesting private key (RSA-2048 for the device key; an EC key for a user attestation key). */
  readonly signingKey: KeyObject;
}

/** How WebCrypto imports `key`: RSA (the device attestation key) or ECDSA on its curve (a user attestation key, or the attested key). */
function importParams(key: KeyObject): webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams {
  if (key.asymmetricKeyType !== 'ec') return RSA_SHA256;
  return { name: 'ECDSA', namedCurve: key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'P-384' : 'P-256' };
}

/** Issues the attestation certificate (DER). */
export async function issueAttestation(req: AttestationRequest): Promise<Uint8Array> {
  const signing = req.signingKey.asymmetricKeyType === 'ec' ? { name: 'ECDSA', hash: 'SHA-256' } : RSA_SHA256;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(16),
    // The issuer is the attesting certificate's subject as encoded there.
    issuer: new x509.Name(req.issuer.subjectName.toArrayBuffer()),
    subject: new x509.Name([{ CN: [{ utf8String: attestationCn(req.info.objectId) }] }]),
    notBefore: CA_NOT_BEFORE,
    notAfter: CA_NOT_AFTER,
    publicKey: await publicCryptoKey(req.publicKey, importParams(req.publicKey)),
    signingKey: await signingKey(req.signingKey, importParams(req.signingKey)),
    signingAlgorithm: signing,
    extensions: attestationExtensions(req.info),
  });
  return new Uint8Array(cert.rawData);
}
