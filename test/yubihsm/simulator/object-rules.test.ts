import { describe, expect, it } from 'vitest';
import { CAPABILITY_BITS, capabilities } from '../../../lib/yubihsm/capabilities.ts';
import { ALG, CMD, ERR, TYPE, device, errorOf, generateData, label, open, putAuthKeyData, u16, u64 } from './raw-host.ts';

const SIGN = CAPABILITY_BITS['sign-ecdsa'];

/** A session whose key has exactly these fields (made by the factory key). */
async function sessionWith(caps: bigint, delegated: bigint, domains = 0xffff) {
  const dev = await device();
  const admin = await open(dev);
  await admin.ok(CMD.putAuthKey, putAuthKeyData(2, 'limited', domains, caps, delegated, 'pw'));
  return { dev, admin, s: await open(dev, 2, 'pw') };
}

describe('object store rules', () => {
  it('needs the command capability on the session key (generate-asymmetric-key)', async () => {
    const { s } = await sessionWith(0n, SIGN);
    expect(errorOf(await s.send(CMD.generateAsym, generateData(3, 'k', 1, SIGN, ALG.ecP256)))).toBe(ERR.insufficientPermissions);
  });

  it('lets a key give new objects only capabilities it may delegate', async () => {
    const { s } = await sessionWith(capabilities('generate-asymmetric-key'), SIGN);
    expect(errorOf(await s.send(CMD.generateAsym, generateData(3, 'k', 1, SIGN | CAPABILITY_BITS['sign-pkcs'], ALG.ecP256)))).toBe(
      ERR.insufficientPermissions,
    );
    expect([...(await s.ok(CMD.generateAsym, generateData(3, 'k', 1, SIGN, ALG.ecP256)))]).toEqual([0, 3]);
  });

  it('limits a new authentication key to the delegated capabilities, for both its fields', async () => {
    const { s } = await sessionWith(capabilities('put-authentication-key'), SIGN | CAPABILITY_BITS['put-authentication-key']);
    // capabilities within, delegated beyond
    expect(errorOf(await s.send(CMD.putAuthKey, putAuthKeyData(5, 'x', 1, SIGN, SIGN | CAPABILITY_BITS['reset-device'], 'p')))).toBe(
      ERR.insufficientPermissions,
    );
    // capabilities beyond
    expect(errorOf(await s.send(CMD.putAuthKey, putAuthKeyData(5, 'x', 1, CAPABILITY_BITS['reset-device'], 0n, 'p')))).toBe(
      ERR.insufficientPermissions,
    );
    await s.ok(CMD.putAuthKey, putAuthKeyData(5, 'x', 1, SIGN, SIGN, 'p'));
  });

  it('creates objects only in the session key’s domains, and needs at least one domain', async () => {
    const { s } = await sessionWith(capabilities('generate-asymmetric-key'), SIGN, 0b0011);
    expect(errorOf(await s.send(CMD.generateAsym, generateData(3, 'k', 0b0100, SIGN, ALG.ecP256)))).toBe(ERR.insufficientPermissions);
    expect(errorOf(await s.send(CMD.generateAsym, generateData(3, 'k', 0, SIGN, ALG.ecP256)))).toBe(ERR.invalidData);
    await s.ok(CMD.generateAsym, generateData(3, 'k', 0b0010, SIGN, ALG.ecP256));
  });

  it('hides objects outside the session’s domains (OBJECT NOT FOUND) and from LIST OBJECTS', async () => {
    const { admin, s } = await sessionWith(capabilities('sign-ecdsa', 'get-opaque'), 0n, 0b0001);
    await admin.ok(CMD.generateAsym, generateData(3, 'other domain', 0b0010, SIGN, ALG.ecP256));
    await admin.ok(CMD.generateAsym, generateData(4, 'my domain', 0b0011, SIGN, ALG.ecP256));
    expect(errorOf(await s.send(CMD.getPublicKey, u16(3)))).toBe(ERR.objectNotFound);
    expect(errorOf(await s.send(CMD.signEcdsa, u16(3), new Uint8Array(32)))).toBe(ERR.objectNotFound);
    const listed = await s.ok(CMD.listObjects, [0x02, TYPE.asym]);
    expect([...listed]).toEqual([0, 4, TYPE.asym, 0]);
  });

  it('needs the capability on both the session key and the object (sign-ecdsa)', async () => {
    const { admin, s } = await sessionWith(capabilities('sign-ecdsa'), 0n);
    await admin.ok(CMD.generateAsym, generateData(3, 'no sign', 1, 0n, ALG.ecP256));
    await admin.ok(CMD.generateAsym, generateData(4, 'sign', 1, SIGN, ALG.ecP256));
    expect(errorOf(await s.send(CMD.signEcdsa, u16(3), new Uint8Array(32)))).toBe(ERR.insufficientPermissions);
    expect((await s.ok(CMD.signEcdsa, u16(4), new Uint8Array(32)))[0]).toBe(0x30);
    const { s: noCap } = await sessionWith(0n, 0n);
    expect(errorOf(await noCap.send(CMD.signEcdsa, u16(4), new Uint8Array(32)))).toBe(ERR.insufficientPermissions);
  });

  it('refuses a second object with the same type and id, but allows the id for another type', async () => {
    const dev = await device();
    const s = await open(dev);
    await s.ok(CMD.generateAsym, generateData(2, 'k', 1, SIGN, ALG.ecP256));
    expect(errorOf(await s.send(CMD.generateAsym, generateData(2, 'k', 1, SIGN, ALG.ecP384)))).toBe(ERR.objectExists);
    await s.ok(CMD.putAuthKey, putAuthKeyData(2, 'same id, other type', 1, 0n, 0n, 'x'));
    expect(errorOf(await s.send(CMD.putAuthKey, putAuthKeyData(1, 'taken', 1, 0n, 0n, 'x')))).toBe(ERR.objectExists);
  });

  it('chooses a free id when asked for id 0, and refuses the reserved id 0xffff', async () => {
    const dev = await device();
    const s = await open(dev);
    const id = Buffer.from(await s.ok(CMD.generateAsym, generateData(0, 'auto', 1, SIGN, ALG.ecP256))).readUInt16BE();
    expect(id).toBeGreaterThan(0);
    expect(id).toBeLessThan(0xffff);
    expect((await s.ok(CMD.getPublicKey, u16(id)))[0]).toBe(ALG.ecP256);
    expect(errorOf(await s.send(CMD.generateAsym, generateData(0xffff, 'reserved', 1, SIGN, ALG.ecP256)))).toBe(ERR.invalidId);
  });

  it('counts sequences per type and id across delete and re-create', async () => {
    const dev = await device();
    const s = await open(dev);
    for (let round = 0; round < 3; round++) {
      await s.ok(CMD.generateAsym, generateData(7, 'k', 1, SIGN, ALG.ecP256));
      const info = await s.ok(CMD.getObjectInfo, u16(7), [TYPE.asym]);
      expect(info[16]).toBe(round);
      await s.ok(CMD.deleteObject, u16(7), [TYPE.asym]);
    }
  });

  it('stores the 40 label bytes as sent and reports them in GET OBJECT INFO', async () => {
    const dev = await device();
    const s = await open(dev);
    const forty = 'L'.repeat(40);
    await s.ok(CMD.generateAsym, generateData(3, forty, 1, SIGN, ALG.ecP384));
    const info = await s.ok(CMD.getObjectInfo, u16(3), [TYPE.asym]);
    expect(Buffer.from(info.subarray(18, 58)).toString()).toBe(forty);
    expect(info[15]).toBe(ALG.ecP384);
    expect(info[17]).toBe(0x01); // generated
    expect(Buffer.from(info.subarray(10, 12)).readUInt16BE()).toBe(144);
  });

  it('keeps label bytes that are not text exactly as sent (invalid UTF-8, bytes after a NUL)', async () => {
    const dev = await device();
    const s = await open(dev);
    const raw = [0xff, 0xfe, 0x61, 0x00, 0x62, ...new Array<number>(34).fill(0x7a), 0xc3];
    expect(raw).toHaveLength(40);
    await s.ok(CMD.generateAsym, [...u16(3), ...raw, ...u16(1), ...u64(SIGN), ALG.ecP256]);
    const info = await s.ok(CMD.getObjectInfo, u16(3), [TYPE.asym]);
    expect([...info.subarray(18, 58)]).toEqual(raw);
    // LIST OBJECTS matches the 40 bytes, not a decoded string.
    expect([...(await s.ok(CMD.listObjects, [0x06, ...raw]))]).toEqual([0, 3, TYPE.asym, 0]);
    expect([...(await s.ok(CMD.listObjects, [0x06, ...raw.slice(0, 39), 0]))]).toEqual([]);
  });

  it('refuses a label field that is not 40 bytes (WRONG LENGTH)', async () => {
    const dev = await device();
    const s = await open(dev);
    const short = [...u16(3), ...label('x').slice(0, 39), ...u16(1), ...u64(SIGN), ALG.ecP256];
    expect(errorOf(await s.send(CMD.generateAsym, short))).toBe(ERR.wrongLength);
    const long = [...u16(3), ...label('x'), 0, ...u16(1), ...u64(SIGN), ALG.ecP256];
    expect(errorOf(await s.send(CMD.generateAsym, long))).toBe(ERR.wrongLength);
  });

  it('refuses algorithms the simulator does not generate, and an authentication key with another algorithm', async () => {
    const dev = await device();
    const s = await open(dev);
    expect(errorOf(await s.send(CMD.generateAsym, generateData(3, 'k', 1, SIGN, 9 /* rsa2048 */)))).toBe(ERR.invalidData);
    const data = putAuthKeyData(5, 'x', 1, 0n, 0n, 'p');
    data[2 + 40 + 2 + 8] = ALG.ecP256;
    expect(errorOf(await s.send(CMD.putAuthKey, data))).toBe(ERR.invalidData);
  });

  it('deletes with the type’s delete capability only, and never the device objects', async () => {
    const { admin, s } = await sessionWith(capabilities('delete-asymmetric-key'), 0n);
    await admin.ok(CMD.generateAsym, generateData(3, 'k', 1, SIGN, ALG.ecP256));
    expect(errorOf(await s.send(CMD.deleteObject, u16(1), [TYPE.authKey]))).toBe(ERR.insufficientPermissions);
    await s.ok(CMD.deleteObject, u16(3), [TYPE.asym]);
    expect(errorOf(await s.send(CMD.deleteObject, u16(3), [TYPE.asym]))).toBe(ERR.objectNotFound);
    expect(errorOf(await admin.send(CMD.deleteObject, u16(0), [TYPE.opaque]))).toBe(ERR.invalidId);
  });

  it('filters LIST OBJECTS by id, type, domains, capabilities, algorithm and label, and refuses unknown filters', async () => {
    const dev = await device();
    const s = await open(dev);
    await s.ok(CMD.generateAsym, generateData(3, 'tuf-root', 0b01, SIGN, ALG.ecP256));
    await s.ok(CMD.generateAsym, generateData(4, 'tuf-targets', 0b10, SIGN, ALG.ecP384));
    const ids = async (...filter: number[]) => {
      const d = await s.ok(CMD.listObjects, filter);
      const out: string[] = [];
      for (let i = 0; i < d.length; i += 4) out.push(`${d[i + 2]}:${(d[i]! << 8) | d[i + 1]!}`);
      return out;
    };
    expect(await ids()).toEqual(['1:0', '2:1', '3:3', '3:4']);
    expect(await ids(0x01, ...u16(4))).toEqual(['3:4']);
    expect(await ids(0x02, TYPE.authKey)).toEqual(['2:1']);
    expect(await ids(0x02, TYPE.asym, 0x03, ...u16(0b10))).toEqual(['3:4']);
    // Authentication key 1 has every capability, sign-ecdsa among them.
    expect(await ids(0x04, ...u64(SIGN))).toEqual(['2:1', '3:3', '3:4']);
    expect(await ids(0x05, ALG.ecP384)).toEqual(['3:4']);
    expect(await ids(0x06, ...label('tuf-root'))).toEqual(['3:3']);
    expect(errorOf(await s.send(CMD.listObjects, [0x09, 0]))).toBe(ERR.invalidData);
    expect(errorOf(await s.send(CMD.listObjects, [0x01, 0]))).toBe(ERR.wrongLength);
  });
});
