// One client suite, run over the in-process transport and over the connector
// HTTP API on loopback, against the simulated YubiHSM 2. It walks the PSF runbook's
// "Provisioning the YubiHSM 2" procedure for both key types, then the ways it
// must refuse.
import 'reflect-metadata';
import { createHash, verify } from 'node:crypto';
import { X509Certificate } from '@peculiar/x509';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CURVE_HASH, keyFromPoint, spkiFromPoint, type Curve } from '../../lib/keys.ts';
import { capabilities } from '../../lib/yubihsm/capabilities.ts';
import { YubiHsmClient, type YubiHsmSession } from '../../lib/yubihsm/client.ts';
import { Algorithm } from '../../lib/yubihsm/protocol/algorithms.ts';
import { Command } from '../../lib/yubihsm/protocol/commands.ts';
import { firstBrokenLink } from '../../lib/yubihsm/protocol/log-commands.ts';
import { decodeResponse, encodeFrame } from '../../lib/yubihsm/protocol/frame.ts';
import { ObjectOrigin, ObjectType } from '../../lib/yubihsm/protocol/objects.ts';
import { decodeCreateSessionResponse, encodeCreateSessionRequest } from '../../lib/yubihsm/protocol/session-commands.ts';
import { ConnectorServer, makeDeviceIdentity, SimulatedYubiHsm, simulatedCa, type DeviceIdentity } from '../../lib/yubihsm/simulator/index.ts';
import { HttpTransport } from '../../lib/yubihsm/transports/http.ts';
import { InProcessTransport } from '../../lib/yubihsm/transports/in-process.ts';
import type { Transport } from '../../lib/yubihsm/transports/transport.ts';
import { waitForDevice } from '../../lib/yubihsm/wait.ts';

const SERIAL = 7550054;
const FACTORY = { password: 'password' } as const;
/** The new authentication key's password (in a ceremony: dice-generated in the pre-ceremony). */
const AUTHKEY = { password: 'correct horse battery staple' } as const;
/** The PSF runbook's tuf-authkey capabilities and delegated capabilities. */
const AUTHKEY_CAPABILITIES = capabilities('get-opaque', 'generate-asymmetric-key', 'sign-ecdsa', 'sign-attestation-certificate', 'delete-authentication-key');
const AUTHKEY_DELEGATED = capabilities('sign-ecdsa');

let identity: DeviceIdentity;
beforeAll(async () => {
  identity = await makeDeviceIdentity(SERIAL);
});

interface Link {
  readonly transport: Transport;
  /** A new client to the same device (after a reset, the device must be reached afresh). */
  reopen(): Promise<YubiHsmClient>;
  stop(): Promise<void>;
}

const transports: [string, (device: SimulatedYubiHsm) => Promise<Link>][] = [
  [
    'in-process',
    (device) =>
      Promise.resolve({
        transport: new InProcessTransport(device),
        reopen: () => Promise.resolve(new YubiHsmClient(new InProcessTransport(device))),
        stop: () => Promise.resolve(),
      }),
  ],
  [
    'the connector HTTP API',
    async (device) => {
      const server = await ConnectorServer.start(device);
      const transport = new HttpTransport(server.url);
      const status = await transport.requireReady();
      expect(Number(status.serial)).toBe(SERIAL);
      return { transport, reopen: () => YubiHsmClient.connector(server.url), stop: () => server.close() };
    },
  ],
];

