// `runbook pem --type p256|p384 FILE`: the PSF runbook's raw-ec-points-to-pem,
// through the CLI entry point, against the PSF's own 2020 products, keys made
// here with node:crypto and SubjectPublicKeyInfo built independently, and
// OpenSSL where it is installed.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, createPublicKey, randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { pemPathOf } from '../../lib/cli/pem.ts';
import { runCli } from '../support/cli.ts';
import { psfProducts } from '../support/paths.ts';

type Curve = 'P-256' | 'P-384';

/** The code in `runbook: message [CODE]`, the CLI's one-line error. */
function errorCode(stderr: string): string | undefined {
  return /^runbook: (?!warning).*\[([A-Z_0-9]+)\]$/m.exec(stderr)?.[1];
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'runbook-pem-'));
}

/**
 * SubjectPublicKeyInfo for an uncompressed point, written out by hand
 * (RFC 5480: id-ecPublicKey with the curve's named OID, the point as the BIT
 * STRING), not by the code under test.
 */
const SPKI_PREFIX: Record<Curve, string> = {
  'P-256': '3059301306072a8648ce3d020106082a8648ce3d030107034200',
  'P-384': '3076301006072a8648ce3d020106052b81040022036200',
};

function spkiOf(curve: Curve, point: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(SPKI_PREFIX[curve], 'hex'), point]);
}

