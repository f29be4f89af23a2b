/**
 * Names and validity of the simulated attestation chain. They mirror Yubico's
 * (single-CN names; every certificate valid 2017-01-01 to 2071-10-05, the
 * dates on Yubico's root, sub-CAs, device certificates and attestations) but
 * say SIMULATED so that nothing signed by them is mistaken for Yubico's.
 */
/** Common names only: every name in the chain is one CN, a UTF8String as in Yubico's certificates. */
export const ROOT_CA_CN = 'SIMULATED YubiHSM Attestation Root CA (not a Yubico CA)';
export const SUB_CA_CN = 'SIMULATED YubiHSM Sub-CA';

export const CA_NOT_BEFORE = new Date('2017-01-01T00:00:00Z');
export const CA_NOT_AFTER = new Date('2071-10-05T00:00:00Z');

/** The device certificate's subject CN, as real devices carry it: `YubiHSM Attestation (13200460)`. */
export function deviceCertificateCn(serial: number): string {
  return `YubiHSM Attestation (${serial})`;
}

/** A key attestation's subject CN, as real devices write it: `YubiHSM Attestation id:0x0003`. */
export function attestationCn(objectId: number): string {
  return `YubiHSM Attestation id:0x${objectId.toString(16).padStart(4, '0')}`;
}
