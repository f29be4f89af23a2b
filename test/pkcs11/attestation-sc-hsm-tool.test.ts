// The route to a real Nitrokey HSM's attestations: OpenSC's
// `sc-hsm-tool --key-reference N --export-for-pub-key-auth FILE`, run without
// a shell, and the file it writes taken apart. A stand-in for the tool (a
// small script written here) behaves as sc-hsm-tool.c's export_key does: it
// writes SEQUENCE { EF CE<N>, EF 2F02 } or refuses, with the tool's own words
// on stderr and its exit statuses (0 when it reaches no card at all). The
// expected bytes are built here from the real vectors, not with the parser
// under test.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { AttestationReadError, parseExport, scHsmToolReader } from '../../lib/pkcs11/attestation.ts';
import { fixturesDir } from '../support/paths.ts';

/** The real vectors of a Nitrokey HSM 2 (DENK0404144), kept in the repository. */
const VECTORS = join(fixturesDir, 'nitrokey-attestation');
const vector = (name: string) => new Uint8Array(readFileSync(join(VECTORS, name)));
/** EF 2F02 of DENK0404144 and its P-256 key's request (EF CE03). */
const DEVAUT = vector('DENK0404144_EF2F02.bin');
const CE03 = vector('DENK0404144_CE03_p256.bin');
const CE04 = vector('DENK0404144_CE04_rsa2048.bin');

/** A DER length (X.690 §8.1.3), written out here. */
function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  return [0x82, n >> 8, n & 0xff];
}

/** What sc-hsm-tool writes: a SEQUENCE of its parts, concatenated. */
function exportFile(...parts: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts);
  return Uint8Array.from([0x30, ...derLength(body.length), ...body]);
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface ToolConfig {
  /** What the stand-in does: export (as the tool does), or fail as an OpenSC before 0.23, or with no reader, or never end. */
  mode?: 'export' | 'old' | 'no-reader' | 'hang';
  /** EF CE<N> by key reference, hex; 'transmit' for a reader error at the select; absent: no such file. */
  files: Record<string, string>;
  /** EF 2F02, hex; `devautFrom` changes it from that key reference on (another card). */
  devaut: string;
  devautFrom?: { ref: number; devaut: string };
  /** Write this instead of the export (hex). */
  raw?: string;
}

