import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { capabilities } from '../../../lib/yubihsm/capabilities.ts';
import { LOG_CAPACITY } from '../../../lib/yubihsm/simulator/index.ts';
import { ALG, CMD, afterReboot, device, frame, generateData, open, parse, putAuthKeyData, u16 } from './raw-host.ts';

interface Entry {
  number: number;
  command: number;
  length: number;
  sessionKey: number;
  target: number;
  second: number;
  result: number;
  tick: number;
  digest: string;
  fields: Buffer;
}

/** Decodes GET LOG ENTRIES data from the layout in the command reference, independently of the simulator. */
function decodeLog(data: Uint8Array): { boots: number; auths: number; entries: Entry[] } {
  const b = Buffer.from(data);
  const n = b[4]!;
  expect(b.length).toBe(5 + 32 * n);
  const entries: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const e = b.subarray(5 + 32 * i, 5 + 32 * (i + 1));
    entries.push({
      number: e.readUInt16BE(0),
      command: e[2]!,
      length: e.readUInt16BE(3),
      sessionKey: e.readUInt16BE(5),
      target: e.readUInt16BE(7),
      second: e.readUInt16BE(9),
      result: e[11]!,
      tick: e.readUInt32BE(12),
      digest: e.subarray(16).toString('hex'),
      fields: e.subarray(0, 16),
    });
  }
  return { boots: b.readUInt16BE(0), auths: b.readUInt16BE(2), entries };
}

const chain = (fields: Buffer, previous: string) =>
  createHash('sha256').update(fields).update(Buffer.from(previous, 'hex')).digest().subarray(0, 16).toString('hex');

describe('audit log', () => {
  it('chains digests as a real device does (entries published from a YubiHSM 2 after reset)', () => {
    // item 1: all-ones marker, digest 33012657...; item 2: boot, digest fc153091...
    // (a public write-up of a real device's `audit get` after `reset`).
    const item2 = Buffer.from('0002' + '00' + '0000' + 'ffff' + '0000' + '0000' + '00' + '00000000', 'hex');
    expect(chain(item2, '33012657537e4842f57fa6ed3b09b25b')).toBe('fc153091560e18bca82621522c85bdba');
  });

  it('starts after reset with the marker and the boot, and logs each command with its keys and result', async () => {
    let now = 5_000_000;
    const dev = await device({ clock: () => now });
    now += 139;
    const s = await open(dev);
    now += 10;
    await s.ok(CMD.generateAsym, generateData(3, 'tuf-root', 1, capabilities('sign-ecdsa'), ALG.ecP256));
    await s.ok(CMD.signAttestation, u16(3), u16(0));
    await s.send(CMD.getOpaque, u16(0x4444)); // refused: object not found
    const log = decodeLog(await s.ok(CMD.getLogEntries));
    expect(log.boots).toBe(0);
    expect(log.auths).toBe(0);
    const rows = log.entries.map((e) => [e.number, e.command, e.length, e.sessionKey, e.target, e.second, e.result]);
    expect(rows).toEqual([
      [1, 0xff, 0xffff, 0xffff, 0xffff, 0xffff, 0xff],
      [2, 0x00, 0, 0xffff, 0, 0, 0x00],
      [3, 0x03, 10, 0xffff, 0x0001, 0xffff, 0x83],
      [4, 0x04, 17, 0xffff, 0x0001, 0xffff, 0x84],
      [5, 0x46, 53, 0x0001, 0x0003, 0xffff, 0xc6],
      [6, 0x64, 4, 0x0001, 0x0003, 0x0000, 0xe4],
      [7, 0x43, 2, 0x0001, 0x4444, 0xffff, 0x7f],
    ]);
    expect(log.entries[2]!.tick).toBe(139);
    expect(log.entries[4]!.tick).toBe(149);
    // Every digest chains from the previous one.
    for (let i = 1; i < log.entries.length; i++) {
      expect(log.entries[i]!.digest).toBe(chain(log.entries[i]!.fields, log.entries[i - 1]!.digest));
    }
  });

  it('keeps the last 62 entries, numbering on', async () => {
    const dev = await device();
    for (let i = 0; i < 100; i++) await dev.transmit(frame(CMD.echo, [i]));
    const s = await open(dev);
    const { entries } = decodeLog(await s.ok(CMD.getLogEntries));
    expect(entries).toHaveLength(LOG_CAPACITY);
    expect(entries.at(-1)!.number).toBe(2 + 100 + 2);
    expect(entries[0]!.number).toBe(2 + 100 + 2 - 61);
    const info = parse(await dev.transmit(frame(CMD.deviceInfo)));
    expect(info.data[8]).toBe(62);
  });

  it('is reinitialised by RESET DEVICE', async () => {
    const dev = await device();
    const s = await open(dev);
    await s.ok(CMD.putAuthKey, putAuthKeyData(2, 'a', 1, 0n, 0n, 'x'));
    await s.ok(CMD.reset);
    await afterReboot(dev);
    const fresh = await open(dev);
    const { entries } = decodeLog(await fresh.ok(CMD.getLogEntries));
    expect(entries.map((e) => [e.number, e.command])).toEqual([
      [1, 0xff],
      [2, 0x00],
      [3, 0x03],
      [4, 0x04],
    ]);
  });
});
