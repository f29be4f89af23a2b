// Known answers published by Yubico in python-yubihsm's unit tests
// (tests/test_core.py): a recorded session opening with the factory
// authentication key, two consecutive audit-log entries, a GET DEVICE INFO
// answer and LIST OBJECTS bytes. Our code must reproduce them exactly.
import { describe, expect, it } from 'vitest';
import { YubiHsmClient } from '../../lib/yubihsm/client.ts';
import { decodeDeviceInfoResponse } from '../../lib/yubihsm/protocol/device-commands.ts';
import { firstBrokenLink, logDigest, type LogEntry } from '../../lib/yubihsm/protocol/log-commands.ts';
import { decodeListObjectsResponse, encodeListObjectsRequest } from '../../lib/yubihsm/protocol/object-commands.ts';
import { passwordToKeys } from '../../lib/yubihsm/session/scp03.ts';
import { Session } from '../../lib/yubihsm/session/session.ts';
import type { Transport } from '../../lib/yubihsm/transports/transport.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Plays back recorded responses and records what was sent. */
class Playback implements Transport {
  readonly sent: string[] = [];
  constructor(private readonly responses: Uint8Array[]) {}
  send(request: Uint8Array): Promise<Uint8Array> {
    this.sent.push(toHex(request));
    const next = this.responses.shift();
    return next ? Promise.resolve(next) : Promise.reject(new Error('no more recorded responses'));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('a recorded session opening (authentication key 1, password "password", host challenge 0^8)', () => {
  // Card challenge 054d5631c9186f80, card cryptogram 3225ed8a3224f2cf, session 0.
  const createResponse = hex('830011' + '00' + '054d5631c9186f80' + '3225ed8a3224f2cf');

  it('accepts the card cryptogram and sends the recorded AUTHENTICATE SESSION byte for byte', async () => {
    const t = new Playback([createResponse, hex('840000')]);
    const session = await Session.open(t, 1, passwordToKeys('password'), { hostChallenge: () => new Uint8Array(8) });
    expect(t.sent).toEqual([
      '03000a' + '0001' + '0000000000000000',
      '040011' + '00' + '1ce7552e0f7976db' + 'cc2198fd155c335a', // host cryptogram ‖ C-MAC
    ]);
    expect(session.id).toBe(0);
  });

  it('refuses the same card cryptogram under another password', async () => {
    const t = new Playback([createResponse]);
    await expect(Session.open(t, 1, passwordToKeys('Password'), { hostChallenge: () => new Uint8Array(8) })).toThrowWithCode(
      'YUBIHSM_CARD_CRYPTOGRAM_MISMATCH',
    );
    // Only an AUTHENTICATE SESSION the device must refuse follows (it frees the
    // slot): random bytes, different on every attempt, nothing derived from the keys.
    expect(t.sent).toHaveLength(2);
    expect(t.sent[1]!.slice(0, 8)).toBe('040011' + '00');
    const again = new Playback([createResponse]);
    await expect(Session.open(again, 1, passwordToKeys('Password'), { hostChallenge: () => new Uint8Array(8) })).toThrowWithCode(
      'YUBIHSM_CARD_CRYPTOGRAM_MISMATCH',
    );
    expect(again.sent[1]).toHaveLength(t.sent[1]!.length);
    expect(again.sent[1]).not.toBe(t.sent[1]);
  });
});

describe('recorded audit-log entries', () => {
  const e1: LogEntry = {
    number: 2, command: 0, length: 0, sessionKey: 0xffff, targetKey: 0, secondKey: 0, result: 0, tick: 0,
    digest: hex('f696906e5b3929c63ca6f10a83d2a0cc'),
  };
  const e2: LogEntry = {
    number: 3, command: 3, length: 10, sessionKey: 0xffff, targetKey: 1, secondKey: 0xffff, result: 131, tick: 35,
    digest: hex('2264d451b5eff5dfa94c544f33b787a9'),
  };

  it('chains entry 3 to entry 2 (SHA-256 of the entry ‖ previous digest, first 16 bytes)', () => {
    expect(toHex(logDigest(e2, e1.digest))).toBe('2264d451b5eff5dfa94c544f33b787a9');
    expect(firstBrokenLink([e1, e2])).toBe(-1);
  });

  it('detects a tampered digest and entries out of order', () => {
    expect(firstBrokenLink([e1, { ...e2, digest: hex('2264d451b5eff5dfa94c544f33b787a8') }])).toBe(1);
    expect(firstBrokenLink([e2, e1])).toBe(1);
  });
});

describe('recorded GET DEVICE INFO answers', () => {
  it('parses version 2.0.0, serial 7550317, log 62/62, 47 algorithms', () => {
    const info = decodeDeviceInfoResponse(hex('0200000073356d3e3e' + Array.from({ length: 47 }, (_, i) => (i + 1).toString(16).padStart(2, '0')).join('')));
    expect(info.version).toEqual({ major: 2, minor: 0, patch: 0 });
    expect(info.serial).toBe(7550317);
    expect(info.logTotal).toBe(62);
    expect(info.logUsed).toBe(62);
    expect(info.algorithms).toHaveLength(47);
  });

  it('sends 060000 and parses the framed answer (serial 7550140, 4 log entries used)', async () => {
    const t = new Playback([
      hex('860038' + '020000007334bc3e04' + Array.from({ length: 47 }, (_, i) => (i + 1).toString(16).padStart(2, '0')).join('')),
    ]);
    const info = await new YubiHsmClient(t).getDeviceInfo();
    expect(t.sent).toEqual(['060000']);
    expect(info.serial).toBe(7550140);
    expect(info.logUsed).toBe(4);
  });
});

describe('recorded LIST OBJECTS bytes', () => {
  it('encodes filters id 2, type 1, domains ffff, capabilities 003fffffffffffff, algorithm 21 as recorded', () => {
    expect(toHex(encodeListObjectsRequest({ id: 2, type: 1, domains: 0xffff, capabilities: 0x3f_ffff_ffff_ffffn, algorithm: 21 }))).toBe(
      '010002' + '0201' + '03ffff' + '04003fffffffffffff' + '0515',
    );
  });

  it('decodes a recorded listing of six objects', () => {
    expect(decodeListObjectsResponse(hex('00010200648f030000010300000405000005050000050300')).map((o) => [o.id, o.type])).toEqual([
      [1, 2],
      [0x648f, 3],
      [1, 3],
      [4, 5],
      [5, 5],
      [5, 3],
    ]);
  });
});