/** The stand-in for sc-hsm-tool, in a directory of its own with its config; it logs each call's argv and its output directory's mode. */
async function fakeTool(config: ToolConfig): Promise<{ tool: string; calls: () => { argv: string[]; dirMode: number }[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'runbook-fake-sc-hsm-tool-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const tool = join(dir, 'sc-hsm-tool');
  writeFileSync(
    tool,
    `#!${process.execPath}
const fs = require('fs');
const path = require('path');
const cfg = JSON.parse(fs.readFileSync(path.join(__dirname, 'config.json'), 'utf8'));
const args = process.argv.slice(2);
const arg = (name) => { const i = args.indexOf(name); return i < 0 ? undefined : args[i + 1]; };
const out = arg('--export-for-pub-key-auth');
const dirMode = out ? fs.statSync(path.dirname(out)).mode & 0o777 : -1;
fs.appendFileSync(path.join(__dirname, 'calls.log'), JSON.stringify({ argv: args, dirMode }) + '\\n');
const mode = cfg.mode || 'export';
if (mode === 'old') { process.stderr.write("sc-hsm-tool: unrecognized option '--export-for-pub-key-auth'\\nUsage: sc-hsm-tool [OPTIONS]\\n"); process.exit(1); }
if (mode === 'no-reader') { process.stderr.write('No smart card readers found.\\nFailed to connect to card: Success\\n'); process.exit(0); }
if (mode === 'hang') { setTimeout(() => {}, 60000); return; }
const ref = Number(arg('--key-reference'));
const ce = cfg.files[String(ref)];
if (ce === undefined) { process.stderr.write('Using reader with a card: Fake Reader 00 00\\nWrong key reference (-i ' + ref + ')? Failed to select file: File not found\\n'); process.exit(1); }
if (ce === 'transmit') { process.stderr.write('Wrong key reference (-i ' + ref + ')? Failed to select file: Transmit failed\\n'); process.exit(1); }
if (fs.existsSync(out)) { process.stderr.write("Output file '" + out + "' already exists\\n"); process.exit(1); }
const devaut = cfg.devautFrom && ref >= cfg.devautFrom.ref ? cfg.devautFrom.devaut : cfg.devaut;
const body = Buffer.concat([Buffer.from(ce, 'hex'), Buffer.from(devaut, 'hex')]);
const len = body.length < 0x80 ? [body.length] : body.length < 0x100 ? [0x81, body.length] : [0x82, body.length >> 8, body.length & 0xff];
process.stderr.write('Warning: Device certificate chain not verified!\\n');
fs.writeFileSync(out, cfg.raw !== undefined ? Buffer.from(cfg.raw, 'hex') : Buffer.concat([Buffer.from([0x30, ...len]), body]));
`,
  );
  chmodSync(tool, 0o755);
  const calls = () => {
    const log = join(dir, 'calls.log');
    if (!existsSync(log)) return [];
    return readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { argv: string[]; dirMode: number });
  };
  return { tool, calls };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('parseExport: the file sc-hsm-tool --export-for-pub-key-auth writes', () => {
  it('takes a real request and EF 2F02 apart again, byte for byte', () => {
    const parsed = parseExport(exportFile(CE03, DEVAUT), 'test');
    expect(parsed.certificateFile).toEqual(CE03);
    expect(parsed.devaut).toEqual(DEVAUT);
  });

  it('has no EF CE when the tool could not read it (it then writes EF 2F02 alone)', () => {
    const parsed = parseExport(exportFile(DEVAUT), 'test');
    expect(parsed.certificateFile).toBeUndefined();
    expect(parsed.devaut).toEqual(DEVAUT);
  });

  it('refuses bytes after the SEQUENCE, a long-form length where the short one fits, and EF 2F02 that is not two CV certificates', () => {
    const good = exportFile(CE03, DEVAUT);
    expect(() => parseExport(Uint8Array.from([...good, 0x00]), 'test')).toThrowWithCode('ATTESTATION_EXPORT_MALFORMED');
    const small = Uint8Array.of(0x30, 0x81, 0x03, 0x04, 0x01, 0x00);
    expect(() => parseExport(small, 'test')).toThrowWithCode('ATTESTATION_EXPORT_MALFORMED');
    expect(() => parseExport(exportFile(CE03, CE04), 'test')).toThrowWithCode('ATTESTATION_EXPORT_MALFORMED');
    expect(() => parseExport(exportFile(CE03, CE03, DEVAUT), 'test')).toThrowWithCode('ATTESTATION_EXPORT_MALFORMED');
    expect(() => parseExport(Uint8Array.of(0x31, 0x00), 'test')).toThrowWithCode('ATTESTATION_EXPORT_MALFORMED');
  });

  it('refuses every truncation of a real export with its own error, never another', () => {
    const good = exportFile(CE03, DEVAUT);
    for (let n = 0; n < good.length; n++) {
      expect(() => parseExport(good.subarray(0, n), 'test')).toThrowWithCode('ATTESTATION_EXPORT_MALFORMED');
    }
  });

  it('throws nothing but its own typed error on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        try {
          parseExport(bytes, 'fuzz');
        } catch (err) {
          expect(err).toBeInstanceOf(AttestationReadError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('scHsmToolReader: a real Nitrokey HSM through OpenSC', () => {
  it('reads each key reference with no PIN and no shell, into a private directory it removes, and stops at a run of absent references', async () => {
    const { tool, calls } = await fakeTool({ files: { '1': hex(CE03), '2': hex(CE04) }, devaut: hex(DEVAUT) });
    const material = await scHsmToolReader({ tool, maxGap: 3 }).read();
    expect(material.devaut).toEqual(DEVAUT);
    expect(material.requests).toEqual([
      { keyReference: 1, request: CE03 },
      { keyReference: 2, request: CE04 },
    ]);
    const made = calls();
    // 1 and 2, then 3, 4, 5 absent.
    expect(made.map((c) => c.argv[1])).toEqual(['1', '2', '3', '4', '5']);
    for (const [i, call] of made.entries()) {
      expect(call.argv).toEqual(['--key-reference', String(i + 1), '--export-for-pub-key-auth', call.argv[3]]);
      expect(call.dirMode).toBe(0o700);
      expect(existsSync(call.argv[3] ?? '')).toBe(false);
    }
  });

  it('finds a key past a gap left by deleted keys, and skips a certificate file that holds no request', async () => {
    const x509 = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00);
    const { tool } = await fakeTool({ files: { '1': hex(x509), '4': hex(CE03) }, devaut: hex(DEVAUT) });
    const material = await scHsmToolReader({ tool, maxGap: 4 }).read();
    expect(material.requests.map((r) => r.keyReference)).toEqual([4]);
  });

  it('stops as soon as `enough` holds: each further reference is another run of the tool', async () => {
    const { tool, calls } = await fakeTool({ files: { '1': hex(CE03), '2': hex(CE04), '3': hex(CE03) }, devaut: hex(DEVAUT) });
    const material = await scHsmToolReader({ tool }).read({ enough: (requests) => requests.length === 2 });
    expect(material.requests.map((r) => r.keyReference)).toEqual([1, 2]);
    expect(calls()).toHaveLength(2);
  });

  it('ATTESTATION_NOTHING_FOUND when no reference has a certificate file', async () => {
    const { tool } = await fakeTool({ files: {}, devaut: hex(DEVAUT) });
    await expect(scHsmToolReader({ tool, maxGap: 2 }).read()).toThrowWithCode('ATTESTATION_NOTHING_FOUND');
  });

  it('ATTESTATION_TOOL_NOT_FOUND when OpenSC is not installed', async () => {
    await expect(scHsmToolReader({ tool: join(tmpdir(), 'no-such-dir', 'sc-hsm-tool') }).read()).toThrowWithCode('ATTESTATION_TOOL_NOT_FOUND');
  });

  it('ATTESTATION_TOOL_TOO_OLD when the tool does not know --export-for-pub-key-auth (OpenSC before 0.23)', async () => {
    const { tool } = await fakeTool({ mode: 'old', files: {}, devaut: '' });
    await expect(scHsmToolReader({ tool }).read()).toThrowWithCode('ATTESTATION_TOOL_TOO_OLD');
  });

  it('ATTESTATION_TOOL_FAILED when the tool reaches no card, though it exits with status 0', async () => {
    const { tool } = await fakeTool({ mode: 'no-reader', files: {}, devaut: '' });
    await expect(scHsmToolReader({ tool }).read()).toThrowWithCode('ATTESTATION_TOOL_FAILED');
  });

  it('ATTESTATION_TOOL_FAILED for a reader error, which is not an absent key reference', async () => {
    const { tool } = await fakeTool({ files: { '1': hex(CE03), '2': 'transmit' }, devaut: hex(DEVAUT) });
    await expect(scHsmToolReader({ tool }).read()).toThrowWithCode('ATTESTATION_TOOL_FAILED');
  });

  it('ATTESTATION_TOOL_FAILED when the tool does not finish in time', async () => {
    const { tool } = await fakeTool({ mode: 'hang', files: {}, devaut: '' });
    await expect(scHsmToolReader({ tool, timeoutMs: 300 }).read()).toThrowWithCode('ATTESTATION_TOOL_FAILED');
  });

  it('ATTESTATION_EXPORT_MALFORMED when what it wrote does not parse', async () => {
    const { tool } = await fakeTool({ files: { '1': hex(CE03) }, devaut: hex(DEVAUT), raw: '3003040100' });
    await expect(scHsmToolReader({ tool }).read()).toThrowWithCode('ATTESTATION_EXPORT_MALFORMED');
  });

  it('ATTESTATION_DEVICE_CHANGED when EF 2F02 changes between two references (another card)', async () => {
    const other = Uint8Array.from(DEVAUT);
    other[other.length - 1] = (other.at(-1) ?? 0) ^ 0x01;
    const { tool } = await fakeTool({ files: { '1': hex(CE03), '2': hex(CE04) }, devaut: hex(DEVAUT), devautFrom: { ref: 2, devaut: hex(other) } });
    await expect(scHsmToolReader({ tool }).read()).toThrowWithCode('ATTESTATION_DEVICE_CHANGED');
  });
});
