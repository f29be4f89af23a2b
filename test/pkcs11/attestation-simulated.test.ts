// The simulated SmartCard-HSM attests its keys as the card does: EF 2F02
// under the SIMULATED scheme root, and for each generated key an
// authenticated request in EF CE<key reference>, where the key reference is
// the card's next free one and not the key's CKA_ID. What it writes is checked
// with lib/cvc's verifier, as `runbook verify` checks a real device's.
import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { attestedKeySpki, verifyKeyAttestation } from '../../lib/cvc/index.ts';
import { spkiFromPoint } from '../../lib/keys.ts';
import { generateKeyPairs } from '../../lib/pkcs11/generate.ts';
import { FACTORY_SO_PIN, FACTORY_USER_PIN, SimulatedSmartCardHsm, simulatedAttestationReader } from '../../lib/pkcs11/simulator/smartcard-hsm.ts';
import { openSimulatedToken, simulatedTokenAttestation } from '../../lib/pkcs11/simulator/token.ts';
import type { Token } from '../../lib/pkcs11/token.ts';
import { KEYS } from './support/keys.ts';

/** What the simulated token reports itself to be: OpenSC's view of a Nitrokey HSM. */
const SIMULATED_NITROKEY = { manufacturer: 'www.CardContact.de', model: 'PKCS#15 emulated' };

/** Root (CKA_ID 12) and targets (13) on a fresh device, with the factory user PIN. */
async function withKeys(device: SimulatedSmartCardHsm, keys = KEYS): Promise<{ token: Token; spki: Map<string, Uint8Array> }> {
  const token = await openSimulatedToken([device]);
  const generated = await generateKeyPairs(token, { userPin: FACTORY_USER_PIN, curve: 'P-256', keys, expect: SIMULATED_NITROKEY });
  await token.logout();
  return { token, spki: new Map(generated.keys.map((k) => [k.role, k.spki])) };
}

const sameKey = (a: Uint8Array, b: Uint8Array) =>
  createPublicKey({ key: Buffer.from(a), format: 'der', type: 'spki' }).equals(createPublicKey({ key: Buffer.from(b), format: 'der', type: 'spki' }));

describe('the simulated SmartCard-HSM attests the keys it generates', () => {
  it('each key has a request, by key reference 1, 2, …, that verifies to the SIMULATED root with its serial and key', async () => {
    const device = await SimulatedSmartCardHsm.create({ serial: 'DENK0102947' });
    const { token, spki } = await withKeys(device);
    const material = await simulatedTokenAttestation(token)?.read();
    expect(material).toBeDefined();
    expect(material?.requests.map((r) => r.keyReference)).toEqual([1, 2]);
    for (const [i, role] of ['root', 'targets'].entries()) {
      const request = material?.requests[i]?.request ?? new Uint8Array();
      expect(request[0]).toBe(0x67);
      const attestation = verifyKeyAttestation({ devaut: material?.devaut ?? new Uint8Array(), request, publicKey: spki.get(role), serial: 'DENK0102947', allowSimulated: true });
      expect(attestation).toBeDefined();
    }
  });

  it('does not verify unless simulated attestations are allowed: the SIMULATED root is not CardContact’s', async () => {
    const device = await SimulatedSmartCardHsm.create();
    const { token, spki } = await withKeys(device);
    const material = await simulatedTokenAttestation(token)?.read();
    const request = material?.requests[0]?.request ?? new Uint8Array();
    expect(() => verifyKeyAttestation({ devaut: material?.devaut ?? new Uint8Array(), request, publicKey: spki.get('root'), serial: device.serial })).toThrowWithCode(
      'CVC_SIMULATED',
    );
  });

  it('numbers keys by the card’s key references, not by CKA_ID: a request is matched to its key by the key it attests', async () => {
    const device = await SimulatedSmartCardHsm.create();
    // A stray key first, then targets before root: root is at key reference 3, targets at 2.
    const stray = { role: 'stray', id: Uint8Array.of(0x01), label: 'stray' };
    const [root, targets] = KEYS;
    const { token, spki } = await withKeys(device, [stray, targets!, root!]);
    const material = await simulatedTokenAttestation(token)?.read();
    const byKey = (role: string) => material?.requests.find((r) => sameKey(attestedKeySpki(r.request), spki.get(role) ?? new Uint8Array()))?.keyReference;
    expect(byKey('stray')).toBe(1);
    expect(byKey('targets')).toBe(2);
    expect(byKey('root')).toBe(3);
    expect(device.keysWithId(Uint8Array.of(0x12)).map((k) => k.keyReference)).toEqual([3]);
  });

  it('re-initialization erases the keys and their EF CE files; EF 2F02 stays, and new keys start again at key reference 1', async () => {
    const device = await SimulatedSmartCardHsm.create();
    const devaut = device.readDeviceCertificates();
    const { token } = await withKeys(device);
    expect(device.certificateFileReferences()).toEqual([1, 2]);
    await token.initToken(FACTORY_SO_PIN, 'again');
    expect(device.certificateFileReferences()).toEqual([]);
    expect(device.readDeviceCertificates()).toEqual(devaut);
    await token.login('so', FACTORY_SO_PIN);
    await token.initPin(FACTORY_USER_PIN);
    await token.logout();
    const { token: again, spki } = await withKeys(device);
    const material = await simulatedTokenAttestation(again)?.read();
    expect(material?.devaut).toEqual(devaut);
    expect(material?.requests.map((r) => r.keyReference)).toEqual([1, 2]);
    expect(sameKey(attestedKeySpki(material?.requests[0]?.request ?? new Uint8Array()), spki.get('root') ?? new Uint8Array())).toBe(true);
  });

  it('skips a key reference whose EF CE holds a certificate written over its request, and stops when `enough` holds', async () => {
    const device = await SimulatedSmartCardHsm.create();
    await withKeys(device);
    device.writeCertificateFile(1, Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00));
    const reader = simulatedAttestationReader(device);
    expect((await reader?.read())?.requests.map((r) => r.keyReference)).toEqual([2]);
    const again = await SimulatedSmartCardHsm.create();
    await withKeys(again);
    expect((await simulatedAttestationReader(again)?.read({ enough: (found) => found.length === 1 }))?.requests).toHaveLength(1);
  });

  it('a chip made without an identity attests nothing, and a token the simulator did not open has no reader', async () => {
    const plain = new SimulatedSmartCardHsm();
    const { token } = await withKeys(plain);
    expect(plain.certificateFileReferences()).toEqual([]);
    expect(simulatedTokenAttestation(token)).toBeUndefined();
    expect(simulatedTokenAttestation({ ...token, description: 'another token' })).toBeUndefined();
  });

  it('the attested key is the generated one, point for point', async () => {
    const device = await SimulatedSmartCardHsm.create();
    const { token } = await withKeys(device);
    const [root] = device.keysWithId(Uint8Array.of(0x12));
    const material = await simulatedTokenAttestation(token)?.read();
    expect(sameKey(attestedKeySpki(material?.requests[0]?.request ?? new Uint8Array()), spkiFromPoint('P-256', root?.point ?? new Uint8Array()))).toBe(true);
  });
});
