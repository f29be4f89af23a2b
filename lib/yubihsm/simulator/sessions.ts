import type { Capabilities } from '../capabilities.ts';
import { DeviceError } from '../protocol/errors.ts';
import { MAX_SESSIONS, wipeChannel, ZERO_CHAIN, type ChannelState, type SessionKeys } from '../session/scp03.ts';
import { refuse } from './errors.ts';

/**
 * The device's session slots (Yubico, "Core Concepts: Sessions"): sixteen,
 * ids 0..15. CREATE SESSION takes a slot; AUTHENTICATE SESSION makes it
 * usable; CLOSE SESSION, a failed authentication, a reset or 30 seconds
 * without a command free it.
 */

/** A session not used for this long is closed by the device (Yubico, "Sessions": 30 seconds). */
export const SESSION_TIMEOUT_MS = 30_000;

/** What the session may do: its authentication key's fields, as they were when it authenticated. */
export interface SessionAuthority {
  readonly keyId: number;
  readonly domains: number;
  readonly capabilities: Capabilities;
  readonly delegated: Capabilities;
}

export interface Session {
  readonly id: number;
  readonly authority: SessionAuthority;
  readonly context: Uint8Array;
  authenticated: boolean;
  /** SCP03 channel state (session keys, counter and MAC chaining value), as the functions of ../session/scp03.ts keep it. */
  readonly channel: ChannelState;
  lastUsed: number;
}

export class SessionTable {
  private readonly slots: (Session | undefined)[] = new Array<Session | undefined>(MAX_SESSIONS).fill(undefined);

  constructor(private readonly now: () => number) {}

  /** Frees sessions idle for longer than the timeout. */
  private expire(): void {
    const t = this.now();
    for (let i = 0; i < MAX_SESSIONS; i++) {
      const s = this.slots[i];
      if (s && t - s.lastUsed > SESSION_TIMEOUT_MS) this.free(i);
    }
  }

  /** Takes the lowest free slot, or refuses with SESSIONS FULL (error 0x05). */
  open(authority: SessionAuthority, context: Uint8Array, keys: SessionKeys): Session {
    this.expire();
    const id = this.slots.findIndex((s) => s === undefined);
    if (id === -1) throw refuse(DeviceError.SessionsFull, `all ${MAX_SESSIONS} sessions are in use`);
    const session: Session = {
      id,
      authority,
      context,
      authenticated: false,
      channel: { keys, sessionId: id, counter: 0n, macChain: ZERO_CHAIN },
      lastUsed: this.now(),
    };
    this.slots[id] = session;
    return session;
  }

  /** The session in slot `id` (attacker-controlled byte), if it is open and has not timed out. */
  get(id: number): Session | undefined {
    this.expire();
    if (!Number.isInteger(id) || id < 0 || id >= MAX_SESSIONS) return undefined;
    return this.slots[id];
  }

  close(id: number): void {
    if (Number.isInteger(id) && id >= 0 && id < MAX_SESSIONS) this.free(id);
  }

  closeAll(): void {
    for (let i = 0; i < MAX_SESSIONS; i++) this.free(i);
  }

  /** Frees a slot and wipes its session keys (Yubico, "Sessions": they are destroyed with the session). */
  private free(id: number): void {
    const s = this.slots[id];
    if (s) wipeChannel(s.channel);
    this.slots[id] = undefined;
  }

  /** Open sessions (authenticated or not). */
  get count(): number {
    this.expire();
    return this.slots.filter(Boolean).length;
  }
}
