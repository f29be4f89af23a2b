/**
 * Attributes in a fence's info string: ```` ```ts {id=yubihsm.reset destructive} ````.
 * They follow the language so that GitHub still highlights the block, and
 * values are restricted to `[A-Za-z0-9._:/-]` so an id is safe in a file
 * name, a transcript line or a scripted-answers key without quoting.
 */
/** The block kinds that carry attributes, by fence language. */
export type FenceKind = 'code' | 'text' | 'other';

export function fenceKind(lang: string): FenceKind {
  if (lang === 'ts' || lang === 'typescript') return 'code';
  if (lang === 'text') return 'text';
  return 'other';
}

/**
 * The attributes each kind takes: `value` ones need `=value`, `flag` ones
 * take none. Extend here (and in docs/FORMAT.md) to add one.
 */
export const BLOCK_ATTRIBUTES: Record<Exclude<FenceKind, 'other'>, Record<string, 'value' | 'flag'>> = {
  code: {
    /** The block's stable id (required): the step's identity in transcripts. */
    id: 'value',
    /** The block erases or resets something: the executor asks before running it. */
    destructive: 'flag',
    /** The block computes its IF step's condition and resolves to a boolean. */
    when: 'flag',
  },
  text: {
    /** Expected output: what the operator sees while the step runs. */
    output: 'flag',
    /** Expected files: one path per line that the step must leave behind. */
    files: 'flag',
    id: 'value',
  },
};

export interface ParsedInfo {
  lang: string;
  attrs: Record<string, string | true>;
  /** Problems, each with its 0-based offset in the info string. */
  problems: { code: 'ATTR_MALFORMED' | 'ATTR_UNKNOWN'; offset: number; message: string }[];
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
const VALUE = /^[A-Za-z0-9._:/-]+$/;

/** Splits an info string into its language and attributes. Never throws. */
export function parseInfo(info: string): ParsedInfo {
  const trimmed = info.trim();
  const langEnd = trimmed.search(/[\s{]/);
  const lang = (langEnd < 0 ? trimmed : trimmed.slice(0, langEnd)).toLowerCase();
  const result: ParsedInfo = { lang, attrs: {}, problems: [] };
  const kind = fenceKind(lang);
  // Other languages (sh, console, …) are illustrations: their info string is theirs.
  if (kind === 'other' || langEnd < 0) return result;
  const lead = info.length - info.trimStart().length;
  const restStart = lead + langEnd + (trimmed.slice(langEnd).length - trimmed.slice(langEnd).trimStart().length);
  const rest = info.slice(restStart).trimEnd();
  if (rest === '') return result;
  if (!rest.startsWith('{') || !rest.endsWith('}') || rest.indexOf('}') !== rest.length - 1) {
    result.problems.push({ code: 'ATTR_MALFORMED', offset: restStart, message: 'attributes are written `{name=value flag …}` right after the language' });
    return result;
  }
  const known = BLOCK_ATTRIBUTES[kind];
  const body = rest.slice(1, -1);
  const re = /\S+/g;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    const offset = restStart + 1 + m.index;
    const eq = m[0].indexOf('=');
    const name = eq < 0 ? m[0] : m[0].slice(0, eq);
    const value = eq < 0 ? undefined : m[0].slice(eq + 1);
    if (!NAME.test(name)) {
      result.problems.push({ code: 'ATTR_MALFORMED', offset, message: `\`${m[0]}\` is not an attribute (name or name=value)` });
      continue;
    }
    if (value !== undefined && !VALUE.test(value)) {
      result.problems.push({ code: 'ATTR_MALFORMED', offset, message: `the value of \`${name}\` may only use letters, digits and . _ : / -` });
      continue;
    }
    if (name in result.attrs) {
      result.problems.push({ code: 'ATTR_MALFORMED', offset, message: `\`${name}\` is given twice` });
      continue;
    }
    const shape = known[name];
    if (shape === undefined) {
      result.problems.push({ code: 'ATTR_UNKNOWN', offset, message: `a \`${lang}\` block takes no \`${name}\` attribute (known: ${Object.keys(known).join(', ')})` });
      continue;
    }
    if ((shape === 'value') !== (value !== undefined)) {
      result.problems.push({ code: 'ATTR_MALFORMED', offset, message: shape === 'value' ? `\`${name}\` needs a value: \`${name}=…\`` : `\`${name}\` is a flag and takes no value` });
      continue;
    }
    result.attrs[name] = value ?? true;
  }
  return result;
}
