// Hostile responses to an open session: arbitrary bytes, and valid sealed
// responses with one byte changed, cut short or extended. The client must
// answer every one with a typed YubiHsmError (or, for a no-op change, the
// right data), never another exception and never a hang.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { YubiHsmError, type YubiHsmErrorCode } from '../../lib/yubihsm/errors.ts';
import { Command } from '../../lib/yubihsm/protocol/commands.ts';
import { encodeFrame } from '../../lib/yubihsm/protocol/frame.ts';
import {
  deriveSessionKeys,
  openCommand,
  passwordToKeys,
  sealResponse,
  sessionContext,
  verifyAuthenticateSession,
  type ChannelState,
} from '../../lib/yubihsm/session/scp03.ts';
import { Session } from '../../lib/yubihsm/session/session.ts';
import type { Transport } from '../../lib/yubihsm/transports/transport.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

// The recorded opening of published-vectors.test.ts: host challenge 0^8, factory key.
const keys = passwordToKeys('password');
const context = sessionContext(new Uint8Array(8), hex('054d5631c9186f80'));
const sessionKeys = deriveSessionKeys(keys, context);
const CREATE = hex('830011' + '00' + '054d5631c9186f80' + '3225ed8a3224f2cf');

/** A device end for one session: answers ECHO correctly, then lets `mangle` alter the answer. */
class MangledDevice implements Transport {
  private state: ChannelState | undefined;
  constructor(private readonly mangle: (response: Uint8Array) => Uint8Array) {}
  send(request: Uint8Array): Promise<Uint8Array> {
    if (request[0] === Command.CreateSession) return Promise.resolve(CREATE);
    if (request[0] === Command.AuthenticateSession) {
      const chain = verifyAuthenticateSession(sessionKeys, context, request.subarray(3));
      if (chain === undefined) return Promise.reject(new Error('the client sent a bad AUTHENTICATE SESSION'));
      this.state = { keys: sessionKeys, sessionId: 0, counter: 1n, macChain: chain };
      return Promise.resolve(hex('840000'));
    }
    const state = this.state!;
    const opened = openCommand(state, request);
    if (!opened.ok) return Promise.reject(new Error(`the client sent a bad session message (${opened.reason})`));
    const inner = encodeFrame(opened.inner[0]! | 0x80, opened.inner.subarray(3));
    const response = sealResponse(state, opened.macChain, inner);
    state.counter += 1n;
    state.macChain = opened.macChain;
    return Promise.resolve(this.mangle(response));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Echoes `payload` through a device whose response is mangled. A response
 * left as it was must come back intact; any real change must be refused with
 * a typed error (`code`, when given) and end the session. Accepting a
 * changed response, whatever it decrypts to, is the failure these tests
 * look for.
 */
async function echoThrough(mangle: (r: Uint8Array) => Uint8Array, payload: Uint8Array, code?: YubiHsmErrorCode): Promise<void> {
  let changed = false;
  const device = new MangledDevice((r) => {
    const m = mangle(r);
    changed = !Buffer.from(m).equals(Buffer.from(r));
    return m;
  });
  const session = await Session.open(device, 1, keys, { hostChallenge: () => new Uint8Array(8) });
  const result = session.send(Command.Echo, payload);
  await result.catch(() => undefined);
  if (!changed) {
    expect(Buffer.from(await result).equals(Buffer.from(payload))).toBe(true);
    return;
  }
  await expect(result).rejects.toBeInstanceOf(YubiHsmError);
  if (code !== undefined) await expect(result).toThrowWithCode(code);
  expect(session.isOpen).toBe(false);
}

/** What a change at byte `pos` of a session response must be refused as. */
function refusalAt(pos: number): YubiHsmErrorCode | undefined {
  if (pos === 0) return undefined; // another response code: unexpected, or a malformed error frame
  if (pos <= 2) return 'YUBIHSM_FRAME_MALFORMED'; // the length field no longer matches
  return 'YUBIHSM_RESPONSE_MAC_MISMATCH'; // session id, ciphertext or R-MAC: all covered by the R-MAC
}

describe('session responses under fuzzing', () => {
  it('answers correctly when nothing is changed', async () => {
    await echoThrough((r) => r, hex('00112233'));
  });

  it('arbitrary bytes instead of the response', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 120 }), async (garbage) => {
        await echoThrough(() => garbage, hex('aa'));
      }),
      { numRuns: 500 },
    );
  });

  it('one byte of a valid response changed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 60 }), fc.nat(), fc.integer({ min: 0, max: 255 }), async (payload, pos, value) => {
        // The sealed ECHO response: header (3) ‖ session id (1) ‖ the padded inner frame ‖ R-MAC (8).
        const length = 3 + 1 + (Math.floor((3 + payload.length) / 16) + 1) * 16 + 8;
        const at = pos % length;
        await echoThrough(
          (r) => {
            expect(r).toHaveLength(length);
            const m = Uint8Array.from(r);
            m[at] = value;
            return m;
          },
          payload,
          refusalAt(at),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('a valid response cut short or extended', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 60 }), fc.integer({ min: -40, max: 40 }).filter((d) => d !== 0), async (payload, delta) => {
        await echoThrough(
          (r) => (delta < 0 ? r.subarray(0, Math.max(0, r.length + delta)) : Uint8Array.from([...r, ...new Uint8Array(delta)])),
          payload,
          'YUBIHSM_FRAME_MALFORMED',
        );
      }),
      { numRuns: 300 },
    );
  });
});
