import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import { describe, expect, it } from 'vitest';
import { MAX_PRODUCT_BYTES } from '../../lib/products/verify/device-files.ts';
import { verifyProducts, type CheckName, type CheckStatus, type Role, type VerifyOptions } from '../../lib/products/verify/index.ts';
import { psfProducts } from '../support/paths.ts';
import { PSF_INVENTORY, PSF_NITROKEYS, PSF_YUBIHSMS, psfCopy } from './support/psf.ts';
import { codes, device, status } from './support/report.ts';


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

  it('as device DIRs, against an inventory listing one more: VERIFY_INVENTORY, naming no directory', async () => {
    const hsms = [...PSF_INVENTORY.hsms.filter((e) => e.id === 'YubiHSM2-1'), { id: 'N', kind: 'nitrokey-hsm' as const, keyType: 'P-384' as const }];
    const report = await verifyProducts([join(psfProducts, '0013200461')], { inventory: { hsms } });
    expect(codes(report)).toEqual(['VERIFY_INVENTORY']);
    expect(report.findings.map((f) => [f.code, f.file])).toEqual([['VERIFY_INVENTORY', undefined]]);
  });

  it('are checked as of the given time: Yubico certificates expire in 2071', async () => {
    const report = await verifyProducts([join(psfProducts, '0013200461')], { at: new Date('2072-01-01T00:00:00Z') });
    expect(codes(report)).toEqual(['VERIFY_CHAIN_VALIDITY']);
    const before = await verifyProducts([join(psfProducts, '0013200461')], { at: new Date('2016-12-31T00:00:00Z') });
    expect(codes(before)).toEqual(['VERIFY_CHAIN_VALIDITY']);
  });
});

