// Session keys must not outlive their session (Yubico, "Sessions": session
// keys are destroyed when the session is no longer in use). Both ends wipe
// S-ENC, S-MAC, S-RMAC and the MAC chaining value when a session ends.
import { describe, expect, it } from 'vitest';
import {
  deriveSessionKeys,
  passwordToKeys,
  sessionContext,
  wipeChannel,
  type ChannelState,
  type SessionKeys,
} from '../../lib/yubihsm/session/scp03.ts';
import { Command } from '../../lib/yubihsm/protocol/commands.ts';
import { Session } from '../../lib/yubihsm/session/session.ts';
import { SimulatedYubiHsm } from '../../lib/yubihsm/simulator/index.ts';
import { SESSION_TIMEOUT_MS, SessionTable } from '../../lib/yubihsm/simulator/sessions.ts';
import { InProcessTransport } from '../../lib/yubihsm/transports/in-process.ts';

const factory = passwordToKeys('password');
const allZero = (b: Uint8Array): boolean => b.length > 0 && b.every((x) => x === 0);

function channel(): ChannelState {
  const context = sessionContext(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1));
  return { keys: deriveSessionKeys(factory, context), sessionId: 0, counter: 1n, macChain: new Uint8Array(16).fill(0xaa) };
}

function keysWiped(keys: SessionKeys): boolean {
  return allZero(keys.sEnc) && allZero(keys.sMac) && allZero(keys.sRmac);
}

function wiped(state: ChannelState): boolean {
  return keysWiped(state.keys) && allZero(state.macChain);
}

describe('session keys do not outlive the session', () => {
  it('wipeChannel zeroes the three session keys and the chaining value', () => {
    const state = channel();
    expect(wiped(state)).toBe(false);
    wipeChannel(state);
    expect(wiped(state)).toBe(true);
  });

  it('the host wipes its channel on CLOSE SESSION', async () => {
    const t = new InProcessTransport(await SimulatedYubiHsm.create());
    const session = await Session.open(t, 1, factory);
    // The channel is private; reach it only to look at the bytes after close.
    const state = Reflect.get(session, 'state') as ChannelState;
    expect(wiped(state)).toBe(false);
    await session.close();
    expect(wiped(state)).toBe(true);
    await expect(session.send(Command.Echo, Uint8Array.of(1))).toThrowWithCode('YUBIHSM_SESSION_CLOSED');
  });

  it('the host wipes its channel when an exchange breaks it', async () => {
    const dev = await SimulatedYubiHsm.create();
    const session = await Session.open(new InProcessTransport(dev), 1, factory);
    const state = Reflect.get(session, 'state') as ChannelState;
    dev.faults.garbage = () => Uint8Array.of(0x85, 0x00, 0x00);
    await expect(session.send(Command.Echo, Uint8Array.of(1))).toThrowWithCode('YUBIHSM_FRAME_MALFORMED');
    expect(session.isOpen).toBe(false);
    expect(wiped(state)).toBe(true);
  });

  it('the device wipes a slot it frees: closed, closed all, or timed out', () => {
    let now = 0;
    const table = new SessionTable(() => now);
    const authority = { keyId: 1, domains: 1, capabilities: 0n, delegated: 0n };
    const open = () => {
      const c = channel();
      return table.open(authority, new Uint8Array(16), c.keys);
    };
    const a = open();
    const b = open();
    const c = open();
    for (const s of [a, b, c]) expect(keysWiped(s.channel.keys)).toBe(false);
    table.close(a.id);
    expect(keysWiped(a.channel.keys)).toBe(true);
    expect(keysWiped(b.channel.keys)).toBe(false);
    now += SESSION_TIMEOUT_MS + 1;
    expect(table.get(b.id)).toBeUndefined();
    expect(keysWiped(b.channel.keys)).toBe(true);
    const d = open();
    table.closeAll();
    for (const s of [c, d]) expect(keysWiped(s.channel.keys)).toBe(true);
  });
});
