/**
 * Checking a TR-03110 signature with node:crypto.
 *
 * ECDSA signatures are plain r ‖ s, each half as long as the group order
 * (TR-03111 §5.2.1, "plain format"), which is node's `ieee-p1363` encoding.
 * OpenSSL accepts either S of a valid pair: genuine SmartCard-HSM signatures
 * are often high-S (DENK0404144's CE03 inner signature is), and a verifier
 * that demanded low S would refuse real devices. RSA signatures are PKCS#1
 * v1.5 or PSS with a salt as long as the hash (TR-03110 Part 3 A.2.1.1).
 */
import { constants, verify } from 'node:crypto';
import type { TaAlgorithm } from './algorithms.ts';
import { curveInfo } from './curves.ts';
import type { ResolvedKey } from './key-object.ts';

/** True when `signature` is `algorithm`'s signature of `data` under `signer`. Malformed signatures are simply not valid. */
export function verifyTaSignature(signer: ResolvedKey, algorithm: TaAlgorithm, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (algorithm.key === 'ec') {
      if (signer.curve === undefined || signature.length !== 2 * curveInfo(signer.curve).orderBytes) return false;
      return verify(algorithm.hash, data, { key: signer.key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    const padding =
      algorithm.padding === 'pss'
        ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: algorithm.hashBytes }
        : { padding: constants.RSA_PKCS1_PADDING };
    return verify(algorithm.hash, data, { key: signer.key, ...padding }, signature);
  } catch {
    return false;
  }
}
