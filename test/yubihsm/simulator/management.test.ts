// The device management commands against the simulator, with frames built
// here from the command reference: GET STORAGE INFO, GET PSEUDO RANDOM,
// BLINK DEVICE, SET OPTION, GET OPTION, SET LOG INDEX, CHANGE AUTHENTICATION
// KEY. Each with the capability the device checks, and its refusals.
import { describe, expect, it } from 'vitest';
import { CAPABILITY_BITS, capabilities } from '../../../lib/yubihsm/capabilities.ts';
import { ALG, CMD, ERR, TYPE, afterReboot, device, errorOf, frame, generateData, keysOf, open, parse, putAuthKeyData, tryOpen, u16 } from './raw-host.ts';

/** A session whose authentication key 2 has exactly `caps` (made by the factory key). */
async function sessionWith(caps: bigint, options: Parameters<typeof device>[0] = {}) {
  const dev = await device(options);
  const admin = await open(dev);
  await admin.ok(CMD.putAuthKey, putAuthKeyData(2, 'limited', 0xffff, caps, 0n, 'pw'));
  return { dev, admin, s: await open(dev, 2, 'pw') };
}

const storage = (data: Uint8Array) => {
  const b = Buffer.from(data);
  expect(b).toHaveLength(10);
  return { totalRecords: b.readUInt16BE(0), freeRecords: b.readUInt16BE(2), totalPages: b.readUInt16BE(4), freePages: b.readUInt16BE(6), pageSize: b.readUInt16BE(8) };
};

/** SET OPTION data: tag (1) ‖ length (2) ‖ value. */
const optionData = (tag: number, value: number[]) => [tag, ...u16(value.length), ...value];

describe('GET STORAGE INFO (0x41)', () => {
  it('reports a new device as the reference shows one: 255/256 records, 1023/1024 pages of 126 bytes', async () => {
    const { s } = await sessionWith(0n); // no capability needed
    const info = storage(await s.ok(CMD.getStorageInfo));
    // Key 2 was added beside the factory key: two records, one page each.
    expect(info).toEqual({ totalRecords: 256, freeRecords: 254, totalPages: 1024, freePages: 1022, pageSize: 126 });
  });

  it('counts records and pages as objects come and go (a P-384 key: 48 × 3 bytes, two pages)', async () => {
    const dev = await device();
    const s = await open(dev);
    expect(storage(await s.ok(CMD.getStorageInfo))).toMatchObject({ freeRecords: 255, freePages: 1023 });
    await s.ok(CMD.generateAsym, generateData(3, 'k', 1, 0n, ALG.ecP384));
    expect(storage(await s.ok(CMD.getStorageInfo))).toMatchObject({ freeRecords: 254, freePages: 1021 });
    await s.ok(CMD.deleteObject, u16(3), [TYPE.asym]);
    expect(storage(await s.ok(CMD.getStorageInfo))).toMatchObject({ freeRecords: 255, freePages: 1023 });
    expect(errorOf(await s.send(CMD.getStorageInfo, [0]))).toBe(ERR.wrongLength);
  });

  it('refuses an object with STORAGE FAILED once the pages are used up', async () => {
    const dev = await device();
    const s = await open(dev);
    // The largest opaque object a session message carries: 2028 − 53 = 1975 bytes, 16 pages.
    const content = new Uint8Array(1975).fill(0xab);
    const put = (id: number) => s.send(CMD.putOpaque, u16(id), new Uint8Array(40), u16(1), new Uint8Array(8), [ALG.opaqueData], content);
    for (let id = 10; id < 10 + 63; id++) expect((await put(id)).code).toBe(0xc2);
    expect(storage(await s.ok(CMD.getStorageInfo))).toMatchObject({ freeRecords: 255 - 63, freePages: 1023 - 63 * 16 });
    expect(errorOf(await put(200))).toBe(ERR.storageFailed);
  });
});

