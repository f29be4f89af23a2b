import { readFile, stat } from 'node:fs/promises';
import { diagnostic, type Diagnostic } from './diagnostics.ts';

/**
 * The largest runbook read. RUNBOOK.md is tens of kilobytes; a file hundreds
 * of times larger is a wrong path (a disk image, a log), and reading it whole
 * would only exhaust memory before saying so.
 */
export const MAX_RUNBOOK_BYTES = 8 * 1024 * 1024;

/**
 * Reads a runbook file's bytes, turning every way that can fail into a
 * finding with a code rather than an exception: `runbook check` must report
 * a missing file or a directory as cleanly as a typo. What is not a regular
 * file of a runbook's size is refused before it is read.
 */
export async function readRunbookBytes(file: string): Promise<{ bytes: Buffer } | { problem: Diagnostic }> {
  const at = { file, line: 1, column: 1 };
  try {
    const info = await stat(file);
    if (info.isDirectory()) return { problem: diagnostic('FILE_IS_DIRECTORY', at, 'is a directory, not a runbook file') };
    // A FIFO or a device would block the read (or never end): refuse it.
    if (!info.isFile()) return { problem: diagnostic('FILE_UNREADABLE', at, 'is not a regular file') };
    if (info.size > MAX_RUNBOOK_BYTES) return { problem: diagnostic('FILE_TOO_LARGE', at, `is ${info.size} bytes; a runbook is at most ${MAX_RUNBOOK_BYTES}`) };
    return { bytes: await readFile(file) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { problem: diagnostic('FILE_NOT_FOUND', at, 'no such file') };
    return { problem: diagnostic('FILE_UNREADABLE', at, `cannot read the file (${code ?? 'I/O error'})`) };
  }
}

/** Reads a runbook file as UTF-8 text; binary garbage is a finding too. */
export async function readRunbookSource(file: string): Promise<{ source: string } | { problem: Diagnostic }> {
  const read = await readRunbookBytes(file);
  return 'problem' in read ? read : decodeRunbook(file, read.bytes);
}

/** Decodes bytes read from `file`: strict UTF-8, no NUL bytes, not empty. */
export function decodeRunbook(file: string, bytes: Uint8Array): { source: string } | { problem: Diagnostic } {
  const nul = bytes.indexOf(0);
  let source: string;
  try {
    if (nul >= 0) throw new Error('NUL byte');
    source = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const line = nul >= 0 ? countLines(bytes.subarray(0, nul)) : 1;
    return { problem: diagnostic('FILE_BINARY', { file, line, column: 1 }, 'is not UTF-8 text') };
  }
  if (source.trim() === '') return { problem: diagnostic('FILE_EMPTY', { file, line: 1, column: 1 }, 'the runbook is empty') };
  // A byte-order mark would shift the front matter's opening `---`.
  if (source.charCodeAt(0) === 0xfeff) source = source.slice(1);
  return { source };
}

/**
 * Line ends as markdown-it (and CommonMark) reads them: CRLF, LF or a lone
 * CR. Splitting any other way numbers lines differently from the parser's
 * token maps.
 */
export const LINE_END = /\r\n?|\n/;

/** The lines of a runbook, numbered as the parser numbers them (index 0 is line 1). */
export function splitLines(text: string): string[] {
  return text.split(LINE_END);
}

function countLines(bytes: Uint8Array): number {
  let n = 1;
  for (const b of bytes) if (b === 0x0a) n++;
  return n;
}
