// The checks made before a token is touched: PIN formats, label size, the
// token's identity and state, and the one-token rule.
import { describe, expect, it } from 'vitest';
import { CKR, ckrName, isCkrName } from '../../lib/pkcs11/ckr.ts';
import { NITROKEY_HSM, SOFTHSM2, checkIdentity, checkSafeState } from '../../lib/pkcs11/identity.ts';
import { paddedLabel } from '../../lib/pkcs11/label.ts';
import { checkSoPin, checkUserPin } from '../../lib/pkcs11/pins.ts';
import { selectToken } from '../../lib/pkcs11/select.ts';
import { unexpectedAttributes } from '../../lib/pkcs11/generate.ts';
import { PRIVATE_KEY_FLAGS, PUBLIC_KEY_FLAGS } from '../../lib/pkcs11/templates.ts';
import { checkSerial } from '../../lib/pkcs11/untrusted.ts';
import { untrustedText } from '../../lib/untrusted-text.ts';
import { TokenFlag, type KeyPairAttributes, type TokenInfo } from '../../lib/pkcs11/token.ts';
import { hasControl } from './support/inspect.ts';

const nitrokey: TokenInfo = {
  label: 'SmartCard-HSM',
  manufacturer: 'www.CardContact.de',
  model: 'PKCS#15 emulated',
  serial: 'DENK0102947',
  flags: TokenFlag.TOKEN_INITIALIZED | TokenFlag.USER_PIN_INITIALIZED | TokenFlag.LOGIN_REQUIRED | TokenFlag.RNG,
};

describe('PIN formats', () => {
  it('the SO PIN is exactly 16 hex digits, either case', () => {
    for (const pin of ['3537363231383830', '0123456789abcdef', '0123456789ABCDEF']) expect(() => checkSoPin(pin)).not.toThrow();
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

  it.each(['TUF\n', 'TUF\u001b[2J', 'TUF\u0000', 'TUF\u009b'])('with a control character (%j) is refused', (label) => {
    expect(() => paddedLabel(label)).toThrowWithCode('PKCS11_LABEL_FORMAT');
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
  it('match PKCS#11 v2.40 §5.1', () => {
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
  // The ceremony's requirements ("Provisioning the Nitrokey HSM", step 19), written out here rather than taken from templates.ts.
  const good: KeyPairAttributes = {
    private: {
      token: true, private: true, sensitive: true, extractable: false, alwaysSensitive: true, neverExtractable: true,
      sign: true, decrypt: false, unwrap: false, derive: false, label: 'root',
    },
    public: { token: true, private: false, verify: true, encrypt: false, wrap: false, label: 'root' },
  };

  it('the ceremony templates ask for exactly that', () => {
    const { alwaysSensitive: _a, neverExtractable: _n, label: _l, ...privateFlags } = good.private;
    const { label: _p, ...publicFlags } = good.public;
    expect(PRIVATE_KEY_FLAGS).toEqual(privateFlags);
    expect(PUBLIC_KEY_FLAGS).toEqual(publicFlags);
    expect(unexpectedAttributes(good, 'root')).toEqual([]);
  });

  it('pkcs11-tool --keypairgen defaults (decrypt, unwrap, derive, encrypt, wrap allowed) do not pass', () => {
    // What the PSF runbook's `pkcs11-tool --keypairgen --key-type EC:prime256v1` leaves on SoftHSM2.
    const toolDefaults: KeyPairAttributes = {
      private: { ...good.private, decrypt: true, unwrap: true, derive: true },
      public: { ...good.public, encrypt: true, wrap: true },
    };
    expect(unexpectedAttributes(toolDefaults, 'root')).toHaveLength(5);
  });

  it.each([
    ['extractable', { extractable: true }],
    ['not sensitive', { sensitive: false }],
    ['usable without a login (CKA_PRIVATE false)', { private: false }],
    ['a session object', { token: false }],
    ['not allowed to sign', { sign: false }],
  ])('a private key %s does not pass', (_what, change) => {
    expect(unexpectedAttributes({ ...good, private: { ...good.private, ...change } }, 'root')).toHaveLength(1);
  });

  it('a label the token did not keep does not pass, and is shown escaped', () => {
    const wrong = unexpectedAttributes({ ...good, public: { ...good.public, label: 'root\u001b[31m' } }, 'root');
    expect(wrong).toHaveLength(1);
    expect(wrong[0]).not.toContain('\u001b');
  });
});

describe('text from the token', () => {
  const hostile = '\u001b]0;owned\u0007\u001b[2J\u202eDENK\u009b31m';
  it('is escaped before it reaches a message', () => {
    const text = untrustedText(hostile);
    expect(hasControl(text)).toBe(false);
    expect(text).toBe('"\\u001b]0;owned\\u0007\\u001b[2J\\u202eDENK\\u009b31m"');
  });

  it.each([
    ['two tokens', () => selectToken([{ slot: 1, info: { ...nitrokey, label: hostile } }, { slot: 2, info: { ...nitrokey, serial: hostile } }], 'here')],
    ['a manufacturer', () => checkIdentity({ ...nitrokey, manufacturer: hostile }, NITROKEY_HSM, 'slot 0')],
    ['a model', () => checkIdentity({ ...nitrokey, model: hostile }, NITROKEY_HSM, 'slot 0')],
    ['a serial', () => checkSerial(hostile, 'slot 0')],
  ])('in the refusal of %s', (_what, refuse) => {
    let message = '';
    try {
      refuse();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).not.toBe('');
    expect(hasControl(message)).toBe(false);
  });

  it.each(['DENK0102947', '9d2a4b3c1e0f5a6b', 'SC-HSM_4K'])('a serial such as %s names product files', (serial) => {
    expect(checkSerial(serial, 'slot 0')).toBe(serial);
  });

  it.each(['../../etc', 'DENK/0102947', '', '.hidden', 'x'.repeat(33), 'DENK 0102947'])('a serial of %j does not', (serial) => {
    expect(() => checkSerial(serial, 'slot 0')).toThrowWithCode('PKCS11_TOKEN_UNEXPECTED');
  });
});
