/**
 * EF 2F02 of a SmartCard-HSM: the device's Device Authentication certificate
 * followed by the certificate of the Device Issuer CA that issued it, two CV
 * certificates back to back, "EF.C_DevAut" in CardContact's tools (OpenSC
 * reads it so in card-sc-hsm.c, sc_hsm_perform_chip_authentication: device
 * certificate, then issuer certificate). The root is not in the file: the
 * verifier holds it (lib/cvc/trust.ts).
 *
 * Exactly two certificates: one alone, or three, is CVC_CHAIN_LENGTH; bytes
 * after the second that do not begin a certificate are CVC_TRAILING_BYTES.
 * Every byte is attacker-controlled.
 */
import { CvcError } from '../errors.ts';
import type { CvCertificate, Devaut } from '../model.ts';
import { TAG } from '../tags.ts';
import { decodeCertificate } from './certificate.ts';
import { decodeElement, tlvError, type Source } from './tlv.ts';

export function decodeDevaut(bytes: Uint8Array, source: Source): Devaut {
  if (bytes.length === 0) throw tlvError('CVC_TRUNCATED', source, 0, 'the file is empty');
  const certificates: CvCertificate[] = [];
  let at = 0;
  while (at < bytes.length) {
    // After the first certificate, only another certificate may follow (or
    // the start of one, cut: that is a truncation, not trailing bytes).
    const startsCertificate = bytes[at] === 0x7f && (bytes[at + 1] === undefined || bytes[at + 1] === 0x21);
    if (at > 0 && !startsCertificate) {
      throw tlvError('CVC_TRAILING_BYTES', source, at, `${bytes.length - at} bytes follow the last certificate`);
    }
    const tlv = decodeElement(bytes, at, source);
    if (tlv.tag !== TAG.certificate) throw tlvError('CVC_MALFORMED', source, at, 'the file does not start with a CV certificate (7F21)');
    certificates.push(decodeCertificate(tlv, source));
    at += tlv.bytes.length;
  }
  const [device, dica] = certificates;
  if (certificates.length !== 2 || !device || !dica) {
    throw new CvcError(
      'CVC_CHAIN_LENGTH',
      source.part,
      `${source.name} holds ${certificates.length} certificate${certificates.length === 1 ? '' : 's'}, not 2 (the device's, then its Device Issuer CA's)`,
    );
  }
  return { device, dica };
}
