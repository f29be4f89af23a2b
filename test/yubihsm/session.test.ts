// The host end of SCP03 against the simulated device, with a recording
// transport so the frames sent can be compared with bytes built by hand.
import { beforeAll, describe, expect, it } from 'vitest';
import { YubiHsmClient } from '../../lib/yubihsm/client.ts';
import { Command } from '../../lib/yubihsm/protocol/commands.ts';
import { decodeResponse, encodeFrame } from '../../lib/yubihsm/protocol/frame.ts';
import { ObjectType } from '../../lib/yubihsm/protocol/objects.ts';
import { decodeCreateSessionResponse } from '../../lib/yubihsm/protocol/session-commands.ts';
import { passwordToKeys } from '../../lib/yubihsm/session/scp03.ts';
import { Session } from '../../lib/yubihsm/session/session.ts';
import { makeDeviceIdentity, SimulatedYubiHsm, type DeviceIdentity } from '../../lib/yubihsm/simulator/index.ts';
import { InProcessTransport } from '../../lib/yubihsm/transports/in-process.ts';
import type { Transport } from '../../lib/yubihsm/transports/transport.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

class Recording implements Transport {
  readonly sent: Uint8Array[] = [];
  readonly received: Uint8Array[] = [];
  constructor(private readonly inner: Transport) {}
  async send(request: Uint8Array): Promise<Uint8Array> {
    this.sent.push(Uint8Array.from(request));
    const res = await this.inner.send(request);
    this.received.push(Uint8Array.from(res));
    return res;
  }
  async close(): Promise<void> {
    await this.inner.close();
  }
}

let identity: DeviceIdentity;
beforeAll(async () => {
  identity = await makeDeviceIdentity(7550054);
});
const device = () => SimulatedYubiHsm.create({ identity });
const factory = passwordToKeys('password');

describe('opening a session', () => {
  it('sends CREATE SESSION as 03 000a ‖ key id ‖ host challenge, then a 20-byte AUTHENTICATE SESSION', async () => {
    const rec = new Recording(new InProcessTransport(await device()));
    const session = await Session.open(rec, 1, factory, { hostChallenge: () => hex('0102030405060708') });
    expect(toHex(rec.sent[0]!)).toBe('03000a' + '0001' + '0102030405060708');
    expect(rec.received[0]).toHaveLength(3 + 17);
    expect(toHex(rec.sent[1]!.subarray(0, 4))).toBe('040011' + toHex(Uint8Array.of(session.id)));
    expect(rec.sent[1]).toHaveLength(20);
    expect(toHex(rec.received[1]!)).toBe('840000');
    expect(session.isOpen).toBe(true);
  });

  it('refuses a card cryptogram made with other keys (wrong password)', async () => {
    const t = new InProcessTransport(await device());
    await expect(Session.open(t, 1, passwordToKeys('wrong password'))).toThrowWithCode('YUBIHSM_CARD_CRYPTOGRAM_MISMATCH');
  });

  it('a wrong password does not leave a session slot taken on the device', async () => {
    // A host that simply stops after the card cryptogram mismatch leaves the
    // half-open session in one of the 16 slots until the device's session
    // timeout: 16 mistyped passwords in a row would lock the operator out.
    const dev = await device();
    const t = new InProcessTransport(dev);
    for (let i = 0; i < 17; i++) {
      await expect(Session.open(t, 1, passwordToKeys('wrong password'))).toThrowWithCode('YUBIHSM_CARD_CRYPTOGRAM_MISMATCH');
      expect(dev.openSessions).toBe(0);
    }
    const session = await Session.open(t, 1, factory);
    expect(session.isOpen).toBe(true);
  });

  it('surfaces the device refusing a host cryptogram made with other keys as YUBIHSM_DEVICE_AUTH_FAIL', async () => {
    // Bypass the host check: answer the card with a cryptogram from the wrong keys.
    const t = new InProcessTransport(await device());
    const created = decodeCreateSessionResponse(
      decodeResponse(Command.CreateSession, await t.send(encodeFrame(Command.CreateSession, hex('0001' + '0000000000000000')))),
    );
    const bogus = encodeFrame(Command.AuthenticateSession, new Uint8Array([created.sessionId, ...new Uint8Array(16)]));
    const res = await t.send(bogus);
    expect(() => decodeResponse(Command.AuthenticateSession, res)).toThrowWithCode('YUBIHSM_DEVICE_AUTH_FAIL');
  });

  it('surfaces a missing authentication key as the device error', async () => {
    const t = new InProcessTransport(await device());
    await expect(Session.open(t, 9, factory)).toThrowWithCode('YUBIHSM_DEVICE_OBJECT_NOT_FOUND');
  });
});