describe.each(transports)('YubiHSM client over %s', (_name, connect) => {
  const links: Link[] = [];
  afterEach(async () => {
    for (const l of links.splice(0)) await l.stop();
  });

  async function fresh(): Promise<{ device: SimulatedYubiHsm; client: YubiHsmClient; link: Link }> {
    const device = await SimulatedYubiHsm.create({ serial: SERIAL, identity });
    const link = await connect(device);
    links.push(link);
    return { device, client: new YubiHsmClient(link.transport, { device: `YubiHSM 2 serial ${SERIAL}` }), link };
  }

  /**
   * Runbook steps 8-15: reset, wait for the device to come back, new
   * authentication key 2, default key deleted. Returns a session with key 2.
   */
  async function provisionAuthKey(client: YubiHsmClient, link: Link): Promise<YubiHsmSession> {
    const factory = await client.openSession(1, FACTORY);
    await factory.resetDevice();
    expect(factory.isOpen).toBe(false);
    // The device reboots: until it is back it does not answer (in process: the link fails; HTTP: the connector's 500).
    const during = await client.getDeviceInfo().then(
      () => 'answered',
      (err: unknown) => (err as { code?: string }).code,
    );
    expect(['YUBIHSM_LINK_FAILED', 'YUBIHSM_CONNECTOR_HTTP_STATUS']).toContain(during);
    const back = await waitForDevice(() => link.reopen(), { timeoutMs: 5_000 });
    expect(back.info.serial).toBe(SERIAL);
    await back.client.close();

    const s1 = await client.openSession(1, FACTORY);
    const id = await s1.putAuthenticationKey({
      id: 2,
      label: 'tuf-authkey',
      domains: [1],
      capabilities: AUTHKEY_CAPABILITIES,
      delegatedCapabilities: AUTHKEY_DELEGATED,
      credentials: AUTHKEY,
    });
    expect(id).toBe(2);
    await s1.close();

    const s2 = await client.openSession(2, AUTHKEY);
    await s2.deleteObject(1, ObjectType.AuthenticationKey);
    return s2;
  }

  it.each(['P-256', 'P-384'] as Curve[])("runs the PSF runbook's provisioning sequence on %s", async (curve) => {
    const { client, link } = await fresh();

    // Step 8: the serial the operator compares with the one written down.
    const info = await client.getDeviceInfo();
    expect(info.serial).toBe(SERIAL);
    expect(info.algorithms).toContain(curve === 'P-256' ? Algorithm.EcP256 : Algorithm.EcP384);

    const s = await provisionAuthKey(client, link);

    // The new key carries exactly the PSF runbook's capabilities.
    const auth = await s.getObjectInfo(2, ObjectType.AuthenticationKey);
    expect(auth).toMatchObject({ id: 2, label: 'tuf-authkey', domains: 0x0001, type: ObjectType.AuthenticationKey, algorithm: Algorithm.Aes128YubicoAuthentication });
    expect(auth.capabilities).toBe(AUTHKEY_CAPABILITIES);
    expect(auth.delegatedCapabilities).toBe(AUTHKEY_DELEGATED);

    // Step 15: the TUF root and targets keys.
    const keys = [
      { id: 3, label: 'tuf-root' },
      { id: 4, label: 'tuf-targets' },
    ];
    for (const k of keys) {
      expect(await s.generateEcKey({ ...k, domains: [1], capabilities: ['sign-ecdsa'], curve })).toBe(k.id);
    }
    const listed = await s.listObjects();
    expect(listed.map((o) => [o.id, o.type]).sort()).toEqual([
      [0, ObjectType.Opaque],
      [2, ObjectType.AuthenticationKey],
      [3, ObjectType.AsymmetricKey],
      [4, ObjectType.AsymmetricKey],
    ]);
    expect((await s.listObjects({ type: ObjectType.AsymmetricKey, label: 'tuf-targets' })).map((o) => o.id)).toEqual([4]);

    // The device certificate (the PSF runbook's _cert.der) from opaque 0.
    const deviceCert = new X509Certificate(await s.getDeviceCertificate());
    // ... issued by the simulated Yubico-like chain (the real one is in test/fixtures/yubico).
    const ca = simulatedCa();
    expect(await deviceCert.verify({ publicKey: ca.subCa, signatureOnly: true })).toBe(true);
    expect(await ca.subCa.verify({ publicKey: ca.root, signatureOnly: true })).toBe(true);

    for (const k of keys) {
      const info = await s.getObjectInfo(k.id, ObjectType.AsymmetricKey);
      expect(info).toMatchObject({ label: k.label, domains: 0x0001, origin: ObjectOrigin.Generated });
      expect(info.capabilities).toBe(capabilities('sign-ecdsa'));

      // The public key (the PSF runbook's _pubkey.pub: 0x04 ‖ X ‖ Y).
      const pub = await s.getPublicKey(k.id);
      expect(pub.curve).toBe(curve);
      const key = keyFromPoint(curve, pub.point);

      // The attestation certificate: signed by the device key, for this public key.
      const att = new X509Certificate(await s.signAttestationCertificate(k.id));
      expect(await att.verify({ publicKey: deviceCert, signatureOnly: true })).toBe(true);
      expect(Buffer.from(att.publicKey.rawData).equals(Buffer.from(spkiFromPoint(curve, pub.point)))).toBe(true);

      // A prehash signed on the device verifies with node:crypto.
      const message = new TextEncoder().encode(`TUF ${k.label} metadata`);
      const digest = createHash(CURVE_HASH[curve]).update(message).digest();
      const signature = await s.signEcdsa(k.id, digest);
      expect(verify(CURVE_HASH[curve], message, { key, dsaEncoding: 'der' }, signature)).toBe(true);
      expect(verify(CURVE_HASH[curve], new TextEncoder().encode('other'), { key, dsaEncoding: 'der' }, signature)).toBe(false);
    }
    await s.close();
  });

  it('reads the audit log, whose digests chain', async () => {
    const { client } = await fresh();
    const s = await client.openSession(1, FACTORY);
    await s.echo(Uint8Array.of(1));
    const log = await s.getLogEntries();
    expect(log.entries.length).toBeGreaterThan(0);
    expect(firstBrokenLink(log.entries)).toBe(-1);
    expect(log.entries.some((e) => e.command === (Command.CreateSession as number))).toBe(true);
  });

  describe('refusals, each typed', () => {
    it('a wrong password: the host refuses the card cryptogram, the device refuses the host cryptogram', async () => {
      const { client, link } = await fresh();
      await expect(client.openSession(1, { password: 'not the password' })).toThrowWithCode('YUBIHSM_CARD_CRYPTOGRAM_MISMATCH');

      // What the device says when a host goes on regardless (e.g. an older client).
      const created = decodeCreateSessionResponse(
        decodeResponse(
          Command.CreateSession,
          await link.transport.send(encodeFrame(Command.CreateSession, encodeCreateSessionRequest({ authKeyId: 1, hostChallenge: new Uint8Array(8) }))),
        ),
      );
      const forged = encodeFrame(Command.AuthenticateSession, Uint8Array.of(created.sessionId, ...new Uint8Array(16)));
      const answer = await link.transport.send(forged);
      expect(() => decodeResponse(Command.AuthenticateSession, answer)).toThrowWithCode('YUBIHSM_DEVICE_AUTH_FAIL');
    });

    it('a deleted key: a deleted signing key, and the default authentication key after provisioning', async () => {
      const { client, link } = await fresh();
      const f = await client.openSession(1, FACTORY);
      await f.generateEcKey({ id: 3, label: 'tuf-root', domains: [1], capabilities: ['sign-ecdsa'], curve: 'P-256' });
      expect((await f.signEcdsa(3, new Uint8Array(32))).length).toBeGreaterThan(8);
      await f.deleteObject(3, ObjectType.AsymmetricKey);
      await expect(f.signEcdsa(3, new Uint8Array(32))).toThrowWithCode('YUBIHSM_DEVICE_OBJECT_NOT_FOUND');
      await expect(f.getPublicKey(3)).toThrowWithCode('YUBIHSM_DEVICE_OBJECT_NOT_FOUND');
      await expect(f.deleteObject(3, ObjectType.AsymmetricKey)).toThrowWithCode('YUBIHSM_DEVICE_OBJECT_NOT_FOUND');
      // The session survives refused commands.
      expect(await f.echo(Uint8Array.of(7))).toEqual(Uint8Array.of(7));
      await f.close();

      const s = await provisionAuthKey(client, link);
      await expect(client.openSession(1, FACTORY)).toThrowWithCode('YUBIHSM_DEVICE_OBJECT_NOT_FOUND');
      await expect(s.getObjectInfo(1, ObjectType.AuthenticationKey)).toThrowWithCode('YUBIHSM_DEVICE_OBJECT_NOT_FOUND');
    });

    it('a missing capability: tuf-authkey may not reset the device, read the log, or create authentication keys', async () => {
      const { client, link } = await fresh();
      const s = await provisionAuthKey(client, link);
      await expect(s.resetDevice()).toThrowWithCode('YUBIHSM_DEVICE_INSUFFICIENT_PERMISSIONS');
      expect(s.isOpen).toBe(true); // a refused command leaves the session usable
      await s.close();
      const again = await client.openSession(2, AUTHKEY);
      await expect(again.getLogEntries()).toThrowWithCode('YUBIHSM_DEVICE_INSUFFICIENT_PERMISSIONS');
      await expect(
        again.putAuthenticationKey({ id: 5, label: 'x', domains: [1], capabilities: [], delegatedCapabilities: [], credentials: AUTHKEY }),
      ).toThrowWithCode('YUBIHSM_DEVICE_INSUFFICIENT_PERMISSIONS');
    });

    it('a 17th session: the device has 16 slots', async () => {
      const { client } = await fresh();
      const open = await Promise.all(Array.from({ length: 16 }, () => client.openSession(1, FACTORY)));
      expect(new Set(open.map((s) => s.id)).size).toBe(16);
      await expect(client.openSession(1, FACTORY)).toThrowWithCode('YUBIHSM_DEVICE_SESSIONS_FULL');
      await open[5]!.close();
      const seventeenth = await client.openSession(1, FACTORY);
      expect(seventeenth.id).toBe(open[5]!.id);
    });

    it('a closed session', async () => {
      const { client } = await fresh();
      const s = await client.openSession(1, FACTORY);
      await s.close();
      await expect(s.getDeviceInfo()).toThrowWithCode('YUBIHSM_SESSION_CLOSED');
    });
  });
});

describe('YubiHsmClient.connector', () => {
  it('checks the connector status and names the device by the serial it reports', async () => {
    const device = await SimulatedYubiHsm.create({ serial: SERIAL, identity });
    const server = await ConnectorServer.start(device);
    try {
      const client = await YubiHsmClient.connector(server.url);
      expect(client.device).toContain('0007550054');
      expect((await client.getDeviceInfo()).serial).toBe(SERIAL);
      device.close(); // unplugged: the connector reports status=NO_DEVICE
      await expect(YubiHsmClient.connector(server.url)).toThrowWithCode('YUBIHSM_CONNECTOR_NOT_READY');
    } finally {
      await server.close();
    }
  });
});