describe('tampered PSF products', () => {
  const psf = psfCopy('each');

  const p = (serial: string, suffix: string) => join(psf.products, serial, `${serial}_${suffix}`);
  const verify = (options: VerifyOptions = { inventory: PSF_INVENTORY }) => verifyProducts([psf.products], options);

  async function flipLastByte(path: string): Promise<void> {
    const bytes = await readFile(path);
    // The signature BIT STRING ends the certificate: its last byte is signature.
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
    await writeFile(path, bytes);
  }

  async function swap(a: string, b: string): Promise<void> {
    const tmp = `${a}.swap`;
    await rename(a, tmp);
    await rename(b, a);
    await rename(tmp, b);
  }

  /**
   * One way of tampering with the products: the codes it must give (all of
   * them, nothing else) and the table cells it must mark, as
   * 'serial role check status'.
   */
  interface Tampering {
    readonly what: string;
    readonly tamper: () => Promise<void>;
    readonly codes: string[];
    readonly cells?: readonly `${string} ${Role} ${CheckName} ${CheckStatus}`[];
  }

  // The kinds of tampering the products must withstand, each with the code that names it.
  const TAMPERINGS: Tampering[] = [
    {
      what: 'a flipped bit in an attestation signature',
      tamper: () => flipLastByte(p('0013200461', 'targets_attestation.der')),
      codes: ['VERIFY_CHAIN_SIGNATURE'],
      cells: ['0013200461 targets chain fail', '0013200461 root chain pass'],
    },
    {
      what: 'a flipped bit in a device certificate signature (both keys)',
      tamper: () => flipLastByte(p('0013200462', 'cert.der')),
      codes: ['VERIFY_CHAIN_SIGNATURE'],
      cells: ['0013200462 root chain fail', '0013200462 targets chain fail', '0013200461 root chain pass'],
    },
    {
      what: 'an outer signature algorithm other than the signed one (RFC 5280 4.1.1.2)',
      tamper: async () => {
        // sha256WithRSAEncryption outside rewritten to sha384WithRSAEncryption; the DER stays valid.
        const path = p('0013200461', 'root_attestation.der');
        const cert = AsnConvert.parse(await readFile(path), Certificate);
        cert.signatureAlgorithm = new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.12', parameters: null });
        await writeFile(path, new Uint8Array(AsnConvert.serialize(cert)));
      },
      codes: ['VERIFY_CHAIN_SIGNATURE'],
    },
    {
      what: 'a .pub swapped between two devices (both)',
      tamper: () => swap(p('0013200461', 'root_pubkey.pub'), p('0013200462', 'root_pubkey.pub')),
      codes: ['VERIFY_PUB_MISMATCH'],
      cells: ['0013200461 root key fail', '0013200462 root key fail', '0013200461 targets key pass'],
    },
    {
      what: 'a .pub from a device on another curve',
      tamper: () => copyFile(p('0013200460', 'targets_pubkey.pub'), p('0013200461', 'targets_pubkey.pub')),
      codes: ['VERIFY_PUB_MISMATCH'],
    },
    {
      what: 'a .pem from another key',
      tamper: () => copyFile(p('0013200461', 'root_pubkey.pem'), p('0013200461', 'targets_pubkey.pem')),
      codes: ['VERIFY_PEM_MISMATCH'],
      cells: ['0013200461 targets key fail'],
    },
    {
      what: "a Nitrokey .pem that is not its .pub's key",
      tamper: () => copyFile(p('DENK0103189', 'root_pubkey.pem'), p('DENK0103189', 'targets_pubkey.pem')),
      codes: ['VERIFY_PEM_MISMATCH'],
      cells: ['DENK0103189 targets key fail'],
    },
    {
      // Its subject and .2 name 0013200462, and the attestations were not issued by it.
      what: 'a device certificate from another serial',
      tamper: () => copyFile(p('0013200462', 'cert.der'), p('0013200461', 'cert.der')),
      codes: ['VERIFY_CHAIN_ISSUER', 'VERIFY_SERIAL_MISMATCH'],
      cells: ['0013200461 root serial fail', '0013200461 targets chain fail'],
    },
    {
      what: 'a device directory and its files renamed to another serial',
      tamper: async () => {
        const to = join(psf.products, '0013200463');
        await rename(join(psf.products, '0013200461'), to);
        for (const suffix of ['cert.der', 'root_attestation.der', 'targets_attestation.der', 'root_pubkey.pub', 'targets_pubkey.pub', 'root_pubkey.pem', 'targets_pubkey.pem']) {
          await rename(join(to, `0013200461_${suffix}`), join(to, `0013200463_${suffix}`));
        }
      },
      codes: ['VERIFY_SERIAL_MISMATCH'],
    },
    {
      what: 'a truncated attestation (nothing about its key can be said)',
      tamper: async () => {
        const path = p('0013200460', 'root_attestation.der');
        await writeFile(path, (await readFile(path)).subarray(0, -10));
      },
      codes: ['VERIFY_DER_MALFORMED'],
      cells: ['0013200460 root chain fail', '0013200460 root origin skipped', '0013200460 root key skipped'],
    },
    {
      what: 'a truncated device certificate',
      tamper: async () => {
        const path = p('0013200460', 'cert.der');
        await writeFile(path, (await readFile(path)).subarray(0, 100));
      },
      codes: ['VERIFY_DER_MALFORMED'],
    },
    {
      what: 'a truncated Nitrokey .pub',
      tamper: async () => {
        const path = p('DENK0200473', 'root_pubkey.pub');
        await writeFile(path, (await readFile(path)).subarray(0, 50));
      },
      codes: ['VERIFY_DER_MALFORMED'],
    },
    {
      what: 'a missing attestation',
      tamper: () => unlink(p('0013200461', 'targets_attestation.der')),
      codes: ['VERIFY_FILE_MISSING'],
      cells: ['0013200461 targets files fail', '0013200461 root files pass'],
    },
    {
      what: 'a missing device certificate (both keys)',
      tamper: () => unlink(p('0013200461', 'cert.der')),
      codes: ['VERIFY_FILE_MISSING'],
      cells: ['0013200461 root files fail', '0013200461 targets chain skipped'],
    },
    {
      // Without the attested key, the .pub and the .pem are still held to each other.
      what: 'a missing attestation beside a .pem from another key',
      tamper: async () => {
        await unlink(p('0013200461', 'root_attestation.der'));
        await copyFile(p('0013200462', 'root_pubkey.pem'), p('0013200461', 'root_pubkey.pem'));
      },
      codes: ['VERIFY_FILE_MISSING', 'VERIFY_PEM_MISMATCH'],
      cells: ['0013200461 root key fail'],
    },
    {
      what: 'a product file larger than any product (refused unread)',
      tamper: () => writeFile(p('0013200461', 'root_pubkey.pem'), Buffer.alloc(MAX_PRODUCT_BYTES + 1, 0x41)),
      codes: ['VERIFY_FILE_UNEXPECTED'],
      cells: ['0013200461 root files fail'],
    },
    {
      what: 'an extra file in a device directory',
      tamper: () => writeFile(p('DENK0102947', 'backup_pubkey.pem'), 'x'),
      codes: ['VERIFY_FILE_UNEXPECTED'],
    },
    {
      what: 'a device missing against the inventory',
      tamper: () => rm(join(psf.products, 'DENK0200473'), { recursive: true }),
      codes: ['VERIFY_INVENTORY'],
    },
    {
      what: 'the same key for both roles of a device',
      tamper: async () => {
        for (const ext of ['pub', 'pem']) await copyFile(p('DENK0102947', `root_pubkey.${ext}`), p('DENK0102947', `targets_pubkey.${ext}`));
      },
      codes: ['VERIFY_KEY_REUSED'],
    },
    {
      what: 'the same key on two devices',
      tamper: async () => {
        for (const ext of ['pub', 'pem']) await copyFile(p('DENK0103189', `root_pubkey.${ext}`), p('DENK0200473', `targets_pubkey.${ext}`));
      },
      codes: ['VERIFY_KEY_REUSED'],
      cells: ['DENK0103189 root unique fail', 'DENK0200473 targets unique fail'],
    },
  ];

  it.each(TAMPERINGS)('$what: $codes', async ({ tamper, codes: expected, cells = [] }) => {
    await tamper();
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(codes(report)).toEqual(expected);
    for (const cell of cells) {
      const [serial = '', role, check] = cell.split(' ') as [string, Role, CheckName];
      expect(`${serial} ${role} ${check} ${status(report, serial, role, check)}`).toBe(cell);
    }
  });

  it('a product replaced by a symbolic link is not followed: VERIFY_FILE_UNEXPECTED and VERIFY_FILE_MISSING', async () => {
    const path = p('DENK0102947', 'root_pubkey.pub');
    await rename(path, join(psf.products, '..', 'elsewhere.pub'));
    await symlink(join(psf.products, '..', 'elsewhere.pub'), path);
    expect(codes(await verify())).toEqual(['VERIFY_FILE_MISSING', 'VERIFY_FILE_UNEXPECTED']);
  });

  it('a device directory that is a symbolic link out of the products is not followed: VERIFY_FILE_UNEXPECTED', async () => {
    const outside = join(psf.products, '..', 'outside');
    await rename(join(psf.products, 'DENK0102947'), outside);
    await symlink(outside, join(psf.products, 'DENK0102947'));
    const report = await verify();
    expect(codes(report)).toEqual(['VERIFY_FILE_UNEXPECTED', 'VERIFY_INVENTORY']);
    expect(report.devices.map((d) => d.serial)).not.toContain('DENK0102947');
  });

  it('a FIFO in place of a product is neither read nor waited on: VERIFY_FILE_UNEXPECTED and VERIFY_FILE_MISSING', async () => {
    const path = p('0013200461', 'root_pubkey.pem');
    await unlink(path);
    expect(spawnSync('mkfifo', [path]).status).toBe(0);
    expect(codes(await verify())).toEqual(['VERIFY_FILE_MISSING', 'VERIFY_FILE_UNEXPECTED']);
  });

  it('entries of the products directory that are no device: VERIFY_FILE_UNEXPECTED, in name order', async () => {
    await writeFile(join(psf.products, 'notes.txt'), 'x');
    await mkdir(join(psf.products, 'images'));
    await writeFile(join(psf.products, 'a.txt'), 'x');
    const report = await verify();
    expect(codes(report)).toEqual(['VERIFY_FILE_UNEXPECTED']);
    expect(report.findings.map((f) => f.file)).toEqual(['a.txt', 'images', 'notes.txt'].map((n) => join(psf.products, n)));
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

  it('the same products in two ceremonies: VERIFY_KEY_REUSED across directories', async () => {
    const report = await verifyProducts([psfProducts, psf.products]);
    expect(codes(report)).toEqual(['VERIFY_KEY_REUSED']);
    expect(report.devices).toHaveLength(12);
    for (const d of report.devices) for (const k of d.keys) expect(k.checks.unique).toBe('fail');
  });

  it('the same directory named twice is verified once', async () => {
    const report = await verifyProducts([psf.products, psf.products, `${psf.products}/`]);
    expect(report.ok).toBe(true);
    expect(report.devices).toHaveLength(6);
  });

  it('a Nitrokey key on a curve that is not a ceremony curve: VERIFY_CURVE', async () => {
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
