/**
 * Placeholders in expected-output and file-list blocks, and the matcher the
 * dynamic check (rehearsal) and the executor use to compare what a step
 * really printed or wrote with what the runbook documents.
 *
 * The PSF runbook writes variable parts as `XXXXXXXXXX` ("where XXXXXXXXXX is the
 * 0-prefixed serial number"); a runbook writes `{{serial}}` instead, so the
 * placeholder is unambiguous and named:
 *
 * - `{{name}}` matches one or more characters other than whitespace and `/`
 *   (a serial number, a slot, a key id). The same name used twice in a block
 *   must match the same text both times: every file of one HSM carries the
 *   same serial number.
 * - `{{...}}` matches any text, possibly spanning lines or empty (output the
 *   runbook chooses not to pin, e.g. a progress bar).
 *
 * Lines are compared after removing trailing whitespace, and blank lines at
 * the start and end are ignored, so a block reads naturally in Markdown.
 */

const PLACEHOLDER = /\{\{(.*?)\}\}/g;
const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
export const ELLIPSIS = '...';

export type ExpectedPart = { literal: string } | { name: string } | { any: true };

/** A malformed placeholder and its 0-based offset in the block's text. */
export interface PlaceholderProblem {
  readonly offset: number;
  readonly message: string;
}

/** Splits expected text into literals and placeholders; reports malformed ones. */
export function parseExpected(text: string): { parts: ExpectedPart[]; problems: PlaceholderProblem[] } {
  const parts: ExpectedPart[] = [];
  const problems: PlaceholderProblem[] = [];
  let last = 0;
  const push = (literal: string, from: number) => {
    // A `{{` with no closing `}}` on its line is a typo, not literal output.
    const open = literal.indexOf('{{');
    if (open >= 0) problems.push({ offset: from + open, message: '`{{` opens a placeholder that is never closed with `}}`' });
    if (literal !== '') parts.push({ literal });
  };
  for (const m of text.matchAll(PLACEHOLDER)) {
    const inner = m[1] ?? '';
    push(text.slice(last, m.index), last);
    last = m.index + m[0].length;
    if (inner === ELLIPSIS) parts.push({ any: true });
    else if (NAME.test(inner) && !inner.includes('\n')) parts.push({ name: inner });
    else problems.push({ offset: m.index, message: `\`${m[0]}\` is not a placeholder: use {{name}} (letters, digits, _) or {{...}}` });
  }
  push(text.slice(last), last);
  return { parts, problems };
}

/** The outcome of a comparison: the placeholder values, or the first expected line that did not match (1-based). */
export type MatchResult = { ok: true; values: Record<string, string> } | { ok: false; line: number };

/**
 * Compares a program's actual output with an expected-output block.
 * `known` pre-binds placeholders whose value is already known (e.g. `hsm`
 * from the GO TO parameters, `serial` the operator wrote down): they must
 * then appear verbatim.
 */
export function matchExpected(expected: string, actual: string, known: Readonly<Record<string, string>> = {}): MatchResult {
  const want = normalize(expected);
  const got = normalize(actual).join('\n');
  const full = compile(want, known, true).exec(got);
  if (full) return { ok: true, values: { ...known, ...groups(full) } };
  // Find the first expected line from which the output stops matching, for a
  // finding that points at the right line of the runbook.
  for (let n = 1; n <= want.length; n++) {
    if (!compile(want.slice(0, n), known, false).test(got)) return { ok: false, line: n };
  }
  return { ok: false, line: want.length };
}

/**
 * Checks a file-list block against the paths that exist. Every expected line
 * must match some path, with one binding of the placeholders across all lines.
 */
export function matchFiles(
  expected: string,
  present: readonly string[],
  known: Readonly<Record<string, string>> = {},
): { ok: boolean; missing: string[]; values: Record<string, string> } {
  let values: Record<string, string> = { ...known };
  const missing: string[] = [];
  for (const line of normalize(expected)) {
    if (line.trim() === '') continue;
    const re = compile([line.trim()], values, true);
    const hit = present.map((p) => re.exec(p)).find((m) => m !== null);
    if (hit) values = { ...values, ...groups(hit) };
    else missing.push(line.trim());
  }
  return { ok: missing.length === 0, missing, values };
}

function normalize(text: string): string[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n').map((l) => l.trimEnd());
  while (lines.length > 0 && lines[0] === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function compile(lines: readonly string[], known: Readonly<Record<string, string>>, whole: boolean): RegExp {
  const seen = new Set<string>();
  let source = '';
  for (const part of parseExpected(lines.join('\n')).parts) {
    if ('literal' in part) source += escape(part.literal);
    else if ('any' in part) source += '[\\s\\S]*?';
    else if (part.name in known) source += escape(known[part.name] ?? '');
    else if (seen.has(part.name)) source += `\\k<${part.name}>`;
    else {
      seen.add(part.name);
      source += `(?<${part.name}>[^\\s/]+?)`;
    }
  }
  return new RegExp(`^${source}${whole ? '$' : '(?:\\n|$)'}`);
}

function groups(m: RegExpExecArray): Record<string, string> {
  return { ...(m.groups ?? {}) };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
