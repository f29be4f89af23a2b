/**
 * SCP03 as the YubiHSM 2 does it: pure functions, used by the host (client)
 * and by the simulated device alike. Nothing here does I/O or keeps state;
 * the caller holds the channel state (keys, counter, MAC chaining value).
 *
 * Sources: GlobalPlatform Card Specification v2.3 Amendment D (SCP03), with
 * the message formats of Yubico's command reference, sections "CREATE
 * SESSION", "AUTHENTICATE SESSION" and "SESSION MESSAGE", and Yubico's
 * "Session" concept page:
 *
 *  1. Static keys. An authentication key is two AES-128 keys, K-ENC and
 *     K-MAC. From a password: PBKDF2-HMAC-SHA256(password, salt "Yubico",
 *     10 000 iterations, 32 bytes); the first 16 bytes are K-ENC, the last
 *     16 K-MAC (`passwordToKeys`).
 *  2. CREATE SESSION (0x03): the host sends key id (2) ‖ host challenge (8);
 *     the device answers session id (1) ‖ card challenge (8) ‖ card
 *     cryptogram (8). The context is host challenge ‖ card challenge.
 *  3. Session keys (`deriveSessionKeys`): S-ENC = KDF(K-ENC, 0x04),
 *     S-MAC = KDF(K-MAC, 0x06), S-RMAC = KDF(K-MAC, 0x07), each 128 bits.
 *     Cryptograms are 64-bit KDF outputs under S-MAC: card 0x00, host 0x01.
 *     The KDF is NIST SP 800-108 in counter mode with AES-CMAC as the PRF,
 *     input: 11 zero bytes ‖ constant (1) ‖ 0x00 ‖ L in bits (2) ‖
 *     counter i = 0x01 (1) ‖ context (16) (`kdf`).
 *  4. AUTHENTICATE SESSION (0x04): session id (1) ‖ host cryptogram (8) ‖
 *     C-MAC (8), where C-MAC = first 8 bytes of CMAC(S-MAC, 16 zero bytes ‖
 *     0x04 ‖ Lc ‖ session id ‖ host cryptogram) and Lc = 17 counts the MAC.
 *     The full 16-byte CMAC is the first MAC chaining value.
 *  5. SESSION MESSAGE (0x05): the inner command frame is padded (0x80 then
 *     zeros to a 16-byte multiple) and encrypted with AES-128-CBC under
 *     S-ENC, IV = AES-ECB(S-ENC, counter as 16 bytes big-endian); the counter
 *     is 1 for the first message after AUTHENTICATE SESSION and goes up by
 *     one per exchange. Outer data: session id ‖ ciphertext ‖ C-MAC, where
 *     the C-MAC is over chain ‖ 0x05 ‖ Lc ‖ session id ‖ ciphertext and its
 *     full 16 bytes become the next chaining value.
 *  6. The response (0x85): session id ‖ ciphertext ‖ R-MAC, the ciphertext
 *     under the same key and IV as the command, R-MAC = first 8 bytes of
 *     CMAC(S-RMAC, command's full C-MAC ‖ 0x85 ‖ Lr ‖ session id ‖
 *     ciphertext). The R-MAC does not change the chaining value.
 *
 * Every comparison of a MAC or cryptogram is constant-time.
 */
