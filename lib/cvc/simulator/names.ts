/**
 * Names, dates and files of the SIMULATED SmartCard-HSM attestation chain
 * (lib/cvc/simulator/ca/, made once by make-ca.ts). The references follow
 * TR-03110 Part 3 A.6.1 (country code, holder mnemonic, five-digit sequence
 * number) like CardContact's DESRCACC100001 and DEDINK0400001, but with the
 * country code UT (no country: OpenSC's own placeholder CAR is UTCA00001) and
 * mnemonics that say SIM, so that nothing this chain signs passes for
 * CardContact's.
 */
import { projectPath } from '../../paths.ts';

/** The simulated Scheme Root CA: same length and layout as DESRCACC100001. */
export const SIMULATED_SRCA_CHR = 'UTSRCASIM00001';
/** The simulated Device Issuer CA. */
export const SIMULATED_DICA_CHR = 'UTDICASIM00001';

/** Validity of the simulated root and DICA (a CV date has a two-digit year: 2000–2099). */
export const SIMULATED_CA_VALIDITY = {
  srca: { from: '2024-01-01', to: '2054-12-31' },
  dica: { from: '2024-01-01', to: '2049-12-31' },
} as const;

/** How long a simulated device certificate is valid, like DENK0404144's (2026-05-28 to 2031-05-27): five years less a day. */
export const DEVICE_VALIDITY_YEARS = 5;

/** The committed chain. */
export const SIMULATED_CA_FILES = {
  dir: ['lib', 'cvc', 'simulator', 'ca'],
  srca: `${SIMULATED_SRCA_CHR}.cvc`,
  dica: `${SIMULATED_DICA_CHR}.cvc`,
  srcaKey: 'srca.key.pem',
  dicaKey: 'dica.key.pem',
} as const;

/** The absolute path of one committed file of the simulated chain. */
export function simulatedCaPath(file: string): string {
  return projectPath(...SIMULATED_CA_FILES.dir, file);
}
