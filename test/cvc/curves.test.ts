// The curve table lib/cvc matches domain parameters against: every constant
// is @noble/curves', every OID is the one node:crypto writes for the curve,
// and the real vectors' parameters are recognized for what they are.
import { generateKeyPairSync } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { brainpoolP256r1, brainpoolP384r1, brainpoolP512r1 } from '@noble/curves/misc.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { CURVES, curveOfNodeName, curveOfParams, type CvcCurve } from '../../lib/cvc/curves.ts';
import { cvPublicKey } from '../../lib/cvc/encode/key-object.ts';
import { ecSpki } from '../../lib/cvc/key-object.ts';
import { parseDevaut, parseRequest } from '../../lib/cvc/index.ts';
import { decodeCertificate } from '../../lib/cvc/decode/certificate.ts';
import { decodeOnly } from '../../lib/cvc/decode/tlv.ts';
import { REAL } from './support.ts';

const NOBLE = { 'P-256': p256, 'P-384': p384, 'P-521': p521, secp256k1, brainpoolP256r1, brainpoolP384r1, brainpoolP512r1 } as const satisfies Record<CvcCurve, unknown>;
const big = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex')}`);

describe('the known curves', () => {
  it.each(CURVES.map((c) => [c.name, c] as const))('%s has the parameters @noble/curves has', (name, c) => {
    const n = NOBLE[name].Point.CURVE();
    expect([big(c.params.p), big(c.params.a), big(c.params.b), big(c.params.n), big(c.params.h)]).toEqual([n.p, n.a, n.b, n.n, n.h]);
    expect(c.params.g[0]).toBe(0x04);
    expect([big(c.params.g.subarray(1, 1 + c.fieldBytes)), big(c.params.g.subarray(1 + c.fieldBytes))]).toEqual([n.Gx, n.Gy]);
    expect([c.params.p.length, c.params.a.length, c.params.b.length, c.params.g.length]).toEqual([c.fieldBytes, c.fieldBytes, c.fieldBytes, 1 + 2 * c.fieldBytes]);
  });

  it.each(CURVES.map((c) => [c.name, c] as const))('%s: its OID and SPKI are the ones node:crypto writes for %s', (_name, c) => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: c.nodeName });
    expect(curveOfNodeName(publicKey.asymmetricKeyDetails?.namedCurve ?? '')?.name).toBe(c.name);
    const cv = cvPublicKey(publicKey, true);
    if (cv.kind !== 'ec') throw new Error('not EC');
    expect(Buffer.from(ecSpki(c.name, cv.point))).toEqual(publicKey.export({ type: 'spki', format: 'der' }));
  });

  it("recognizes the real vectors' parameters: brainpoolP256r1 in the root, P-256 in CE03, secp256k1 in CE01", () => {
    const srca = decodeCertificate(decodeOnly(REAL.srca, { part: 'srca', name: 'srca' }), { part: 'srca', name: 'srca' });
    expect(srca.publicKey).toMatchObject({ kind: 'ec', curve: 'brainpoolP256r1' });
    expect(parseRequest(REAL.ce03).inner.publicKey).toMatchObject({ kind: 'ec', curve: 'P-256' });
    expect(parseRequest(REAL.ce01).inner.publicKey).toMatchObject({ kind: 'ec', curve: 'secp256k1' });
    // The DICA and device keys carry no parameters: they inherit the root's.
    const { dica, device } = parseDevaut(REAL.devaut);
    expect([dica.publicKey, device.publicKey].map((k) => (k.kind === 'ec' ? k.curve : 'rsa'))).toEqual([undefined, undefined]);
  });

  it('matches only an exact parameter set', () => {
    const c = CURVES[0]!;
    expect(curveOfParams(c.params)).toBe(c);
    expect(curveOfParams({ ...c.params, h: Uint8Array.of(0, 1) })).toBeUndefined();
    expect(curveOfParams({ ...c.params, b: Uint8Array.from(c.params.b, (x, i) => (i === 0 ? x ^ 1 : x)) })).toBeUndefined();
  });
});
