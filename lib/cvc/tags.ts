/**
 * The BER-TLV tags of card-verifiable certificates and requests, BSI
 * TR-03110 Part 3 (v2.21) Appendix C and D.2 (data objects), as the
 * SmartCard-HSM uses them. A tag is written here as the integer of its bytes:
 * 0x7F21 is the two bytes 7F 21.
 */
export const TAG = {
  /** CV certificate (also the body-and-signature of a CV request): application 33, constructed. */
  certificate: 0x7f21,
  /** Authenticated CV request: application 7, constructed (TR-03110 Part 3 C.2). */
  authentication: 0x67,
  /** Certificate body: what a certificate's signature covers, tag and length included. */
  body: 0x7f4e,
  /** Certificate Profile Identifier: one byte, 00 for this profile. */
  profile: 0x5f29,
  /** Certification Authority Reference: the issuer's CHR. */
  car: 0x42,
  /** Public key: application 73, constructed; its contents are context-specific (TR-03110 Part 3 D.3). */
  publicKey: 0x7f49,
  /** Certificate Holder Reference. */
  chr: 0x5f20,
  /** Certificate Holder Authorization Template (CHAT): role OID and authorization. */
  chat: 0x7f4c,
  /** Discretionary data inside the CHAT: the relative authorization, whose top bits are the role. */
  authorization: 0x53,
  /** Certificate Effective Date: six unpacked BCD digits, YYMMDD. */
  effectiveDate: 0x5f25,
  /** Certificate Expiration Date: six unpacked BCD digits, YYMMDD. */
  expirationDate: 0x5f24,
  /** Certificate Extensions: application 5, constructed. */
  extensions: 0x65,
  /** Signature: plain r ‖ s for ECDSA (TR-03111 §5.2.1), the PKCS#1 signature for RSA. */
  signature: 0x5f37,
  /** Object identifier (universal 6). */
  oid: 0x06,
} as const;

/**
 * Inside a public key (7F49), TR-03110 Part 3 Table D.3: context-specific
 * tags whose meaning depends on the key type.
 */
export const KEY_TAG = {
  /** EC prime p; RSA modulus n. */
  primeOrModulus: 0x81,
  /** EC coefficient a; RSA public exponent e. */
  aOrExponent: 0x82,
  /** EC coefficient b. */
  b: 0x83,
  /** EC base point G, uncompressed. */
  base: 0x84,
  /** EC order r of the base point. */
  order: 0x85,
  /** EC public point Y, uncompressed. */
  point: 0x86,
  /** EC cofactor f. */
  cofactor: 0x87,
} as const;

const NAMES: Readonly<Record<number, string>> = {
  [TAG.certificate]: 'CV certificate (7F21)',
  [TAG.authentication]: 'authenticated request (67)',
  [TAG.body]: 'certificate body (7F4E)',
  [TAG.profile]: 'profile identifier (5F29)',
  [TAG.car]: 'CAR (42)',
  [TAG.publicKey]: 'public key (7F49)',
  [TAG.chr]: 'CHR (5F20)',
  [TAG.chat]: 'CHAT (7F4C)',
  [TAG.authorization]: 'authorization (53)',
  [TAG.effectiveDate]: 'effective date (5F25)',
  [TAG.expirationDate]: 'expiration date (5F24)',
  [TAG.extensions]: 'extensions (65)',
  [TAG.signature]: 'signature (5F37)',
  [TAG.oid]: 'object identifier (06)',
};

/** A tag's name for messages: "CHR (5F20)", or its hex for a tag this module does not name. */
export function tagName(tag: number): string {
  return NAMES[tag] ?? `tag ${tagHex(tag)}`;
}

/** A tag in hex, as TR-03110 writes it: "7F21", "42". */
export function tagHex(tag: number): string {
  const hex = tag.toString(16).toUpperCase();
  return hex.length % 2 === 0 ? hex : `0${hex}`;
}