describe('GET PSEUDO RANDOM (0x51)', () => {
  it('returns the bytes asked for, different each time', async () => {
    const { s } = await sessionWith(capabilities('get-pseudo-random'));
    const a = await s.ok(CMD.getPseudoRandom, u16(32));
    const b = await s.ok(CMD.getPseudoRandom, u16(32));
    expect(a).toHaveLength(32);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(await s.ok(CMD.getPseudoRandom, u16(0))).toHaveLength(0);
    expect(await s.ok(CMD.getPseudoRandom, u16(2028))).toHaveLength(2028);
  });

  it('needs get-pseudo-random; refuses a count no session response can carry, and a malformed request', async () => {
    expect(errorOf(await (await sessionWith(0n)).s.send(CMD.getPseudoRandom, u16(8)))).toBe(ERR.insufficientPermissions);
    const { s } = await sessionWith(capabilities('get-pseudo-random'));
    expect(errorOf(await s.send(CMD.getPseudoRandom, u16(2029)))).toBe(ERR.invalidData);
    expect(errorOf(await s.send(CMD.getPseudoRandom, [8]))).toBe(ERR.wrongLength);
    expect(errorOf(await s.send(CMD.getPseudoRandom, [0, 8, 0]))).toBe(ERR.wrongLength);
  });

  it('is a session command: INVALID COMMAND in the clear', async () => {
    const dev = await device();
    expect(errorOf(parse(await dev.transmit(frame(CMD.getPseudoRandom, u16(8)))))).toBe(ERR.invalidCommand);
  });
});

describe('BLINK DEVICE (0x6b)', () => {
  it('blinks for the seconds asked, without any capability', async () => {
    let now = 1_000_000;
    const { dev, s } = await sessionWith(0n, { clock: () => now });
    expect(dev.isBlinking).toBe(false);
    expect(await s.ok(CMD.blink, [3])).toHaveLength(0);
    expect(dev.isBlinking).toBe(true);
    now += 2_999;
    expect(dev.isBlinking).toBe(true);
    now += 1;
    expect(dev.isBlinking).toBe(false);
    expect(errorOf(await s.send(CMD.blink))).toBe(ERR.wrongLength);
  });
});

