import { describe, expect, it } from 'vitest';
import { CAPABILITY_BITS, ALL_CAPABILITIES } from '../../../lib/yubihsm/capabilities.ts';
import { SimulatedYubiHsm } from '../../../lib/yubihsm/simulator/index.ts';
import { CMD, ERR, TYPE, afterReboot, device, errorOf, frame, generateData, label, open, parse, putAuthKeyData, tryOpen, u16 } from './raw-host.ts';

describe('simulated YubiHSM 2: framing and plain commands', () => {
  it('echoes outside a session, byte for byte', async () => {
    const dev = await device();
    const answer = await dev.transmit(Uint8Array.from([0x01, 0x00, 0x03, 0xaa, 0xbb, 0xcc]));
    expect([...answer]).toEqual([0x81, 0x00, 0x03, 0xaa, 0xbb, 0xcc]);
  });

  it('reports firmware, serial, log usage and algorithms in GET DEVICE INFO', async () => {
    const dev = await device({ serial: 13200460, firmware: { major: 2, minor: 4, patch: 0 } });
    const a = parse(await dev.transmit(frame(CMD.deviceInfo)));
    expect(a.code).toBe(0x86);
    expect([...a.data.subarray(0, 3)]).toEqual([2, 4, 0]);
    expect(Buffer.from(a.data.subarray(3, 7)).readUInt32BE()).toBe(13200460);
    expect(a.data[7]).toBe(62);
    // The log holds the initialisation marker, the boot, and this command is logged after the answer is built.
    expect(a.data[8]).toBe(2);
    // Firmware 2.1's list: algorithms 1 (rsa-pkcs1-sha1) to 47 (ec-p224), whatever the simulator implements.
    expect([...a.data.subarray(9)]).toEqual(Array.from({ length: 47 }, (_, i) => i + 1));
  });

  it('refuses a session-only command sent in the clear', async () => {
    const dev = await device();
    expect(errorOf(parse(await dev.transmit(frame(CMD.generateAsym, generateData(5, 'x', 1, 0n, 12)))))).toBe(ERR.invalidCommand);
  });

  it('answers unknown commands with INVALID COMMAND', async () => {
    const dev = await device();
    for (const code of [0x00, 0x02, 0x7f, 0x80, 0xff]) {
      expect(errorOf(parse(await dev.transmit(frame(code))))).toBe(ERR.invalidCommand);
    }
  });

  it('answers frames whose length field lies, or that are truncated, with WRONG LENGTH', async () => {
    const dev = await device();
    for (const bad of [[], [0x01], [0x01, 0x00], [0x01, 0x00, 0x02, 0xaa], [0x01, 0x00, 0x00, 0xaa]]) {
      expect([...(await dev.transmit(Uint8Array.from(bad)))]).toEqual([0x7f, 0x00, 0x01, ERR.wrongLength]);
    }
  });

  it('accepts a 2048-byte message and refuses a 2049-byte one (the device buffer)', async () => {
    const dev = await device();
    const max = frame(CMD.echo, new Uint8Array(2045).fill(7));
    expect(max.length).toBe(2048);
    expect(parse(await dev.transmit(max)).code).toBe(0x81);
    const over = frame(CMD.echo, new Uint8Array(2046));
    expect(errorOf(parse(await dev.transmit(over)))).toBe(ERR.wrongLength);
  });

  it('rejects options it cannot represent with a typed error', async () => {
    await expect(SimulatedYubiHsm.create({ serial: -1 })).toThrowWithCode('SIMULATOR_OPTION_INVALID');
    await expect(SimulatedYubiHsm.create({ serial: 2 ** 32 })).toThrowWithCode('SIMULATOR_OPTION_INVALID');
    await expect(SimulatedYubiHsm.create({ firmware: { major: 256, minor: 0, patch: 0 } })).toThrowWithCode('SIMULATOR_OPTION_INVALID');
  });
});