import { cmac } from '@noble/ciphers/aes.js';
import { createCipheriv, createDecipheriv, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { Command, RESPONSE_FLAG } from '../protocol/commands.ts';

/** AES-128 key length. */
export const KEY_BYTES = 16;
/** AES block length. */
export const BLOCK_BYTES = 16;
/** Host and card challenges. */
export const CHALLENGE_BYTES = 8;
/** Card and host cryptograms. */
export const CRYPTOGRAM_BYTES = 8;
/** A C-MAC or R-MAC as sent: the first 8 bytes of the CMAC. */
export const MAC_BYTES = 8;
/** Context: host challenge ‖ card challenge. */
export const CONTEXT_BYTES = 2 * CHALLENGE_BYTES;
/** The device has 16 session slots, ids 0..15. */
export const MAX_SESSIONS = 16;

/** PBKDF2 parameters for password-derived authentication keys (libyubihsm `YH_DEFAULT_SALT`, `YH_DEFAULT_ITERS`). */
export const PBKDF2_SALT = 'Yubico';
export const PBKDF2_ITERATIONS = 10_000;
export const PBKDF2_HASH = 'sha256';

/** Derivation constants of the SCP03 KDF (GP Amendment D, table 4-1). */
export const enum DerivationConstant {
  /** Card cryptogram (64 bits, under S-MAC). */
  CardCryptogram = 0x00,
  /** Host cryptogram (64 bits, under S-MAC). */
  HostCryptogram = 0x01,
  /** S-ENC (128 bits, under K-ENC). */
  SessionEnc = 0x04,
  /** S-MAC (128 bits, under K-MAC). */
  SessionMac = 0x06,
  /** S-RMAC (128 bits, under K-MAC). */
  SessionRmac = 0x07,
}

/** The two long-lived keys of an authentication key object. Secret. */
export interface StaticKeys {
  readonly enc: Uint8Array;
  readonly mac: Uint8Array;
}

/** The three keys of one session. Secret; live only as long as the session. */
export interface SessionKeys {
  readonly sEnc: Uint8Array;
  readonly sMac: Uint8Array;
  readonly sRmac: Uint8Array;
}

/**
 * K-ENC and K-MAC from a password: PBKDF2-HMAC-SHA256, salt "Yubico", 10 000
 * iterations, 32 bytes split 16 / 16. Deliberately slow (tens of
 * milliseconds): callers that open several sessions should use the cache in
 * `lib/yubihsm/password.ts`.
 */
export function passwordToKeys(password: string | Uint8Array): StaticKeys {
  const out = pbkdf2Sync(password, PBKDF2_SALT, PBKDF2_ITERATIONS, 2 * KEY_BYTES, PBKDF2_HASH);
  return splitKeys(out);
}

/** Splits a 32-byte PBKDF2 output into K-ENC (first 16) and K-MAC (last 16). */
export function splitKeys(derived: Uint8Array): StaticKeys {
  if (derived.length !== 2 * KEY_BYTES) throw new RangeError(`derived key material has ${2 * KEY_BYTES} bytes, not ${derived.length}`);
  return { enc: Uint8Array.from(derived.subarray(0, KEY_BYTES)), mac: Uint8Array.from(derived.subarray(KEY_BYTES)) };
}

/** AES-CMAC (RFC 4493) over the concatenation of `parts`, via @noble/ciphers. Full 16 bytes. */
export function aesCmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const mac = cmac.create(key);
  for (const p of parts) mac.update(p);
  return mac.digest();
}

/**
 * The SCP03 KDF (NIST SP 800-108 counter mode, PRF = AES-CMAC), for the
 * output lengths the YubiHSM uses: 64 bits (cryptograms) and 128 bits
 * (session keys), each one PRF block (i = 1).
 */
export function kdf(key: Uint8Array, constant: DerivationConstant, context: Uint8Array, bits: 64 | 128): Uint8Array {
  if (context.length !== CONTEXT_BYTES) throw new RangeError(`the SCP03 context has ${CONTEXT_BYTES} bytes, not ${context.length}`);
  const input = new Uint8Array(16 + CONTEXT_BYTES);
  // input[0..10]: the 11-byte zero label.
  input[11] = constant;
  input[12] = 0x00; // separation indicator
  input[13] = bits >>> 8;
  input[14] = bits & 0xff;
  input[15] = 0x01; // counter i
  input.set(context, 16);
  return aesCmac(key, input).subarray(0, bits / 8);
}

/** host challenge ‖ card challenge. */
export function sessionContext(hostChallenge: Uint8Array, cardChallenge: Uint8Array): Uint8Array {
  if (hostChallenge.length !== CHALLENGE_BYTES || cardChallenge.length !== CHALLENGE_BYTES) {
    throw new RangeError(`challenges have ${CHALLENGE_BYTES} bytes`);
  }
  const ctx = new Uint8Array(CONTEXT_BYTES);
  ctx.set(hostChallenge, 0);
  ctx.set(cardChallenge, CHALLENGE_BYTES);
  return ctx;
}

