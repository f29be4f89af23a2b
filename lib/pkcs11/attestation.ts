import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunbookError } from '../errors.ts';
import { untrustedText } from '../untrusted-text.ts';

/**
 * What a SmartCard-HSM (the chip in a Nitrokey HSM) keeps to prove where its
 * keys were made, read without a PIN and without changing the device.
 *
 * The card signs each key it generates with its Device Authentication key;
 * OpenSC stores the result, an authenticated CV request (BSI TR-03110, tag
 * 67), in the key's certificate file EF CE<key reference>. EF 2F02 holds the
 * device's certificate and its Device Issuer CA's. Key references are the
 * card's own (1, 2, … in the order keys were made, lowest free first), not
 * the PKCS#11 CKA_IDs the ceremony gives its keys: a request is matched to
 * its key by the key it attests, never by its number.
 *
 * OpenSC's PKCS#11 module shows the public key inside a request but never its
 * bytes, so these files are read another way: `scHsmToolReader` below for a
 * real device, the simulated SmartCard-HSM's own reader in a rehearsal
 * (simulator/token.ts). Checking what is read is lib/cvc's work.
 */

/** One key's EF CE as read: the card's key reference and the authenticated CV request in it. */
export interface KeyRequest {
  readonly keyReference: number;
  /** The bytes of the request (tag 67), as the card holds them; not yet checked. */
  readonly request: Uint8Array;
}

/** The attestation material of one device. */
export interface AttestationMaterial {
  /** EF 2F02: the device certificate followed by the Device Issuer CA certificate; not yet checked. */
  readonly devaut: Uint8Array;
  /** The requests found, by ascending key reference. */
  readonly requests: readonly KeyRequest[];
}

export interface ReadOptions {
  /**
   * Stop reading once this holds of the requests found so far (each further
   * key reference costs a run of sc-hsm-tool). Without it, every key
   * reference the device may hold is read.
   */
  readonly enough?: (requests: readonly KeyRequest[]) => boolean;
}

/** Reads a token's attestation material. */
export interface AttestationReader {
  /** What is read, for messages: "sc-hsm-tool (OpenSC)", "simulated SmartCard-HSM DENK0102947". */
  readonly description: string;
  /** The material, or undefined when this token cannot attest its keys. Needs no PIN; changes nothing on the device. */
  read(options?: ReadOptions): Promise<AttestationMaterial | undefined>;
}

export type AttestationReadErrorCode =
  /** sc-hsm-tool is not installed (OpenSC's tools, `opensc` in most distributions). */
  | 'ATTESTATION_TOOL_NOT_FOUND'
  /** sc-hsm-tool does not know --export-for-pub-key-auth: OpenSC before 0.23. */
  | 'ATTESTATION_TOOL_TOO_OLD'
  /** sc-hsm-tool failed, or reported success and wrote nothing (no reader, no card, a card that is not a SmartCard-HSM). */
  | 'ATTESTATION_TOOL_FAILED'
  /** What sc-hsm-tool wrote is not a SEQUENCE of [EF CE,] device certificate, Device Issuer CA certificate. */
  | 'ATTESTATION_EXPORT_MALFORMED'
  /** EF 2F02 read differently for two key references: the card was changed during the reading. */
  | 'ATTESTATION_DEVICE_CHANGED'
  /** No key reference the device may hold has a certificate file. */
  | 'ATTESTATION_NOTHING_FOUND';

/** Reading attestation material failed; the message names the tool or device. */
export class AttestationReadError extends RunbookError<AttestationReadErrorCode> {}

/** sc-hsm-tool takes key references 1 to 255 (`--key-reference`); 0 is the Device Authentication key, which has no EF CE. */
export const MAX_KEY_REFERENCE = 255;

export interface ScHsmToolOptions {
  /** The sc-hsm-tool program: a path, or a name looked up on PATH; default `sc-hsm-tool`. */
  readonly tool?: string;
  /** How long one run may take before it is stopped; default 30 s (a card answers in well under one). */
  readonly timeoutMs?: number;
  /**
   * How many absent key references in a row end the reading; default 16. The
   * card gives a new key the lowest free reference (OpenSC's
   * sc_hsm_determine_free_id), so references are dense from 1 and a gap
   * exists only where keys were deleted; a run of 16 means as many deleted
   * keys below a surviving one.
   */
  readonly maxGap?: number;
}

/** A SmartCard-HSM can always attest: what it cannot read is an error, never "cannot attest". */
export interface ScHsmToolReader extends AttestationReader {
  read(options?: ReadOptions): Promise<AttestationMaterial>;
}

/** No export is near this size (a request is under 1 KiB, EF 2F02 under 1 KiB); a larger file is refused unread. */
const MAX_EXPORT_BYTES = 64 * 1024;

