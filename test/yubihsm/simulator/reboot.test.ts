// After RESET DEVICE a YubiHSM 2 answers, drops off the bus and reboots
// (python-yubihsm's reset tests close the connection and wait before
// connecting again). The simulator is off the bus for `rebootMs` on its
// clock: transmit rejects, the in-process transport reports a failed link,
// and the connector reports no device, as yubihsm-connector does.
import { afterEach, describe, expect, it } from 'vitest';
import { YubiHsmClient } from '../../../lib/yubihsm/client.ts';
import { ConnectorServer, DEFAULT_REBOOT_MS, SimulatedYubiHsm } from '../../../lib/yubihsm/simulator/index.ts';
import { InProcessTransport } from '../../../lib/yubihsm/transports/in-process.ts';
import { CMD, device, frame, open, parse, sharedIdentity } from './raw-host.ts';

let server: ConnectorServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A device on a clock the test moves, reset once. */
async function resetDevice(rebootMs?: number) {
  let now = 2_000_000;
  const clock = { advance: (ms: number) => (now += ms) };
  const dev = await device({ clock: () => now, ...(rebootMs === undefined ? {} : { rebootMs }) });
  const s = await open(dev);
  expect((await s.send(CMD.reset)).code).toBe(0x88);
  return { dev, clock };
}

describe('reboot after RESET DEVICE', () => {
  it('answers the reset, then is off the bus for rebootMs on its clock', async () => {
    const { dev, clock } = await resetDevice(250);
    expect(dev.isRebooting).toBe(true);
    expect(dev.isConnected).toBe(false);
    await expect(dev.transmit(frame(CMD.echo, [1]))).toThrowWithCode('SIMULATOR_REBOOTING');
    clock.advance(249);
    await expect(dev.transmit(frame(CMD.deviceInfo))).toThrowWithCode('SIMULATOR_REBOOTING');
    clock.advance(1);
    expect(dev.isConnected).toBe(true);
    expect(parse(await dev.transmit(frame(CMD.echo, [1]))).code).toBe(0x81);
    // Back in factory state: the factory key opens a session.
    await open(dev);
  });

  it('counts the log’s ticks from the end of the reboot', async () => {
    const { dev, clock } = await resetDevice(100);
    clock.advance(100 + 7);
    await dev.transmit(frame(CMD.echo, [1]));
    const entries = dev.log.all;
    expect(entries.map((e) => e.number)).toEqual([1, 2, 3]);
    expect(entries[2]!.tick).toBe(7);
  });

  it('reboots for 100 ms by default, so six devices reset in a rehearsal stay fast', async () => {
    expect(DEFAULT_REBOOT_MS).toBe(100);
    const dev = await device();
    expect(dev.rebootMs).toBe(100);
  });

  it('refuses a reboot time that is not above 0', async () => {
    const identity = await sharedIdentity();
    for (const rebootMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(SimulatedYubiHsm.create({ identity, rebootMs })).toThrowWithCode('SIMULATOR_OPTION_INVALID');
    }
  });

  it('fails the in-process link while rebooting (YUBIHSM_LINK_FAILED)', async () => {
    const { dev, clock } = await resetDevice(100);
    const client = new YubiHsmClient(new InProcessTransport(dev));
    await expect(client.getDeviceInfo()).toThrowWithCode('YUBIHSM_LINK_FAILED');
    clock.advance(100);
    expect((await client.getDeviceInfo()).serial).toBe(dev.serial);
  });

  it('makes the connector report no device (status=NO_DEVICE, 500 on the API) while rebooting', async () => {
    const { dev, clock } = await resetDevice(100);
    server = await ConnectorServer.start(dev);
    expect(await (await fetch(`${server.url}/connector/status`)).text()).toMatch(/^status=NO_DEVICE\n/);
    expect((await fetch(`${server.url}/connector/api`, { method: 'POST', body: frame(CMD.echo, [1]) })).status).toBe(500);
    await expect(YubiHsmClient.connector(server.url)).toThrowWithCode('YUBIHSM_CONNECTOR_NOT_READY');
    clock.advance(100);
    expect(await (await fetch(`${server.url}/connector/status`)).text()).toMatch(/^status=OK\n/);
    const client = await YubiHsmClient.connector(server.url);
    expect((await client.getDeviceInfo()).serial).toBe(dev.serial);
  });
});