describe('closing', () => {
  it('closing twice at once sends one CLOSE SESSION and resolves both', async () => {
    const dev = await device();
    const rec = new Recording(new InProcessTransport(dev));
    const session = await Session.open(rec, 1, factory);
    await Promise.all([session.close(), session.close()]);
    expect(rec.sent.filter((f) => f[0] === Command.SessionMessage)).toHaveLength(1);
    expect(session.isOpen).toBe(false);
    expect(dev.openSessions).toBe(0);
    await session.close();
  });
});

describe('session messages', () => {
  it('keeps the session usable after an inner device error', async () => {
    const client = new YubiHsmClient(new InProcessTransport(await device()));
    const s = await client.openSession(1, { keys: factory });
    await expect(s.getObjectInfo(77, ObjectType.AsymmetricKey)).toThrowWithCode('YUBIHSM_DEVICE_OBJECT_NOT_FOUND');
    expect(toHex(await s.echo(hex('c0ffee')))).toBe('c0ffee');
  });

  it('runs concurrent commands one at a time, in order, on one session', async () => {
    const client = new YubiHsmClient(new InProcessTransport(await device()));
    const s = await client.openSession(1, { keys: factory });
    const out = await Promise.all(Array.from({ length: 25 }, (_, i) => s.echo(Uint8Array.of(i))));
    expect(out.map((b) => b[0])).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it('encrypts: the same command twice gives different ciphertext (the counter moves the IV)', async () => {
    const rec = new Recording(new InProcessTransport(await device()));
    const s = await new YubiHsmClient(rec).openSession(1, { keys: factory });
    await s.echo(hex('00'));
    await s.echo(hex('00'));
    const [a, b] = rec.sent.slice(-2);
    expect(toHex(a!.subarray(0, 4))).toBe(toHex(b!.subarray(0, 4)));
    expect(toHex(a!.subarray(4))).not.toBe(toHex(b!.subarray(4)));
  });

  it('refuses after close, and closing twice is harmless', async () => {
    const s = await new YubiHsmClient(new InProcessTransport(await device())).openSession(1, { keys: factory });
    await s.close();
    await s.close();
    await expect(s.echo(hex('00'))).toThrowWithCode('YUBIHSM_SESSION_CLOSED');
  });

  it.each([
    ['the response code', 0, 'YUBIHSM_RESPONSE_UNEXPECTED'],
    ['the session id', 3, 'YUBIHSM_RESPONSE_MAC_MISMATCH'],
    ['the ciphertext', 5, 'YUBIHSM_RESPONSE_MAC_MISMATCH'],
    ['the R-MAC', -1, 'YUBIHSM_RESPONSE_MAC_MISMATCH'],
  ] as const)('refuses a response with a bit flipped in %s, and the session then ends', async (_what, at, code) => {
    const tamper = new Tamper(new InProcessTransport(await device()));
    const s = await new YubiHsmClient(tamper).openSession(1, { keys: factory });
    tamper.flipNext = at;
    await expect(s.echo(hex('0102'))).toThrowWithCode(code);
    expect(s.isOpen).toBe(false);
    await expect(s.echo(hex('0102'))).toThrowWithCode('YUBIHSM_SESSION_CLOSED');
  });

  it('refuses a truncated session response', async () => {
    const tamper = new Tamper(new InProcessTransport(await device()));
    const s = await new YubiHsmClient(tamper).openSession(1, { keys: factory });
    tamper.truncateNext = true;
    await expect(s.echo(hex('0102'))).toThrowWithCode('YUBIHSM_FRAME_MALFORMED');
    expect(s.isOpen).toBe(false);
  });

  it('turns a link failure into a typed error and ends the session', async () => {
    const dev = await device();
    const s = await new YubiHsmClient(new InProcessTransport(dev)).openSession(1, { keys: factory });
    dev.faults = { dropAfter: 0 };
    await expect(s.echo(hex('01'))).toThrowWithCode('YUBIHSM_LINK_FAILED');
    expect(s.isOpen).toBe(false);
  });
});

/** Alters the next response on its way back: one bit flipped, or its last byte cut. */
class Tamper implements Transport {
  flipNext: number | undefined;
  truncateNext = false;
  constructor(private readonly inner: Transport) {}
  async send(request: Uint8Array): Promise<Uint8Array> {
    const res = Uint8Array.from(await this.inner.send(request));
    if (this.flipNext !== undefined) {
      res[this.flipNext < 0 ? res.length + this.flipNext : this.flipNext]! ^= 0x01;
      this.flipNext = undefined;
    }
    if (this.truncateNext) {
      this.truncateNext = false;
      return res.subarray(0, res.length - 1);
    }
    return res;
  }
  async close(): Promise<void> {
    await this.inner.close();
  }
}
