// The ceremony's facts (lib/ceremony.ts) against what the PSF's real 2020
// products state: their attestation certificates carry the YubiHSM 2 object
// ids, labels, domains and capabilities; their directories and file names are
// the serial formats and product names.
import 'reflect-metadata';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { kindOfSerial, paddedYubiHsmSerial, productFiles, PRODUCT_FILES, ROLES, SERIALS, YUBIHSM, curveOfKeyType, keyTypeFlag } from '../lib/ceremony.ts';
import { parsePublicKey } from '../lib/keys.ts';
import { decodeAttestation, decodeDeviceSerial } from '../lib/yubihsm/attestation.ts';
import { capabilities } from '../lib/yubihsm/capabilities.ts';
import { domainsField } from '../lib/yubihsm/protocol/objects.ts';
import { psfProducts } from './support/paths.ts';

const devices = readdirSync(psfProducts).sort();
const yubihsms = devices.filter((d) => kindOfSerial(d) === 'yubihsm2');
const nitrokeys = devices.filter((d) => kindOfSerial(d) === 'nitrokey-hsm');

describe('lib/ceremony.ts against the PSF’s 2020-10-30 products', () => {
  it('names every device directory by a serial of its kind: three YubiHSM 2, three Nitrokey HSM', () => {
    expect(yubihsms).toEqual(['0013200460', '0013200461', '0013200462']);
    expect(nitrokeys).toEqual(['DENK0102947', 'DENK0103189', 'DENK0200473']);
    for (const d of nitrokeys) expect(SERIALS.nitrokey.pattern.test(d)).toBe(true);
    for (const d of yubihsms) expect(SERIALS.yubihsm.pattern.test(d)).toBe(true);
  });

  it('lists exactly the files each device left, under the names the products have', () => {
    for (const d of devices) {
      const kind = kindOfSerial(d)!;
      expect(readdirSync(join(psfProducts, d)).map((f) => `${d}/${f}`).sort()).toEqual(productFiles(kind, d).sort());
    }
  });

  it('gives the YubiHSM 2 TUF keys the ids, labels, domains and capabilities their attestations state', () => {
    for (const serial of yubihsms) {
      const device = new X509Certificate(readFileSync(join(psfProducts, PRODUCT_FILES.deviceCertificate(serial))));
      expect(paddedYubiHsmSerial(decodeDeviceSerial(device))).toBe(serial);
      for (const role of ROLES) {
        const att = decodeAttestation(new X509Certificate(readFileSync(join(psfProducts, PRODUCT_FILES.attestation(serial, role)))));
        expect(att.objectId).toBe(YUBIHSM.keys[role].id);
        expect(att.label).toBe(YUBIHSM.keys[role].label);
        expect(att.domains).toBe(domainsField(...YUBIHSM.keyDomains));
        expect(att.capabilities).toBe(capabilities(...YUBIHSM.keyCapabilities));
        expect(paddedYubiHsmSerial(att.serial)).toBe(serial);
      }
    }
  });

  it('keeps a YubiHSM 2 public key as the raw uncompressed point, and a Nitrokey HSM one as DER SubjectPublicKeyInfo', () => {
    for (const serial of yubihsms) {
      const pub = readFileSync(join(psfProducts, PRODUCT_FILES.publicKey(serial, 'root')));
      expect(pub[0]).toBe(0x04);
      expect([65, 97]).toContain(pub.length);
    }
    for (const serial of nitrokeys) {
      const key = parsePublicKey(readFileSync(join(psfProducts, PRODUCT_FILES.publicKey(serial, 'root'))));
      expect(['P-256', 'P-384']).toContain(key.curve);
    }
  });

  it('pads a printed YubiHSM 2 serial to ten digits, and spells key types as the PSF runbook’s --type', () => {
    expect(paddedYubiHsmSerial('7550054')).toBe('0007550054');
    expect(SERIALS.yubihsmPrinted.pattern.test('7550054')).toBe(true);
    expect(SERIALS.yubihsmPrinted.pattern.test('abc')).toBe(false);
    expect(SERIALS.nitrokey.pattern.test('abc')).toBe(false);
    expect(keyTypeFlag('P-384')).toBe('p384');
    expect(curveOfKeyType('p256')).toBe('P-256');
    expect(curveOfKeyType('p521')).toBeUndefined();
  });

  it('takes a SoftHSM2 serial for a Nitrokey HSM only in a rehearsal', () => {
    expect(kindOfSerial('8a8076e9855189e8')).toBeUndefined();
    expect(kindOfSerial('8a8076e9855189e8', { rehearsal: true })).toBe('nitrokey-hsm');
  });
});