describe('simulated YubiHSM 2: sessions', () => {
  it('opens a session with the factory key and password "password"', async () => {
    const dev = await device();
    const s = await open(dev);
    expect([...(await s.ok(CMD.echo, [1, 2, 3]))]).toEqual([1, 2, 3]);
  });

  it('refuses a wrong password with AUTHENTICATION FAILED and frees the slot', async () => {
    const dev = await device();
    expect(await tryOpen(dev, 1, 'not the password')).toBe(ERR.authFail);
    expect(dev.openSessions).toBe(0);
  });

  it('refuses a session for a key that does not exist', async () => {
    const dev = await device();
    expect(await tryOpen(dev, 2, 'password')).toBe(ERR.objectNotFound);
  });

  it('has 16 session slots: the 17th is SESSIONS FULL, and closing one frees it', async () => {
    const dev = await device();
    const sessions = [];
    for (let i = 0; i < 16; i++) sessions.push(await open(dev));
    expect(sessions.map((s) => s.id)).toEqual([...Array(16).keys()]);
    expect(await tryOpen(dev, 1, 'password')).toBe(ERR.sessionsFull);
    await sessions[5]!.ok(CMD.closeSession);
    expect((await open(dev)).id).toBe(5);
  });

  it('closes a session after 30 seconds without a command', async () => {
    let now = 1_000_000;
    const dev = await device({ clock: () => now });
    const s = await open(dev);
    now += 29_000;
    await s.ok(CMD.echo, [1]);
    now += 31_000;
    expect(errorOf(await s.send(CMD.echo, [1]))).toBe(ERR.invalidSession);
  });

  it('refuses a session message with a bad MAC and ends the session', async () => {
    const dev = await device();
    const s = await open(dev);
    const { sealCommand } = await import('../../../lib/yubihsm/session/scp03.ts');
    const { message } = sealCommand(s.channel, frame(CMD.echo, [1]));
    message[message.length - 1]! ^= 0x01;
    expect(errorOf(parse(await dev.transmit(message)))).toBe(ERR.authFail);
    expect(errorOf(await s.send(CMD.echo, [1]))).toBe(ERR.invalidSession);
  });

  it('refuses AUTHENTICATE SESSION for a session that does not exist', async () => {
    const dev = await device();
    expect(errorOf(parse(await dev.transmit(frame(CMD.authenticateSession, new Uint8Array(17)))))).toBe(ERR.invalidSession);
    expect(errorOf(parse(await dev.transmit(frame(CMD.sessionMessage, [3, ...new Uint8Array(24)]))))).toBe(ERR.invalidSession);
  });

  it('answers an inner error encrypted inside the session response', async () => {
    const dev = await device();
    const s = await open(dev);
    const a = await s.send(CMD.getOpaque, u16(0x1234));
    expect(a.code).toBe(0x7f);
    expect(errorOf(a)).toBe(ERR.objectNotFound);
    // The session survives an inner error.
    await s.ok(CMD.echo, [9]);
  });
});

describe('simulated YubiHSM 2: reset', () => {
  it('restores the factory state, ends every session, and keeps the device certificate', async () => {
    const dev = await device();
    const s = await open(dev);
    const other = await open(dev);
    await s.ok(CMD.putAuthKey, putAuthKeyData(2, 'tuf-authkey', 0xffff, CAPABILITY_BITS['reset-device'], 0n, 'new password'));
    await s.ok(CMD.generateAsym, generateData(3, 'tuf-root', 1, CAPABILITY_BITS['sign-ecdsa'], 12));
    await s.ok(CMD.deleteObject, u16(1), [TYPE.authKey]);
    const s2 = await open(dev, 2, 'new password');
    expect(await s2.send(CMD.reset).then((a) => a.code)).toBe(0x88);
    expect(dev.openSessions).toBe(0);
    await afterReboot(dev);
    expect(errorOf(await other.send(CMD.echo, [1]))).toBe(ERR.invalidSession);
    expect(await tryOpen(dev, 2, 'new password')).toBe(ERR.objectNotFound);

    const fresh = await open(dev);
    const list = await fresh.ok(CMD.listObjects);
    // opaque 0 (device certificate) and authentication key 1 only.
    expect([...list]).toEqual([0, 0, TYPE.opaque, 0, 0, 1, TYPE.authKey, 0]);
    const info = await fresh.ok(CMD.getObjectInfo, u16(1), [TYPE.authKey]);
    expect(Buffer.from(info.subarray(0, 8)).readBigUInt64BE()).toBe(ALL_CAPABILITIES);
    expect(Buffer.from(info.subarray(12, 14)).readUInt16BE()).toBe(0xffff);
    expect([...info.subarray(8, 12), ...info.subarray(14, 18)]).toEqual([0, 1, 0, 40, TYPE.authKey, 38, 0, 0x02]);
    expect(Buffer.from(info.subarray(18, 58)).toString('utf8').replace(/\0+$/, '')).toBe('DEFAULT AUTHKEY CHANGE THIS ASAP');
    expect(Buffer.from(info.subarray(58)).readBigUInt64BE()).toBe(ALL_CAPABILITIES);
    expect(Buffer.from(await fresh.ok(CMD.getOpaque, u16(0))).equals(Buffer.from(dev.deviceCertificate))).toBe(true);
  });

  it('needs reset-device', async () => {
    const dev = await device();
    const s = await open(dev);
    await s.ok(CMD.putAuthKey, putAuthKeyData(2, 'weak', 0xffff, CAPABILITY_BITS['get-opaque'], 0n, 'pw'));
    const weak = await open(dev, 2, 'pw');
    expect(errorOf(await weak.send(CMD.reset))).toBe(ERR.insufficientPermissions);
    expect(dev.openSessions).toBe(2);
  });

  it('refuses data on RESET DEVICE with WRONG LENGTH', async () => {
    const dev = await device();
    const s = await open(dev);
    expect(errorOf(await s.send(CMD.reset, [0]))).toBe(ERR.wrongLength);
    expect(label('x')).toHaveLength(40);
  });
});
