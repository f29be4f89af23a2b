import { describe, expect, it } from 'vitest';
import {
  capabilities,
  capabilityNames,
  decodeCapabilities,
  encodeCapabilities,
} from '../../lib/yubihsm/capabilities.ts';

describe('capabilities', () => {
  it('encodes sign-ecdsa as the PSF attestation certificates carry it (…00 80)', () => {
    expect(Buffer.from(encodeCapabilities(capabilities('sign-ecdsa'))).toString('hex')).toBe('0000000000000080');
  });

  it("encodes the PSF runbook's tuf-authkey capabilities to the bits Yubico documents", () => {
    const field = capabilities(
      'get-opaque',
      'generate-asymmetric-key',
      'sign-ecdsa',
      'sign-attestation-certificate',
      'delete-authentication-key',
    );
    // 0x1 | 0x10 | 0x80 | 0x4_0000_0000 | 0x100_0000_0000, written out by hand.
    expect(Buffer.from(encodeCapabilities(field)).toString('hex')).toBe('0000010400000091');
    expect(capabilityNames(decodeCapabilities(encodeCapabilities(field)))).toEqual([
      'get-opaque',
      'generate-asymmetric-key',
      'sign-ecdsa',
      'sign-attestation-certificate',
      'delete-authentication-key',
    ]);
  });

  it('names undefined bits instead of dropping them', () => {
    expect(capabilityNames(0x8000_0000_0000_0000n)).toEqual(['0x8000000000000000']);
  });

  it('rejects a field of the wrong width', () => {
    expect(() => decodeCapabilities(new Uint8Array(7))).toThrow(RangeError);
  });
});
