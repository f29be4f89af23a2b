/**
 * The ceremony's facts, in one place: what the PSF's key ceremony puts on
 * each device and what it publishes. steps/ provisions devices with them,
 * `runbook verify` checks products against them, the CLI's subcommands and
 * the rehearsal use them, and RUNBOOK.md's blocks see them through
 * lib/runbook/api.ts.
 *
 * Every YubiHSM 2 fact here is also stated by the PSF's own 2020 products:
 * their attestation certificates carry the object ids, labels, domains and
 * capabilities below (test/ceremony.test.ts reads them back from
 * test/fixtures/psf-2020-10-30/). The authentication key's facts are those of
 * the PSF's provisioning program, which the products cannot show.
 *
 * This module holds data and pure functions only: it is loaded by the
 * type-check of every runbook block.
 */
import type { Curve } from './keys.ts';
import type { CapabilityName } from './yubihsm/capabilities.ts';

export type { Curve };

/** The two TUF roles whose keys every device generates (PEP 458's offline roles). */
export type Role = 'root' | 'targets';
export const ROLES: readonly Role[] = ['root', 'targets'];

/** The kinds of device the ceremony provisions. */
export type HsmKind = 'yubihsm2' | 'nitrokey-hsm';

/** A key object the ceremony creates on a YubiHSM 2. */
export interface YubiHsmKeyFact {
  readonly id: number;
  readonly label: string;
}

/**
 * "Provisioning the YubiHSM 2": the objects and their rules.
 */
export const YUBIHSM = {
  /** The authentication key a new or reset device has (Yubico: "Default Authentication Key"). */
  factoryAuthKey: { id: 1, password: 'password' },
  /**
   * The authentication key that replaces it (step yubihsm.authkey): object 2,
   * `tuf-authkey`, domain 1, its key derived from the new password. It may do
   * what the rest of the ceremony does and no more; keys it creates may only
   * sign ECDSA.
   */
  authKey: {
    id: 2,
    label: 'tuf-authkey',
    domains: [1],
    capabilities: [
      'get-opaque',
      'generate-asymmetric-key',
      'sign-ecdsa',
      'sign-attestation-certificate',
      'delete-authentication-key',
    ] satisfies readonly CapabilityName[] as readonly CapabilityName[],
    delegatedCapabilities: ['sign-ecdsa'] satisfies readonly CapabilityName[] as readonly CapabilityName[],
  },
  /** The TUF keys (step yubihsm.keys), as their attestations state them. */
  keys: {
    root: { id: 3, label: 'tuf-root' },
    targets: { id: 4, label: 'tuf-targets' },
  } satisfies Record<Role, YubiHsmKeyFact>,
  /** Domains and capabilities of both TUF keys: sign ECDSA, nothing else (no export, no wrap). */
  keyDomains: [1] as readonly number[],
  keyCapabilities: ['sign-ecdsa'] satisfies readonly CapabilityName[] as readonly CapabilityName[],
  /** Opaque object 0: the device's attestation certificate, issued by Yubico (the `_cert.der` product). */
  deviceCertificateId: 0,
} as const;

/** A key pair the ceremony creates on a Nitrokey HSM. */
export interface NitrokeyKeyFact {
  /** CKA_ID. The PSF runbook passed `--id 12` / `--id 13` to pkcs11-tool, which reads hex. */
  readonly id: number;
  /** CKA_LABEL. */
  readonly label: string;
}

/** "Provisioning the Nitrokey HSM": PINs, label and key pairs. */
export const NITROKEY = {
  /** The SO-PIN a new Nitrokey HSM ships with (step nitrokey.so-pin). */
  factorySoPin: '3537363231383830',
  /**
   * Wrong PINs a SmartCard-HSM (the chip in a Nitrokey HSM) takes before it
   * locks: 3 for the user PIN (the SO-PIN can unblock it), 15 for the SO-PIN
   * (then the device is locked for good). PKCS#11 shows only "count low" and
   * "final try", so the steps count the refusals themselves.
   */
  userPinTries: 3,
  soPinTries: 15,
  /** The token label written when it is re-initialized; the PSF's was this one. */
  tokenLabel: 'Nitrokey HSM - TUF',
  keys: {
    root: { id: 0x12, label: 'root' },
    targets: { id: 0x13, label: 'targets' },
  } satisfies Record<Role, NitrokeyKeyFact>,
} as const;

/** A serial number format, with the words an operator reads when a typed one does not fit. */
export interface SerialFormat {
  readonly pattern: RegExp;
  readonly description: string;
}

/**
 * Serial numbers. A YubiHSM 2's is printed on its casing (7550054) and padded
 * to 10 digits in product names (0007550054); a Nitrokey HSM's is read from
 * the device (DENK0102947). A SoftHSM2 token standing in for a Nitrokey HSM in
 * a rehearsal has 16 hex digits.
 */
