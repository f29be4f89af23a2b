// End to end: a simulated YubiHSM 2 provisioned through the client, as
// "Provisioning the YubiHSM 2" does (steps 15-20: generate the root and
// targets keys, read their public keys, have the device attest them, read
// the device certificate), its products written with writeProduct, then
// verified. Nothing here is issued by the test: every certificate comes from
// the simulator.
import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemFromPoint, uncompressedPoint, type Curve } from '../../lib/keys.ts';
import { verifyProducts } from '../../lib/products/verify/index.ts';
import { writeProduct } from '../../lib/products/write.ts';
import { YubiHsmClient } from '../../lib/yubihsm/client.ts';
import { FACTORY_AUTH_KEY_ID, FACTORY_PASSWORD, SimulatedYubiHsm } from '../../lib/yubihsm/simulator/index.ts';
import { InProcessTransport } from '../../lib/yubihsm/transports/in-process.ts';
import { paddedSerial } from './support/test-ca.ts';

async function provision(products: string, serial: number, curve: Curve): Promise<void> {
  const device = await SimulatedYubiHsm.create({ serial });
  const client = new YubiHsmClient(new InProcessTransport(device));
  const session = await client.openSession(FACTORY_AUTH_KEY_ID, { password: FACTORY_PASSWORD });
  const s = paddedSerial(serial);
  const dir = join(products, s);
  await writeProduct(join(dir, `${s}_cert.der`), await session.getDeviceCertificate());
  for (const [role, id] of [['root', 3], ['targets', 4]] as const) {
    await session.generateEcKey({ id, label: `tuf-${role}`, domains: [1], capabilities: ['sign-ecdsa'], curve });
    const point = uncompressedPoint(curve, (await session.getPublicKey(id)).point);
    await writeProduct(join(dir, `${s}_${role}_attestation.der`), await session.signAttestationCertificate(id));
    await writeProduct(join(dir, `${s}_${role}_pubkey.pub`), point);
    await writeProduct(join(dir, `${s}_${role}_pubkey.pem`), pemFromPoint(curve, point));
  }
  await session.close();
  await client.close();
}

describe('products of a simulated YubiHSM 2', () => {
  let root: string;
  let products: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'runbook-verify-sim-'));
    products = join(root, 'ceremony-products');
    await provision(products, 7550054, 'P-256');
    await provision(products, 7550055, 'P-384');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('verify with allowSimulated, every device marked simulated', async () => {
    const report = await verifyProducts([products], {
      allowSimulated: true,
      inventory: {
        hsms: [
          { id: 'YubiHSM2-1', kind: 'yubihsm2', keyType: 'P-384' },
          { id: 'YubiHSM2-2', kind: 'yubihsm2', keyType: 'P-256' },
        ],
      },
    });
    expect(report.devices.flatMap((d) => d.findings)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.devices.map((d) => [d.serial, d.simulated, d.anchor, d.inventoryId])).toEqual([
      ['0007550054', true, 'simulated', 'YubiHSM2-2'],
      ['0007550055', true, 'simulated', 'YubiHSM2-1'],
    ]);
    expect(report.devices[0]?.keys[0]?.attestation).toMatchObject({ serial: 7550054, origin: 'generated', objectId: 3, label: 'tuf-root', capabilities: ['sign-ecdsa'] });
  });

  it('fail without allowSimulated: VERIFY_SIMULATED', async () => {
    const report = await verifyProducts([products]);
    expect(report.ok).toBe(false);
    expect([...new Set(report.devices.flatMap((d) => d.findings.map((f) => f.code)))]).toEqual(['VERIFY_SIMULATED']);
    // Still named for what they are.
    expect(report.devices.map((d) => d.simulated)).toEqual([true, true]);
    expect(report.devices[0]?.keys[0]?.checks.chain).toBe('fail');
  });
});
