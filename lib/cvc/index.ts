/**
 * SmartCard-HSM (Nitrokey HSM) key attestation: BSI TR-03110 CV certificates
 * and authenticated requests, decoded strictly and verified to CardContact's
 * pinned Scheme Root CA. See lib/cvc/README.md.
 */
export { attestedKeySpki, verifyKeyAttestation } from './attestation.ts';
export type { AttestedKey, CertificateSummary, KeyAttestation, KeyAttestationInput } from './attestation.ts';
export type { CvcCurve } from './curves.ts';
export { CvcError } from './errors.ts';
export type { CvcErrorCode, CvcPart } from './errors.ts';
export type { CvCertificate, CvPublicKey, CvRequest, CvRequestBody, Devaut } from './model.ts';
export { parseDevaut, parseRequest } from './parse.ts';
export { serialOfChr } from './serial.ts';
export { SRCA_CHR, SRCA_SHA256 } from './trust.ts';
export { attestKey, makeSimulatedDevice, REQUEST_CAR } from './simulator/issuer.ts';
export type { SimulatedDevice } from './simulator/issuer.ts';
export { SIMULATED_DICA_CHR, SIMULATED_SRCA_CHR } from './simulator/names.ts';
