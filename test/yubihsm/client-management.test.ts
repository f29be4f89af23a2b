// The typed device management methods of YubiHsmSession (storage, random
// bytes, LED, options, log index, changing a password) against the
// simulator, in process and over the connector HTTP API; every refusal
// arrives as a YubiHsmError with the device's code.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { YubiHsmClient, type YubiHsmSession } from '../../lib/yubihsm/client.ts';
import { YubiHsmError } from '../../lib/yubihsm/errors.ts';
import { Command } from '../../lib/yubihsm/protocol/commands.ts';
import { AuditSetting, DeviceOption } from '../../lib/yubihsm/protocol/option-commands.ts';
import { AUDITED_COMMANDS, ConnectorServer, identityForSerial, SimulatedYubiHsm, type DeviceIdentity } from '../../lib/yubihsm/simulator/index.ts';
import { HttpTransport } from '../../lib/yubihsm/transports/http.ts';
import { InProcessTransport } from '../../lib/yubihsm/transports/in-process.ts';
import type { Transport } from '../../lib/yubihsm/transports/transport.ts';
import type { CapabilityName } from '../../lib/yubihsm/capabilities.ts';

const SERIAL = 7550054;
const FACTORY = { password: 'password' } as const;
let identity: DeviceIdentity;
beforeAll(async () => {
  identity = await identityForSerial(SERIAL);
});

const servers: ConnectorServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const links: [string, (d: SimulatedYubiHsm) => Promise<Transport>][] = [
  ['in process', (d) => Promise.resolve(new InProcessTransport(d))],
  [
    'over the connector HTTP API',
    async (d) => {
      const server = await ConnectorServer.start(d);
      servers.push(server);
      return new HttpTransport(server.url);
    },
  ],
];

