// The SIMULATED attestation material: the committed CA, the devices and the
// key requests the simulated SmartCard-HSM makes, in the real format (field
// by field against DENK0404144's), verifying only when simulated
// attestations are allowed.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSequence, type Source, type Tlv } from '../../lib/cvc/decode/tlv.ts';
import { ecSpki } from '../../lib/cvc/key-object.ts';
import { attestKey, makeSimulatedDevice, parseDevaut, parseRequest, REQUEST_CAR, SIMULATED_DICA_CHR, SIMULATED_SRCA_CHR, verifyKeyAttestation } from '../../lib/cvc/index.ts';
import { makeSimulatedCa } from '../../lib/cvc/simulator/make-ca.ts';
import { SIMULATED_CA_FILES, simulatedCaPath } from '../../lib/cvc/simulator/names.ts';
import { sha256Hex, SIMULATED_SRCA_SHA256 } from '../../lib/cvc/trust.ts';
import { readFileSync } from 'node:fs';
import { REAL, failure, simulatedCa } from './support.ts';

const SRC: Source = { part: 'request', name: 'test' };

/**
 * The tree of tags, and the lengths of fields whose size the format fixes
 * (everything but references), of a TLV structure: two files in the same
 * format have the same skeleton.
 */
function skeleton(bytes: Uint8Array, varying: ReadonlySet<number> = new Set([0x42, 0x5f20])): unknown[] {
  const walk = (items: Tlv[]): unknown[] =>
    items.map((t) => (t.constructed ? [t.tag.toString(16), walk(decodeSequence(t.value, SRC))] : [t.tag.toString(16), varying.has(t.tag) ? 'ref' : t.value.length]));
  return walk(decodeSequence(bytes, SRC));
}

describe('the committed SIMULATED CA', () => {
  const ca = simulatedCa();

  it('is pinned: the root file has the SHA-256 in lib/cvc/trust.ts', () => {
    expect(sha256Hex(readFileSync(simulatedCaPath(SIMULATED_CA_FILES.srca)))).toBe(SIMULATED_SRCA_SHA256);
  });

  it('says SIMULATED in its names, with the real chain’s roles', () => {
    expect([ca.srca.cert.chr, ca.srca.cert.car, ca.dica.cert.chr, ca.dica.cert.car]).toEqual([SIMULATED_SRCA_CHR, SIMULATED_SRCA_CHR, SIMULATED_DICA_CHR, SIMULATED_SRCA_CHR]);
    expect([ca.srca.cert.chat.authorization, ca.dica.cert.chat.authorization]).toEqual([Uint8Array.of(0xc0), Uint8Array.of(0x80)]);
  });

  it('holds the private keys of its certificates', () => {
    for (const { cert, key } of [ca.srca, ca.dica]) {
      if (cert.publicKey.kind !== 'ec') throw new Error('EC expected');
      expect(Buffer.from(createPublicKey(key).export({ type: 'spki', format: 'der' }))).toEqual(Buffer.from(ecSpki('brainpoolP256r1', cert.publicKey.point)));
    }
  });

  it('has the layout of CardContact’s chain: the same skeleton as DESRCACC100001 and DEDINK0400001', () => {
    const real = parseDevaut(REAL.devaut);
    expect(skeleton(ca.srca.bytes)).toEqual(skeleton(REAL.srca));
    expect(skeleton(ca.dica.bytes)).toEqual(skeleton(real.dica.bytes));
    expect(ca.srca.bytes.length).toBe(REAL.srca.length);
  });

  it('make-ca writes a new chain that verifies, and never overwrites one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runbook-cvc-ca-'));
    const { srcaSha256 } = await makeSimulatedCa(dir);
    expect((await readdir(dir)).sort()).toEqual([SIMULATED_CA_FILES.dica, SIMULATED_CA_FILES.srca, SIMULATED_CA_FILES.dicaKey, SIMULATED_CA_FILES.srcaKey].sort());
    expect(sha256Hex(readFileSync(join(dir, SIMULATED_CA_FILES.srca)))).toBe(srcaSha256);
    await expect(makeSimulatedCa(dir)).toThrowWithCode('PRODUCT_EXISTS');
  });
});

