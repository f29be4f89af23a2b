import 'reflect-metadata';
import { appendFile, copyFile, mkdir, mkdtemp, readFile, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyProducts, type CheckName, type VerificationReport, type VerifyOptions } from '../../lib/products/verify/index.ts';
import { psfProducts } from '../support/paths.ts';
import { copyPsf, PSF_INVENTORY, PSF_NITROKEYS, PSF_YUBIHSMS } from './support/psf.ts';

function codes(report: VerificationReport): string[] {
  return [...new Set([...report.findings, ...report.devices.flatMap((d) => d.findings)].map((f) => f.code))].sort();
}

function device(report: VerificationReport, serial: string) {
  const d = report.devices.find((x) => x.serial === serial);
  if (!d) throw new Error(`no device ${serial} in the report`);
  return d;
}

function status(report: VerificationReport, serial: string, role: 'root' | 'targets', check: CheckName) {
  const k = device(report, serial).keys.find((x) => x.role === role);
  return k?.checks[check];
}

describe('the PSF 2020-10-30 products', () => {
  it('pass every check, against the inventory they were made for', async () => {
    const report = await verifyProducts([psfProducts], { inventory: PSF_INVENTORY });
    expect(codes(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.devices.map((d) => d.serial)).toEqual([...PSF_YUBIHSMS, ...PSF_NITROKEYS]);
    for (const d of report.devices) {
      expect(d.keys.map((k) => k.role)).toEqual(['root', 'targets']);
      for (const k of d.keys) {
        for (const [check, s] of Object.entries(k.checks)) {
          const attestationOnly = ['chain', 'serial', 'origin', 'label', 'capabilities'].includes(check);
          expect([check, s]).toEqual([check, d.kind === 'nitrokey-hsm' && attestationOnly ? 'n/a' : 'pass']);
        }
      }
    }
    expect(report.trust).toEqual([
      { source: 'yubico', subject: 'CN=Yubico YubiHSM Root CA', sha256: '09:4A:3A:C4:93:C2:BD:CD:65:A5:4B:DF:40:19:0F:52:BB:03:F7:15:63:97:A3:FC:69:D8:AA:9A:39:2F:B7:24' },
    ]);
  });

  it('are matched to the inventory by kind and curve, not by order', async () => {
    const report = await verifyProducts([psfProducts], { inventory: PSF_INVENTORY });
    const byId = Object.fromEntries(report.devices.map((d) => [d.serial, d.inventoryId]));
    expect(byId['0013200460']).toBe('YubiHSM2-2');
    expect([byId['0013200461'], byId['0013200462']].sort()).toEqual(['YubiHSM2-1', 'YubiHSM2-3']);
    expect(byId.DENK0102947).toBe('NitrokeyHSM-5');
    expect([byId.DENK0103189, byId.DENK0200473].sort()).toEqual(['NitrokeyHSM-4', 'NitrokeyHSM-6']);
  });

  it('state what each YubiHSM attested', async () => {
    const report = await verifyProducts([psfProducts]);
    expect(report.ok).toBe(true);
    const k = device(report, '0013200461').keys[1];
    expect(k?.curve).toBe('P-256');
    expect(k?.attestation).toEqual({
      firmware: '2.1.2',
      serial: 13200461,
      origin: 'generated',
      domains: [1],
      capabilities: ['sign-ecdsa'],
      objectId: 4,
      label: 'tuf-targets',
    });
    expect(device(report, '0013200460').keys[0]?.curve).toBe('P-384');
    expect(device(report, '0013200461').anchor).toBe('yubico');
    expect(device(report, '0013200461').simulated).toBe(false);
  });

  it('pass without an inventory, the inventory column not applying', async () => {
    const report = await verifyProducts([psfProducts]);
    expect(report.ok).toBe(true);
    expect(status(report, '0013200462', 'root', 'inventory')).toBe('n/a');
  });

  it('pass as single device directories', async () => {
    const report = await verifyProducts([join(psfProducts, '0013200461'), join(psfProducts, 'DENK0103189')]);
    expect(report.ok).toBe(true);
    expect(report.devices.map((d) => d.serial)).toEqual(['0013200461', 'DENK0103189']);
  });

  it('are checked as of the given time: Yubico certificates expire in 2071', async () => {
    const report = await verifyProducts([join(psfProducts, '0013200461')], { at: new Date('2072-01-01T00:00:00Z') });
    expect(codes(report)).toEqual(['VERIFY_CHAIN_VALIDITY']);
    const before = await verifyProducts([join(psfProducts, '0013200461')], { at: new Date('2016-12-31T00:00:00Z') });
    expect(codes(before)).toEqual(['VERIFY_CHAIN_VALIDITY']);
  });
});

describe('tampered PSF products', () => {
  let products: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ products, cleanup } = await copyPsf());
  });
  afterEach(async () => cleanup());

  const p = (serial: string, suffix: string) => join(products, serial, `${serial}_${suffix}`);
  const verify = (options: VerifyOptions = { inventory: PSF_INVENTORY }) => verifyProducts([products], options);

  async function flipLastByte(path: string): Promise<void> {
    const bytes = await readFile(path);
    // The signature BIT STRING ends the certificate: its last byte is signature.
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
    await writeFile(path, bytes);
  }

  it('a flipped bit in an attestation signature: VERIFY_CHAIN_SIGNATURE, for that key only', async () => {
    await flipLastByte(p('0013200461', 'targets_attestation.der'));
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(codes(report)).toEqual(['VERIFY_CHAIN_SIGNATURE']);
    expect(status(report, '0013200461', 'targets', 'chain')).toBe('fail');
    expect(status(report, '0013200461', 'root', 'chain')).toBe('pass');
  });

  it('a flipped bit in a device certificate signature: VERIFY_CHAIN_SIGNATURE for both keys', async () => {
    await flipLastByte(p('0013200462', 'cert.der'));
    const report = await verify();
    expect(codes(report)).toEqual(['VERIFY_CHAIN_SIGNATURE']);
    expect(status(report, '0013200462', 'root', 'chain')).toBe('fail');
    expect(status(report, '0013200462', 'targets', 'chain')).toBe('fail');
    expect(status(report, '0013200461', 'root', 'chain')).toBe('pass');
  });

  it('an outer signature algorithm that differs from the signed one: VERIFY_CHAIN_SIGNATURE', async () => {
    // RFC 5280 4.1.1.2: the two must match. sha256WithRSAEncryption outside
    // is rewritten to sha384WithRSAEncryption; the DER stays valid.
    const path = p('0013200461', 'root_attestation.der');
    const cert = AsnConvert.parse(await readFile(path), Certificate);
    cert.signatureAlgorithm = new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.12', parameters: null });
    await writeFile(path, new Uint8Array(AsnConvert.serialize(cert)));
    expect(codes(await verify())).toEqual(['VERIFY_CHAIN_SIGNATURE']);
  });

  it('a .pub swapped between two devices: VERIFY_KEY_MISMATCH on both', async () => {
    const a = p('0013200461', 'root_pubkey.pub');
    const b = p('0013200462', 'root_pubkey.pub');
    const tmp = `${a}.swap`;
    await rename(a, tmp);
    await rename(b, a);
    await rename(tmp, b);
    const report = await verify();
    expect(codes(report)).toEqual(['VERIFY_KEY_MISMATCH']);
    expect(status(report, '0013200461', 'root', 'key')).toBe('fail');
    expect(status(report, '0013200462', 'root', 'key')).toBe('fail');
    expect(status(report, '0013200461', 'targets', 'key')).toBe('pass');
  });

  it('a .pub from a device on another curve: VERIFY_KEY_MISMATCH', async () => {
    await copyFile(p('0013200460', 'targets_pubkey.pub'), p('0013200461', 'targets_pubkey.pub'));
    const report = await verify();
    expect(codes(report)).toEqual(['VERIFY_KEY_MISMATCH']);
  });

  it('a .pem from another key: VERIFY_KEY_MISMATCH', async () => {
    await copyFile(p('0013200461', 'root_pubkey.pem'), p('0013200461', 'targets_pubkey.pem'));
    const report = await verify();
    expect(codes(report)).toEqual(['VERIFY_KEY_MISMATCH']);
    expect(status(report, '0013200461', 'targets', 'key')).toBe('fail');
  });

  it("a Nitrokey .pem that is not its .pub's key: VERIFY_KEY_MISMATCH", async () => {
    await copyFile(p('DENK0103189', 'root_pubkey.pem'), p('DENK0103189', 'targets_pubkey.pem'));
    const report = await verify();
    expect(codes(report)).toEqual(['VERIFY_KEY_MISMATCH']);
    expect(status(report, 'DENK0103189', 'targets', 'key')).toBe('fail');
  });

  it('a device certificate from another serial: VERIFY_SERIAL_MISMATCH (and its chain to the attestations breaks)', async () => {
    await copyFile(p('0013200462', 'cert.der'), p('0013200461', 'cert.der'));
    const report = await verify();
    expect(codes(report)).toContain('VERIFY_SERIAL_MISMATCH');
    expect(codes(report)).toContain('VERIFY_CHAIN_ISSUER');
    expect(status(report, '0013200461', 'root', 'serial')).toBe('fail');
  });

  it('a device directory renamed to another serial: VERIFY_SERIAL_MISMATCH', async () => {
    const from = join(products, '0013200461');
    const to = join(products, '0013200463');
    await rename(from, to);
    for (const suffix of ['cert.der', 'root_attestation.der', 'targets_attestation.der', 'root_pubkey.pub', 'targets_pubkey.pub', 'root_pubkey.pem', 'targets_pubkey.pem']) {
      await rename(join(to, `0013200461_${suffix}`), join(to, `0013200463_${suffix}`));
    }
    const report = await verify();
    expect(codes(report)).toEqual(['VERIFY_SERIAL_MISMATCH']);
  });

  it('a truncated attestation: VERIFY_DER_MALFORMED', async () => {
    const path = p('0013200460', 'root_attestation.der');
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.length - 10));
    const report = await verify();
    expect(codes(report)).toEqual(['VERIFY_DER_MALFORMED']);
    expect(status(report, '0013200460', 'root', 'chain')).toBe('fail');
    // Nothing about the key can be said without its attestation.
    expect(status(report, '0013200460', 'root', 'origin')).toBe('skipped');
  });

  it('a truncated device certificate: VERIFY_DER_MALFORMED', async () => {
    const path = p('0013200460', 'cert.der');
    await writeFile(path, (await readFile(path)).subarray(0, 100));
    expect(codes(await verify())).toEqual(['VERIFY_DER_MALFORMED']);
  });

  it('trailing bytes after a certificate: VERIFY_DER_MALFORMED', async () => {
    await appendFile(p('0013200461', 'root_attestation.der'), Uint8Array.of(0));
    expect(codes(await verify())).toEqual(['VERIFY_DER_MALFORMED']);
  });

  it('a non-minimal length encoding: VERIFY_DER_MALFORMED', async () => {
    // 30 82 LL LL → 30 83 00 LL LL: the same length, in one byte more than DER allows.
    const path = p('0013200461', 'root_attestation.der');
    const bytes = await readFile(path);
    expect([bytes[0], bytes[1]]).toEqual([0x30, 0x82]);
    await writeFile(path, Buffer.concat([Uint8Array.of(0x30, 0x83, 0x00), bytes.subarray(2)]));
    expect(codes(await verify())).toEqual(['VERIFY_DER_MALFORMED']);
  });

  it('a truncated Nitrokey .pub: VERIFY_DER_MALFORMED', async () => {
    const path = p('DENK0200473', 'root_pubkey.pub');
    await writeFile(path, (await readFile(path)).subarray(0, 50));
    expect(codes(await verify())).toEqual(['VERIFY_DER_MALFORMED']);
  });

  it('a YubiHSM .pub of the wrong length: VERIFY_KEY_MALFORMED', async () => {
    const path = p('0013200462', 'root_pubkey.pub');
    await writeFile(path, (await readFile(path)).subarray(0, 64));
    expect(codes(await verify())).toEqual(['VERIFY_KEY_MALFORMED']);
  });

  it('a .pem that is not PEM: VERIFY_DER_MALFORMED', async () => {
    await writeFile(p('0013200462', 'root_pubkey.pem'), 'hello\n');
    expect(codes(await verify())).toEqual(['VERIFY_DER_MALFORMED']);
  });

  it('a missing file: VERIFY_FILE_MISSING', async () => {
    await unlink(p('0013200461', 'targets_attestation.der'));
    const report = await verify();
    expect(codes(report)).toEqual(['VERIFY_FILE_MISSING']);
    expect(status(report, '0013200461', 'targets', 'files')).toBe('fail');
    expect(status(report, '0013200461', 'root', 'files')).toBe('pass');
  });

  it('a missing device certificate: VERIFY_FILE_MISSING on both keys', async () => {
    await unlink(p('0013200461', 'cert.der'));
    const report = await verify();
    expect(codes(report)).toEqual(['VERIFY_FILE_MISSING']);
    expect(status(report, '0013200461', 'root', 'files')).toBe('fail');
    expect(status(report, '0013200461', 'targets', 'chain')).toBe('skipped');
  });

  it('an extra file in a device directory: VERIFY_FILE_UNEXPECTED', async () => {
    await writeFile(p('DENK0102947', 'backup_pubkey.pem'), 'x');
    expect(codes(await verify())).toEqual(['VERIFY_FILE_UNEXPECTED']);
  });

  it('a product file larger than any product is refused unread: VERIFY_FILE_UNEXPECTED', async () => {
    await writeFile(p('0013200461', 'root_pubkey.pem'), Buffer.alloc(70 * 1024, 0x41));
    const report = await verify();
    expect(codes(report)).toEqual(['VERIFY_FILE_UNEXPECTED']);
    expect(status(report, '0013200461', 'root', 'files')).toBe('fail');
  });

  it('a product replaced by a symbolic link is not followed: VERIFY_FILE_UNEXPECTED and VERIFY_FILE_MISSING', async () => {
    const path = p('DENK0102947', 'root_pubkey.pub');
    await rename(path, join(products, '..', 'elsewhere.pub'));
    await symlink(join(products, '..', 'elsewhere.pub'), path);
    expect(codes(await verify())).toEqual(['VERIFY_FILE_MISSING', 'VERIFY_FILE_UNEXPECTED']);
  });

  it('an extra entry in the products directory: VERIFY_FILE_UNEXPECTED', async () => {
    await writeFile(join(products, 'notes.txt'), 'x');
    await mkdir(join(products, 'images'));
    const report = await verify();
    expect(codes(report)).toEqual(['VERIFY_FILE_UNEXPECTED']);
    expect(report.findings).toHaveLength(2);
  });

  it('a device missing against the inventory: VERIFY_INVENTORY', async () => {
    await rm(join(products, 'DENK0200473'), { recursive: true });
    const report = await verify();
    expect(codes(report)).toEqual(['VERIFY_INVENTORY']);
    expect(report.findings.map((f) => f.code)).toEqual(['VERIFY_INVENTORY']);
  });

  it('a device the inventory does not list: VERIFY_INVENTORY', async () => {
    const report = await verify({ inventory: { hsms: PSF_INVENTORY.hsms.filter((e) => e.id !== 'YubiHSM2-3') } });
    expect(codes(report)).toEqual(['VERIFY_INVENTORY']);
    const unmatched = report.devices.filter((d) => d.findings.some((f) => f.code === 'VERIFY_INVENTORY'));
    expect(unmatched).toHaveLength(1);
    expect(unmatched[0]?.kind).toBe('yubihsm2');
  });

  it('a key on a curve the inventory does not expect: VERIFY_CURVE', async () => {
    // Three P-256 YubiHSMs expected; 0013200460 generated P-384 keys.
    const inventory = { hsms: PSF_INVENTORY.hsms.map((e) => (e.id === 'YubiHSM2-2' ? { ...e, keyType: 'P-256' as const } : e)) };
    const report = await verify({ inventory });
    expect(codes(report)).toEqual(['VERIFY_CURVE']);
    expect(status(report, '0013200460', 'root', 'curve')).toBe('fail');
    expect(device(report, '0013200460').inventoryId).toBe('YubiHSM2-3');
  });

  it('the inventory swapped between two devices of one kind still matches: it is a multiset', async () => {
    const inventory = { hsms: PSF_INVENTORY.hsms.map((e) => (e.id === 'YubiHSM2-2' ? { ...e, keyType: 'P-256' as const } : e.id === 'YubiHSM2-1' ? { ...e, keyType: 'P-384' as const } : e)) };
    const report = await verify({ inventory });
    expect(report.ok).toBe(true);
    expect(device(report, '0013200460').inventoryId).toBe('YubiHSM2-1');
  });

  it('an inventory entry naming a serial takes that device', async () => {
    const inventory = { hsms: PSF_INVENTORY.hsms.map((e) => (e.id === 'YubiHSM2-3' ? { ...e, serial: '13200461' } : e)) };
    const report = await verify({ inventory });
    expect(report.ok).toBe(true);
    expect(device(report, '0013200461').inventoryId).toBe('YubiHSM2-3');
  });

  it('the same key on two devices: VERIFY_KEY_REUSED', async () => {
    for (const ext of ['pub', 'pem']) await copyFile(p('DENK0103189', `root_pubkey.${ext}`), p('DENK0200473', `targets_pubkey.${ext}`));
    const report = await verify();
    expect(codes(report)).toEqual(['VERIFY_KEY_REUSED']);
    expect(status(report, 'DENK0103189', 'root', 'unique')).toBe('fail');
    expect(status(report, 'DENK0200473', 'targets', 'unique')).toBe('fail');
  });

  it('one key for both roles of a device: VERIFY_KEY_REUSED', async () => {
    for (const ext of ['pub', 'pem']) await copyFile(p('DENK0102947', `root_pubkey.${ext}`), p('DENK0102947', `targets_pubkey.${ext}`));
    expect(codes(await verify())).toEqual(['VERIFY_KEY_REUSED']);
  });

  it('the same products in two ceremonies: VERIFY_KEY_REUSED across directories', async () => {
    const report = await verifyProducts([psfProducts, products]);
    expect(codes(report)).toEqual(['VERIFY_KEY_REUSED']);
    expect(report.devices).toHaveLength(12);
    for (const d of report.devices) for (const k of d.keys) expect(k.checks.unique).toBe('fail');
  });

  it('the same directory named twice is verified once', async () => {
    const report = await verifyProducts([products, products, `${products}/`]);
    expect(report.ok).toBe(true);
    expect(report.devices).toHaveLength(6);
  });

  it('a Nitrokey key on a curve that is not a ceremony curve: VERIFY_CURVE', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    await writeFile(p('DENK0102947', 'root_pubkey.pub'), publicKey.export({ type: 'spki', format: 'der' }));
    await writeFile(p('DENK0102947', 'root_pubkey.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    expect(codes(await verify())).toEqual(['VERIFY_CURVE']);
  });
});

describe('bad input', () => {
  it('a DIR that does not exist', async () => {
    await expect(verifyProducts([join(tmpdir(), 'no-such-products-dir')])).toThrowWithCode('VERIFY_INPUT_NOT_FOUND');
  });
  it('a DIR that is a file', async () => {
    await expect(verifyProducts([join(psfProducts, '0013200461', '0013200461_cert.der')])).toThrowWithCode('VERIFY_INPUT_NOT_DIRECTORY');
  });
  it('an empty DIR', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runbook-empty-'));
    try {
      await expect(verifyProducts([dir])).toThrowWithCode('VERIFY_INPUT_EMPTY');
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
