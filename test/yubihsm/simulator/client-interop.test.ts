// The project's host-side client (lib/yubihsm/client.ts) against the
// simulator, in process and through the connector HTTP server: the PSF runbook's
// provisioning sequence, and the device's errors arriving typed.
import 'reflect-metadata';
import { X509Certificate } from '@peculiar/x509';
import { afterAll, describe, expect, it } from 'vitest';
import { YubiHsmClient } from '../../../lib/yubihsm/client.ts';
import { ObjectType } from '../../../lib/yubihsm/protocol/objects.ts';
import { HttpTransport } from '../../../lib/yubihsm/transports/http.ts';
import { InProcessTransport } from '../../../lib/yubihsm/transports/in-process.ts';
import type { Transport } from '../../../lib/yubihsm/transports/transport.ts';
import { waitForDevice } from '../../../lib/yubihsm/wait.ts';
import { ConnectorServer } from '../../../lib/yubihsm/simulator/index.ts';
import { device } from './raw-host.ts';

const servers: ConnectorServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

interface Link {
  readonly transport: Transport;
  /** A new client to the same device, for finding it again after its reboot. */
  reopen(): Promise<YubiHsmClient>;
}

const transports: [string, () => Promise<Link>][] = [
  [
    'in process',
    async () => {
      const dev = await device();
      return { transport: new InProcessTransport(dev), reopen: () => Promise.resolve(new YubiHsmClient(new InProcessTransport(dev))) };
    },
  ],
  [
    'over HTTP',
    async () => {
      const server = await ConnectorServer.start(await device());
      servers.push(server);
      return { transport: new HttpTransport(server.url), reopen: () => YubiHsmClient.connector(server.url) };
    },
  ],
];

describe.each(transports)('host client against the simulator, %s', (_name, connect) => {
  const makeTransport = async () => (await connect()).transport;

  it('runs the PSF runbook provisioning sequence', async () => {
    const link = await connect();
    const client = new YubiHsmClient(link.transport);
    expect((await client.getDeviceInfo()).serial).toBe(7550054);
    const factory = await client.openSession(1, { password: 'password' });
    await factory.resetDevice();
    // The device reboots after the reset; the host finds it again rather than sleeping a guess.
    const back = await waitForDevice(() => link.reopen(), { timeoutMs: 5_000 });
    expect(back.info.serial).toBe(7550054);
    await back.client.close();
    const admin = await client.openSession(1, { password: 'password' });
    await admin.putAuthenticationKey({
      id: 2,
      label: 'tuf-authkey',
      domains: [1],
      capabilities: ['get-opaque', 'generate-asymmetric-key', 'sign-ecdsa', 'sign-attestation-certificate', 'delete-authentication-key'],
      delegatedCapabilities: ['sign-ecdsa'],
      credentials: { password: 'interop password' },
    });
    const s = await client.openSession(2, { password: 'interop password' });
    await s.deleteObject(1, ObjectType.AuthenticationKey);
    await expect(client.openSession(1, { password: 'password' })).toThrowWithCode('YUBIHSM_DEVICE_OBJECT_NOT_FOUND');
    expect(await s.generateEcKey({ id: 3, label: 'tuf-root', domains: [1], capabilities: ['sign-ecdsa'], curve: 'P-384' })).toBe(3);
    const pub = await s.getPublicKey(3);
    expect(pub.curve).toBe('P-384');
    expect(pub.point).toHaveLength(96);
    const attestation = new X509Certificate(await s.signAttestationCertificate(3));
    const deviceCert = new X509Certificate(await s.getDeviceCertificate());
    expect(await attestation.verify({ publicKey: deviceCert.publicKey, signatureOnly: true })).toBe(true);
    await expect(s.resetDevice()).toThrowWithCode('YUBIHSM_DEVICE_INSUFFICIENT_PERMISSIONS');
    await s.close();
  });

  it('gets a wrong password refused (the card cryptogram the simulator sends does not verify)', async () => {
    const client = new YubiHsmClient(await makeTransport());
    await expect(client.openSession(1, { password: 'wrong' })).toThrowWithCode('YUBIHSM_CARD_CRYPTOGRAM_MISMATCH');
  });

  it('gets the 17th session refused with the device error, typed', async () => {
    const client = new YubiHsmClient(await makeTransport());
    for (let i = 0; i < 16; i++) await client.openSession(1, { password: 'password' });
    await expect(client.openSession(1, { password: 'password' })).toThrowWithCode('YUBIHSM_DEVICE_SESSIONS_FULL');
  });
});
