/**
 * The ceremony's parameters, held in RUNBOOK.md's YAML front matter: the
 * title, where products go, and the HSM inventory (which device gets which
 * key type: the PSF runbook's "YubiHSM2-1 (keytype: P-256)").
 *
 * The YAML is parsed with `yaml` (which keeps source ranges) and validated
 * with a strict zod schema, so a typo'd key or a wrong type is reported at
 * its own line rather than silently ignored.
 */
import matter from 'gray-matter';
import { LineCounter, isMap, isScalar, parseDocument, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { SERIALS } from '../ceremony.ts';
import { CURVES, type Curve } from '../keys.ts';
import type { Inventory } from './inventory-types.ts';
import { diagnostic, toError, type Diagnostic } from './diagnostics.ts';
import { readRunbookSource } from './source.ts';

export type { HsmEntry, HsmKind, Inventory } from './inventory-types.ts';

/** Characters allowed in ids and other values that end up in file names and attributes. */
const ID = /^[A-Za-z0-9._:-]+$/;

const hsmSchema = z
  .strictObject({
    id: z.string().regex(ID, 'use letters, digits and . _ : -'),
    kind: z.enum(['yubihsm2', 'nitrokey-hsm']),
    keyType: z.enum(CURVES as [Curve, ...Curve[]]),
    serial: z.string().optional(),
  })
  .superRefine((hsm, issues) => {
    // A serial written in the front matter must be one the device can have,
    // in lib/ceremony.ts's formats: otherwise no device would ever match it.
    if (hsm.serial === undefined) return;
    const format = hsm.kind === 'yubihsm2' ? SERIALS.yubihsmPrinted : SERIALS.nitrokey;
    if (!format.pattern.test(hsm.serial)) issues.addIssue({ code: 'custom', path: ['serial'], message: format.description });
  });

const inventorySchema = z.strictObject({
  title: z.string().min(1),
  products: z.string().min(1).default('ceremony-products'),
  hsms: z.array(hsmSchema).min(1),
  pkcs11Module: z.string().min(1).optional(),
  nitrokeyManufacturer: z.string().min(1).optional(),
});

/** What the parser uses when the front matter is unusable, so the rest of the file is still checked. */
export const EMPTY_INVENTORY: Inventory = { title: '', products: 'ceremony-products', hsms: [] };

export interface FrontMatter {
  inventory: Inventory;
  /** The Markdown after the front matter, with the front matter's lines blanked so line numbers stay those of the file. */
  body: string;
  diagnostics: Diagnostic[];
}

/**
 * Splits the front matter off a runbook (gray-matter) and validates it. Never
 * throws: every problem is a diagnostic.
 */
export function parseFrontMatter(source: string, file: string): FrontMatter {
  const first = { file, line: 1, column: 1 };
  if (!/^---[ \t]*\r?\n/.test(source)) {
    return { inventory: EMPTY_INVENTORY, body: source, diagnostics: [diagnostic('FRONT_MATTER_MISSING', first, 'a runbook starts with `---` front matter holding the inventory')] };
  }
  // The engine hands back the raw text: gray-matter only finds the block, and
  // `yaml` (below) parses it with positions.
  const split = matter(source, { engines: { yaml: { parse: (s: string) => ({ raw: s }) } } as never });
  const head = source.slice(0, source.length - split.content.length);
  if (split.content === '' && !/\r?\n---[ \t]*(\r?\n|$)/.test(source.slice(3))) {
    // Still check the Markdown, from the line after the opening `---`, so one
    // missing line does not hide every other finding.
    return { inventory: EMPTY_INVENTORY, body: source.replace(/^---[ \t]*/, ''), diagnostics: [diagnostic('FRONT_MATTER_UNTERMINATED', first, 'the front matter has no closing `---`')] };
  }
  const body = '\n'.repeat(lineCount(head) - 1) + split.content;
  // `split.matter` starts right after the opening `---`, so its line N is line N of the file.
  const { inventory, diagnostics } = parseInventoryYaml(split.matter, file);
  return { inventory, body, diagnostics };
}

/** Validates front matter text whose line N is line N of `file`. */
export function parseInventoryYaml(text: string, file: string): { inventory: Inventory; diagnostics: Diagnostic[] } {
  const lines = new LineCounter();
  // gray-matter leaves the `\r` of a Windows line end on the last line; line
  // numbers and columns are the same without the carriage returns.
  const doc = parseDocument(text.replace(/\r\n?/g, '\n'), { lineCounter: lines, prettyErrors: false });
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return { file, line, column: line === 1 ? col + 3 : col };
  };
  if (doc.errors.length > 0) {
    // After the first syntax error the YAML parser's findings are mostly echoes of it.
    const [e] = doc.errors;
    return { inventory: EMPTY_INVENTORY, diagnostics: e ? [diagnostic('FRONT_MATTER_YAML', at(e.pos[0]), e.message.split('\n')[0] ?? 'invalid YAML')] : [] };
  }
  let data: unknown;
  try {
    // `toJS` refuses alias bombs (maxAliasCount) by throwing.
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { inventory: EMPTY_INVENTORY, diagnostics: [diagnostic('FRONT_MATTER_YAML', at(0), err instanceof Error ? err.message : 'invalid YAML')] };
  }
  const result = inventorySchema.safeParse(data ?? {});
  const diagnostics: Diagnostic[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const node = keyNode(doc, path, key) ?? nodeAt(doc, path);
          diagnostics.push(diagnostic('FRONT_MATTER_UNKNOWN_KEY', at(node?.range?.[0] ?? 0), `unknown key \`${[...path, key].join('.')}\``));
        }
      } else {
        const node = nodeAt(doc, path);
        const where = path.length > 0 ? `\`${path.join('.')}\`: ` : '';
        diagnostics.push(diagnostic('FRONT_MATTER_INVALID', at(node?.range?.[0] ?? 0), `${where}${issue.message}`));
      }
    }
    return { inventory: EMPTY_INVENTORY, diagnostics };
  }
  const inventory: Inventory = result.data;
  // The signing body ID names the device in GO TO arguments, file names and
  // the transcript: two devices with one ID would be indistinguishable.
  const seen = new Set<string>();
  inventory.hsms.forEach((hsm, i) => {
    if (seen.has(hsm.id)) {
      const node = nodeAt(doc, ['hsms', i, 'id']);
      diagnostics.push(diagnostic('INVENTORY_DUPLICATE_ID', at(node?.range?.[0] ?? 0), `HSM id \`${hsm.id}\` is listed twice`));
    }
    seen.add(hsm.id);
  });
  return { inventory, diagnostics };
}

/**
 * Reads the inventory from a runbook's front matter. Throws a
 * RunbookFormatError (with file, line and code) on the first problem.
 */
export async function readInventory(file: string): Promise<Inventory> {
  const read = await readRunbookSource(file);
  if ('problem' in read) throw toError(read.problem);
  const { inventory, diagnostics } = parseFrontMatter(read.source, file);
  const [first] = diagnostics;
  if (first) throw toError(first);
  return inventory;
}

function nodeAt(doc: Document, path: readonly (string | number)[]): Node | undefined {
  // Walk up to the closest ancestor that exists (a missing key is reported at its map).
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (node && typeof node === 'object' && 'range' in node) return node as Node;
  }
  return undefined;
}

function keyNode(doc: Document, path: readonly (string | number)[], key: string): Node | undefined {
  const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(map)) return undefined;
  for (const pair of map.items) {
    if (isScalar(pair.key) && pair.key.value === key) return pair.key;
  }
  return undefined;
}

function lineCount(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
