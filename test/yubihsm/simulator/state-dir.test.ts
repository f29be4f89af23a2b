// One identity per serial, and a device that survives its process: with a
// state directory the simulator keeps its identity and its non-volatile
// state (objects with their keys, options, audit log), so a later process
// signs with keys provisioned earlier and presents the same device
// certificate. Without one, devices of a serial share an identity within
// the process.
import { createHash, verify } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyFromPoint } from '../../../lib/keys.ts';
import { YubiHsmClient } from '../../../lib/yubihsm/client.ts';
import { firstBrokenLink } from '../../../lib/yubihsm/protocol/log-commands.ts';
import { AuditSetting } from '../../../lib/yubihsm/protocol/option-commands.ts';
import { ObjectType } from '../../../lib/yubihsm/protocol/objects.ts';
import { makeDeviceIdentity, SimulatedYubiHsm } from '../../../lib/yubihsm/simulator/index.ts';
import { InProcessTransport } from '../../../lib/yubihsm/transports/in-process.ts';
import { waitForDevice } from '../../../lib/yubihsm/wait.ts';

const SERIAL = 7550054;
const AUTHKEY = { password: 'tuf authkey password' } as const;

const stateRoot = () => mkdtempSync(join(tmpdir(), 'sim-state-'));
const clientOf = (device: SimulatedYubiHsm) => new YubiHsmClient(new InProcessTransport(device));

/** Provisioning as the runbook does it: authentication key 2, factory key deleted, a P-256 key 3 that signs. */
async function provision(device: SimulatedYubiHsm) {
  const client = clientOf(device);
  const factory = await client.openSession(1, { password: 'password' });
  await factory.putAuthenticationKey({
    id: 2,
    label: 'tuf-authkey',
    domains: [1],
    capabilities: ['generate-asymmetric-key', 'sign-ecdsa', 'get-opaque', 'get-log-entries', 'delete-authentication-key', 'set-option', 'get-option'],
    delegatedCapabilities: ['sign-ecdsa'],
    credentials: AUTHKEY,
  });
  await factory.close();
  const s = await client.openSession(2, AUTHKEY);
  await s.deleteObject(1, ObjectType.AuthenticationKey);
  await s.generateEcKey({ id: 3, label: 'tuf-root', domains: [1], capabilities: ['sign-ecdsa'], curve: 'P-256' });
  return { client, s, point: (await s.getPublicKey(3)).point };
}

