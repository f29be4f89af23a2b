// The checks made before a token is touched: PIN formats, label size, the
// token's identity and state, and the one-token rule.
import { describe, expect, it } from 'vitest';
import { CKR, ckrName, isCkrName } from '../../lib/pkcs11/ckr.ts';
import { NITROKEY_HSM, SOFTHSM2, checkIdentity, checkSafeState } from '../../lib/pkcs11/identity.ts';
import { paddedLabel } from '../../lib/pkcs11/label.ts';
import { DEFAULT_SO_PIN, checkSoPin, checkUserPin } from '../../lib/pkcs11/pins.ts';
import { selectToken } from '../../lib/pkcs11/select.ts';
import { unsafeAttributes } from '../../lib/pkcs11/generate.ts';
import { TokenFlag, type KeyPairAttributes, type TokenInfo } from '../../lib/pkcs11/token.ts';

const nitrokey: TokenInfo = {
  label: 'SmartCard-HSM',
  manufacturer: 'www.CardContact.de',
  model: 'PKCS#15 emulated',
  serial: 'DENK0102947',
  flags: TokenFlag.TOKEN_INITIALIZED | TokenFlag.USER_PIN_INITIALIZED | TokenFlag.LOGIN_REQUIRED | TokenFlag.RNG,
};

describe('PIN formats', () => {
  it('the SO PIN is exactly 16 hex digits, either case', () => {
    for (const pin of [DEFAULT_SO_PIN, '0123456789abcdef', '0123456789ABCDEF']) expect(() => checkSoPin(pin)).not.toThrow();
    for (const pin of ['', '353736323138383', '35373632313838300', '353736323138383g', ' 3537363231383830', '３５３７３６３２３１３８３８３０']) {
      expect(() => checkSoPin(pin)).toThrowWithCode('PKCS11_PIN_FORMAT');
    }
  });

  it('the user PIN is 6 to 15 printable characters', () => {
    for (const pin of ['648219', 'abcdef', '123456789012345', 'a-b_c.d!']) expect(() => checkUserPin(pin)).not.toThrow();
    for (const pin of ['', '12345', '1234567890123456', 'tuf 2020', 'pín-123', '123456\n']) {
      expect(() => checkUserPin(pin)).toThrowWithCode('PKCS11_PIN_FORMAT');
    }
  });
});

describe('token label', () => {
  it('is padded with blanks to 32 bytes, counted in UTF-8', () => {
    expect(paddedLabel('Nitrokey HSM - TUF')).toBe('Nitrokey HSM - TUF' + ' '.repeat(14));
    expect(Buffer.byteLength(paddedLabel('clé'))).toBe(32);
    expect(paddedLabel('x'.repeat(32))).toBe('x'.repeat(32));
  });

  it('that does not fit is refused, not cut', () => {
    expect(() => paddedLabel('x'.repeat(33))).toThrowWithCode('PKCS11_LABEL_FORMAT');
    expect(() => paddedLabel('é'.repeat(17))).toThrowWithCode('PKCS11_LABEL_FORMAT');
  });
});

describe('identity', () => {
  it('a Nitrokey HSM through OpenSC is one', () => {
    expect(() => checkIdentity(nitrokey, NITROKEY_HSM, 'slot 0')).not.toThrow();
  });

  it.each([
    ['SoftHSM2', { manufacturer: 'SoftHSM project', model: 'SoftHSM v2' }],
    ['another model from the same maker', { model: 'SmartCard-HSM 4K' }],
    ['a maker that differs only in case', { manufacturer: 'www.cardcontact.de' }],
  ])('%s is not', (_what, change) => {
    expect(() => checkIdentity({ ...nitrokey, ...change }, NITROKEY_HSM, 'slot 0')).toThrowWithCode('PKCS11_TOKEN_UNEXPECTED');
  });

  it('the expectation is configurable, and the model optional', () => {
    expect(() => checkIdentity({ ...nitrokey, manufacturer: 'SoftHSM project', model: 'SoftHSM v2' }, SOFTHSM2, 'slot 0')).not.toThrow();
    expect(() => checkIdentity({ ...nitrokey, model: 'anything' }, { manufacturer: 'www.CardContact.de' }, 'slot 0')).not.toThrow();
  });
});