describe('SET OPTION (0x4f) and GET OPTION (0x50)', () => {
  /**
   * command-audit as a 2.1 device lists it: the commands of the reference's
   * get-option example, in its order, without those of later firmware
   * (0x0a, 0x6d-0x77); every one on, as the simulator starts.
   */
  const COMMANDS = '01 03 04 05 06 07 09 08 40 41 42 43 44 45 46 47 55 56 48 49 57 4a 4b 4c 4d 67 4e 4f 50 51 52 53 54 58 59 5a 5b 5c 5d 5e 5f 60 61 62 63 64 65 66 68 69 6a 6b 6c'
    .split(' ')
    .map((h) => Number.parseInt(h, 16));

  it('reads force-audit (off) and command-audit (every command on) as a new device has them', async () => {
    const dev = await device();
    const s = await open(dev);
    expect([...(await s.ok(CMD.getOption, [0x01]))]).toEqual([0x00]);
    expect([...(await s.ok(CMD.getOption, [0x03]))]).toEqual(COMMANDS.flatMap((c) => [c, 0x01]));
  });

  it('sets force-audit and command-audit; only the commands given change', async () => {
    const dev = await device();
    const s = await open(dev);
    expect(await s.ok(CMD.setOption, optionData(0x01, [0x01]))).toHaveLength(0);
    expect([...(await s.ok(CMD.getOption, [0x01]))]).toEqual([0x01]);
    await s.ok(CMD.setOption, optionData(0x01, [0x00]));
    await s.ok(CMD.setOption, optionData(0x03, [0x53, 0x00, 0x5c, 0x00]));
    const audit = await s.ok(CMD.getOption, [0x03]);
    const setting = (command: number) => audit[2 * COMMANDS.indexOf(command) + 1];
    expect([setting(0x53), setting(0x5c), setting(0x56)]).toEqual([0x00, 0x00, 0x01]);
  });

  it('stops logging a command whose command-audit is off', async () => {
    const dev = await device();
    const s = await open(dev);
    await s.ok(CMD.setOption, optionData(0x03, [0x01, 0x00])); // ECHO off
    const before = dev.log.used;
    await dev.transmit(frame(CMD.echo, [1]));
    await s.ok(CMD.echo, [2]);
    expect(dev.log.used).toBe(before);
    await s.ok(CMD.getOption, [0x01]); // still logged
    expect(dev.log.used).toBe(before + 1);
  });

  it('keeps a fixed setting until a factory reset', async () => {
    const dev = await device();
    const s = await open(dev);
    await s.ok(CMD.setOption, optionData(0x03, [0x56, 0x02]));
    await s.ok(CMD.setOption, optionData(0x01, [0x02]));
    expect(errorOf(await s.send(CMD.setOption, optionData(0x03, [0x56, 0x00])))).toBe(ERR.invalidData);
    expect(errorOf(await s.send(CMD.setOption, optionData(0x01, [0x01])))).toBe(ERR.invalidData);
    await s.ok(CMD.setOption, optionData(0x03, [0x56, 0x02]));
    await s.ok(CMD.reset);
    await afterReboot(dev);
    const fresh = await open(dev);
    expect([...(await fresh.ok(CMD.getOption, [0x01]))]).toEqual([0x00]);
    const audit = await fresh.ok(CMD.getOption, [0x03]);
    expect(audit[2 * COMMANDS.indexOf(0x56) + 1]).toBe(0x01);
  });

  it('needs set-option and get-option', async () => {
    const { s } = await sessionWith(capabilities('get-option'));
    expect(errorOf(await s.send(CMD.setOption, optionData(0x01, [0x01])))).toBe(ERR.insufficientPermissions);
    expect([...(await s.ok(CMD.getOption, [0x01]))]).toEqual([0x00]);
    const { s: setter } = await sessionWith(capabilities('set-option'));
    expect(errorOf(await setter.send(CMD.getOption, [0x01]))).toBe(ERR.insufficientPermissions);
    await setter.ok(CMD.setOption, optionData(0x01, [0x01]));
  });

  it('refuses what firmware 2.1 does not have or cannot read: INVALID DATA; a length that lies: WRONG LENGTH', async () => {
    const dev = await device();
    const s = await open(dev);
    // algorithm-toggle and fips-mode came with firmware 2.2.
    expect(errorOf(await s.send(CMD.getOption, [0x04]))).toBe(ERR.invalidData);
    expect(errorOf(await s.send(CMD.getOption, [0x05]))).toBe(ERR.invalidData);
    expect(errorOf(await s.send(CMD.setOption, optionData(0x04, [0x09, 0x00])))).toBe(ERR.invalidData);
    expect(errorOf(await s.send(CMD.setOption, optionData(0x01, [0x03])))).toBe(ERR.invalidData);
    expect(errorOf(await s.send(CMD.setOption, optionData(0x01, [0x01, 0x01])))).toBe(ERR.invalidData);
    expect(errorOf(await s.send(CMD.setOption, optionData(0x03, [0x53])))).toBe(ERR.invalidData);
    expect(errorOf(await s.send(CMD.setOption, optionData(0x03, [0x02, 0x01])))).toBe(ERR.invalidData); // no command 0x02
    expect(errorOf(await s.send(CMD.setOption, optionData(0x03, [0x53, 0x00, 0x5c, 0x07])))).toBe(ERR.invalidData);
    // Nothing of a refused value was applied.
    expect((await s.ok(CMD.getOption, [0x03]))[2 * COMMANDS.indexOf(0x53) + 1]).toBe(0x01);
    expect(errorOf(await s.send(CMD.setOption, [0x01, 0x00, 0x02, 0x01]))).toBe(ERR.wrongLength);
    expect(errorOf(await s.send(CMD.getOption))).toBe(ERR.wrongLength);
  });
});

