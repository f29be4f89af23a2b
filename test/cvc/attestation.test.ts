// verifyKeyAttestation on the real vectors of Nitrokey HSM 2 DENK0404144,
// and each way an attestation can fail, with its own code and the part of
// the material at fault. Hostile material is made with real signatures: the
// committed SIMULATED CA's keys (public on purpose) and fresh keys.
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ROLE, TA } from '../../lib/cvc/algorithms.ts';
import { encodeCertificate } from '../../lib/cvc/encode/certificate.ts';
import { cvPublicKey } from '../../lib/cvc/encode/key-object.ts';
import { encodeAuthenticatedRequest, encodeRequest, encodeRequestBody } from '../../lib/cvc/encode/request.ts';
import { concat } from '../../lib/cvc/encode/tlv.ts';
import { attestedKeySpki, parseDevaut, parseRequest, SRCA_SHA256, verifyKeyAttestation, type KeyAttestationInput } from '../../lib/cvc/index.ts';
import { signTa } from '../../lib/cvc/sign.ts';
import { attestKey, REQUEST_CAR } from '../../lib/cvc/simulator/issuer.ts';
import { AT, REAL, REAL_DEVICE_CHR, REAL_DICA_CHR, REAL_SERIAL, brainpool, failure, flip, issue, offsetIn, simulatedCa, simulatedDevaut } from './support.ts';

const verify = (input: Partial<KeyAttestationInput> = {}) => verifyKeyAttestation({ devaut: REAL.devaut, request: REAL.ce03, at: AT, ...input });
const fails = (input: Partial<KeyAttestationInput>) => failure(() => verify(input));

describe('the real vectors verify', () => {
  it('CE03 (P-256), against its published key and serial, to the pinned root', () => {
    const a = verify({ publicKey: REAL.ce03Spki, serial: REAL_SERIAL });
    expect(a.srca).toEqual({ chr: 'DESRCACC100001', car: 'DESRCACC100001', validFrom: new Date('2012-11-09'), validTo: new Date('2032-11-08T23:59:59.999Z'), sha256: SRCA_SHA256 });
    expect(a.dica).toEqual({ chr: REAL_DICA_CHR, car: 'DESRCACC100001', validFrom: new Date('2024-10-30'), validTo: new Date('2032-10-29T23:59:59.999Z') });
    expect(a.device).toEqual({ chr: REAL_DEVICE_CHR, car: REAL_DICA_CHR, validFrom: new Date('2026-05-28'), validTo: new Date('2031-05-27T23:59:59.999Z') });
    expect(a.serial).toBe(REAL_SERIAL);
    expect(a.attestedKey).toEqual({ spki: REAL.ce03Spki, kind: 'ec', curve: 'P-256', chr: 'DENK040414400001' });
    expect(a.simulated).toBe(false);
  });

  it('CE04 (RSA-2048, inner signature RSA PKCS#1 v1.5 with SHA-256)', () => {
    const a = verify({ request: REAL.ce04, publicKey: REAL.ce04Spki, serial: REAL_SERIAL });
    expect(a.attestedKey).toEqual({ spki: REAL.ce04Spki, kind: 'rsa', chr: 'DENK040414400001' });
  });

  it('CE01 (secp256k1, a curve the ceremony does not use): the attestation holds, and says which curve', () => {
    // The chain and both signatures are genuine: refusing the key is the
    // products verifier's rule (its curve), not a failure of the attestation.
    const a = verify({ request: REAL.ce01 });
    expect(a.attestedKey).toMatchObject({ kind: 'ec', curve: 'secp256k1' });
    expect(a.attestedKey.spki).toEqual(attestedKeySpki(REAL.ce01));
  });

  it("CE03's inner signature is high-S, and verifies as the device made it", () => {
    const s = parseRequest(REAL.ce03).inner.signature.subarray(32);
    const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
    expect(BigInt(`0x${Buffer.from(s).toString('hex')}`) > n / 2n).toBe(true);
  });

  describe('at the current time by default', () => {
    afterEach(() => {
      vi.useRealTimers();
    });
    it('valid while every certificate is, expired after the device certificate', () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2028-01-01T00:00:00Z'));
      expect(verifyKeyAttestation({ devaut: REAL.devaut, request: REAL.ce03 }).serial).toBe(REAL_SERIAL);
      vi.setSystemTime(new Date('2031-06-01T00:00:00Z'));
      expect(failure(() => verifyKeyAttestation({ devaut: REAL.devaut, request: REAL.ce03 }))).toEqual({ code: 'CVC_EXPIRED', part: 'device' });
    });
  });
});

