/**
 * RUNBOOK.md → the model (model.ts). The format is documented in
 * docs/FORMAT.md; in short:
 *
 * - YAML front matter holds the inventory (inventory.ts);
 * - headings are sections, anchored by GitHub's slugs (slug.ts);
 * - ordered-list items starting with a bold verb (**DO**, **IF** … **THEN**,
 *   **GO TO**, **END**, the PSF runbook's notation) are steps, nested ordered lists
 *   sub-steps;
 * - fenced `ts` blocks inside a step are its code, `text {output}` and
 *   `text {files}` blocks its expected output and files.
 *
 * The parser never throws on content: whatever it cannot make sense of is a
 * diagnostic with file, line and column, and the model is built around it so
 * that one mistake does not hide the next. Checks that need the whole model
 * (GO TO targets, reachability, ids, types) live in check/.
 */
import MarkdownIt from 'markdown-it';
import type { Token } from 'markdown-it';
import { parseInfo, fenceKind } from './attributes.ts';
import { diagnostic, type Diagnostic } from './diagnostics.ts';
import { parseExpected } from './expected.ts';
import { parseFrontMatter } from './inventory.ts';
import type { CodeBlock, GoTo, Runbook, Section, SectionParam, SourcePosition, Step, StepKind, TextBlock } from './model.ts';
import { Slugger } from './slug.ts';
import { decodeRunbook, readRunbookSource, splitLines } from './source.ts';

export interface ParseResult {
  readonly runbook: Runbook;
  /** Findings of the parse itself, in document order. */
  readonly diagnostics: readonly Diagnostic[];
}

/** Reads and parses a runbook file; a file that cannot be read is a finding, not an exception. */
export async function loadRunbook(file: string, bytes?: Uint8Array): Promise<{ runbook?: Runbook; diagnostics: readonly Diagnostic[] }> {
  // `bytes`: the file as already read, so that a caller that also hashes it
  // (`runbook run` records the digest) parses exactly the bytes it hashed.
  const read = bytes === undefined ? await readRunbookSource(file) : decodeRunbook(file, bytes);
  if ('problem' in read) return { diagnostics: [read.problem] };
  return parseRunbook(read.source, file);
}

/** GO TO arguments: `name=value`, the value restricted like attribute values. */
const ARGUMENT = /^([A-Za-z_][A-Za-z0-9_]*)=([A-Za-z0-9._:/-]+)$/;
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const VERBS: Record<string, StepKind> = { DO: 'do', IF: 'if', 'GO TO': 'goto', END: 'end' };

let markdown: ReturnType<typeof MarkdownIt> | undefined;

export function parseRunbook(source: string, file: string): ParseResult {
  const front = parseFrontMatter(source, file);
  // GitHub renders inline HTML, so the parser must see it as HTML too (a
  // `<details>` must not turn into prose).
  markdown ??= new MarkdownIt({ html: true });
  const tokens = markdown.parse(front.body, {});
  const parser = new Parser(file, splitLines(front.body), tokens);
  const sections = parser.run();
  const entry = sections.find((s) => s.steps.length > 0)?.slug;
  return {
    runbook: { file, source, frontMatter: front.inventory, sections, entry },
    diagnostics: [...front.diagnostics, ...parser.diagnostics],
  };
}

/** A run of a step's first paragraph: plain text, bold, inline code or a link. */
type Segment =
  | { kind: 'text'; text: string }
  | { kind: 'strong'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'link'; text: string; href: string };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface MutableSection extends Omit<Section, 'params' | 'steps'> {
  params: SectionParam[];
  steps: Step[];
  paramsDeclared: boolean;
}

class Parser {
  readonly diagnostics: Diagnostic[] = [];
  private readonly slugger = new Slugger();

  constructor(
    private readonly file: string,
    private readonly lines: readonly string[],
    private readonly tokens: readonly Token[],
  ) {}