describe('dangerous states', () => {
  it('a healthy token, even after one wrong PIN, may be provisioned', () => {
    expect(() => checkSafeState({ ...nitrokey, flags: nitrokey.flags | TokenFlag.USER_PIN_COUNT_LOW }, 'slot 0')).not.toThrow();
  });

  it.each([
    ['user PIN final try', TokenFlag.USER_PIN_FINAL_TRY],
    ['user PIN locked', TokenFlag.USER_PIN_LOCKED],
    ['SO PIN final try', TokenFlag.SO_PIN_FINAL_TRY],
    ['SO PIN locked', TokenFlag.SO_PIN_LOCKED],
    ['error state', TokenFlag.ERROR_STATE],
  ])('%s is refused', (_what, flag) => {
    expect(() => checkSafeState({ ...nitrokey, flags: nitrokey.flags | flag }, 'slot 0')).toThrowWithCode('PKCS11_TOKEN_DANGEROUS_STATE');
  });
});

describe('exactly one token', () => {
  const spare: TokenInfo = { ...nitrokey, label: '', serial: '', flags: TokenFlag.RNG };
  it('ignores uninitialized tokens (SoftHSM2 always shows a spare one)', () => {
    expect(selectToken([{ slot: 1, info: spare }, { slot: 2, info: nitrokey }], 'here').slot).toBe(2);
  });
  it('refuses none and two', () => {
    expect(() => selectToken([], 'here')).toThrowWithCode('PKCS11_NO_TOKEN');
    expect(() => selectToken([{ slot: 1, info: spare }], 'here')).toThrowWithCode('PKCS11_NO_TOKEN');
    expect(() => selectToken([{ slot: 1, info: nitrokey }, { slot: 2, info: { ...nitrokey, serial: 'DENK0103189' } }], 'here')).toThrowWithCode(
      'PKCS11_TOKEN_AMBIGUOUS',
    );
  });
});

describe('CK_RV names', () => {
  it('match PKCS#11 v2.40 §3.6', () => {
    expect(CKR.CKR_PIN_INCORRECT).toBe(0xa0);
    expect(CKR.CKR_SESSION_EXISTS).toBe(0xb6);
    expect(ckrName(0xa4)).toBe('CKR_PIN_LOCKED');
    expect(ckrName(0x8000_0001)).toBe('CKR_VENDOR_DEFINED');
    expect(ckrName(0x7777)).toBe('CKR_GENERAL_ERROR');
    expect(isCkrName('CKR_PIN_LEN_RANGE')).toBe(true);
    expect(isCkrName('CKR_NOT_A_THING')).toBe(false);
    expect(isCkrName('toString')).toBe(false);
  });
});

describe('generated key attributes', () => {
  const good: KeyPairAttributes = {
    private: { token: true, sensitive: true, extractable: false, alwaysSensitive: true, neverExtractable: true, sign: true, decrypt: false, unwrap: false, derive: false },
    public: { token: true, verify: true, encrypt: false, wrap: false },
  };

  it('the ceremony template passes', () => {
    expect(unsafeAttributes(good)).toEqual([]);
  });

  it('pkcs11-tool --keypairgen defaults (decrypt, unwrap, derive, encrypt, wrap allowed) do not', () => {
    // What the seed's `pkcs11-tool --keypairgen --key-type EC:prime256v1` leaves on SoftHSM2.
    const toolDefaults: KeyPairAttributes = {
      private: { ...good.private, decrypt: true, unwrap: true, derive: true },
      public: { ...good.public, encrypt: true, wrap: true },
    };
    expect(unsafeAttributes(toolDefaults)).toHaveLength(5);
  });

  it('an extractable or non-sensitive private key does not', () => {
    expect(unsafeAttributes({ ...good, private: { ...good.private, extractable: true } })).toHaveLength(1);
    expect(unsafeAttributes({ ...good, private: { ...good.private, sensitive: false } })).toHaveLength(1);
  });
});
