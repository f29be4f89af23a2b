import { createHash } from 'node:crypto';
import { CURVE_HASH, keyFromPoint, type Curve } from '../keys.ts';
import { curveOfParams, decodeEcPoint } from './ec-point.ts';
import { verifyPrehash } from '../ecdsa.ts';
import { derFromRawSignature } from './ecdsa.ts';
import { Pkcs11Error } from './errors.ts';
import { checkUserPin } from './pins.ts';
import { idHex, type Token } from './token.ts';

export interface SignOptions {
  /** CKA_ID of the key pair (0x12 root, 0x13 targets). */
  readonly id: Uint8Array;
  /** The curve the key is expected on; the prehash must come from its hash. */
  readonly curve: Curve;
  /** SHA-256 (P-256) or SHA-384 (P-384) of the message: CKM_ECDSA signs a hash, never the message. */
  readonly digest: Uint8Array;
  readonly userPin: string;
}

/**
 * Signs a prehash with the key pair `id` (CKM_ECDSA, PKCS#11 v2.40 Current
 * Mechanisms §2.3.6) and returns the DER ECDSA-Sig-Value TUF expects.
 *
 * The signature is checked against the public half on the same token before
 * it is returned: a device that signs with the wrong key, or returns garbage,
 * is caught here rather than by whoever verifies the metadata later.
 */
export async function signPrehash(token: Token, options: SignOptions): Promise<Uint8Array> {
  checkUserPin(options.userPin);
  const hashBytes = createHash(CURVE_HASH[options.curve]).digest().length;
  if (options.digest.length !== hashBytes) {
    throw new Pkcs11Error(
      'PKCS11_DIGEST_LENGTH',
      `a ${options.curve} key signs a ${CURVE_HASH[options.curve].toUpperCase()} prehash of ${hashBytes} bytes, not ${options.digest.length}`,
    );
  }
  const object = await token.publicKey(options.id);
  const onCurve = curveOfParams(object.ecParams);
  if (onCurve !== options.curve) {
    throw new Pkcs11Error('PKCS11_KEY_ATTRIBUTES', `key ${idHex(options.id)} on ${token.description} is on ${onCurve}, not ${options.curve}`);
  }
  const point = decodeEcPoint(options.curve, object.ecPoint);
  keyFromPoint(options.curve, point); // refuses a point that is not on the curve

  await token.login('user', options.userPin);
  let raw: Uint8Array;
  try {
    raw = await token.sign(options.id, options.digest);
  } finally {
    await token.logout();
  }
  const der = derFromRawSignature(options.curve, raw);
  if (!verifyPrehash(options.curve, point, options.digest, raw, 'raw')) {
    throw new Pkcs11Error('PKCS11_SIGNATURE_INVALID', `the signature from ${token.description} does not verify under its own public key`);
  }
  return der;
}
