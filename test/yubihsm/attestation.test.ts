import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ATTESTATION_OID,
  attestationExtensions,
  decodeAttestation,
  decodeAttestationValue,
  decodeDeviceSerial,
  deviceSerialExtension,
  domainList,
  encodeAttestationValues,
  firmwareString,
  ORIGIN,
  originName,
  type YubiHsmAttestation,
} from '../../lib/yubihsm/attestation.ts';
import { capabilities } from '../../lib/yubihsm/capabilities.ts';
import { domainsField } from '../../lib/yubihsm/protocol/objects.ts';
import { psfProducts } from '../support/paths.ts';

const hex = (b: ArrayBuffer | Uint8Array) => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex'));

function realCert(serial: string, role: 'root' | 'targets' | 'cert'): x509.X509Certificate {
  const name = role === 'cert' ? `${serial}_cert.der` : `${serial}_${role}_attestation.der`;
  return new x509.X509Certificate(readFileSync(join(psfProducts, serial, name)));
}

const ROLES = [
  { role: 'root', objectId: 3, label: 'tuf-root' },
  { role: 'targets', objectId: 4, label: 'tuf-targets' },
] as const;

// Serials of the PSF 2020-10-30 YubiHSMs: directory name and integer.
const DEVICES = [
  ['0013200460', 13200460],
  ['0013200461', 13200461],
  ['0013200462', 13200462],
] as const;

describe('decodeAttestation on the PSF 2020-10-30 attestation certificates', () => {
  for (const [dir, serial] of DEVICES) {
    for (const { role, objectId, label } of ROLES) {
      it(`${dir} ${role}`, () => {
        const a = decodeAttestation(realCert(dir, role));
        expect(a).toEqual({
          firmware: { major: 2, minor: 1, patch: 2 },
          serial,
          origin: ORIGIN.generated,
          domains: 0x0001,
          capabilities: capabilities('sign-ecdsa'),
          objectId,
          label,
        });
        expect(firmwareString(a.firmware)).toBe('2.1.2');
        expect(originName(a.origin)).toBe('generated');
        expect(domainList(a.domains)).toEqual([1]);
      });
    }
    it(`${dir} device certificate states serial ${serial}`, () => {
      expect(decodeDeviceSerial(realCert(dir, 'cert'))).toBe(serial);
    });
  }
});

describe('the encoder reproduces the real extensions byte for byte', () => {
  for (const [dir] of DEVICES) {
    for (const { role } of ROLES) {
      it(`${dir} ${role}`, () => {
        const cert = realCert(dir, role);
        const ours = attestationExtensions(decodeAttestation(cert));
        const theirs = cert.extensions.filter((e) => e.type.startsWith('1.3.6.1.4.1.41482.4.'));
        expect(ours.map((e) => e.type)).toEqual(theirs.map((e) => e.type));
        // The whole Extension SEQUENCE (OID, no critical flag, extnValue).
        expect(ours.map((e) => hex(e.rawData))).toEqual(theirs.map((e) => hex(e.rawData)));
      });
    }
    it(`${dir} device serial extension`, () => {
      const cert = realCert(dir, 'cert');
      const theirs = cert.extensions.find((e) => e.type === ATTESTATION_OID.serial);
      expect(theirs).toBeDefined();
      expect(hex(deviceSerialExtension(decodeDeviceSerial(cert)).rawData)).toBe(hex(theirs!.rawData));
    });
  }
});

// Expected bytes written out from the ASN.1 definitions (X.690), not produced
// by the encoder under test.
describe('extension values, from the ASN.1 encoding rules', () => {
  const info: YubiHsmAttestation = {
    firmware: { major: 2, minor: 4, patch: 0 },
    serial: 7550054,
    origin: ORIGIN.generated | ORIGIN.importedWrapped,
    domains: domainsField(1, 2, 16),
    capabilities: capabilities('sign-ecdsa', 'exportable-under-wrap'),
    objectId: 0x1234,
    label: 'tuf-targets',
  };
  const values = encodeAttestationValues(info);
  it.each([
    ['firmware', '04 03 02 04 00'], // OCTET STRING, 3 bytes
    ['serial', '02 03 73 34 66'], // INTEGER 7550054 = 0x733466
    ['origin', '03 02 00 11'], // BIT STRING, 0 unused bits, 0x11
    ['domains', '03 03 00 80 03'], // domains 16, 2, 1
    ['capabilities', '03 09 00 00 00 00 00 00 01 00 80'],
    ['objectId', '02 02 12 34'],
    ['label', '0c 0b 74 75 66 2d 74 61 72 67 65 74 73'],
  ] as const)('%s', (field, expected) => {
    expect(hex(values[field])).toBe(hex(bytes(expected)));
  });

  it('serial with its top bit set gets a leading zero (INTEGER is signed)', () => {
    expect(hex(encodeAttestationValues({ ...info, serial: 13200461 }).serial)).toBe('020400c96c4d');
  });

  it('object id 0x80 gets a leading zero', () => {
    expect(hex(encodeAttestationValues({ ...info, objectId: 0x80 }).objectId)).toBe('02020080');
  });
});

