/**
 * YubiHSM 2 capabilities: a 64-bit field on every object (what it may do) and
 * on every authentication key (what a session opened with it may do, and,
 * as "delegated capabilities", what objects it creates may be given).
 *
 * Names are Yubico's, as yubihsm-shell spells them
 * (https://developers.yubico.com/YubiHSM2/Concepts/Capability.html). On the
 * wire, and in attestation extension 1.3.6.1.4.1.41482.4.5, the field is
 * eight bytes, big-endian.
 */
export const CAPABILITY_BITS = {
  'get-opaque': 0x1n,
  'put-opaque': 0x2n,
  'put-authentication-key': 0x4n,
  'put-asymmetric-key': 0x8n,
  'generate-asymmetric-key': 0x10n,
  'sign-pkcs': 0x20n,
  'sign-pss': 0x40n,
  'sign-ecdsa': 0x80n,
  'sign-eddsa': 0x100n,
  'decrypt-pkcs': 0x200n,
  'decrypt-oaep': 0x400n,
  'derive-ecdh': 0x800n,
  'export-wrapped': 0x1000n,
  'import-wrapped': 0x2000n,
  'put-wrap-key': 0x4000n,
  'generate-wrap-key': 0x8000n,
  'exportable-under-wrap': 0x1_0000n,
  'set-option': 0x2_0000n,
  'get-option': 0x4_0000n,
  'get-pseudo-random': 0x8_0000n,
  'put-mac-key': 0x10_0000n,
  'generate-hmac-key': 0x20_0000n,
  'sign-hmac': 0x40_0000n,
  'verify-hmac': 0x80_0000n,
  'get-log-entries': 0x100_0000n,
  'sign-ssh-certificate': 0x200_0000n,
  'get-template': 0x400_0000n,
  'put-template': 0x800_0000n,
  'reset-device': 0x1000_0000n,
  'decrypt-otp': 0x2000_0000n,
  'create-otp-aead': 0x4000_0000n,
  'randomize-otp-aead': 0x8000_0000n,
  'rewrap-from-otp-aead-key': 0x1_0000_0000n,
  'rewrap-to-otp-aead-key': 0x2_0000_0000n,
  'sign-attestation-certificate': 0x4_0000_0000n,
  'put-otp-aead-key': 0x8_0000_0000n,
  'generate-otp-aead-key': 0x10_0000_0000n,
  'wrap-data': 0x20_0000_0000n,
  'unwrap-data': 0x40_0000_0000n,
  'delete-opaque': 0x80_0000_0000n,
  'delete-authentication-key': 0x100_0000_0000n,
  'delete-asymmetric-key': 0x200_0000_0000n,
  'delete-wrap-key': 0x400_0000_0000n,
  'delete-hmac-key': 0x800_0000_0000n,
  'delete-template': 0x1000_0000_0000n,
  'delete-otp-aead-key': 0x2000_0000_0000n,
  'change-authentication-key': 0x4000_0000_0000n,
} as const;

export type CapabilityName = keyof typeof CAPABILITY_BITS;

/** A capability set as the 64-bit field the device stores. */
export type Capabilities = bigint;

const ALL_NAMES = Object.keys(CAPABILITY_BITS) as CapabilityName[];

/** Every capability the device defines: the factory authentication key's set. */
export const ALL_CAPABILITIES: Capabilities = ALL_NAMES.reduce((acc, n) => acc | CAPABILITY_BITS[n], 0n);

export function capabilities(...names: CapabilityName[]): Capabilities {
  return names.reduce((acc, n) => acc | CAPABILITY_BITS[n], 0n);
}

/** The names set in a field, in bit order; bits the device does not define are returned as hex. */
export function capabilityNames(field: Capabilities): string[] {
  const names: string[] = ALL_NAMES.filter((n) => (field & CAPABILITY_BITS[n]) !== 0n);
  const unknown = field & ~ALL_CAPABILITIES;
  if (unknown !== 0n) names.push(`0x${unknown.toString(16)}`);
  return names;
}

export function hasCapabilities(field: Capabilities, required: Capabilities): boolean {
  return (field & required) === required;
}

/** The eight-byte big-endian wire form. */
export function encodeCapabilities(field: Capabilities): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, field));
  return out;
}

export function decodeCapabilities(bytes: Uint8Array): Capabilities {
  if (bytes.length !== 8) throw new RangeError(`a capability field has 8 bytes, not ${bytes.length}`);
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0);
}