describe('a flipped signature byte fails at its own level', () => {
  const { device, dica } = parseDevaut(REAL.devaut);
  const { inner, outer } = parseRequest(REAL.ce03);

  it('the DICA certificate: CVC_DICA_SIGNATURE', () => {
    expect(fails({ devaut: flip(REAL.devaut, offsetIn(REAL.devaut, dica.signature) + 5) })).toEqual({ code: 'CVC_DICA_SIGNATURE', part: 'dica' });
  });
  it('the device certificate: CVC_DEVICE_SIGNATURE', () => {
    expect(fails({ devaut: flip(REAL.devaut, offsetIn(REAL.devaut, device.signature) + 40) })).toEqual({ code: 'CVC_DEVICE_SIGNATURE', part: 'device' });
  });
  it("the request's outer signature, by the device: CVC_OUTER_SIGNATURE", () => {
    expect(fails({ request: flip(REAL.ce03, offsetIn(REAL.ce03, outer?.signature ?? new Uint8Array()) + 63) })).toEqual({ code: 'CVC_OUTER_SIGNATURE', part: 'request' });
  });
  it("the request's inner self-signature, re-authenticated by a device: CVC_INNER_SIGNATURE", () => {
    // The outer signature covers the inner one, so a flip there is caught by
    // the device's signature first; a device that authenticates a request
    // whose self-signature is wrong is caught by the inner check.
    const sim = simulatedDevaut();
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const good = parseRequest(attestKey(sim, key)).inner;
    const badInner = encodeRequest(good.signedBytes, flip(good.signature, 0));
    const request = encodeAuthenticatedRequest(badInner, sim.chr, signTa(sim.deviceKey, TA.ecdsaSha256, concat(badInner, Uint8Array.of(0x42, 16), Buffer.from(sim.chr))));
    expect(failure(() => verify({ devaut: sim.devaut, request, allowSimulated: true }))).toEqual({ code: 'CVC_INNER_SIGNATURE', part: 'key' });
    expect(fails({ request: flip(REAL.ce03, offsetIn(REAL.ce03, inner.signature)) })?.code).toBe('CVC_OUTER_SIGNATURE');
  });
  // The pinned root's own signature: trust.test.ts (CVC_TRUST_PIN).
});

describe('the wrong signed input fails', () => {
  const { device } = parseDevaut(REAL.devaut);

  it('a signed field changed (the device certificate expiring a day later): CVC_DEVICE_SIGNATURE', () => {
    // 5F24 03 01 00 05 02 07 → …08: still a valid date, no longer what the DICA signed.
    const at = offsetIn(REAL.devaut, device.signedBytes) + device.signedBytes.length - 1;
    expect(REAL.devaut[at]).toBe(7);
    expect(fails({ devaut: flip(REAL.devaut, at, 0x0f) })).toEqual({ code: 'CVC_DEVICE_SIGNATURE', part: 'device' });
  });

  it('a certificate signed over its body without tag and length: CVC_DEVICE_SIGNATURE', () => {
    const ca = simulatedCa();
    const good = simulatedDevaut();
    const body = parseDevaut(good.devaut).device.signedBytes;
    const header = body[2] === 0x81 ? 4 : 3; // 7F4E, then 81 xx or one length byte
    const devaut = concat(encodeCertificate(body, signTa(ca.dica.key, TA.ecdsaSha256, body.subarray(header))), ca.dica.bytes);
    const request = attestKey(good, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }));
    expect(failure(() => verify({ devaut, request, allowSimulated: true }))).toEqual({ code: 'CVC_DEVICE_SIGNATURE', part: 'device' });
    // The same body signed whole verifies: only the input differs.
    const right = concat(encodeCertificate(body, signTa(ca.dica.key, TA.ecdsaSha256, body)), ca.dica.bytes);
    expect(verify({ devaut: right, request, allowSimulated: true }).simulated).toBe(true);
  });

  it('an outer signature over the inner request without the outer CAR: CVC_OUTER_SIGNATURE', () => {
    const sim = simulatedDevaut();
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const inner = parseRequest(attestKey(sim, key)).inner.bytes;
    const request = encodeAuthenticatedRequest(inner, sim.chr, signTa(sim.deviceKey, TA.ecdsaSha256, inner));
    expect(failure(() => verify({ devaut: sim.devaut, request, allowSimulated: true }))).toEqual({ code: 'CVC_OUTER_SIGNATURE', part: 'request' });
  });
});

