// SCP03 primitives checked against known answers and against a second,
// independent computation written here from the specifications (RFC 4493
// for CMAC, GP Amendment D for the KDF, Yubico's command reference for the
// message layouts), using only node:crypto's raw AES.
import { createCipheriv, createDecipheriv, pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  aesCmac,
  authenticateSessionMessage,
  cardCryptogram,
  counterIv,
  DerivationConstant,
  deriveSessionKeys,
  hostCryptogram,
  kdf,
  openCommand,
  openResponse,
  pad,
  passwordToKeys,
  sealCommand,
  sealResponse,
  sessionContext,
  unpad,
  verifyAuthenticateSession,
  ZERO_CHAIN,
  type ChannelState,
} from '../../lib/yubihsm/session/scp03.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// ---- An independent AES-CMAC (RFC 4493 section 2.3), built on raw AES-ECB.
function aesBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(block), c.final()]));
}
function dbl(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = ((b[i]! << 1) | (i < 15 ? b[i + 1]! >> 7 : 0)) & 0xff;
  if (b[0]! & 0x80) out[15]! ^= 0x87;
  return out;
}
function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  return a.map((v, i) => v ^ b[i]!);
}
function referenceCmac(key: Uint8Array, msg: Uint8Array): Uint8Array {
  const k1 = dbl(aesBlock(key, new Uint8Array(16)));
  const k2 = dbl(k1);
  const n = Math.max(1, Math.ceil(msg.length / 16));
  const complete = msg.length > 0 && msg.length % 16 === 0;
  const lastRaw = msg.subarray((n - 1) * 16);
  let last: Uint8Array;
  if (complete) last = xor(lastRaw, k1);
  else {
    const padded = new Uint8Array(16);
    padded.set(lastRaw);
    padded[lastRaw.length] = 0x80;
    last = xor(padded, k2);
  }
  let x: Uint8Array = new Uint8Array(16);
  for (let i = 0; i < n - 1; i++) x = aesBlock(key, xor(x, msg.subarray(i * 16, i * 16 + 16)));
  return aesBlock(key, xor(x, last));
}

// ---- The SCP03 KDF by hand (GP Amendment D 4.1.5, one iteration).
function referenceKdf(key: Uint8Array, constant: number, context: Uint8Array, bits: number): Uint8Array {
  const input = new Uint8Array([...new Uint8Array(11), constant, 0x00, bits >> 8, bits & 0xff, 0x01, ...context]);
  return referenceCmac(key, input).subarray(0, bits / 8);
}

const RFC4493_KEY = hex('2b7e151628aed2a6abf7158809cf4f3c');
const RFC4493_MSG = hex(
  '6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51 30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710',
);
const RFC4493: [number, string][] = [
  [0, 'bb1d6929e95937287fa37d129b756746'],
  [16, '070a16b46b4d4144f79bdd9dd04a287c'],
  [40, 'dfa66747de9ae63030ca32611497c827'],
  [64, '51f0bebf7e3b9d92fc49741779363cfe'],
];

describe('AES-CMAC', () => {
  it.each(RFC4493)('matches RFC 4493 example with a %i-byte message (through @noble/ciphers)', (len, tag) => {
    expect(toHex(aesCmac(RFC4493_KEY, RFC4493_MSG.subarray(0, len)))).toBe(tag);
  });

  it.each(RFC4493)('the independent reference also matches RFC 4493 (%i bytes)', (len, tag) => {
    expect(toHex(referenceCmac(RFC4493_KEY, RFC4493_MSG.subarray(0, len)))).toBe(tag);
  });

  it('accepts the message in parts (chaining value ‖ message)', () => {
    expect(toHex(aesCmac(RFC4493_KEY, RFC4493_MSG.subarray(0, 7), RFC4493_MSG.subarray(7, 40)))).toBe(RFC4493[2]![1]);
  });
});

describe('password derivation', () => {
  it('derives the factory key of authentication key 1 from "password"', () => {
    const keys = passwordToKeys('password');
    expect(toHex(keys.enc)).toBe('090b47dbed595654901dee1cc655e420');
    expect(toHex(keys.mac)).toBe('592fd483f759e29909a04c4505d2ce0a');
  });

  it('is PBKDF2-HMAC-SHA256 with salt "Yubico" and 10 000 iterations, split 16/16', () => {
    const raw = pbkdf2Sync('correct horse', 'Yubico', 10_000, 32, 'sha256');
    const keys = passwordToKeys('correct horse');
    expect(toHex(keys.enc)).toBe(raw.subarray(0, 16).toString('hex'));
    expect(toHex(keys.mac)).toBe(raw.subarray(16).toString('hex'));
  });
});