export const SERIALS = {
  yubihsmPrinted: { pattern: /^[0-9]{1,10}$/, description: 'a YubiHSM 2 serial is 1 to 10 digits' },
  yubihsm: { pattern: /^[0-9]{10}$/, description: 'a YubiHSM 2 serial in product names is 10 digits, padded with zeros' },
  nitrokey: { pattern: /^[A-Z]{4}[0-9]{7}$/, description: 'a Nitrokey HSM serial is four capital letters and seven digits, like DENK0102947' },
  softhsm: { pattern: /^[0-9a-f]{16}$/, description: 'a SoftHSM2 token serial is 16 hex digits' },
} as const satisfies Record<string, SerialFormat>;

/** The YubiHSM 2 serial as products name it: 10 digits, zero-padded. */
export function paddedYubiHsmSerial(serial: number | string): string {
  return String(serial).padStart(10, '0');
}

/** The kind of device a products directory's name (its serial) belongs to; a SoftHSM2 serial only when rehearsals are allowed. */
export function kindOfSerial(serial: string, options: { readonly rehearsal?: boolean } = {}): HsmKind | undefined {
  if (SERIALS.yubihsm.pattern.test(serial)) return 'yubihsm2';
  if (SERIALS.nitrokey.pattern.test(serial)) return 'nitrokey-hsm';
  if (options.rehearsal === true && SERIALS.softhsm.pattern.test(serial)) return 'nitrokey-hsm';
  return undefined;
}

/**
 * Product file names, relative to the products directory: one directory per
 * device, named by its serial, and in it the files the PSF runbook lists
 * ("Provisioning the YubiHSM 2", yubihsm.products and yubihsm.pem;
 * "Provisioning the Nitrokey HSM", nitrokey.products).
 */
export const PRODUCT_FILES = {
  /** The device attestation certificate (YubiHSM 2 only). */
  deviceCertificate: (serial: string) => `${serial}/${serial}_cert.der`,
  /** The key's attestation certificate, signed by the device (YubiHSM 2 only). */
  attestation: (serial: string, role: Role) => `${serial}/${serial}_${role}_attestation.der`,
  /** The public key: the raw uncompressed point on a YubiHSM 2, DER SubjectPublicKeyInfo on a Nitrokey HSM. */
  publicKey: (serial: string, role: Role) => `${serial}/${serial}_${role}_pubkey.pub`,
  /** The public key in PEM. */
  pem: (serial: string, role: Role) => `${serial}/${serial}_${role}_pubkey.pem`,
  /**
   * A Nitrokey HSM's EF 2F02, as read: its Device Authentication CV
   * certificate followed by the Device Issuer CA's (Nitrokey HSM only).
   */
  deviceAuthentication: (serial: string) => `${serial}/${serial}_devaut.cvc`,
  /**
   * The key's EF CE: the authenticated CV request the device wrote when it
   * generated the key, signed by its Device Authentication key (Nitrokey HSM only).
   */
  nitrokeyAttestation: (serial: string, role: Role) => `${serial}/${serial}_${role}_attestation.cvc`,
} as const;

/**
 * Every product a device of `kind` leaves, in the order the runbook lists
 * them. A Nitrokey HSM's attestations (`attested`) are products of the
 * ceremonies that capture them; the PSF's 2020 ceremony did not.
 */
export function productFiles(kind: HsmKind, serial: string, options: { readonly attested?: boolean } = {}): string[] {
  if (kind === 'yubihsm2') {
    return [
      PRODUCT_FILES.deviceCertificate(serial),
      ...ROLES.flatMap((role) => [PRODUCT_FILES.attestation(serial, role), PRODUCT_FILES.publicKey(serial, role), PRODUCT_FILES.pem(serial, role)]),
    ];
  }
  const attested = options.attested === true;
  return [
    ...(attested ? [PRODUCT_FILES.deviceAuthentication(serial)] : []),
    ...ROLES.flatMap((role) => [
      ...(attested ? [PRODUCT_FILES.nitrokeyAttestation(serial, role)] : []),
      PRODUCT_FILES.publicKey(serial, role),
      PRODUCT_FILES.pem(serial, role),
    ]),
  ];
}

/** The `--type` spelling of the PSF runbook's programs for a curve. */
export function keyTypeFlag(curve: Curve): 'p256' | 'p384' {
  return curve === 'P-256' ? 'p256' : 'p384';
}

/** The curve for a `--type` value, or undefined. */
export function curveOfKeyType(flag: string): Curve | undefined {
  return flag === 'p256' ? 'P-256' : flag === 'p384' ? 'P-384' : undefined;
}