/** A fresh key's uncompressed point, 0x04 ‖ X ‖ Y. */
function freshPoint(curve: Curve): Buffer {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const jwk = publicKey.export({ format: 'jwk' });
  return Buffer.concat([Buffer.of(0x04), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
}

async function haveOpenssl(): Promise<boolean> {
  try {
    await promisify(execFile)('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
}

const OPENSSL = await haveOpenssl();

describe('runbook pem', () => {
  it.each([
    ['0013200460', 'p384'],
    ['0013200461', 'p256'],
  ])("gives back, byte for byte, the PEM files of the PSF's 2020 YubiHSM 2 serial %s (--type %s)", async (serial, type) => {
    const dir = await tempDir();
    for (const role of ['root', 'targets']) {
      const name = `${serial}_${role}_pubkey`;
      await copyFile(join(psfProducts, serial, `${name}.pub`), join(dir, `${name}.pub`));
      const { code, stdout, stderr } = await runCli(['pem', '--type', type, join(dir, `${name}.pub`)]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toMatch(new RegExp(`^wrote ${join(dir, `${name}.pem`)} \\(sha256 [0-9a-f]{64}\\)\\n$`));
      expect(await readFile(join(dir, `${name}.pem`), 'utf8')).toBe(await readFile(join(psfProducts, serial, `${name}.pem`), 'utf8'));
    }
  });

  it.each<[Curve, string]>([
    ['P-256', 'p256'],
    ['P-384', 'p384'],
  ])('writes the %s key of a raw point, and of its bare X ‖ Y, as SubjectPublicKeyInfo built independently', async (curve, type) => {
    const dir = await tempDir();
    const point = freshPoint(curve);
    const expected = createPublicKey({ key: spkiOf(curve, point), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();
    await writeFile(join(dir, 'key_root_pubkey.pub'), point);
    await writeFile(join(dir, 'bare_root_pubkey.pub'), point.subarray(1));
    for (const name of ['key', 'bare']) {
      const { code, stderr } = await runCli(['pem', '--type', type, join(dir, `${name}_root_pubkey.pub`)]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const pem = await readFile(join(dir, `${name}_root_pubkey.pem`), 'utf8');
      expect(pem).toBe(expected);
      // The PEM's DER is exactly the SubjectPublicKeyInfo of the point.
      const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
      expect(der.equals(spkiOf(curve, point))).toBe(true);
    }
  });

  it.runIf(OPENSSL)('agrees with `openssl ec -pubin -inform DER` on both curves', async () => {
    const dir = await tempDir();
    for (const [curve, type] of [
      ['P-256', 'p256'],
      ['P-384', 'p384'],
    ] as const) {
      const point = freshPoint(curve);
      await writeFile(join(dir, `${type}.der`), spkiOf(curve, point));
      await writeFile(join(dir, `${type}.pub`), point);
      const { stdout: openssl } = await promisify(execFile)('openssl', ['ec', '-pubin', '-inform', 'DER', '-in', join(dir, `${type}.der`), '-outform', 'PEM']);
      expect((await runCli(['pem', '--type', type, join(dir, `${type}.pub`)])).code).toBe(0);
      expect(await readFile(join(dir, `${type}.pem`), 'utf8')).toBe(openssl);
    }
  });

  it('never overwrites a PEM file that exists, whatever it holds', async () => {
    const dir = await tempDir();
    const pub = join(dir, 'k_root_pubkey.pub');
    await writeFile(pub, freshPoint('P-256'));
    expect((await runCli(['pem', '--type', 'p256', pub])).code).toBe(0);
    const first = await readFile(join(dir, 'k_root_pubkey.pem'), 'utf8');
    // Run again, and with something else in its place.
    const again = await runCli(['pem', '--type', 'p256', pub]);
    expect(again.code).toBe(1);
    expect(errorCode(again.stderr)).toBe('PRODUCT_EXISTS');
    expect(again.stderr).toContain(join(dir, 'k_root_pubkey.pem'));
    expect(await readFile(join(dir, 'k_root_pubkey.pem'), 'utf8')).toBe(first);
    const other = join(dir, 'o_root_pubkey.pub');
    await writeFile(other, freshPoint('P-256'));
    await writeFile(join(dir, 'o_root_pubkey.pem'), 'not mine\n');
    expect(errorCode((await runCli(['pem', '--type', 'p256', other])).stderr)).toBe('PRODUCT_EXISTS');
    expect(await readFile(join(dir, 'o_root_pubkey.pem'), 'utf8')).toBe('not mine\n');
    // No temporary file is left behind.
    expect((await readdir(dir)).sort()).toEqual(['k_root_pubkey.pem', 'k_root_pubkey.pub', 'o_root_pubkey.pem', 'o_root_pubkey.pub']);
  });

  it.each([
    ['a point of the wrong length', 'PEM_POINT_MALFORMED', 'p256', () => randomBytes(50)],
    ['a 65-byte point without the 0x04 prefix', 'PEM_POINT_MALFORMED', 'p256', () => Buffer.concat([Buffer.of(0x02), freshPoint('P-256').subarray(1)])],
    ['an empty file', 'PEM_POINT_MALFORMED', 'p384', () => Buffer.alloc(0)],
    ['a point not on the curve', 'PEM_POINT_NOT_ON_CURVE', 'p256', () => Buffer.concat([Buffer.of(0x04), Buffer.alloc(64, 0x01)])],
    ['a P-384 point given as p256', 'PEM_CURVE_MISMATCH', 'p256', () => freshPoint('P-384')],
    ['a P-256 point given as p384', 'PEM_CURVE_MISMATCH', 'p384', () => freshPoint('P-256')],
    ['a bare P-256 X ‖ Y given as p384', 'PEM_CURVE_MISMATCH', 'p384', () => freshPoint('P-256').subarray(1)],
    ["a Nitrokey HSM's .pub (DER SubjectPublicKeyInfo)", 'PEM_POINT_MALFORMED', 'p256', () => spkiOf('P-256', freshPoint('P-256'))],
    ['a big file', 'PEM_POINT_MALFORMED', 'p256', () => randomBytes(4096)],
  ])('refuses %s, naming the file [%s], and writes nothing', async (_what, expected, type, bytes) => {
    const dir = await tempDir();
    const pub = join(dir, '0007550054_root_pubkey.pub');
    await writeFile(pub, bytes());
    const { code, stdout, stderr } = await runCli(['pem', '--type', type, pub]);
    expect(code).toBe(1);
    expect(errorCode(stderr)).toBe(expected);
    expect(stderr).toContain(pub);
    expect(stdout).toBe('');
    expect(await readdir(dir)).toEqual(['0007550054_root_pubkey.pub']);
  });

  it('names the other curve when the point is on it', async () => {
    const dir = await tempDir();
    const pub = join(dir, 'k.pub');
    await writeFile(pub, freshPoint('P-384'));
    const { stderr } = await runCli(['pem', '--type', 'p256', pub]);
    expect(stderr).toContain('P-384');
    expect(stderr).toContain('--type p384');
  });

  it('refuses a file it cannot read, naming it', async () => {
    const dir = await tempDir();
    const missing = join(dir, 'missing.pub');
    const { code, stderr } = await runCli(['pem', '--type', 'p256', missing]);
    expect(code).toBe(1);
    expect(errorCode(stderr)).toBe('PEM_INPUT_UNREADABLE');
    expect(stderr).toContain(missing);
    expect(errorCode((await runCli(['pem', '--type', 'p256', dir])).stderr)).toBe('PEM_INPUT_UNREADABLE');
  });

  it('is a usage error without --type, or with another curve', async () => {
    const dir = await tempDir();
    const pub = join(dir, 'k.pub');
    await writeFile(pub, freshPoint('P-256'));
    for (const argv of [['pem', pub], ['pem', '--type', 'p521', pub], ['pem', '--type', 'P-256', pub]]) {
      const { code, stderr } = await runCli(argv);
      expect(code).toBe(2);
      expect(errorCode(stderr)).toBe('CLI_USAGE');
    }
    expect((await runCli(['pem', '--type', 'p256'])).code).toBe(2);
    expect(await readdir(dir)).toEqual(['k.pub']);
  });

  it('puts the PEM beside FILE: .pub replaced by .pem, or .pem appended', () => {
    expect(pemPathOf('d/0007550054_root_pubkey.pub')).toBe('d/0007550054_root_pubkey.pem');
    expect(pemPathOf('d/point.bin')).toBe('d/point.bin.pem');
    expect(pemPathOf('d/x.pub.pub')).toBe('d/x.pub.pem');
  });
});