describe('session key derivation', () => {
  const keys = passwordToKeys('password');
  const host = hex('0001020304050607');
  const card = hex('f8f9fafbfcfdfeff');
  const context = sessionContext(host, card);

  it('puts the host challenge before the card challenge', () => {
    expect(toHex(context)).toBe('0001020304050607f8f9fafbfcfdfeff');
  });

  it('derives S-ENC, S-MAC, S-RMAC as the hand-built KDF does (constants 4, 6, 7 over K-ENC, K-MAC, K-MAC)', () => {
    const s = deriveSessionKeys(keys, context);
    expect(toHex(s.sEnc)).toBe(toHex(referenceKdf(keys.enc, 0x04, context, 128)));
    expect(toHex(s.sMac)).toBe(toHex(referenceKdf(keys.mac, 0x06, context, 128)));
    expect(toHex(s.sRmac)).toBe(toHex(referenceKdf(keys.mac, 0x07, context, 128)));
    // The three keys differ from each other and from the static keys.
    expect(new Set([s.sEnc, s.sMac, s.sRmac, keys.enc, keys.mac].map(toHex)).size).toBe(5);
  });

  it('computes 64-bit card (0x00) and host (0x01) cryptograms under S-MAC', () => {
    const s = deriveSessionKeys(keys, context);
    expect(toHex(cardCryptogram(s, context))).toBe(toHex(referenceKdf(s.sMac, 0x00, context, 64)));
    expect(toHex(hostCryptogram(s, context))).toBe(toHex(referenceKdf(s.sMac, 0x01, context, 64)));
    expect(cardCryptogram(s, context)).toHaveLength(8);
  });

  it('lays out the KDF input as 11 zero bytes, constant, 0x00, L, i=1, context', () => {
    // The KDF is CMAC over exactly that input: check with the library CMAC too.
    const input = hex('0000000000000000000000' + '04' + '00' + '0080' + '01' + toHex(context));
    expect(toHex(kdf(keys.enc, DerivationConstant.SessionEnc, context, 128))).toBe(toHex(aesCmac(keys.enc, input)));
  });

  it('refuses a context of the wrong size', () => {
    expect(() => kdf(keys.enc, DerivationConstant.SessionEnc, new Uint8Array(15), 128)).toThrow(RangeError);
  });
});

describe('padding and the counter IV', () => {
  it('pads with 0x80 then zeros to a block, always adding at least one byte', () => {
    expect(toHex(pad(hex('010203')))).toBe('010203800000000000000000' + '00000000');
    expect(pad(new Uint8Array(16))).toHaveLength(32);
    expect(pad(new Uint8Array(16))[16]).toBe(0x80);
    expect(toHex(pad(new Uint8Array(0)))).toBe('80' + '00'.repeat(15));
  });

  it('unpads well-formed padding and rejects malformed padding', () => {
    expect(toHex(unpad(pad(hex('0a0b')))!)).toBe('0a0b');
    expect(unpad(new Uint8Array(16))).toBeUndefined(); // no 0x80
    expect(unpad(hex('01'.repeat(15) + '81'))).toBeUndefined();
    expect(unpad(hex('80' + '00'.repeat(14) + '01'))).toBeUndefined();
    expect(unpad(new Uint8Array(15))).toBeUndefined();
    expect(unpad(hex('80' + '00'.repeat(31)))).toBeUndefined(); // padding longer than a block
  });

  it('derives the IV as AES-ECB(S-ENC, counter as 16 big-endian bytes)', () => {
    const key = hex('000102030405060708090a0b0c0d0e0f');
    expect(toHex(counterIv(key, 1n))).toBe(toHex(aesBlock(key, hex('00000000000000000000000000000001'))));
    expect(toHex(counterIv(key, 0x0102n))).toBe(toHex(aesBlock(key, hex('00000000000000000000000000000102'))));
  });
});

