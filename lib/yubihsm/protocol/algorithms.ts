import type { Curve } from '../../keys.ts';

/**
 * Algorithm identifiers (one byte on the wire). Yubico, "Algorithms"
 * (https://docs.yubico.com/hardware/yubihsm-2/hsm-2-user-guide/hsm2-algorithms.html);
 * values as libyubihsm's `yh_algorithm`.
 */
export const enum Algorithm {
  /** RSA PKCS#1 v1.5 with SHA-1. */
  RsaPkcs1Sha1 = 1,
  /** RSA PKCS#1 v1.5 with SHA-256. */
  RsaPkcs1Sha256 = 2,
  /** RSA PKCS#1 v1.5 with SHA-384. */
  RsaPkcs1Sha384 = 3,
  /** RSA PKCS#1 v1.5 with SHA-512. */
  RsaPkcs1Sha512 = 4,
  /** RSA-PSS with SHA-1. */
  RsaPssSha1 = 5,
  /** RSA-PSS with SHA-256. */
  RsaPssSha256 = 6,
  /** RSA-PSS with SHA-384. */
  RsaPssSha384 = 7,
  /** RSA-PSS with SHA-512. */
  RsaPssSha512 = 8,
  /** RSA 2048-bit key. */
  Rsa2048 = 9,
  /** RSA 3072-bit key. */
  Rsa3072 = 10,
  /** RSA 4096-bit key. */
  Rsa4096 = 11,
  /** EC key on NIST P-256 (secp256r1). */
  EcP256 = 12,
  /** EC key on NIST P-384 (secp384r1). */
  EcP384 = 13,
  /** EC key on NIST P-521 (secp521r1). */
  EcP521 = 14,
  /** EC key on secp256k1. */
  EcK256 = 15,
  /** EC key on brainpoolP256r1. */
  EcBp256 = 16,
  /** EC key on brainpoolP384r1. */
  EcBp384 = 17,
  /** EC key on brainpoolP512r1. */
  EcBp512 = 18,
  /** HMAC-SHA1 key. */
  HmacSha1 = 19,
  /** HMAC-SHA256 key. */
  HmacSha256 = 20,
  /** HMAC-SHA384 key. */
  HmacSha384 = 21,
  /** HMAC-SHA512 key. */
  HmacSha512 = 22,
  /** ECDSA with SHA-1. */
  EcdsaSha1 = 23,
  /** ECDH. */
  EcEcdh = 24,
  /** RSA-OAEP with SHA-1. */
  RsaOaepSha1 = 25,
  /** RSA-OAEP with SHA-256. */
  RsaOaepSha256 = 26,
  /** RSA-OAEP with SHA-384. */
  RsaOaepSha384 = 27,
  /** RSA-OAEP with SHA-512. */
  RsaOaepSha512 = 28,
  /** AES-128 CCM wrap key. */
  Aes128CcmWrap = 29,
  /** Opaque data. */
  OpaqueData = 30,
  /** Opaque X.509 certificate (as opaque 0, the device attestation certificate). */
  OpaqueX509Certificate = 31,
  /** MGF1 with SHA-1. */
  Mgf1Sha1 = 32,
  /** MGF1 with SHA-256. */
  Mgf1Sha256 = 33,
  /** MGF1 with SHA-384. */
  Mgf1Sha384 = 34,
  /** MGF1 with SHA-512. */
  Mgf1Sha512 = 35,
  /** SSH certificate template. */
  TemplateSsh = 36,
  /** Yubico OTP with AES-128. */
  Aes128YubicoOtp = 37,
  /** Symmetric authentication key (two AES-128 keys, SCP03): the algorithm of every password-derived authentication key. */
  Aes128YubicoAuthentication = 38,
  /** Yubico OTP with AES-192. */
  Aes192YubicoOtp = 39,
  /** Yubico OTP with AES-256. */
  Aes256YubicoOtp = 40,
  /** AES-192 CCM wrap key. */
  Aes192CcmWrap = 41,
  /** AES-256 CCM wrap key. */
  Aes256CcmWrap = 42,
  /** ECDSA with SHA-256. */
  EcdsaSha256 = 43,
  /** ECDSA with SHA-384. */
  EcdsaSha384 = 44,
  /** ECDSA with SHA-512. */
  EcdsaSha512 = 45,
  /** Ed25519 key. */
  EcEd25519 = 46,
  /** EC key on NIST P-224. */
  EcP224 = 47,
  /** RSA PKCS#1 v1.5 decryption. */
  RsaPkcs1Decrypt = 48,
  /** Asymmetric authentication key on P-256. */
  EcP256YubicoAuthentication = 49,
  /** AES-128 key. */
  Aes128 = 50,
  /** AES-192 key. */
  Aes192 = 51,
  /** AES-256 key. */
  Aes256 = 52,
  /** AES-ECB mode. */
  AesEcb = 53,
  /** AES-CBC mode. */
  AesCbc = 54,
  /** AES key wrap with padding. */
  AesKwp = 55,
}

/** The curves the ceremony uses, as the device's EC key algorithms. */
export const CURVE_ALGORITHM: Readonly<Record<Curve, Algorithm>> = {
  'P-256': Algorithm.EcP256,
  'P-384': Algorithm.EcP384,
};

/** The ceremony curve of an EC key algorithm, or undefined for any other algorithm. */
export function curveOfAlgorithm(algorithm: number): Curve | undefined {
  return ALGORITHM_CURVE.get(algorithm);
}

const ALGORITHM_CURVE: ReadonlyMap<number, Curve> = new Map<number, Curve>([
  [Algorithm.EcP256, 'P-256'],
  [Algorithm.EcP384, 'P-384'],
]);
