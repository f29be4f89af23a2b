// Forced audit (Yubico, "Logging and Logs"; SET OPTION force-audit): with
// the Log Store full, the device refuses what it would have to log (LOG
// FULL), still lets sessions be established (counting the authentications
// it could not log), and is freed by reading the log and SET LOG INDEX, as
// python-yubihsm's forced-audit device test does it.
import { describe, expect, it } from 'vitest';
import { LOG_CAPACITY } from '../../../lib/yubihsm/simulator/index.ts';
import { ALG, CMD, ERR, TYPE, device, errorOf, frame, generateData, open, parse, u16, type RawSession } from './raw-host.ts';

interface Log {
  boots: number;
  auths: number;
  numbers: number[];
}

function decodeLog(data: Uint8Array): Log {
  const b = Buffer.from(data);
  return { boots: b.readUInt16BE(0), auths: b.readUInt16BE(2), numbers: Array.from({ length: b[4]! }, (_, i) => b.readUInt16BE(5 + 32 * i)) };
}

/** Forced audit on, then ECHOs until the store is full. */
async function fullLog(s: RawSession) {
  await s.ok(CMD.setOption, [0x01, 0x00, 0x01, 0x01]);
  for (;;) {
    const a = await s.send(CMD.echo, [0]);
    if (errorOf(a) === ERR.logFull) break;
    expect(a.code).toBe(0x81);
  }
}

describe('forced audit', () => {
  it('refuses logged commands with LOG FULL, without running them, once the store is full', async () => {
    const dev = await device();
    const s = await open(dev);
    await fullLog(s);
    expect(dev.log.used).toBe(LOG_CAPACITY);
    expect(errorOf(await s.send(CMD.generateAsym, generateData(3, 'k', 1, 0n, ALG.ecP256)))).toBe(ERR.logFull);
    expect(errorOf(parse(await dev.transmit(frame(CMD.echo, [1]))))).toBe(ERR.logFull);
    // GET DEVICE INFO still answers, and shows the store full.
    expect(parse(await dev.transmit(frame(CMD.deviceInfo))).data[8]).toBe(LOG_CAPACITY);
    // Nothing was generated.
    expect(dev.store.get(TYPE.asym, 3)).toBeUndefined();
  });

  it('still establishes sessions, counting the authentications it could not log', async () => {
    const dev = await device();
    const s = await open(dev);
    await fullLog(s);
    const other = await open(dev);
    await open(dev);
    const log = decodeLog(await other.ok(CMD.getLogEntries));
    expect(log.auths).toBe(2);
    expect(log.numbers).toHaveLength(LOG_CAPACITY);
  });

  it('counts a boot it could not log', async () => {
    const dev = await device({ faults: {} });
    const s = await open(dev);
    await fullLog(s);
    dev.faults.dropAfter = 0;
    await expect(dev.transmit(frame(CMD.echo))).toThrowWithCode('SIMULATOR_DISCONNECTED');
    dev.reconnect();
    const fresh = await open(dev);
    expect(decodeLog(await fresh.ok(CMD.getLogEntries)).boots).toBe(1);
  });

  it('is freed by reading the log and SET LOG INDEX; the chain goes on', async () => {
    const dev = await device();
    const s = await open(dev);
    await fullLog(s);
    const read = decodeLog(await s.ok(CMD.getLogEntries));
    const last = read.numbers.at(-1)!;
    await s.ok(CMD.setLogIndex, u16(last));
    // Logged again: the SET LOG INDEX itself, then what follows.
    expect([...(await s.ok(CMD.generateAsym, generateData(3, 'k', 1, 0n, ALG.ecP256)))]).toEqual([0, 3]);
    expect(decodeLog(await s.ok(CMD.getLogEntries)).numbers).toEqual([last + 1, last + 2]);
  });

  it('can be turned off again, and the store then wraps as before', async () => {
    const dev = await device();
    const s = await open(dev);
    await fullLog(s);
    const { numbers } = decodeLog(await s.ok(CMD.getLogEntries));
    await s.ok(CMD.setLogIndex, u16(numbers.at(-1)!));
    await s.ok(CMD.setOption, [0x01, 0x00, 0x01, 0x00]);
    expect([...(await s.ok(CMD.getOption, [0x01]))]).toEqual([0x00]);
    for (let i = 0; i < LOG_CAPACITY + 5; i++) await s.ok(CMD.echo, [i]);
    expect(dev.log.used).toBe(LOG_CAPACITY);
  });
});