describe('SCP03 messages', () => {
  const keys = passwordToKeys('password');
  const context = sessionContext(hex('1111111111111111'), hex('2222222222222222'));
  const s = deriveSessionKeys(keys, context);

  it('builds AUTHENTICATE SESSION as 04 0011 sid ‖ host cryptogram ‖ CMAC(S-MAC, 0^16 ‖ 04 0011 sid ‖ cryptogram)[0..8]', () => {
    const { message, macChain } = authenticateSessionMessage(s, 3, context);
    const crypto = referenceKdf(s.sMac, 0x01, context, 64);
    const body = new Uint8Array([0x04, 0x00, 0x11, 0x03, ...crypto]);
    const full = referenceCmac(s.sMac, new Uint8Array([...new Uint8Array(16), ...body]));
    expect(toHex(message)).toBe(toHex(new Uint8Array([...body, ...full.subarray(0, 8)])));
    expect(toHex(macChain)).toBe(toHex(full));
    // The device side accepts it and starts the same chain.
    expect(toHex(verifyAuthenticateSession(s, context, message.subarray(3))!)).toBe(toHex(full));
  });

  it('the device side refuses an AUTHENTICATE SESSION under other keys', () => {
    const other = deriveSessionKeys(passwordToKeys('not the password'), context);
    const { message } = authenticateSessionMessage(other, 3, context);
    expect(verifyAuthenticateSession(s, context, message.subarray(3))).toBeUndefined();
    expect(verifyAuthenticateSession(s, context, message.subarray(3, 10))).toBeUndefined();
  });

  const state = (): ChannelState => ({ keys: s, sessionId: 5, counter: 1n, macChain: Uint8Array.from(ZERO_CHAIN).fill(0x33) });

  it('seals a command exactly as the command reference describes SESSION MESSAGE', () => {
    const inner = hex('010003aabbcc'); // ECHO aabbcc
    const st = state();
    const { message, macChain } = sealCommand(st, inner);
    // By hand: pad, CBC under S-ENC with IV = E(S-ENC, counter 1), header 05 len sid, MAC over chain ‖ header ‖ sid ‖ ct.
    const iv = aesBlock(s.sEnc, hex('00000000000000000000000000000001'));
    const cbc = createCipheriv('aes-128-cbc', s.sEnc, iv).setAutoPadding(false);
    const padded = new Uint8Array(16);
    padded.set(inner);
    padded[inner.length] = 0x80;
    const ct = new Uint8Array(Buffer.concat([cbc.update(padded), cbc.final()]));
    const len = 1 + ct.length + 8;
    const head = new Uint8Array([0x05, len >> 8, len & 0xff, 0x05, ...ct]);
    const full = referenceCmac(s.sMac, new Uint8Array([...st.macChain, ...head]));
    expect(toHex(message)).toBe(toHex(new Uint8Array([...head, ...full.subarray(0, 8)])));
    expect(toHex(macChain)).toBe(toHex(full));
  });

  it('round-trips command and response between the two ends, and the response uses the command IV and R-MAC over the command chain', () => {
    const host = state();
    const device = state();
    const sealed = sealCommand(host, hex('0600'.padEnd(6, '0')));
    const opened = openCommand(device, sealed.message);
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;
    expect(toHex(opened.inner)).toBe('060000');
    expect(toHex(opened.macChain)).toBe(toHex(sealed.macChain));

    const innerResponse = hex('86000102');
    const response = sealResponse(device, opened.macChain, innerResponse);
    // By hand: 85 len sid ‖ CBC(S-ENC, same IV) ‖ CMAC(S-RMAC, command chain ‖ 85 len sid ct)[0..8]
    const iv = aesBlock(s.sEnc, hex('00000000000000000000000000000001'));
    const ct = response.subarray(4, response.length - 8);
    const dec = createDecipheriv('aes-128-cbc', s.sEnc, iv).setAutoPadding(false);
    expect(toHex(new Uint8Array(Buffer.concat([dec.update(ct), dec.final()])))).toBe(toHex(pad(innerResponse)));
    const rmac = referenceCmac(s.sRmac, new Uint8Array([...sealed.macChain, ...response.subarray(0, response.length - 8)]));
    expect(toHex(response.subarray(response.length - 8))).toBe(toHex(rmac.subarray(0, 8)));
    expect(response[0]).toBe(0x85);

    const back = openResponse(host, sealed.macChain, response);
    expect(back).toEqual({ ok: true, inner: innerResponse });
  });

  it('refuses a response with a flipped bit, another session id, or the wrong chain', () => {
    const host = state();
    const sealed = sealCommand(host, hex('010001ff'));
    const response = sealResponse(host, sealed.macChain, hex('810001ff'));
    for (let i = 0; i < response.length; i++) {
      const bad = Uint8Array.from(response);
      bad[i]! ^= 0x01;
      expect(openResponse(host, sealed.macChain, bad).ok).toBe(false);
    }
    expect(openResponse({ ...host, sessionId: 6 }, sealed.macChain, response)).toEqual({ ok: false, reason: 'session' });
    expect(openResponse(host, ZERO_CHAIN, response)).toEqual({ ok: false, reason: 'mac' });
    expect(openResponse({ ...host, counter: 2n }, sealed.macChain, response).ok).toBe(false);
  });

  it('refuses truncated sealed messages without throwing', () => {
    const host = state();
    const sealed = sealCommand(host, hex('010001ff'));
    for (let n = 0; n < sealed.message.length; n++) {
      expect(openCommand(host, sealed.message.subarray(0, n)).ok).toBe(false);
    }
  });
});