describe('simulated devices and their attestations', () => {
  it('verify with allowSimulated for P-256, P-384 and RSA keys, marked simulated; not without it', async () => {
    const device = await makeSimulatedDevice('DENK0102947');
    expect(device.chr).toBe('DENK010294700000');
    for (const key of [
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' }),
      generateKeyPairSync('ec', { namedCurve: 'secp384r1' }),
      generateKeyPairSync('rsa', { modulusLength: 2048 }),
    ]) {
      const request = attestKey(device, key);
      const spki = new Uint8Array(key.publicKey.export({ type: 'spki', format: 'der' }));
      const a = verifyKeyAttestation({ devaut: device.devaut, request, publicKey: spki, serial: 'DENK0102947', allowSimulated: true });
      expect([a.simulated, a.serial, a.device.chr, a.dica.chr, a.srca.chr]).toEqual([true, 'DENK0102947', 'DENK010294700000', SIMULATED_DICA_CHR, SIMULATED_SRCA_CHR]);
      expect(failure(() => verifyKeyAttestation({ devaut: device.devaut, request, publicKey: spki }))).toEqual({ code: 'CVC_SIMULATED', part: 'srca' });
    }
  });

  it('a P-256 request is the real CE03, field by field', async () => {
    const device = await makeSimulatedDevice('DENK0404144');
    const request = attestKey(device, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }));
    const sim = parseRequest(request);
    const real = parseRequest(REAL.ce03);
    // Same device serial, so the same lengths everywhere: 490 bytes.
    expect(request.length).toBe(REAL.ce03.length);
    expect(skeleton(request, new Set())).toEqual(skeleton(REAL.ce03, new Set()));
    expect([sim.inner.car, sim.inner.chr, sim.outer?.car]).toEqual([REQUEST_CAR, real.inner.chr, real.outer?.car]);
    expect([sim.inner.publicKey.algorithm, sim.inner.publicKey.kind === 'ec' && sim.inner.publicKey.curve]).toEqual([real.inner.publicKey.algorithm, 'P-256']);
    expect([sim.inner.signature.length, sim.outer?.signature.length]).toEqual([real.inner.signature.length, real.outer?.signature.length]);
    // The OID and domain parameters are the device's bytes exactly: all of 7F49 but the point.
    const keyFields = (r: typeof sim) => {
      const [body] = decodeSequence(r.inner.signedBytes, SRC);
      const key = decodeSequence(body?.value ?? new Uint8Array(), SRC).find((t) => t.tag === 0x7f49);
      return decodeSequence(key?.value ?? new Uint8Array(), SRC).map((t) => (t.tag === 0x86 ? '86: the point' : Buffer.from(t.bytes).toString('hex')));
    };
    expect(keyFields(sim)).toEqual(keyFields(real));
    expect(keyFields(sim)).toHaveLength(8);
  });

  it('an RSA-2048 request has the real CE04’s skeleton', async () => {
    const device = await makeSimulatedDevice('DENK0404144');
    const request = attestKey(device, generateKeyPairSync('rsa', { modulusLength: 2048 }));
    expect(skeleton(request, new Set())).toEqual(skeleton(REAL.ce04, new Set()));
  });

  it('EF 2F02 has the real one’s skeleton: device certificate, then the DICA with its empty extensions', async () => {
    const device = await makeSimulatedDevice('DENK0404144');
    expect(skeleton(device.devaut)).toEqual(skeleton(REAL.devaut));
    const { device: cert } = parseDevaut(device.devaut);
    expect([cert.chr, cert.car, cert.chat.authorization[0]]).toEqual(['DENK040414400000', SIMULATED_DICA_CHR, 0x00]);
  });

  it('a device certificate is valid five years less a day from its issue, never past the DICA', async () => {
    const a = parseDevaut((await makeSimulatedDevice('DENK0102947', { issued: new Date('2027-03-01T15:00:00Z') })).devaut).device;
    expect([a.validFrom.toISOString(), a.validTo.toISOString()]).toEqual(['2027-03-01T00:00:00.000Z', '2032-02-29T23:59:59.999Z']);
    const b = parseDevaut((await makeSimulatedDevice('DENK0102947', { issued: new Date('2047-06-01') })).devaut).device;
    expect(b.validTo.toISOString()).toBe('2049-12-31T23:59:59.999Z');
  });

  it('refuses a serial that cannot make a CHR', async () => {
    await expect(makeSimulatedDevice('DENK 0102947')).toThrowWithCode('CVC_DEVICE_CHR');
    await expect(makeSimulatedDevice('DENK01029470000')).toThrowWithCode('CVC_DEVICE_CHR');
  });
});
