/**
 * Making a TR-03110 signature with node:crypto, in the form a SmartCard-HSM
 * returns it: plain r ‖ s for ECDSA (not normalized to low S: the device does
 * not normalize either), PKCS#1 v1.5 or PSS for RSA. For the simulator and
 * the tests; verification is lib/cvc/signature.ts.
 */
import { constants, sign, type KeyObject } from 'node:crypto';
import type { TaAlgorithm } from './algorithms.ts';

export function signTa(privateKey: KeyObject, algorithm: TaAlgorithm, data: Uint8Array): Uint8Array {
  if (algorithm.key === 'ec') return new Uint8Array(sign(algorithm.hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
  const padding =
    algorithm.padding === 'pss'
      ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: algorithm.hashBytes }
      : { padding: constants.RSA_PKCS1_PADDING };
  return new Uint8Array(sign(algorithm.hash, data, { key: privateKey, ...padding }));
}
