import { COORDINATE_BYTES, type Curve } from '../keys.ts';
import { rawToDer } from '../ecdsa.ts';
import { Pkcs11Error } from './errors.ts';

/**
 * ECDSA in the shape PKCS#11 speaks: CKM_ECDSA signs a hash the caller
 * computed and returns r ‖ s, each as long as the curve's order (PKCS#11
 * v2.40 Current Mechanisms §2.3.1). TUF and X.509 consumers want DER; the
 * arithmetic (signing, verifying, both encodings) lives in lib/ecdsa.ts.
 */

/**
 * DER for a raw CKM_ECDSA signature. `raw` comes from the token: its length
 * must be exactly 2 × the order's size, and r and s must lie in [1, n−1].
 */
export function derFromRawSignature(curve: Curve, raw: Uint8Array): Uint8Array {
  const n = COORDINATE_BYTES[curve];
  if (raw.length !== 2 * n) {
    throw new Pkcs11Error('PKCS11_SIGNATURE_MALFORMED', `a ${curve} CKM_ECDSA signature has ${2 * n} bytes, not ${raw.length}`);
  }
  try {
    return rawToDer(curve, raw);
  } catch (err) {
    throw new Pkcs11Error('PKCS11_SIGNATURE_MALFORMED', `the token returned a ${curve} signature with r or s out of range`, { cause: err });
  }
}