describe('the chain must be SRCA → DICA → device', () => {
  const { device, dica } = parseDevaut(REAL.devaut);

  it('the DICA certificate alone offered as EF 2F02: CVC_CHAIN_LENGTH', () => {
    expect(fails({ devaut: Uint8Array.from(dica.bytes) })).toEqual({ code: 'CVC_CHAIN_LENGTH', part: 'devaut' });
  });
  it('the DICA certificate in the device certificate’s place: CVC_ROLE', () => {
    expect(fails({ devaut: concat(dica.bytes, dica.bytes) })).toEqual({ code: 'CVC_ROLE', part: 'device' });
  });
  it('the device certificate in the DICA’s place: CVC_ROLE', () => {
    expect(fails({ devaut: concat(device.bytes, device.bytes) })).toEqual({ code: 'CVC_ROLE', part: 'dica' });
  });
  it('a third certificate (the root appended): CVC_CHAIN_LENGTH', () => {
    expect(fails({ devaut: concat(REAL.devaut, REAL.srca) })).toEqual({ code: 'CVC_CHAIN_LENGTH', part: 'devaut' });
  });
  it('a self-signed device certificate before the real DICA: CVC_ISSUER', () => {
    const keys = brainpool();
    const self = issue(
      { car: REAL_DEVICE_CHR, publicKey: cvPublicKey(keys.publicKey, false), chr: REAL_DEVICE_CHR, role: ROLE.device, validFrom: new Date('2026-01-01'), validTo: new Date('2030-12-31') },
      keys.privateKey,
    );
    expect(fails({ devaut: concat(self, dica.bytes) })).toEqual({ code: 'CVC_ISSUER', part: 'device' });
  });
  it('a device certificate issued by another (simulated) DICA before the real DICA: CVC_ISSUER', () => {
    const sim = simulatedDevaut({ chr: REAL_DEVICE_CHR });
    expect(fails({ devaut: concat(parseDevaut(sim.devaut).device.bytes, dica.bytes) })).toEqual({ code: 'CVC_ISSUER', part: 'device' });
  });
  it('a DICA issued by a root that is not pinned: CVC_UNTRUSTED_ROOT', () => {
    const root = brainpool();
    const dicaKeys = brainpool();
    const fake = issue(
      { car: 'DESRCACC100002', publicKey: cvPublicKey(dicaKeys.publicKey, false), chr: REAL_DICA_CHR, role: ROLE.dica, validFrom: new Date('2024-01-01'), validTo: new Date('2032-01-01'), extensions: new Uint8Array(0) },
      root.privateKey,
    );
    expect(fails({ devaut: concat(device.bytes, fake) })).toEqual({ code: 'CVC_UNTRUSTED_ROOT', part: 'dica' });
  });
  it('a DICA that names the real root but is signed by another key: CVC_DICA_SIGNATURE', () => {
    const dicaKeys = brainpool();
    const forged = issue(
      { car: 'DESRCACC100001', publicKey: cvPublicKey(dicaKeys.publicKey, false), chr: REAL_DICA_CHR, role: ROLE.dica, validFrom: new Date('2024-01-01'), validTo: new Date('2032-01-01') },
      dicaKeys.privateKey,
    );
    expect(fails({ devaut: concat(device.bytes, forged) })).toEqual({ code: 'CVC_DICA_SIGNATURE', part: 'dica' });
  });
  it('a device certificate with the DICA role, issued by the DICA: CVC_ROLE', () => {
    const sim = simulatedDevaut({ role: ROLE.dica });
    expect(failure(() => verify({ devaut: sim.devaut, allowSimulated: true }))).toEqual({ code: 'CVC_ROLE', part: 'device' });
  });
  it('a device certificate with an RSA key: CVC_KEY_TYPE', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const sim = simulatedDevaut({ publicKey: cvPublicKey(rsa.publicKey, false) });
    expect(failure(() => verify({ devaut: sim.devaut, allowSimulated: true }))).toEqual({ code: 'CVC_KEY_TYPE', part: 'device' });
  });
  it('a device certificate with its own domain parameters: CVC_DOMAIN_PARAMETERS', () => {
    const sim = simulatedDevaut({ publicKey: cvPublicKey(brainpool().publicKey, true) });
    expect(failure(() => verify({ devaut: sim.devaut, allowSimulated: true }))).toEqual({ code: 'CVC_DOMAIN_PARAMETERS', part: 'device' });
  });
  it('a device key off the curve, properly signed by the DICA: CVC_BAD_KEY', () => {
    const pk = cvPublicKey(brainpool().publicKey, false);
    if (pk.kind !== 'ec') throw new Error('EC expected');
    const sim = simulatedDevaut({ publicKey: { ...pk, point: flip(pk.point, 64) } });
    expect(failure(() => verify({ devaut: sim.devaut, allowSimulated: true }))).toEqual({ code: 'CVC_BAD_KEY', part: 'device' });
  });
  it('a device key on a curve other than the root’s: CVC_BAD_KEY', () => {
    const pk = cvPublicKey(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, false);
    const sim = simulatedDevaut({ publicKey: pk });
    expect(failure(() => verify({ devaut: sim.devaut, allowSimulated: true }))).toEqual({ code: 'CVC_BAD_KEY', part: 'device' });
  });
  it('a device CHR without a five-digit sequence number: CVC_DEVICE_CHR', () => {
    const sim = simulatedDevaut({ chr: 'DENK01029470000X' });
    expect(failure(() => verify({ devaut: sim.devaut, request: attestKey({ ...sim, chr: 'DENK010294700000' }, generateKeyPairSync('ec', { namedCurve: 'prime256v1' })), allowSimulated: true }))).toEqual({
      code: 'CVC_DEVICE_CHR',
      part: 'device',
    });
  });
});

