// Reading a PIN's tries from CK_TOKEN_INFO flags (PKCS#11 v2.40 §3.2).
import { describe, expect, it } from 'vitest';
import { pinTries } from '../../lib/pkcs11/pin-tries.ts';
import { TokenFlag, type TokenInfo } from '../../lib/pkcs11/token.ts';

const base = TokenFlag.RNG | TokenFlag.LOGIN_REQUIRED | TokenFlag.USER_PIN_INITIALIZED | TokenFlag.TOKEN_INITIALIZED;
const info = (flags: number): TokenInfo => ({ label: 'SmartCard-HSM', manufacturer: 'www.CardContact.de', model: 'PKCS#15 emulated', serial: 'DENK0102947', flags: base | flags });

describe('pinTries', () => {
  it('reads each state of the user PIN from its own flags (values written out from pkcs11t.h)', () => {
    expect(pinTries(info(0), 'user')).toBe('ok');
    expect(pinTries(info(0x0001_0000), 'user')).toBe('count-low');
    expect(pinTries(info(0x0002_0000), 'user')).toBe('final-try');
    expect(pinTries(info(0x0004_0000), 'user')).toBe('locked');
  });

  it('reads each state of the SO PIN from its own flags', () => {
    expect(pinTries(info(0), 'so')).toBe('ok');
    expect(pinTries(info(0x0010_0000), 'so')).toBe('count-low');
    expect(pinTries(info(0x0020_0000), 'so')).toBe('final-try');
    expect(pinTries(info(0x0040_0000), 'so')).toBe('locked');
  });

  it('does not mix up the two PINs', () => {
    const userAll = TokenFlag.USER_PIN_COUNT_LOW | TokenFlag.USER_PIN_FINAL_TRY | TokenFlag.USER_PIN_LOCKED;
    const soAll = TokenFlag.SO_PIN_COUNT_LOW | TokenFlag.SO_PIN_FINAL_TRY | TokenFlag.SO_PIN_LOCKED;
    expect(pinTries(info(userAll), 'so')).toBe('ok');
    expect(pinTries(info(soAll), 'user')).toBe('ok');
  });

  it('the most severe wins when a token sets more than one', () => {
    expect(pinTries(info(TokenFlag.USER_PIN_COUNT_LOW | TokenFlag.USER_PIN_FINAL_TRY), 'user')).toBe('final-try');
    expect(pinTries(info(TokenFlag.USER_PIN_COUNT_LOW | TokenFlag.USER_PIN_LOCKED), 'user')).toBe('locked');
    expect(pinTries(info(TokenFlag.SO_PIN_FINAL_TRY | TokenFlag.SO_PIN_LOCKED), 'so')).toBe('locked');
  });

  it('other flags (an error state, an unset user PIN) are not tries', () => {
    expect(pinTries(info(TokenFlag.ERROR_STATE), 'user')).toBe('ok');
    expect(pinTries({ ...info(0), flags: TokenFlag.TOKEN_INITIALIZED }, 'user')).toBe('ok');
  });
});