describe.each(links)('YubiHsmSession management commands, %s', (_name, link) => {
  async function fresh(): Promise<{ device: SimulatedYubiHsm; client: YubiHsmClient; factory: YubiHsmSession }> {
    const device = await SimulatedYubiHsm.create({ serial: SERIAL, identity });
    const client = new YubiHsmClient(await link(device));
    return { device, client, factory: await client.openSession(1, FACTORY) };
  }

  /** A session with authentication key 2 holding exactly `capabilities`. */
  async function limited(capabilities: CapabilityName[]) {
    const f = await fresh();
    await f.factory.putAuthenticationKey({ id: 2, label: 'limited', domains: [1], capabilities, delegatedCapabilities: [], credentials: { password: 'pw2' } });
    return { ...f, s: await f.client.openSession(2, { password: 'pw2' }) };
  }

  it('getStorageInfo: records and pages', async () => {
    const { factory } = await fresh();
    expect(await factory.getStorageInfo()).toEqual({ totalRecords: 256, freeRecords: 255, totalPages: 1024, freePages: 1023, pageSize: 126 });
    await factory.generateEcKey({ id: 3, label: 'k', domains: [1], capabilities: [], curve: 'P-256' });
    expect(await factory.getStorageInfo()).toMatchObject({ freeRecords: 254, freePages: 1022 });
  });

  it('getPseudoRandom: the bytes asked for; the limit checked before sending; the capability on the device', async () => {
    const { factory } = await fresh();
    const a = await factory.getPseudoRandom(64);
    expect(a).toHaveLength(64);
    expect(Buffer.from(a).equals(Buffer.from(await factory.getPseudoRandom(64)))).toBe(false);
    await expect(factory.getPseudoRandom(2029)).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
    const { s } = await limited(['get-opaque']);
    await expect(s.getPseudoRandom(8)).toThrowWithCode('YUBIHSM_DEVICE_INSUFFICIENT_PERMISSIONS');
  });

  it('blinkDevice: blinks, no capability needed', async () => {
    const { device, s } = await limited([]);
    await s.blinkDevice(5);
    expect(device.isBlinking).toBe(true);
    await expect(s.blinkDevice(256)).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
  });

  it('force-audit and command-audit, typed; raw options for the rest', async () => {
    const { factory } = await fresh();
    expect(await factory.getForceAudit()).toBe(AuditSetting.Off);
    await factory.setForceAudit(AuditSetting.On);
    expect(await factory.getForceAudit()).toBe(AuditSetting.On);
    await factory.setForceAudit(AuditSetting.Off);

    const before = await factory.getCommandAudit();
    expect(before.map((c) => c.command)).toEqual(AUDITED_COMMANDS);
    expect(before.every((c) => c.setting === AuditSetting.On)).toBe(true);
    await factory.setCommandAudit([{ command: Command.SignEcdsa, setting: AuditSetting.Off }]);
    const after = await factory.getCommandAudit();
    expect(after.find((c) => c.command === (Command.SignEcdsa as number))?.setting).toBe(AuditSetting.Off);
    expect(after.filter((c) => c.setting === AuditSetting.Off)).toHaveLength(1);

    expect([...(await factory.getOption(DeviceOption.ForceAudit))]).toEqual([0]);
    await expect(factory.getOption(DeviceOption.AlgorithmToggle)).toThrowWithCode('YUBIHSM_DEVICE_INVALID_DATA');
    await expect(factory.setOption(DeviceOption.ForceAudit, Uint8Array.of(7))).toThrowWithCode('YUBIHSM_DEVICE_INVALID_DATA');
    await expect(factory.setCommandAudit([{ command: 0x02, setting: AuditSetting.On }])).toThrowWithCode('YUBIHSM_DEVICE_INVALID_DATA');
  });

  it('options need set-option and get-option', async () => {
    const { s } = await limited(['get-opaque']);
    await expect(s.setForceAudit(AuditSetting.On)).toThrowWithCode('YUBIHSM_DEVICE_INSUFFICIENT_PERMISSIONS');
    await expect(s.getForceAudit()).toThrowWithCode('YUBIHSM_DEVICE_INSUFFICIENT_PERMISSIONS');
  });

  it('setLogIndex: the entries read are freed; with forced audit a full log refuses commands until then', async () => {
    const { factory } = await fresh();
    await factory.setForceAudit(AuditSetting.On);
    let refused: unknown;
    for (let i = 0; i < 70 && refused === undefined; i++) await factory.echo(Uint8Array.of(i)).catch((err: unknown) => (refused = err));
    expect(refused).toBeInstanceOf(YubiHsmError);
    expect((refused as YubiHsmError).code).toBe('YUBIHSM_DEVICE_LOG_FULL');
    expect(factory.isOpen).toBe(true);

    const log = await factory.getLogEntries();
    expect(log.entries).toHaveLength(62);
    const last = log.entries.at(-1)!.number;
    await factory.setLogIndex(last);
    await factory.echo(Uint8Array.of(1));
    expect((await factory.getLogEntries()).entries.map((e) => e.number)).toEqual([last + 1, last + 2]);
    await expect(factory.setLogIndex(last)).toThrowWithCode('YUBIHSM_DEVICE_INVALID_DATA');

    const { s } = await limited(['get-opaque']);
    await expect(s.setLogIndex(1)).toThrowWithCode('YUBIHSM_DEVICE_INSUFFICIENT_PERMISSIONS');
  });

  it('changeAuthenticationKey: the session’s own key only, with change-authentication-key', async () => {
    const { client, s } = await limited(['change-authentication-key']);
    expect(await s.changeAuthenticationKey({ password: 'pw2 changed' })).toBe(2);
    expect((await s.echo(Uint8Array.of(9)))[0]).toBe(9);
    await expect(client.openSession(2, { password: 'pw2' })).toThrowWithCode('YUBIHSM_CARD_CRYPTOGRAM_MISMATCH');
    await (await client.openSession(2, { password: 'pw2 changed' })).close();

    // Even the factory key, with every capability, may not change another key.
    const factory = await client.openSession(1, FACTORY);
    await expect(factory.changeAuthenticationKey({ password: 'x' }, 2)).toThrowWithCode('YUBIHSM_DEVICE_INVALID_ID');

    const { s: without } = await limited(['get-opaque']);
    await expect(without.changeAuthenticationKey({ password: 'x' })).toThrowWithCode('YUBIHSM_DEVICE_INSUFFICIENT_PERMISSIONS');
  });
});