/** S-ENC, S-MAC, S-RMAC for one session. */
export function deriveSessionKeys(keys: StaticKeys, context: Uint8Array): SessionKeys {
  return {
    sEnc: kdf(keys.enc, DerivationConstant.SessionEnc, context, 128),
    sMac: kdf(keys.mac, DerivationConstant.SessionMac, context, 128),
    sRmac: kdf(keys.mac, DerivationConstant.SessionRmac, context, 128),
  };
}

/** The card cryptogram the device sends in its CREATE SESSION response. */
export function cardCryptogram(session: SessionKeys, context: Uint8Array): Uint8Array {
  return kdf(session.sMac, DerivationConstant.CardCryptogram, context, 64);
}

/** The host cryptogram the host sends in AUTHENTICATE SESSION. */
export function hostCryptogram(session: SessionKeys, context: Uint8Array): Uint8Array {
  return kdf(session.sMac, DerivationConstant.HostCryptogram, context, 64);
}

/** Constant-time equality of two byte strings (false for different lengths). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The MAC of an SCP03 message: CMAC(key, chain ‖ message), all 16 bytes. The
 * wire carries the first 8 (`MAC_BYTES`); a C-MAC's full value is the next
 * chaining value.
 */
export function chainedMac(key: Uint8Array, chain: Uint8Array, message: Uint8Array): Uint8Array {
  if (chain.length !== BLOCK_BYTES) throw new RangeError(`a MAC chaining value has ${BLOCK_BYTES} bytes`);
  return aesCmac(key, chain, message);
}

/** The 16-byte big-endian form of a message counter. */
export function counterBlock(counter: bigint): Uint8Array {
  if (counter < 0n || counter >= 1n << 128n) throw new RangeError('the SCP03 counter is a 128-bit unsigned value');
  const out = new Uint8Array(BLOCK_BYTES);
  let c = counter;
  for (let i = BLOCK_BYTES - 1; i >= 0 && c > 0n; i--) {
    out[i] = Number(c & 0xffn);
    c >>= 8n;
  }
  return out;
}