describe('round trip', () => {
  it('decode(encode(x)) = x for every representable attestation', () => {
    const arb = fc.record({
      firmware: fc.record({ major: fc.integer({ min: 0, max: 255 }), minor: fc.integer({ min: 0, max: 255 }), patch: fc.integer({ min: 0, max: 255 }) }),
      serial: fc.integer({ min: 0, max: 9_999_999_999 }),
      origin: fc.integer({ min: 0, max: 255 }),
      domains: fc.integer({ min: 0, max: 0xffff }),
      capabilities: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      objectId: fc.integer({ min: 0, max: 0xffff }),
      label: fc.string({ unit: 'grapheme', maxLength: 10 }).filter((l) => Buffer.byteLength(l, 'utf8') <= 40),
    });
    fc.assert(
      fc.property(arb, (info) => {
        const v = encodeAttestationValues(info);
        const back = Object.fromEntries(
          (Object.keys(v) as (keyof typeof v)[]).map((f) => [f, decodeAttestationValue[f](v[f])]),
        );
        expect(back).toEqual(info);
      }),
    );
  });
});

// Hostile input: each vector is a well-known way to smuggle a value past a
// lenient BER parser.
describe('malformed extension values are refused', () => {
  it.each([
    ['serial', '020400c96c4d00', 'trailing byte'],
    ['serial', '02810400c96c4d', 'long-form length'],
    ['serial', '02050000c96c4d', 'non-minimal integer (extra leading zero)'],
    ['serial', '0204ffc96c4d', 'negative'],
    ['serial', '0c087475662d726f6f74', 'wrong type (UTF8String)'],
    ['serial', '0205', 'truncated'],
    ['serial', '', 'empty'],
    ['serial', '020502540be400', '10000000000: more than 10 digits'],
    ['objectId', '0203010000', '0x10000: above 0xffff'],
    ['origin', '03020101', 'one unused bit'],
    ['origin', '0303000100', 'two bytes'],
    ['origin', '030100', 'no byte'],
    ['domains', '0302000f', 'one byte'],
    ['capabilities', '030800000000000000', 'seven bytes'],
    ['capabilities', '0309000000000000000080ff', 'trailing byte'],
    ['firmware', '04020201', 'two bytes'],
    ['firmware', '0403020102ff', 'trailing byte'],
    ['label', '0c02c328', 'invalid UTF-8'],
    ['label', `0c29${'61'.repeat(41)}`, '41 bytes'],
    ['label', '1308747566', 'PrintableString, not UTF8String'],
  ] as const)('%s: %s (%s)', (field, value, _why) => {
    expect(() => decodeAttestationValue[field](bytes(value))).toThrowWithCode('ATTESTATION_EXTENSION_MALFORMED');
  });
});

describe('the encoder refuses what cannot be represented', () => {
  const good: YubiHsmAttestation = {
    firmware: { major: 2, minor: 1, patch: 2 },
    serial: 1,
    origin: 1,
    domains: 1,
    capabilities: 0n,
    objectId: 1,
    label: '',
  };
  it.each([
    ['serial', { serial: -1 }],
    ['serial', { serial: 10_000_000_000 }],
    ['serial', { serial: 1.5 }],
    ['objectId', { objectId: 0x10000 }],
    ['domains', { domains: 0x10000 }],
    ['origin', { origin: 256 }],
    ['firmware', { firmware: { major: 256, minor: 0, patch: 0 } }],
    ['capabilities', { capabilities: 1n << 64n }],
    ['label', { label: 'x'.repeat(41) }],
  ] as const)('%s', (_field, patch) => {
    expect(() => encodeAttestationValues({ ...good, ...patch })).toThrowWithCode('ATTESTATION_VALUE_INVALID');
  });
});

describe('certificate-level checks', () => {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  async function certWith(extensions: x509.Extension[]): Promise<x509.X509Certificate> {
    const keys = await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify']);
    return x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=test',
      notBefore: new Date('2020-01-01'),
      notAfter: new Date('2030-01-01'),
      signingAlgorithm: alg,
      keys,
      extensions,
    });
  }
  const info: YubiHsmAttestation = {
    firmware: { major: 2, minor: 1, patch: 2 },
    serial: 13200461,
    origin: ORIGIN.generated,
    domains: 1,
    capabilities: capabilities('sign-ecdsa'),
    objectId: 3,
    label: 'tuf-root',
  };

  it('a certificate built with attestationExtensions decodes to the same values', async () => {
    expect(decodeAttestation(await certWith(attestationExtensions(info)))).toEqual(info);
  });

  it('a missing extension is named', async () => {
    const exts = attestationExtensions(info).filter((e) => e.type !== ATTESTATION_OID.origin);
    await expect(certWith(exts).then(decodeAttestation)).toThrowWithCode('ATTESTATION_EXTENSION_MISSING');
  });

  it('a repeated extension is refused', async () => {
    const exts = [...attestationExtensions(info), new x509.Extension(ATTESTATION_OID.label, false, encodeAttestationValues({ ...info, label: 'other' }).label)];
    await expect(certWith(exts).then(decodeAttestation)).toThrowWithCode('ATTESTATION_EXTENSION_DUPLICATE');
  });

  it('a device certificate without .2 is refused', async () => {
    await expect(certWith([]).then(decodeDeviceSerial)).toThrowWithCode('ATTESTATION_EXTENSION_MISSING');
  });
});

describe('originName', () => {
  it.each([
    [0x01, 'generated'],
    [0x02, 'imported'],
    [0x11, 'generated, imported under wrap'],
    [0x12, 'imported, imported under wrap'],
    [0x00, '0x00'],
    [0x04, '0x04'],
    [0x03, '0x03'],
  ])('%i', (origin, name) => {
    expect(originName(origin)).toBe(name);
  });
});
