/**
 * Terminal Authentication algorithm identifiers, BSI TR-03110 Part 3 A.2.1.1
 * (id-TA = 0.4.0.127.0.7.2.2.2). In a CV certificate the public key carries
 * one of them, and it says how that key signs: a certificate's signature is
 * made with the algorithm of the issuer's key, a request's inner signature
 * with that of the key it carries, an authenticated request's outer one with
 * that of the authenticating (device) key.
 *
 * The SmartCard-HSM writes id-TA-ECDSA-SHA-256 for every EC key, whatever
 * its curve, and id-TA-RSA-v1-5-SHA-256 for RSA keys (OpenSC
 * src/pkcs15init/pkcs15-sc-hsm.c, sc_hsm_encode_gakp_ec/_rsa). The SHA-1
 * variants are refused: a signature over SHA-1 proves nothing today.
 */
export type HashName = 'sha224' | 'sha256' | 'sha384' | 'sha512';

export interface TaAlgorithm {
  /** TR-03110's name, e.g. "id-TA-ECDSA-SHA-256". */
  readonly name: string;
  /** Dotted form. */
  readonly oid: string;
  /** The OID's DER contents (what follows 06 and its length). */
  readonly der: Uint8Array;
  readonly key: 'ec' | 'rsa';
  readonly hash: HashName;
  /** The hash's output length: the PSS salt length. */
  readonly hashBytes: number;
  /** RSA only: PKCS#1 v1.5 or PSS (salt as long as the hash, MGF1 with the same hash: TR-03110 Part 3 A.2.1.1). */
  readonly padding?: 'pkcs1' | 'pss';
}

const HASH_BYTES: Readonly<Record<HashName, number>> = { sha224: 28, sha256: 32, sha384: 48, sha512: 64 };

const TA_ARC = [0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x02] as const;

function ta(name: string, family: 1 | 2, n: number, key: 'ec' | 'rsa', hash: HashName, padding?: 'pkcs1' | 'pss'): TaAlgorithm {
  return {
    name,
    oid: `0.4.0.127.0.7.2.2.2.${family}.${n}`,
    der: Uint8Array.from([...TA_ARC, family, n]),
    key,
    hash,
    hashBytes: HASH_BYTES[hash],
    ...(padding ? { padding } : {}),
  };
}

export const TA = {
  rsaV15Sha256: ta('id-TA-RSA-v1-5-SHA-256', 1, 2, 'rsa', 'sha256', 'pkcs1'),
  rsaPssSha256: ta('id-TA-RSA-PSS-SHA-256', 1, 4, 'rsa', 'sha256', 'pss'),
  rsaV15Sha512: ta('id-TA-RSA-v1-5-SHA-512', 1, 5, 'rsa', 'sha512', 'pkcs1'),
  rsaPssSha512: ta('id-TA-RSA-PSS-SHA-512', 1, 6, 'rsa', 'sha512', 'pss'),
  ecdsaSha224: ta('id-TA-ECDSA-SHA-224', 2, 2, 'ec', 'sha224'),
  ecdsaSha256: ta('id-TA-ECDSA-SHA-256', 2, 3, 'ec', 'sha256'),
  ecdsaSha384: ta('id-TA-ECDSA-SHA-384', 2, 4, 'ec', 'sha384'),
  ecdsaSha512: ta('id-TA-ECDSA-SHA-512', 2, 5, 'ec', 'sha512'),
} as const satisfies Record<string, TaAlgorithm>;

/** The SHA-1 identifiers, known so that a message can say why they are refused. */
const REFUSED: Readonly<Record<string, string>> = {
  '04007f00070202020101': 'id-TA-RSA-v1-5-SHA-1',
  '04007f00070202020103': 'id-TA-RSA-PSS-SHA-1',
  '04007f00070202020201': 'id-TA-ECDSA-SHA-1',
};

const BY_DER = new Map<string, TaAlgorithm>(Object.values(TA).map((a) => [Buffer.from(a.der).toString('hex'), a]));

/** The algorithm whose OID contents are `der`; for an unknown or refused one, a description for the message. */
export function taAlgorithm(der: Uint8Array): TaAlgorithm | { readonly unsupported: string } {
  const hex = Buffer.from(der).toString('hex');
  const known = BY_DER.get(hex);
  if (known) return known;
  const refused = REFUSED[hex];
  return { unsupported: refused ? `${refused} (SHA-1 is refused)` : `OID contents ${hex || '(empty)'}` };
}

/**
 * The object identifier of the SmartCard-HSM's CHAT, 1.3.6.1.4.1.24991.3.1.1
 * under CardContact's enterprise arc 24991: its discretionary data is one
 * byte whose top bits are the role, as in TR-03110 Part 3 C.4 (11 root, 10
 * issuing CA, 00 terminal).
 */
export const SMARTCARD_HSM_ROLE_OID = Uint8Array.from([0x2b, 0x06, 0x01, 0x04, 0x01, 0x81, 0xc3, 0x1f, 0x03, 0x01, 0x01]);

/** The role bytes of the three certificates of a SmartCard-HSM chain. */
export const ROLE = {
  /** The Scheme Root CA (a CVCA in TR-03110's terms). */
  root: 0xc0,
  /** A Device Issuer CA (a DV). */
  dica: 0x80,
  /** A device (a terminal): its Device Authentication key. */
  device: 0x00,
} as const;