/** The CBC IV of message `counter`: AES-ECB(S-ENC, counter as 16 bytes big-endian). */
export function counterIv(sEnc: Uint8Array, counter: bigint): Uint8Array {
  const ecb = createCipheriv('aes-128-ecb', sEnc, null).setAutoPadding(false);
  const out = Buffer.concat([ecb.update(counterBlock(counter)), ecb.final()]);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** ISO/IEC 9797-1 method 2 padding: 0x80, then zeros to a multiple of 16 (always at least one byte). */
export function pad(data: Uint8Array): Uint8Array {
  const padded = new Uint8Array((Math.floor(data.length / BLOCK_BYTES) + 1) * BLOCK_BYTES);
  padded.set(data);
  padded[data.length] = 0x80;
  return padded;
}

/**
 * Removes 0x80 00… padding. Returns undefined if the padding is malformed
 * (no 0x80 within the last block, or a non-zero byte after it). The input is
 * attacker-controlled once decrypted; nothing here throws on it.
 */
export function unpad(padded: Uint8Array): Uint8Array | undefined {
  if (padded.length === 0 || padded.length % BLOCK_BYTES !== 0) return undefined;
  for (let i = padded.length - 1; i >= padded.length - BLOCK_BYTES; i--) {
    const b = padded[i]!;
    if (b === 0x80) return padded.subarray(0, i);
    if (b !== 0x00) return undefined;
  }
  return undefined;
}

/** AES-128-CBC without padding (`data` must be whole blocks). */
export function cbcEncrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
  const out = Buffer.concat([c.update(data), c.final()]);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** AES-128-CBC decryption without padding (`data` must be whole blocks). */
export function cbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const c = createDecipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
  const out = Buffer.concat([c.update(data), c.final()]);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

// ---------------------------------------------------------------------------
// Message level. Both sides build and check the same bytes; each function
// says which side calls it.

/** The state of one authenticated channel, as both ends keep it. */
export interface ChannelState {
  readonly keys: SessionKeys;
  readonly sessionId: number;
  /** The counter of the next SESSION MESSAGE (1 after AUTHENTICATE SESSION). */
  counter: bigint;
  /** The full 16-byte C-MAC of the last accepted command (16 zero bytes before AUTHENTICATE SESSION). */
  macChain: Uint8Array;
}

/** The chaining value before AUTHENTICATE SESSION. */
export const ZERO_CHAIN: Uint8Array = new Uint8Array(BLOCK_BYTES);

/**
 * Overwrites a channel's session keys and MAC chaining value with zeros.
 * Both ends call it when the session ends (closed, reset, timed out, or
 * broken), so S-ENC, S-MAC and S-RMAC do not linger in memory until the
 * garbage collector gets to them (Yubico, "Sessions": session keys are
 * destroyed when the session is no longer in use). A wiped channel can no
 * longer produce a valid MAC, so any later use of it fails closed.
 */
export function wipeChannel(state: ChannelState): void {
  state.keys.sEnc.fill(0);
  state.keys.sMac.fill(0);
  state.keys.sRmac.fill(0);
  if (state.macChain !== ZERO_CHAIN) state.macChain.fill(0);
}

/** The header bytes `code ‖ length (2, BE)` the MACs cover. */
function header(code: number, length: number): Uint8Array {
  return Uint8Array.of(code, length >>> 8, length & 0xff);
}

/**
 * Host: the complete AUTHENTICATE SESSION request frame, and the chaining
 * value it starts. (Yubico command reference, "AUTHENTICATE SESSION".)
 */
export function authenticateSessionMessage(
  keys: SessionKeys,
  sessionId: number,
  context: Uint8Array,
): { message: Uint8Array; macChain: Uint8Array } {
  const cryptogram = hostCryptogram(keys, context);
  const length = 1 + CRYPTOGRAM_BYTES + MAC_BYTES;
  const body = new Uint8Array(3 + 1 + CRYPTOGRAM_BYTES);
  body.set(header(Command.AuthenticateSession, length), 0);
  body[3] = sessionId;
  body.set(cryptogram, 4);
  const full = chainedMac(keys.sMac, ZERO_CHAIN, body);
  const message = new Uint8Array(3 + length);
  message.set(body);
  message.set(full.subarray(0, MAC_BYTES), body.length);
  return { message, macChain: full };
}

/**
 * Device: checks an AUTHENTICATE SESSION request's data (session id ‖ host
 * cryptogram ‖ C-MAC; attacker-controlled). Returns the first chaining value
 * when both the MAC and the host cryptogram verify, undefined otherwise
 * (the device then answers AUTHENTICATION FAILED).
 */
export function verifyAuthenticateSession(keys: SessionKeys, context: Uint8Array, data: Uint8Array): Uint8Array | undefined {
  if (data.length !== 1 + CRYPTOGRAM_BYTES + MAC_BYTES) return undefined;
  const body = new Uint8Array(3 + 1 + CRYPTOGRAM_BYTES);
  body.set(header(Command.AuthenticateSession, data.length), 0);
  body.set(data.subarray(0, 1 + CRYPTOGRAM_BYTES), 3);
  const full = chainedMac(keys.sMac, ZERO_CHAIN, body);
  const macOk = bytesEqual(full.subarray(0, MAC_BYTES), data.subarray(1 + CRYPTOGRAM_BYTES));
  const cryptogramOk = bytesEqual(hostCryptogram(keys, context), data.subarray(1, 1 + CRYPTOGRAM_BYTES));
  return macOk && cryptogramOk ? full : undefined;
}

/**
 * Host: wraps an inner command frame into a SESSION MESSAGE request frame.
 * Does not change `state`; returns the chaining value the command starts
 * (store it, and count the counter up, once the response verifies).
 */
export function sealCommand(state: ChannelState, innerFrame: Uint8Array): { message: Uint8Array; macChain: Uint8Array } {
  const iv = counterIv(state.keys.sEnc, state.counter);
  const padded = pad(innerFrame);
  const ciphertext = cbcEncrypt(state.keys.sEnc, iv, padded);
  // The plaintext may carry key material (PUT AUTHENTICATION KEY): do not leave a copy behind.
  padded.fill(0);
  const length = 1 + ciphertext.length + MAC_BYTES;
  const message = new Uint8Array(3 + length);
  message.set(header(Command.SessionMessage, length), 0);
  message[3] = state.sessionId;
  message.set(ciphertext, 4);
  const full = chainedMac(state.keys.sMac, state.macChain, message.subarray(0, 4 + ciphertext.length));
  message.set(full.subarray(0, MAC_BYTES), 4 + ciphertext.length);
  return { message, macChain: full };
}

/** Why a sealed message was refused (the device answers AUTHENTICATION FAILED or INVALID DATA; the host fails the session). */
export type OpenFailure = 'command' | 'length' | 'session' | 'mac' | 'padding';

/**
 * Device: checks and decrypts a SESSION MESSAGE request frame (the whole
 * frame, header included; attacker-controlled). On success returns the inner
 * command frame and the chaining value to keep.
 */
export function openCommand(
  state: ChannelState,
  message: Uint8Array,
): { ok: true; inner: Uint8Array; macChain: Uint8Array } | { ok: false; reason: OpenFailure } {
  const opened = openSealed(state.keys.sMac, state.macChain, state, message, Command.SessionMessage);
  if (!opened.ok) return opened;
  return { ok: true, inner: opened.inner, macChain: opened.full };
}

/**
 * Device: wraps an inner response frame into the SESSION MESSAGE response
 * frame (0x85). `commandChain` is the full C-MAC of the command answered.
 */
export function sealResponse(state: ChannelState, commandChain: Uint8Array, innerFrame: Uint8Array): Uint8Array {
  const iv = counterIv(state.keys.sEnc, state.counter);
  const ciphertext = cbcEncrypt(state.keys.sEnc, iv, pad(innerFrame));
  const length = 1 + ciphertext.length + MAC_BYTES;
  const message = new Uint8Array(3 + length);
  message.set(header(Command.SessionMessage | RESPONSE_FLAG, length), 0);
  message[3] = state.sessionId;
  message.set(ciphertext, 4);
  const rmac = chainedMac(state.keys.sRmac, commandChain, message.subarray(0, 4 + ciphertext.length));
  message.set(rmac.subarray(0, MAC_BYTES), 4 + ciphertext.length);
  return message;
}

/**
 * Host: checks and decrypts a SESSION MESSAGE response frame (0x85, whole
 * frame; attacker-controlled) against the chaining value of the command it
 * answers. Returns the inner response frame.
 */
export function openResponse(
  state: ChannelState,
  commandChain: Uint8Array,
  message: Uint8Array,
): { ok: true; inner: Uint8Array } | { ok: false; reason: OpenFailure } {
  const opened = openSealed(state.keys.sRmac, commandChain, state, message, Command.SessionMessage | RESPONSE_FLAG);
  if (!opened.ok) return opened;
  return { ok: true, inner: opened.inner };
}

function openSealed(
  macKey: Uint8Array,
  chain: Uint8Array,
  state: ChannelState,
  message: Uint8Array,
  code: number,
): { ok: true; inner: Uint8Array; full: Uint8Array } | { ok: false; reason: OpenFailure } {
  // Smallest: header, session id, one block, MAC.
  if (message.length < 3 + 1 + BLOCK_BYTES + MAC_BYTES) return { ok: false, reason: 'length' };
  if (message[0] !== code) return { ok: false, reason: 'command' };
  const length = (message[1]! << 8) | message[2]!;
  if (length !== message.length - 3) return { ok: false, reason: 'length' };
  const ciphertextLength = length - 1 - MAC_BYTES;
  if (ciphertextLength % BLOCK_BYTES !== 0) return { ok: false, reason: 'length' };
  const macStart = 4 + ciphertextLength;
  const full = chainedMac(macKey, chain, message.subarray(0, macStart));
  if (!bytesEqual(full.subarray(0, MAC_BYTES), message.subarray(macStart))) return { ok: false, reason: 'mac' };
  // The session id is checked after the MAC, as it is covered by it.
  if (message[3] !== state.sessionId) return { ok: false, reason: 'session' };
  const iv = counterIv(state.keys.sEnc, state.counter);
  const inner = unpad(cbcDecrypt(state.keys.sEnc, iv, message.subarray(4, macStart)));
  if (inner === undefined) return { ok: false, reason: 'padding' };
  return { ok: true, inner, full };
}