  run(): Section[] {
    const sections: MutableSection[] = [];
    const tokens = this.tokens;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      const current = sections[sections.length - 1];
      if (t.type === 'heading_open') {
        const inline = tokens[i + 1];
        const title = inline?.type === 'inline' ? plain(segments(inline)) : '';
        sections.push({
          slug: this.slugger.slug(inline?.type === 'inline' ? headingText(inline) : ''),
          title,
          level: Number(t.tag.slice(1)),
          position: this.lineStart(t.map?.[0] ?? 0),
          params: [],
          steps: [],
          paramsDeclared: false,
        });
      } else if (t.type === 'ordered_list_open') {
        const { steps, close } = this.list(i, '', current?.slug ?? '');
        if (current) current.steps.push(...steps);
        else this.diagnostics.push(diagnostic('STEP_OUTSIDE_SECTION', this.lineStart(t.map?.[0] ?? 0), 'steps belong under a heading (a section)'));
        i = close;
      } else if (t.type === 'fence') {
        this.outsideFence(t);
      } else if (t.type === 'inline' && tokens[i - 1]?.type === 'paragraph_open' && isParamsHead(t)) {
        i = this.params(i, current);
      }
    }
    return sections.map(({ paramsDeclared: _, ...section }) => section);
  }

  /** An ordered list of steps; returns them and the index of the list's closing token. */
  private list(open: number, prefix: string, slug: string): { steps: Step[]; close: number } {
    const tokens = this.tokens;
    const start = Number(tokens[open]!.attrGet('start') ?? 1);
    const steps: Step[] = [];
    let i = open + 1;
    while (i < tokens.length && tokens[i]!.type === 'list_item_open') {
      const close = this.closing(i);
      steps.push(this.item(i, close, `${prefix}${start + steps.length}`, slug));
      i = close + 1;
    }
    return { steps, close: i };
  }

  private item(open: number, close: number, ordinal: string, slug: string): Step {
    const tokens = this.tokens;
    const position = this.lineStart(tokens[open]!.map?.[0] ?? 0);
    let inline: Token | undefined;
    const fences: Token[] = [];
    const substeps: Step[] = [];
    for (let k = open + 1; k < close; k++) {
      const t = tokens[k]!;
      if (t.type === 'ordered_list_open') {
        const sub = this.list(k, `${ordinal}.`, slug);
        substeps.push(...sub.steps);
        k = sub.close;
      } else if (t.type === 'heading_open') {
        // Not a section, but GitHub anchors it: it takes its slug, so that
        // later repeats of the same heading are numbered as GitHub numbers them.
        const text = tokens[k + 1];
        if (text?.type === 'inline') this.slugger.slug(headingText(text));
      } else if (t.type === 'inline') inline ??= t;
      else if (t.type === 'fence') fences.push(t);
    }

    const segs = inline ? segments(inline) : [];
    const text = plain(segs);
    const first = segs[0];
    const verb = first?.kind === 'strong' ? VERBS[normalVerb(first.text)] : undefined;
    if (verb === undefined) {
      this.diagnostics.push(diagnostic('STEP_VERB_MISSING', position, 'a step starts with **DO**, **IF** … **THEN**, **GO TO** or **END**'));
    }
    const kind = verb ?? 'do';

    let condition: string | undefined;
    let action: string | undefined;
    // What the operator is told to do: a DO's words after the verb; for an
    // IF, whose condition is asked rather than performed, the words after
    // THEN.
    let instruction = kind === 'do' ? sentence(verb ? segs.slice(1) : segs) : undefined;
    let ends = kind === 'end';
    // Where a GO TO may appear: anywhere in a DO (the PSF runbook's "DO remove … and
    // GO TO …"), only in the action of an IF.
    let gotoFrom = 0;
    if (kind === 'if') {
      const then = segs.findIndex((s, n) => n > 0 && s.kind === 'strong' && normalVerb(s.text) === 'THEN');
      if (then < 0) {
        this.diagnostics.push(diagnostic('IF_WITHOUT_THEN', position, 'an **IF** step needs a **THEN** naming what to do when the condition holds'));
        condition = plain(segs.slice(1));
      } else {
        condition = plain(segs.slice(1, then));
        action = plain(segs.slice(then + 1));
        const next = segs.slice(then + 1).find((s) => s.text.trim() !== '');
        ends = next?.kind === 'strong' && normalVerb(next.text) === 'END';
        gotoFrom = then + 1;
        instruction = sentence(segs.slice(gotoFrom));
      }
    }
    const goto = kind === 'end' ? undefined : this.goto(segs, gotoFrom, inline?.map, position);

    const blocks = this.stepBlocks(fences, kind, `${slug}.${ordinal}`);
    // Without code or sub-steps to carry it out, the operator performs the
    // instruction by hand.
    // A step whose only work is a file list is checked against the disk, not confirmed.
    const manual =
      instruction !== undefined && !blocks.code && substeps.length === 0 && !ends && blocks.files.length === 0 ? instruction : undefined;
    // Optional parts are assigned rather than spread in: one step per list
    // item makes this the parser's hottest allocation, and a process's first
    // parse runs it before the engine has optimised anything. Absent parts
    // stay absent rather than `undefined`.
    const step: Mutable<Step> = { id: blocks.code?.id ?? blocks.when?.id ?? `${slug}.${ordinal}`, section: slug, ordinal, kind, text, ends, outputs: blocks.outputs, files: blocks.files, substeps, position };
    if (condition !== undefined) step.condition = condition;
    if (action !== undefined) step.action = action;
    if (instruction !== undefined) step.instruction = instruction;
    if (manual !== undefined) step.manual = manual;
    if (goto) step.goto = goto;
    if (blocks.code) step.code = blocks.code;
    if (blocks.when) step.when = blocks.when;
    return step;
  }

  /** The GO TO in a step's text from segment `from` on, if any; `map` holds the text's lines, `step` is where its item starts. */
  private goto(segs: readonly Segment[], from: number, map: [number, number] | null | undefined, step: SourcePosition): GoTo | undefined {
    const g = segs.findIndex((s, n) => n >= from && s.kind === 'strong' && normalVerb(s.text) === 'GO TO');
    if (g < 0) return undefined;
    const at = (needle: string) => this.locate(map, needle, step);
    const position = at('GO TO');
    const link = segs.slice(g + 1).find((s) => s.text.trim() !== '');
    if (link?.kind !== 'link' || !link.href.startsWith('#') || link.href.length < 2) {
      this.diagnostics.push(diagnostic('GOTO_MALFORMED', position, '**GO TO** is followed by a link to a heading: [Title](#anchor)'));
      return undefined;
    }
    const params: Record<string, string> = {};
    for (const arg of segs.slice(segs.indexOf(link) + 1)) {
      if (arg.kind !== 'code') continue;
      const m = ARGUMENT.exec(arg.text.trim());
      if (!m) {
        this.diagnostics.push(diagnostic('GOTO_PARAM_MALFORMED', at(arg.text), `\`${arg.text}\` is not an argument: write \`name=value\` (value: letters, digits, . _ : / -)`));
      } else if (m[1]! in params) {
        this.diagnostics.push(diagnostic('GOTO_PARAM_MALFORMED', at(arg.text), `\`${m[1]}\` is passed twice`));
      } else {
        params[m[1]!] = m[2]!;
      }
    }
    let slug: string;
    try {
      slug = decodeURIComponent(link.href.slice(1));
    } catch {
      slug = link.href.slice(1);
    }
    return { slug, title: link.text.trim(), params, position };
  }

  /** Sorts a step's fences into its code, condition, output and file blocks. */
  private stepBlocks(fences: readonly Token[], kind: StepKind, fallbackId: string) {
    let code: CodeBlock | undefined;
    let when: CodeBlock | undefined;
    const outputs: TextBlock[] = [];
    const files: TextBlock[] = [];
    for (const f of fences) {
      const { lang, attrs } = this.fence(f);
      const kindOf = fenceKind(lang);
      const fence = this.fenceStart(f);
      const position = { file: this.file, line: fence.line + 1, column: fence.column };
      if (kindOf === 'code') {
        let id = attrs['id'];
        if (typeof id !== 'string') {
          this.diagnostics.push(diagnostic('BLOCK_ID_MISSING', fence, 'every `ts` block has an id: ```ts {id=section.what}'));
          id = fallbackId;
        }
        const role = attrs['when'] === true ? 'when' : 'action';
        const block: CodeBlock = { id, role, attrs, code: f.content, position, fence };
        if (role === 'when' && kind !== 'if') {
          this.diagnostics.push(diagnostic('WHEN_OUTSIDE_IF', fence, 'only an **IF** step has a condition to compute'));
        } else if ((role === 'when' ? when : code) !== undefined) {
          this.diagnostics.push(diagnostic('BLOCK_EXTRA', fence, `a step has at most one ${role === 'when' ? '`when` block' : 'code block'}: split it into steps`));
        } else if (role === 'when') when = block;
        else code = block;
      } else if (kindOf === 'text') {
        const role = attrs['output'] === true ? (attrs['files'] === true ? undefined : 'output') : attrs['files'] === true ? 'files' : undefined;
        if (role === undefined) {
          const both = attrs['output'] === true;
          this.diagnostics.push(
            diagnostic(both ? 'ATTR_MALFORMED' : 'BLOCK_ROLE_MISSING', fence, both ? 'a block is `output` or `files`, not both' : 'a `text` block in a step is `{output}` (what the operator sees) or `{files}` (files left behind)'),
          );
          continue;
        }
        for (const p of parseExpected(f.content).problems) {
          this.diagnostics.push(diagnostic('PLACEHOLDER_MALFORMED', offsetPosition(f.content, p.offset, position), p.message));
        }
        (role === 'output' ? outputs : files).push({ role, attrs, text: f.content, position, fence });
      }
    }
    return { code, when, outputs, files };
  }

  /** A fence outside any step: only illustrations may be there. */
  private outsideFence(f: Token): void {
    const { lang, attrs } = this.fence(f);
    const kind = fenceKind(lang);
    if (kind === 'code' || (kind === 'text' && (attrs['output'] === true || attrs['files'] === true))) {
      this.diagnostics.push(diagnostic('BLOCK_OUTSIDE_STEP', this.fenceStart(f), 'code, output and file blocks belong inside a step (indent them under its list item)'));
    }
  }

  /** Checks a fence's closing line and attributes; returns its language and valid attributes. */
  private fence(f: Token): { lang: string; attrs: Record<string, string | true> } {
    const at = this.fenceStart(f);
    const [from, to] = f.map ?? [0, 0];
    // markdown-it closes a fence at the end of the document (or of its list
    // item) when the closing fence is missing: the block would silently
    // swallow the rest of the runbook.
    if (to - 1 <= from || !closesFence(this.lines[to - 1] ?? '', f.markup)) {
      this.diagnostics.push(diagnostic('FENCE_UNTERMINATED', at, `the fence opened here is never closed with ${f.markup}`));
    }
    const info = parseInfo(f.info);
    const infoColumn = at.column + f.markup.length;
    for (const p of info.problems) {
      this.diagnostics.push(diagnostic(p.code, { file: this.file, line: at.line, column: infoColumn + p.offset }, p.message));
    }
    return { lang: info.lang, attrs: info.attrs };
  }

  /** A `**Parameters:**` paragraph and the bullet list after it. Returns the index to continue from. */
  private params(inlineIndex: number, section: MutableSection | undefined): number {
    const tokens = this.tokens;
    const head = tokens[inlineIndex]!;
    const at = this.lineStart(head.map?.[0] ?? 0);
    const listOpen = inlineIndex + 2; // inline, paragraph_close, bullet_list_open
    if (!section || section.paramsDeclared || tokens[listOpen]?.type !== 'bullet_list_open') {
      const why = !section ? 'parameters belong to a section' : section.paramsDeclared ? 'a section declares its parameters once' : '**Parameters:** is followed by a bullet list: - `name`: meaning';
      this.diagnostics.push(diagnostic('SECTION_PARAMS_MALFORMED', at, why));
      return inlineIndex;
    }
    section.paramsDeclared = true;
    const close = this.closing(listOpen);
    for (let k = listOpen + 1; k < close; k++) {
      const t = tokens[k]!;
      if (t.type !== 'list_item_open') continue;
      const itemClose = this.closing(k);
      const inline = tokens.slice(k, itemClose).find((x) => x.type === 'inline');
      const segs = inline ? segments(inline) : [];
      const name = segs[0];
      const where = this.lineStart(t.map?.[0] ?? 0);
      if (name?.kind !== 'code' || !PARAM_NAME.test(name.text)) {
        this.diagnostics.push(diagnostic('SECTION_PARAMS_MALFORMED', where, 'each parameter item starts with its name in backticks: - `hsm`: …'));
      } else if (section.params.some((p) => p.name === name.text)) {
        this.diagnostics.push(diagnostic('SECTION_PARAMS_MALFORMED', where, `parameter \`${name.text}\` is declared twice`));
      } else {
        section.params.push({ name: name.text, description: plain(segs.slice(1)).replace(/^[:\s—–-]+/, ''), position: where });
      }
      k = itemClose;
    }
    return close;
  }

  /** Index of the token closing the one opened at `open` (same nesting level). */
  private closing(open: number): number {
    const tokens = this.tokens;
    const level = tokens[open]!.level;
    const type = tokens[open]!.type.replace(/_open$/, '_close');
    for (let k = open + 1; k < tokens.length; k++) {
      const t = tokens[k]!;
      if (t.level === level && t.type === type) return k;
    }
    return tokens.length - 1;
  }

  /**
   * Where a fence's opening markup is. Not the line's first character: a
   * step may open with its fence (`2. ```ts …`), and the code below it is
   * indented to the fence, not to the list marker.
   */
  private fenceStart(f: Token): SourcePosition {
    const line0 = f.map?.[0] ?? 0;
    const text = this.lines[line0] ?? '';
    // The opening markup is the first run of the fence character after any
    // list markers and blockquote marks on the line.
    const column = text.search(f.markup[0] === '~' ? /~~~/ : /```/);
    return column < 0 ? this.lineStart(line0) : { file: this.file, line: line0 + 1, column: column + 1 };
  }

  /** The first non-blank character of a 0-based line. */
  private lineStart(line0: number): SourcePosition {
    const text = this.lines[line0] ?? '';
    return { file: this.file, line: line0 + 1, column: text.length - text.trimStart().length + 1 };
  }

  /** Where `needle` first appears in a paragraph's lines (a best effort: inline tokens carry no positions). */
  private locate(map: [number, number] | null | undefined, needle: string, fallback: SourcePosition): SourcePosition {
    if (!map) return fallback;
    for (let l = map[0]; l < map[1]; l++) {
      const col = (this.lines[l] ?? '').indexOf(needle);
      if (col >= 0) return { file: this.file, line: l + 1, column: col + 1 };
    }
    return fallback;
  }
}

/** Flattens an inline token into text, bold, code and link runs. */
function segments(inline: Token): Segment[] {
  const out: Segment[] = [];
  let strong: { kind: 'strong'; text: string } | undefined;
  let link: { kind: 'link'; text: string; href: string } | undefined;
  for (const c of inline.children ?? []) {
    let text: string;
    let kind: 'text' | 'code' = 'text';
    switch (c.type) {
      case 'text':
      case 'image':
        text = c.content;
        break;
      case 'code_inline':
        text = c.content;
        kind = 'code';
        break;
      case 'softbreak':
      case 'hardbreak':
        text = ' ';
        break;
      case 'strong_open':
        if (!link) strong = { kind: 'strong', text: '' };
        continue;
      case 'strong_close':
        if (strong && !link) out.push(strong);
        if (!link) strong = undefined;
        continue;
      case 'link_open':
        link = { kind: 'link', text: '', href: String(c.attrGet('href') ?? '') };
        continue;
      case 'link_close':
        if (link) out.push(link);
        link = undefined;
        continue;
      default:
        continue;
    }
    // markdown-it emits empty text tokens around emphasis; they are not runs.
    if (text === '' && kind === 'text') continue;
    const box = link ?? strong;
    if (box) box.text += text;
    else out.push({ kind, text });
  }
  return out;
}

/**
 * A heading's text as GitHub's renderer holds it when it makes the anchor:
 * what the reader sees, spaces kept as written (an `&#x20;` at either end
 * too), line breaks of a multi-line Setext heading as line breaks (which the
 * slug then drops), images without their alt text, HTML tags without
 * themselves.
 */
function headingText(inline: Token): string {
  let text = '';
  for (const c of inline.children ?? []) {
    if (c.type === 'text' || c.type === 'code_inline') text += c.content;
    else if (c.type === 'softbreak' || c.type === 'hardbreak') text += '\n';
  }
  return text;
}

/** Plain text of runs: markup removed, whitespace collapsed. */
function plain(segs: readonly Segment[]): string {
  let text = '';
  for (const s of segs) text += s.text;
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * An instruction's runs as a sentence for the operator: up to a GO TO, with
 * the joining "and" / "then" before it dropped, capitalised and ending in a
 * full stop. "remove YubiHSM2-1 from its bag and **GO TO** …" gives "Remove
 * YubiHSM2-1 from its bag."; undefined when nothing is left (a bare GO TO,
 * or an action that is **END**).
 */
function sentence(segs: readonly Segment[]): string | undefined {
  const g = segs.findIndex((s) => s.kind === 'strong' && (normalVerb(s.text) === 'GO TO' || normalVerb(s.text) === 'END'));
  let text = plain(g < 0 ? segs : segs.slice(0, g));
  if (g >= 0) text = text.replace(/[\s,;]*\b(?:and|then)?\s*$/i, '');
  if (text === '') return undefined;
  text = text.replace(/:\s*$/, '.');
  if (!/[.!?]$/.test(text)) text += '.';
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Canonical forms of bold runs already seen. A runbook repeats a handful of
 * verbs thousands of times; each is normalised once.
 */
const verbs = new Map<string, string>();

/** A bold verb as written (`GO  TO`, `Then:`) in canonical form. */
function normalVerb(text: string): string {
  let verb = verbs.get(text);
  if (verb === undefined) {
    verb = text.replace(/\s+/g, ' ').replace(/[:,]$/, '').trim().toUpperCase();
    // Bold prose is not a verb: keep the table small.
    if (verbs.size >= 256) verbs.clear();
    verbs.set(text, verb);
  }
  return verb;
}

/** A paragraph that starts with bold `Parameters:`. Most paragraphs are prose: they fail on the first token. */
function isParamsHead(inline: Token): boolean {
  const opens = inline.children?.find((c) => c.type !== 'text' || c.content !== '');
  if (opens?.type !== 'strong_open') return false;
  const first = segments(inline)[0];
  return first?.kind === 'strong' && normalVerb(first.text) === 'PARAMETERS';
}

/**
 * A line that closes a fence opened with `markup`: the same character, at
 * least as many times, and only whitespace around (CommonMark's closing code
 * fence; the indentation limit does not matter here, markdown-it has already
 * decided where the block ends).
 */
function closesFence(line: string, markup: string): boolean {
  const body = line.trim();
  if (body.length < markup.length) return false;
  for (let i = 0; i < body.length; i++) if (body[i] !== markup[0]) return false;
  return true;
}

/** Line and column of an offset into a block's content, the content starting at `start`. */
function offsetPosition(content: string, offset: number, start: SourcePosition): SourcePosition {
  const before = content.slice(0, offset);
  const nl = before.lastIndexOf('\n');
  const line = start.line + (before.match(/\n/g)?.length ?? 0);
  return { file: start.file, line, column: start.column + offset - (nl + 1) };
}
