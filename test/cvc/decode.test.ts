// The real certificates and requests decode to what they say, and encoding
// the decoded fields gives back the device's bytes exactly: the encoders the
// simulator uses write the real format.
import { describe, expect, it } from 'vitest';
import { TA } from '../../lib/cvc/algorithms.ts';
import { decodeCertificate } from '../../lib/cvc/decode/certificate.ts';
import { decodeOnly } from '../../lib/cvc/decode/tlv.ts';
import { encodeCertificate, encodeCertificateBody } from '../../lib/cvc/encode/certificate.ts';
import { encodeAuthenticatedRequest, encodeRequest, encodeRequestBody } from '../../lib/cvc/encode/request.ts';
import { attestedKeySpki, parseDevaut, parseRequest, type CvCertificate } from '../../lib/cvc/index.ts';
import { REAL, REAL_DEVICE_CHR, REAL_DICA_CHR, failure } from './support.ts';

const day = (d: Date) => d.toISOString().slice(0, 10);
const role = (c: CvCertificate) => Buffer.from(c.chat.authorization).toString('hex');

/** The certificate's body, encoded again from its decoded fields. */
function reencodedBody(c: CvCertificate): Uint8Array {
  return encodeCertificateBody({
    car: c.car,
    publicKey: c.publicKey,
    chr: c.chr,
    role: c.chat.authorization[0]!,
    validFrom: c.validFrom,
    validTo: c.validTo,
    ...(c.extensions ? { extensions: c.extensions } : {}),
  });
}

describe('EF 2F02 of DENK0404144', () => {
  const { device, dica } = parseDevaut(REAL.devaut);

  it('holds the device certificate, then its DICA', () => {
    expect([device.chr, device.car, role(device), day(device.validFrom), day(device.validTo)]).toEqual([REAL_DEVICE_CHR, REAL_DICA_CHR, '00', '2026-05-28', '2031-05-27']);
    expect([dica.chr, dica.car, role(dica), day(dica.validFrom), day(dica.validTo)]).toEqual([REAL_DICA_CHR, 'DESRCACC100001', '80', '2024-10-30', '2032-10-29']);
    expect(dica.extensions).toEqual(new Uint8Array(0));
    expect(device.extensions).toBeUndefined();
    expect(device.publicKey.algorithm).toBe(TA.ecdsaSha256);
    expect(device.validTo.toISOString()).toBe('2031-05-27T23:59:59.999Z');
  });

  it('re-encodes byte for byte', () => {
    expect(reencodedBody(device)).toEqual(device.signedBytes);
    expect(reencodedBody(dica)).toEqual(dica.signedBytes);
    expect(encodeCertificate(device.signedBytes, device.signature)).toEqual(device.bytes);
    expect(Uint8Array.from([...device.bytes, ...dica.bytes])).toEqual(REAL.devaut);
  });

  it('the root re-encodes too, domain parameters included', () => {
    const srca = decodeCertificate(decodeOnly(REAL.srca, { part: 'srca', name: 'srca' }), { part: 'srca', name: 'srca' });
    expect([srca.chr, srca.car, role(srca), day(srca.validFrom), day(srca.validTo)]).toEqual(['DESRCACC100001', 'DESRCACC100001', 'c0', '2012-11-09', '2032-11-08']);
    expect(reencodedBody(srca)).toEqual(srca.signedBytes);
  });
});

describe("DENK0404144's key requests", () => {
  it.each([
    ['CE03', REAL.ce03, 'ec'],
    ['CE04', REAL.ce04, 'rsa'],
    ['CE01', REAL.ce01, 'ec'],
  ] as const)('%s is an authenticated request by the device, re-encoding byte for byte', (_name, bytes, kind) => {
    const { inner, outer } = parseRequest(bytes);
    expect([inner.car, inner.chr, inner.publicKey.kind, outer?.car]).toEqual(['UTCA00001', 'DENK040414400001', kind, REAL_DEVICE_CHR]);
    const body = encodeRequestBody({ ...(inner.car ? { car: inner.car } : {}), publicKey: inner.publicKey, chr: inner.chr });
    expect(body).toEqual(inner.signedBytes);
    const request = encodeRequest(body, inner.signature);
    expect(request).toEqual(inner.bytes);
    expect(encodeAuthenticatedRequest(request, outer?.car ?? '', outer?.signature ?? new Uint8Array())).toEqual(bytes);
  });

  it('CE04 carries an RSA-2048 key signing with id-TA-RSA-v1-5-SHA-256', () => {
    const pk = parseRequest(REAL.ce04).inner.publicKey;
    expect(pk.kind === 'rsa' && [pk.algorithm, pk.modulus.length, Buffer.from(pk.exponent).toString('hex')]).toEqual([TA.rsaV15Sha256, 256, '010001']);
  });

  it("attestedKeySpki gives each key as pkcs11-tool read it", () => {
    expect(Buffer.from(attestedKeySpki(REAL.ce03))).toEqual(Buffer.from(REAL.ce03Spki));
    expect(Buffer.from(attestedKeySpki(REAL.ce04))).toEqual(Buffer.from(REAL.ce04Spki));
    expect(attestedKeySpki(REAL.ce01).length).toBe(88);
  });

  it('a bare CV request (7F21) decodes without an authentication', () => {
    const inner = parseRequest(REAL.ce03).inner;
    const bare = parseRequest(Uint8Array.from(inner.bytes));
    expect(bare.outer).toBeUndefined();
    expect(bare.inner.chr).toBe('DENK040414400001');
  });

  it('a certificate is not a request, and a request is not EF 2F02', () => {
    expect(failure(() => parseRequest(REAL.srca.subarray(0)))?.code).toBe('CVC_MALFORMED');
    expect(failure(() => parseDevaut(REAL.ce03))).toEqual({ code: 'CVC_MALFORMED', part: 'devaut' });
  });
});
