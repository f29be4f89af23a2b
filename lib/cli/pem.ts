/**
 * `runbook pem --type p256|p384 FILE`: the PSF runbook's raw-ec-points-to-pem,
 * outside a ceremony. A YubiHSM 2's `SERIAL_root_pubkey.pub` holds the key
 * as a raw uncompressed EC point (0x04 ‖ X ‖ Y: 65 bytes on P-256, 97 on
 * P-384; the bare X ‖ Y is accepted too); this writes the same key as a PEM
 * SubjectPublicKeyInfo beside it, FILE with `.pub` replaced by `.pem`, as
 * step yubihsm.pem does during the ceremony (lib/keys.ts's pemFromPoint).
 *
 * The PEM is written create-exclusive and atomically (lib/products/write.ts):
 * an existing file is never overwritten (PRODUCT_EXISTS). A point of the
 * wrong length, not on the curve, or on the other curve than `--type` is
 * refused with an error naming the file.
 */
import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { COORDINATE_BYTES, CURVES, keyFromPoint, parsePublicKey, pemFromPoint, type Curve } from '../keys.ts';
import { keyTypeFlag } from '../ceremony.ts';
import { RunbookError } from '../errors.ts';
import type { CliContext } from './context.ts';
import { parseKeyType, requireKeyType } from './key-type.ts';

export type PemErrorCode =
  /** FILE cannot be read, or is not a regular file. */
  | 'PEM_INPUT_UNREADABLE'
  /** FILE does not hold an uncompressed point (its length or first byte is wrong). */
  | 'PEM_POINT_MALFORMED'
  /** FILE holds a point of the right length that is not on the curve. */
  | 'PEM_POINT_NOT_ON_CURVE'
  /** FILE holds a point on the other curve than `--type` says. */
  | 'PEM_CURVE_MISMATCH';

/** A raw EC point file that cannot be turned into a PEM; the message names the file. */
export class PemError extends RunbookError<PemErrorCode> {}

/** Where the PEM of `file` goes: `.pub` replaced by `.pem`, or `.pem` appended to any other name. */
export function pemPathOf(file: string): string {
  return file.endsWith('.pub') ? `${file.slice(0, -'.pub'.length)}.pem` : `${file}.pem`;
}

/** No raw point is longer than this (a P-384 one is 97 bytes): a bigger file is not read whole. */
const MAX_POINT_FILE = 1024;

/** Reads the raw point in `file`, checks it is on `curve`, and returns its PEM. */
export async function pemFromPointFile(file: string, curve: Curve): Promise<string> {
  const raw = await readPointFile(file);
  const n = COORDINATE_BYTES[curve];
  if (fits(raw, curve)) {
    try {
      return pemFromPoint(curve, raw);
    } catch (err) {
      throw new PemError('PEM_POINT_NOT_ON_CURVE', `${file}: the ${raw.length}-byte point it holds is not on ${curve}`, { cause: err });
    }
  }
  const other = CURVES.find((c) => c !== curve && fits(raw, c) && onCurve(raw, c));
  if (other !== undefined) {
    throw new PemError(
      'PEM_CURVE_MISMATCH',
      `${file} holds a ${other} point (${raw.length} bytes), not a ${curve} one: was --type ${keyTypeFlag(other)} meant?`,
    );
  }
  const expected = `a ${curve} point has ${2 * n + 1} bytes starting with 0x04, or ${2 * n} without it`;
  if (isSpki(raw)) {
    throw new PemError('PEM_POINT_MALFORMED', `${file} is a DER SubjectPublicKeyInfo (as a Nitrokey HSM's .pub is), not a raw EC point; ${expected}`);
  }
  if (raw.length === 2 * n + 1) {
    throw new PemError('PEM_POINT_MALFORMED', `${file} starts with 0x${(raw[0] ?? 0).toString(16).padStart(2, '0')}, not 0x04: not an uncompressed point; ${expected}`);
  }
  throw new PemError('PEM_POINT_MALFORMED', `${file} holds ${raw.length} bytes: not a raw ${curve} point; ${expected}`);
}

/** The bytes of `file`, a small regular file. */
async function readPointFile(file: string): Promise<Buffer> {
  try {
    const handle = await open(file, 'r');
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new PemError('PEM_INPUT_UNREADABLE', `${file} is not a regular file`);
      if (stats.size > MAX_POINT_FILE) {
        throw new PemError('PEM_POINT_MALFORMED', `${file} holds ${stats.size} bytes: not a raw EC point (65 or 97 bytes, or 64 or 96 without the 0x04 prefix)`);
      }
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof PemError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new PemError('PEM_INPUT_UNREADABLE', `cannot read ${file} (${code})`, { cause: err });
  }
}

function onCurve(raw: Uint8Array, curve: Curve): boolean {
  try {
    keyFromPoint(curve, raw);
    return true;
  } catch {
    return false;
  }
}

/** The bytes are a DER public key already (a Nitrokey HSM's .pub), not a raw point. */
function isSpki(raw: Uint8Array): boolean {
  try {
    parsePublicKey(raw);
    return true;
  } catch {
    return false;
  }
}

/** The length and prefix of an uncompressed point on `curve`, or of its bare X ‖ Y. */
function fits(raw: Uint8Array, curve: Curve): boolean {
  const n = COORDINATE_BYTES[curve];
  return raw.length === 2 * n || (raw.length === 2 * n + 1 && raw[0] === 0x04);
}

interface PemFlags {
  type?: Curve;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('pem')
    .usage('--type p256|p384 FILE')
    .description("turn a raw EC public key point (a YubiHSM 2's .pub) into a PEM file beside it, as step yubihsm.pem does")
    .argument('<file>', 'the raw uncompressed point, e.g. ceremony-products/0007550054/0007550054_root_pubkey.pub')
    .option('--type <type>', 'the curve of the key: p256 or p384 (required)', parseKeyType)
    .addHelpText(
      'after',
      `
The PEM goes to FILE with .pub replaced by .pem. It is written exclusively:
an existing file is never overwritten.`,
    )
    .action(async (file: string, flags: PemFlags) => {
      const curve = requireKeyType(flags.type);
      const { writeProduct } = await import('../products/write.ts');
      const pem = await pemFromPointFile(file, curve);
      const out = resolve(pemPathOf(file));
      await writeProduct(out, pem);
      ctx.stdout.write(`wrote ${out} (sha256 ${createHash('sha256').update(pem).digest('hex')})\n`);
    });
}