describe('a state directory', () => {
  it('keeps a device across processes: the same certificate, the keys provisioned earlier, the log going on', async () => {
    const root = stateRoot();
    const first = await SimulatedYubiHsm.create({ serial: SERIAL, stateDir: root });
    const { s, point } = await provision(first);
    const certificate = await s.getDeviceCertificate();
    const logBefore = await s.getLogEntries();
    first.close();

    const again = await SimulatedYubiHsm.create({ serial: SERIAL, stateDir: root });
    const s2 = await clientOf(again).openSession(2, AUTHKEY);
    expect(Buffer.from(await s2.getDeviceCertificate()).equals(Buffer.from(certificate))).toBe(true);
    await expect(clientOf(again).openSession(1, { password: 'password' })).toThrowWithCode('YUBIHSM_DEVICE_OBJECT_NOT_FOUND');

    const message = Buffer.from('TUF root metadata, signed in a later process');
    const signature = await s2.signEcdsa(3, createHash('sha256').update(message).digest());
    expect(verify('sha256', message, { key: keyFromPoint('P-256', point), dsaEncoding: 'der' }, signature)).toBe(true);
    expect(await s2.getObjectInfo(3, ObjectType.AsymmetricKey)).toMatchObject({ label: 'tuf-root', sequence: 0 });

    // The log goes on from where it was, with a power-on entry, and its chain holds across the restart.
    const logAfter = await s2.getLogEntries();
    const lastBefore = logBefore.entries.at(-1)!;
    const continued = logAfter.entries.filter((e) => e.number > lastBefore.number);
    expect(continued.some((e) => e.command === 0x00 && e.sessionKey === 0xffff)).toBe(true);
    expect(logAfter.entries.some((e) => e.number === lastBefore.number)).toBe(true);
    expect(firstBrokenLink(logAfter.entries)).toBe(-1);
  });

  it('keeps the options set (force-audit on) across processes', async () => {
    const root = stateRoot();
    const first = await SimulatedYubiHsm.create({ serial: SERIAL, stateDir: root });
    const { s } = await provision(first);
    await s.setForceAudit(AuditSetting.On);
    first.close();

    const second = await SimulatedYubiHsm.create({ serial: SERIAL, stateDir: root });
    const s2 = await clientOf(second).openSession(2, AUTHKEY);
    expect(await s2.getForceAudit()).toBe(AuditSetting.On);
  });

  it('writes its files whole, readable by the owner only', async () => {
    const root = stateRoot();
    const device = await SimulatedYubiHsm.create({ serial: SERIAL, stateDir: root });
    await provision(device);
    const dir = join(root, '0007550054');
    expect(readdirSync(dir).sort()).toEqual(['identity.pem', 'state.json']);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of ['identity.pem', 'state.json']) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    const identity = readFileSync(join(dir, 'identity.pem'), 'utf8');
    expect(identity).toContain('-----BEGIN PRIVATE KEY-----');
    expect(identity).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('reset through the device persists: factory state in the next process, the identity kept', async () => {
    const root = stateRoot();
    const first = await SimulatedYubiHsm.create({ serial: SERIAL, stateDir: root, rebootMs: 20 });
    const client = clientOf(first);
    const factory = await client.openSession(1, { password: 'password' });
    await factory.generateEcKey({ id: 3, label: 'k', domains: [1], capabilities: ['sign-ecdsa'], curve: 'P-384' });
    await factory.resetDevice();
    await (await waitForDevice(() => Promise.resolve(clientOf(first)), { timeoutMs: 2_000 })).client.close();
    first.close();

    const second = await SimulatedYubiHsm.create({ serial: SERIAL, stateDir: root });
    const s = await clientOf(second).openSession(1, { password: 'password' });
    expect((await s.listObjects()).map((o) => [o.id, o.type])).toEqual([
      [0, ObjectType.Opaque],
      [1, ObjectType.AuthenticationKey],
    ]);
    expect(Buffer.from(second.deviceCertificate).equals(Buffer.from(first.deviceCertificate))).toBe(true);
  });

  it('refuses a state file that does not parse, or belongs to another serial (SIMULATOR_STATE_INVALID)', async () => {
    const root = stateRoot();
    (await SimulatedYubiHsm.create({ serial: SERIAL, stateDir: root })).close();
    const dir = join(root, '0007550054');

    const other = stateRoot();
    cpSync(dir, join(other, '0007550055'), { recursive: true });
    await expect(SimulatedYubiHsm.create({ serial: 7550055, stateDir: other })).toThrowWithCode('SIMULATOR_STATE_INVALID');

    const state = join(dir, 'state.json');
    const text = readFileSync(state, 'utf8');
    writeFileSync(state, text.replace('"nextNumber"', '"nextNumbr"'));
    await expect(SimulatedYubiHsm.create({ serial: SERIAL, stateDir: root })).toThrowWithCode('SIMULATOR_STATE_INVALID');
    writeFileSync(state, '{ not json');
    await expect(SimulatedYubiHsm.create({ serial: SERIAL, stateDir: root })).toThrowWithCode('SIMULATOR_STATE_INVALID');
  });

  it('refuses a supplied identity other than the one it holds, and a directory it cannot create', async () => {
    const root = stateRoot();
    (await SimulatedYubiHsm.create({ serial: SERIAL, stateDir: root })).close();
    const stranger = await makeDeviceIdentity(SERIAL);
    await expect(SimulatedYubiHsm.create({ serial: SERIAL, stateDir: root, identity: stranger })).toThrowWithCode('SIMULATOR_OPTION_INVALID');

    const file = join(stateRoot(), 'a-file');
    writeFileSync(file, 'not a directory');
    await expect(SimulatedYubiHsm.create({ serial: SERIAL, stateDir: file })).toThrowWithCode('SIMULATOR_STATE_UNWRITABLE');
  });
  it('fails the link when its state can no longer be written (SIMULATOR_STATE_UNWRITABLE)', async () => {
    const root = stateRoot();
    const device = await SimulatedYubiHsm.create({ serial: SERIAL, stateDir: root });
    const dir = join(root, '0007550054');
    rmSync(dir, { recursive: true });
    writeFileSync(dir, 'the directory is gone');
    await expect(device.transmit(Uint8Array.of(0x01, 0x00, 0x01, 0x2a))).toThrowWithCode('SIMULATOR_STATE_UNWRITABLE');
    await expect(clientOf(device).getDeviceInfo()).toThrowWithCode('YUBIHSM_LINK_FAILED');
  });
});

describe('one identity per serial', () => {
  it('without a state directory, devices of one serial share an identity within the process; other serials do not', async () => {
    const a = await SimulatedYubiHsm.create({ serial: 13200460 });
    const b = await SimulatedYubiHsm.create({ serial: 13200460 });
    const c = await SimulatedYubiHsm.create({ serial: 13200461 });
    expect(Buffer.from(a.deviceCertificate).equals(Buffer.from(b.deviceCertificate))).toBe(true);
    expect(a.attestationKey.export({ type: 'pkcs8', format: 'der' }).equals(b.attestationKey.export({ type: 'pkcs8', format: 'der' }))).toBe(true);
    expect(Buffer.from(a.deviceCertificate).equals(Buffer.from(c.deviceCertificate))).toBe(false);
  });

  it('a new state directory takes the identity the process already uses for the serial', async () => {
    const inMemory = await SimulatedYubiHsm.create({ serial: 13200462 });
    const stored = await SimulatedYubiHsm.create({ serial: 13200462, stateDir: stateRoot() });
    expect(Buffer.from(stored.deviceCertificate).equals(Buffer.from(inMemory.deviceCertificate))).toBe(true);
  });
});
