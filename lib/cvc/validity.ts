/**
 * Certificate dates at a given moment. A CV certificate is valid from 00:00
 * UTC on its effective date through the end of its expiration date
 * (TR-03110 Part 3 C.1.5 and C.1.6; TR-03110 keeps no time zone, UTC is the
 * choice here). The moment is the caller's: an auditor checks a ceremony's
 * attestations as of the ceremony day, since a Device Issuer CA can expire
 * afterwards (one of Nitrokey's ran 2017–2025).
 */
import { CvcError, type CvcPart } from './errors.ts';
import type { CvCertificate } from './model.ts';

const day = (d: Date) => d.toISOString().slice(0, 10);

export function checkValidity(cert: Pick<CvCertificate, 'validFrom' | 'validTo'>, at: Date, part: CvcPart, who: string): void {
  if (at < cert.validFrom) {
    throw new CvcError('CVC_NOT_YET_VALID', part, `${who} is valid from ${day(cert.validFrom)}, not yet at ${at.toISOString()}`);
  }
  if (at > cert.validTo) {
    throw new CvcError('CVC_EXPIRED', part, `${who} expired after ${day(cert.validTo)}, before ${at.toISOString()}`);
  }
}