describe('dates are checked at `at`', () => {
  it('the real DICA (2024-10-30 to 2032-10-29) has expired on 2032-10-30: CVC_EXPIRED', () => {
    expect(fails({ at: new Date('2032-10-30T00:00:00Z') })).toEqual({ code: 'CVC_EXPIRED', part: 'dica' });
  });
  it('the DICA is not yet valid on 2024-10-29: CVC_NOT_YET_VALID', () => {
    expect(fails({ at: new Date('2024-10-29T23:59:59Z') })).toEqual({ code: 'CVC_NOT_YET_VALID', part: 'dica' });
  });
  it('the device certificate is valid from 2026-05-28 00:00 UTC through 2031-05-27', () => {
    expect(fails({ at: new Date('2026-05-27T23:59:59.999Z') })).toEqual({ code: 'CVC_NOT_YET_VALID', part: 'device' });
    expect(verify({ at: new Date('2026-05-28T00:00:00Z') }).serial).toBe(REAL_SERIAL);
    expect(verify({ at: new Date('2031-05-27T23:59:59.999Z') }).serial).toBe(REAL_SERIAL);
    expect(fails({ at: new Date('2031-05-28T00:00:00Z') })).toEqual({ code: 'CVC_EXPIRED', part: 'device' });
  });
  it('the root has expired on 2032-11-09: CVC_EXPIRED, the root first', () => {
    expect(fails({ at: new Date('2032-11-09T00:00:00Z') })).toEqual({ code: 'CVC_EXPIRED', part: 'srca' });
  });
});