describe('SET LOG INDEX (0x67)', () => {
  const entryNumbers = (data: Uint8Array) => {
    const b = Buffer.from(data);
    return Array.from({ length: b[4]! }, (_, i) => b.readUInt16BE(5 + 32 * i));
  };

  it('frees the entries up to the index: GET LOG ENTRIES and GET DEVICE INFO count only those after it', async () => {
    const dev = await device();
    const s = await open(dev);
    const before = entryNumbers(await s.ok(CMD.getLogEntries));
    expect(before).toEqual([1, 2, 3, 4]);
    expect(await s.ok(CMD.setLogIndex, u16(4))).toHaveLength(0);
    // Entry 5 is GET LOG ENTRIES, entry 6 this SET LOG INDEX, logged after it ran.
    expect(entryNumbers(await s.ok(CMD.getLogEntries))).toEqual([5, 6]);
    expect(parse(await dev.transmit(frame(CMD.deviceInfo))).data[8]).toBe(3);
  });

  it('needs get-log-entries, and an index the log holds', async () => {
    const { s } = await sessionWith(capabilities('get-opaque'));
    expect(errorOf(await s.send(CMD.setLogIndex, u16(1)))).toBe(ERR.insufficientPermissions);
    const { s: reader } = await sessionWith(capabilities('get-log-entries'));
    expect(errorOf(await reader.send(CMD.setLogIndex, u16(999)))).toBe(ERR.invalidData);
    expect(errorOf(await reader.send(CMD.setLogIndex, [1]))).toBe(ERR.wrongLength);
    await reader.ok(CMD.setLogIndex, u16(2));
    expect(errorOf(await reader.send(CMD.setLogIndex, u16(2)))).toBe(ERR.invalidData); // no longer held
  });
});

describe('CHANGE AUTHENTICATION KEY (0x6c)', () => {
  const change = (id: number, password: string, algorithm: number = ALG.authKey) => {
    const k = keysOf(password);
    return [...u16(id), algorithm, ...k.enc, ...k.mac];
  };

  it('changes the session’s own key: the old password stops working, the new one works, the session goes on', async () => {
    const { dev, admin, s } = await sessionWith(capabilities('change-authentication-key'));
    const infoBefore = await admin.ok(CMD.getObjectInfo, u16(2), [TYPE.authKey]);
    expect([...(await s.ok(CMD.changeAuthKey, change(2, 'new pw')))]).toEqual([0, 2]);
    await s.ok(CMD.echo, [1]);
    expect(await tryOpen(dev, 2, 'pw')).toBe(ERR.authFail);
    await open(dev, 2, 'new pw');
    // Same id, capabilities, domains, label, sequence.
    expect(Buffer.from(await admin.ok(CMD.getObjectInfo, u16(2), [TYPE.authKey])).equals(Buffer.from(infoBefore))).toBe(true);
  });

  it('refuses another key’s id with INVALID ID, even to a key with every capability', async () => {
    const dev = await device();
    const factory = await open(dev);
    await factory.ok(CMD.putAuthKey, putAuthKeyData(2, 'other', 1, CAPABILITY_BITS['change-authentication-key'], 0n, 'pw'));
    expect(errorOf(await factory.send(CMD.changeAuthKey, change(2, 'x')))).toBe(ERR.invalidId);
    await open(dev, 2, 'pw');
  });

  it('needs change-authentication-key on the key', async () => {
    const { dev, s } = await sessionWith(capabilities('get-opaque'));
    expect(errorOf(await s.send(CMD.changeAuthKey, change(2, 'x')))).toBe(ERR.insufficientPermissions);
    await open(dev, 2, 'pw');
  });

  it('refuses another algorithm (INVALID DATA) and keys of the wrong length (WRONG LENGTH)', async () => {
    const { dev, s } = await sessionWith(capabilities('change-authentication-key'));
    expect(errorOf(await s.send(CMD.changeAuthKey, change(2, 'x', 49)))).toBe(ERR.invalidData);
    expect(errorOf(await s.send(CMD.changeAuthKey, change(2, 'x').slice(0, -1)))).toBe(ERR.wrongLength);
    expect(errorOf(await s.send(CMD.changeAuthKey, [0, 2]))).toBe(ERR.wrongLength);
    await open(dev, 2, 'pw');
  });
});