/**
 * A real SmartCard-HSM, through OpenSC's `sc-hsm-tool --key-reference N
 * --export-for-pub-key-auth FILE` (OpenSC ≥ 0.23). For key reference N it
 * selects EF CE<N>, reads EF 2F02, and writes one DER SEQUENCE of the two:
 * EF CE<N> (cut to its first TLV), the device certificate, then the rest of
 * EF 2F02 (the Device Issuer CA certificate). It needs no PIN, and writes
 * only FILE, which it refuses to overwrite.
 *
 * The tool runs through execFile: no shell, and nothing secret on its argv or
 * in its environment (there is nothing secret to give it). FILE is in a
 * private directory (mkdtemp: mode 0700) removed afterwards.
 *
 * Which references exist is learnt by asking: references from 1 up, until
 * `enough` holds, `maxGap` references in a row have no EF CE, or 255. The
 * tool says "Wrong key reference (-i N)? Failed to select file: File not
 * found" for a reference with no EF CE; any other failure stops the reading.
 * It exits with status 0 when it cannot reach a card at all, so success is
 * the file, not the status.
 */
export function scHsmToolReader(options: ScHsmToolOptions = {}): ScHsmToolReader {
  const tool = options.tool ?? 'sc-hsm-tool';
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxGap = options.maxGap ?? 16;
  return {
    description: `${tool} (OpenSC)`,
    async read(readOptions: ReadOptions = {}): Promise<AttestationMaterial> {
      const dir = await mkdtemp(join(tmpdir(), 'runbook-sc-hsm-'));
      try {
        const requests: KeyRequest[] = [];
        let devaut: Uint8Array | undefined;
        let absent = 0;
        for (let ref = 1; ref <= MAX_KEY_REFERENCE && absent < maxGap; ref++) {
          const exported = await exportKey(tool, ref, join(dir, `export-${ref}.bin`), timeoutMs);
          if (exported === undefined) {
            absent++;
            continue;
          }
          absent = 0;
          const parsed = parseExport(exported, `${tool} --key-reference ${ref}`);
          if (devaut === undefined) devaut = parsed.devaut;
          else if (Buffer.compare(devaut, parsed.devaut) !== 0) {
            throw new AttestationReadError('ATTESTATION_DEVICE_CHANGED', `${tool}: EF 2F02 read for key reference ${ref} differs from the one read before: was the card changed?`);
          }
          if (parsed.certificateFile !== undefined && parsed.certificateFile[0] === AUTHENTICATED_REQUEST) {
            requests.push({ keyReference: ref, request: parsed.certificateFile });
            if (readOptions.enough?.(requests) === true) break;
          }
        }
        if (devaut === undefined) {
          throw new AttestationReadError('ATTESTATION_NOTHING_FOUND', `${tool}: no key reference from 1 to ${Math.min(MAX_KEY_REFERENCE, maxGap)} has a certificate file: the device holds no key it generated`);
        }
        return { devaut, requests };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** What sc-hsm-tool printed, made safe for a message: its last non-empty line, escaped. */
function lastLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  return untrustedText(lines.at(-1) ?? '(nothing on stderr)', 200);
}

/** One run of the tool for key reference `ref`: the file it wrote, or undefined when the card has no EF CE<ref>. */
async function exportKey(tool: string, ref: number, file: string, timeoutMs: number): Promise<Uint8Array | undefined> {
  const args = ['--key-reference', String(ref), '--export-for-pub-key-auth', file];
  const run = await new Promise<{ error: (Error & { code?: unknown; killed?: boolean }) | null; stderr: string }>((resolve) => {
    execFile(tool, args, { timeout: timeoutMs, maxBuffer: MAX_EXPORT_BYTES, encoding: 'utf8', windowsHide: true }, (error, _stdout, stderr) => {
      resolve({ error, stderr });
    });
  });
  const { error, stderr } = run;
  if (error !== null) {
    if (error.code === 'ENOENT') {
      throw new AttestationReadError('ATTESTATION_TOOL_NOT_FOUND', `${tool} was not found: install OpenSC 0.23 or later (sc-hsm-tool reads a Nitrokey HSM's attestations)`, { cause: error });
    }
    if (/unrecognized option|invalid option/i.test(stderr)) {
      throw new AttestationReadError('ATTESTATION_TOOL_TOO_OLD', `${tool} does not know --export-for-pub-key-auth: OpenSC 0.23 or later is needed (${lastLine(stderr)})`, { cause: error });
    }
    if (error.killed === true) {
      throw new AttestationReadError('ATTESTATION_TOOL_FAILED', `${tool} --key-reference ${ref} did not finish within ${timeoutMs / 1000} s`, { cause: error });
    }
    // sc-hsm-tool.c export_key: the one failure that means "no such key reference".
    if (error.code === 1 && /Wrong key reference \(-i \d+\)\? Failed to select file: File not found/.test(stderr)) return undefined;
    throw new AttestationReadError('ATTESTATION_TOOL_FAILED', `${tool} --key-reference ${ref} failed: ${lastLine(stderr)}`, { cause: error });
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // The tool exits with 0 when it reaches no card ("No smart card readers found.", "Failed to connect to card").
    throw new AttestationReadError('ATTESTATION_TOOL_FAILED', `${tool} --key-reference ${ref} wrote nothing: ${lastLine(stderr)}`, { cause: err });
  }
  if (bytes.length > MAX_EXPORT_BYTES) {
    throw new AttestationReadError('ATTESTATION_EXPORT_MALFORMED', `${tool} --key-reference ${ref} wrote ${bytes.length} bytes, more than any export`);
  }
  return new Uint8Array(bytes);
}

/** Tag of an authenticated CV request (TR-03110 part 3, C.2): the first byte of what EF CE holds after key generation. */
const AUTHENTICATED_REQUEST = 0x67;
/** Tag of a CV certificate (7F21): both certificates of EF 2F02 have it. */
const CV_CERTIFICATE = 0x7f21;
const SEQUENCE = 0x30;

/** What sc-hsm-tool --export-for-pub-key-auth writes, taken apart. */
export interface ParsedExport {
  /**
   * EF CE<N> (its first TLV), when the tool could read it: an authenticated
   * request (tag 67) for a key the card generated, or a certificate stored
   * later over it (an X.509 certificate, tag 30), or anything else.
   */
  readonly certificateFile: Uint8Array | undefined;
  /** EF 2F02: the device certificate and the Device Issuer CA certificate, as the card holds them. */
  readonly devaut: Uint8Array;
}

/**
 * Takes apart the file sc-hsm-tool --export-for-pub-key-auth writes: a DER
 * SEQUENCE (tag 30) of EF CE<N>'s first TLV (absent when the tool could not
 * read it: it then prints "Error reading certificate … Skipping"), the device
 * certificate, and the Device Issuer CA certificate. `bytes` are
 * attacker-controlled: canonical lengths only, no trailing bytes, and both
 * certificates must be CV certificates (7F21). `what` names the file for
 * messages.
 */
export function parseExport(bytes: Uint8Array, what: string): ParsedExport {
  const fail = (why: string) => new AttestationReadError('ATTESTATION_EXPORT_MALFORMED', `${what}: ${why}`);
  const outer = readTlv(bytes, 0, fail);
  if (outer.tag !== SEQUENCE) throw fail('not a DER SEQUENCE');
  if (outer.end !== bytes.length) throw fail(`${bytes.length - outer.end} bytes after the SEQUENCE`);
  const parts: Tlv[] = [];
  for (let at = outer.valueStart; at < outer.end; ) {
    const tlv = readTlv(bytes.subarray(0, outer.end), at, fail);
    parts.push(tlv);
    at = tlv.end;
  }
  if (parts.length !== 2 && parts.length !== 3) throw fail(`${parts.length} elements in the SEQUENCE, not 2 or 3 ([EF CE,] device certificate, Device Issuer CA certificate)`);
  const [device, issuer] = parts.slice(-2) as [Tlv, Tlv];
  if (device.tag !== CV_CERTIFICATE || issuer.tag !== CV_CERTIFICATE) throw fail('EF 2F02 is not two CV certificates (7F21)');
  const ce = parts.length === 3 ? (parts[0] as Tlv) : undefined;
  return {
    certificateFile: ce === undefined ? undefined : Uint8Array.from(bytes.subarray(ce.start, ce.end)),
    devaut: Uint8Array.from(bytes.subarray(device.start, issuer.end)),
  };
}

interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

/**
 * One BER-TLV at `at` (ISO/IEC 7816-4 §5.2, the encoding of CV certificates):
 * a tag of one or two bytes, a definite length in its shortest form (X.690
 * §10.1), and a value that fits in `bytes`.
 */
function readTlv(bytes: Uint8Array, at: number, fail: (why: string) => Error): Tlv {
  let i = at;
  const next = (what: string): number => {
    const b = bytes[i++];
    if (b === undefined) throw fail(`truncated ${what} at offset ${i - 1}`);
    return b;
  };
  let tag = next('tag');
  if ((tag & 0x1f) === 0x1f) {
    const second = next('tag');
    // Every tag of these files (7F21, 7F4E, 5F37, …) fits in two bytes.
    if ((second & 0x80) !== 0) throw fail(`tag longer than two bytes at offset ${at}`);
    tag = (tag << 8) | second;
  }
  const first = next('length');
  let length = first;
  if (first >= 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 3) throw fail(`length of ${count === 0 ? 'indefinite form' : `${count} bytes`} at offset ${i - 1}`);
    length = 0;
    for (let k = 0; k < count; k++) length = length * 256 + next('length');
    const minimum = count === 1 ? 0x80 : 2 ** (8 * (count - 1));
    if (length < minimum) throw fail(`non-canonical length at offset ${at}`);
  }
  const valueStart = i;
  const end = valueStart + length;
  if (end > bytes.length) throw fail(`value of ${length} bytes at offset ${valueStart} runs past the end (${bytes.length} bytes)`);
  return { tag, start: at, valueStart, end };
}