describe('the request must be this device’s, for this key', () => {
  it('a request authenticated by another device (its outer CAR): CVC_OUTER_CAR', () => {
    const a = simulatedDevaut({ chr: 'DENK010294700000' });
    const b = simulatedDevaut({ chr: 'DENK010318900000' });
    const request = attestKey(a, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }));
    expect(failure(() => verify({ devaut: b.devaut, request, allowSimulated: true }))).toEqual({ code: 'CVC_OUTER_CAR', part: 'request' });
  });
  it('the real request with the outer CAR rewritten to another device: CVC_OUTER_CAR', () => {
    const { outer } = parseRequest(REAL.ce03);
    const carAt = offsetIn(REAL.ce03, outer?.signedBytes ?? new Uint8Array()) + (outer?.signedBytes.length ?? 0) - 1;
    expect(fails({ request: flip(REAL.ce03, carAt, 0x01) })).toEqual({ code: 'CVC_OUTER_CAR', part: 'request' });
  });
  it('another device’s request, its outer CAR rewritten to this device: CVC_OUTER_SIGNATURE', () => {
    const a = simulatedDevaut({ chr: 'DENK010294700000' });
    const b = simulatedDevaut({ chr: 'DENK010294700000' });
    expect(failure(() => verify({ devaut: b.devaut, request: attestKey(a, generateKeyPairSync('ec', { namedCurve: 'prime256v1' })), allowSimulated: true }))).toEqual({
      code: 'CVC_OUTER_SIGNATURE',
      part: 'request',
    });
  });
  it('a bare request that no device authenticated: CVC_NOT_AUTHENTICATED', () => {
    expect(fails({ request: Uint8Array.from(parseRequest(REAL.ce03).inner.bytes) })).toEqual({ code: 'CVC_NOT_AUTHENTICATED', part: 'request' });
  });
  it('the wrong published key: CVC_KEY_MISMATCH', () => {
    expect(fails({ publicKey: REAL.ce04Spki })).toEqual({ code: 'CVC_KEY_MISMATCH', part: 'key' });
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' });
    expect(fails({ publicKey: new Uint8Array(other) })).toEqual({ code: 'CVC_KEY_MISMATCH', part: 'key' });
    expect(fails({ request: REAL.ce04, publicKey: REAL.ce03Spki })).toEqual({ code: 'CVC_KEY_MISMATCH', part: 'key' });
  });
  it('a published key that is not SPKI: CVC_KEY_MALFORMED', () => {
    expect(fails({ publicKey: REAL.ce03Spki.subarray(0, 40) })).toEqual({ code: 'CVC_KEY_MALFORMED', part: 'public-key' });
  });
  it('another serial than the directory’s: CVC_SERIAL_MISMATCH', () => {
    expect(fails({ serial: 'DENK0404145' })).toEqual({ code: 'CVC_SERIAL_MISMATCH', part: 'device' });
  });
  it('an attested key off its curve, authenticated by the device: CVC_BAD_KEY', () => {
    const sim = simulatedDevaut();
    const pk = cvPublicKey(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, true);
    if (pk.kind !== 'ec') throw new Error('EC expected');
    const body = encodeRequestBody({ car: REQUEST_CAR, publicKey: { ...pk, point: flip(pk.point, 64) }, chr: 'DENK010294700001' });
    const inner = encodeRequest(body, new Uint8Array(64).fill(1));
    const request = encodeAuthenticatedRequest(inner, sim.chr, signTa(sim.deviceKey, TA.ecdsaSha256, concat(inner, Uint8Array.of(0x42, 16), Buffer.from(sim.chr))));
    expect(failure(() => verify({ devaut: sim.devaut, request, allowSimulated: true }))).toEqual({ code: 'CVC_BAD_KEY', part: 'key' });
    expect(failure(() => attestedKeySpki(request))).toEqual({ code: 'CVC_BAD_KEY', part: 'key' });
  });
  it('an attested EC key without domain parameters: CVC_DOMAIN_PARAMETERS', () => {
    const sim = simulatedDevaut();
    const pk = cvPublicKey(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, false);
    const inner = encodeRequest(encodeRequestBody({ car: REQUEST_CAR, publicKey: pk, chr: 'DENK010294700001' }), new Uint8Array(64).fill(1));
    const request = encodeAuthenticatedRequest(inner, sim.chr, signTa(sim.deviceKey, TA.ecdsaSha256, concat(inner, Uint8Array.of(0x42, 16), Buffer.from(sim.chr))));
    expect(failure(() => verify({ devaut: sim.devaut, request, allowSimulated: true }))).toEqual({ code: 'CVC_DOMAIN_PARAMETERS', part: 'key' });
  });
});

describe('malformed material fails with a typed code, naming the file', () => {
  it('every truncation of EF 2F02 and of the request', () => {
    for (let n = 0; n < REAL.devaut.length; n++) {
      const f = fails({ devaut: REAL.devaut.subarray(0, n) });
      // Cut exactly after the device certificate, it is one certificate.
      expect(f, `EF 2F02 cut at ${n}`).toEqual({ code: n === parseDevaut(REAL.devaut).device.bytes.length ? 'CVC_CHAIN_LENGTH' : 'CVC_TRUNCATED', part: 'devaut' });
    }
    for (let n = 0; n < REAL.ce03.length; n++) {
      expect(fails({ request: REAL.ce03.subarray(0, n) }), `CE03 cut at ${n}`).toEqual({ code: 'CVC_TRUNCATED', part: 'request' });
    }
  });
  it('trailing bytes after EF 2F02 and after the request: CVC_TRAILING_BYTES', () => {
    expect(fails({ devaut: concat(REAL.devaut, Uint8Array.of(0x00)) })).toEqual({ code: 'CVC_TRAILING_BYTES', part: 'devaut' });
    expect(fails({ devaut: concat(REAL.devaut, Uint8Array.of(0x90, 0x00)) })).toEqual({ code: 'CVC_TRAILING_BYTES', part: 'devaut' });
    expect(fails({ request: concat(REAL.ce03, Uint8Array.of(0x00)) })).toEqual({ code: 'CVC_TRAILING_BYTES', part: 'request' });
  });
  it('a length in a longer form than needed: CVC_MALFORMED', () => {
    // 7F21 81 E4 … written 7F21 82 00E4 …
    const overlong = concat(Uint8Array.of(0x7f, 0x21, 0x82, 0x00), REAL.devaut.subarray(3));
    expect(fails({ devaut: overlong })).toEqual({ code: 'CVC_MALFORMED', part: 'devaut' });
  });
  it('domain parameters of no known curve: CVC_UNKNOWN_CURVE', () => {
    const p = offsetIn(REAL.ce03, parseRequest(REAL.ce03).inner.signedBytes) + 0x2f; // inside 81 (the prime)
    expect(fails({ request: flip(REAL.ce03, p) })).toEqual({ code: 'CVC_UNKNOWN_CURVE', part: 'request' });
  });
  it('an algorithm this verifier refuses (id-TA-ECDSA-SHA-1): CVC_UNSUPPORTED_ALGORITHM', () => {
    const oid = Buffer.from(REAL.ce03).indexOf(Buffer.from(TA.ecdsaSha256.der));
    expect(fails({ request: flip(REAL.ce03, oid + TA.ecdsaSha256.der.length - 1, 0x02) })).toEqual({ code: 'CVC_UNSUPPORTED_ALGORITHM', part: 'request' });
  });
  it('a CHR with characters a reference may not hold: CVC_MALFORMED', () => {
    const at = Buffer.from(REAL.devaut).indexOf(Buffer.from(REAL_DEVICE_CHR));
    expect(fails({ devaut: flip(REAL.devaut, at, 0x5f) })).toEqual({ code: 'CVC_MALFORMED', part: 'devaut' });
  });
  it('a date that is no day of the calendar: CVC_MALFORMED', () => {
    const { device } = parseDevaut(REAL.devaut);
    const at = offsetIn(REAL.devaut, device.signedBytes) + device.signedBytes.length - 3; // the expiration month's second digit
    expect(fails({ devaut: flip(REAL.devaut, at, 0x08) })).toEqual({ code: 'CVC_MALFORMED', part: 'devaut' });
  });
});

describe('simulated attestations', () => {
  it('verify with allowSimulated, are marked simulated, and fail without it', () => {
    const sim = simulatedDevaut();
    const key = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const request = attestKey(sim, key);
    const a = verify({ devaut: sim.devaut, request, allowSimulated: true, publicKey: new Uint8Array(key.publicKey.export({ type: 'spki', format: 'der' })), serial: 'DENK0102947' });
    expect([a.simulated, a.srca.chr, a.dica.chr, a.attestedKey.curve]).toEqual([true, 'UTSRCASIM00001', 'UTDICASIM00001', 'P-384']);
    expect(failure(() => verify({ devaut: sim.devaut, request }))).toEqual({ code: 'CVC_SIMULATED', part: 'srca' });
  });
  it('a real request does not verify under a simulated device, nor a simulated one under the real device', () => {
    const sim = simulatedDevaut({ chr: REAL_DEVICE_CHR });
    expect(failure(() => verify({ devaut: sim.devaut, allowSimulated: true }))).toEqual({ code: 'CVC_OUTER_SIGNATURE', part: 'request' });
    const request = attestKey(sim, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }));
    expect(fails({ request, allowSimulated: true })).toEqual({ code: 'CVC_OUTER_SIGNATURE', part: 'request' });
  });
});

describe('a chain verified once in the process', () => {
  it('is still checked for the simulated root, the dates and the serial on every call', () => {
    const sim = simulatedDevaut();
    const request = attestKey(sim, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }));
    expect(verify({ devaut: sim.devaut, request, allowSimulated: true }).simulated).toBe(true);
    expect(failure(() => verify({ devaut: sim.devaut, request }))).toEqual({ code: 'CVC_SIMULATED', part: 'srca' });
    expect(failure(() => verify({ devaut: sim.devaut, request, allowSimulated: true, at: new Date('2031-01-01') }))).toEqual({ code: 'CVC_EXPIRED', part: 'device' });
    expect(failure(() => verify({ devaut: sim.devaut, request, allowSimulated: true, serial: 'DENK0102948' }))).toEqual({ code: 'CVC_SERIAL_MISMATCH', part: 'device' });
  });
});
