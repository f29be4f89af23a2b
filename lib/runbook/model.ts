/**
 * The typed model of a runbook: Runbook → Section → Step → Block.
 *
 * `parseRunbook` (parse.ts) builds it from RUNBOOK.md; `runbook check`,
 * `runbook list`, the executor and the rehearsal all read this model and
 * never the Markdown. Every node carries its source position so that any
 * finding, prompt or transcript entry can point back at the line a reviewer
 * approved. The format itself is described in docs/FORMAT.md.
 *
 * The model is plain data (no methods, no cycles) so it can be serialised
 * (`runbook list --json`) and compared in tests.
 */
import type { Inventory } from './inventory-types.ts';

/** A place in the runbook file. Line and column are 1-based. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** A whole runbook file. */
export interface Runbook {
  /** The path the runbook was read from (as given, not resolved). */
  readonly file: string;
  /** The whole file's text, front matter included. */
  readonly source: string;
  /**
   * The ceremony's parameters from the YAML front matter. When the front
   * matter has findings this is a best-effort value (unknown keys dropped,
   * `hsms` possibly empty): only trust it when the parse reported nothing.
   */
  readonly frontMatter: Inventory;
  /** Every heading, in document order. Sections without steps are prose. */
  readonly sections: readonly Section[];
  /**
   * Slug of the section a run starts in: the first section that has steps
   * (the PSF runbook's "Start"). Other sections run only when a GO TO calls them.
   * Undefined when no section has steps.
   */
  readonly entry: string | undefined;
}

/** A heading and everything up to the next heading. */
export interface Section {
  /**
   * The heading's anchor as GitHub computes it (slug.ts), so that a GO TO
   * link works both here and when the file is read on GitHub.
   */
  readonly slug: string;
  /** The heading's text, Markdown markup removed. */
  readonly title: string;
  /** 1 for `#`, 2 for `##`, … */
  readonly level: number;
  readonly position: SourcePosition;
  /**
   * The parameters the section takes, declared by a `**Parameters:**`
   * paragraph followed by a bullet list whose items start with the name in
   * backticks (e.g. `` - `hsm`: the signing body ID … ``). Every GO TO into the
   * section must pass exactly these.
   */
  readonly params: readonly SectionParam[];
  /** The section's top-level steps, in order. */
  readonly steps: readonly Step[];
}

export interface SectionParam {
  readonly name: string;
  /** The rest of the bullet item: what the parameter means. */
  readonly description: string;
  readonly position: SourcePosition;
}

/**
 * What a step does, from the bold verb that starts it (the PSF runbook's notation):
 * - `do`: perform the step (its prose, its code block if any);
 * - `if`: **IF** condition **THEN** action: only when the condition holds;
 * - `goto`: **GO TO** a section (perform it with the given parameters, then
 *   come back), with nothing else to do;
 * - `end`: the ceremony is complete; nothing after it runs.
 */
export type StepKind = 'do' | 'if' | 'goto' | 'end';

/** One ordered-list item that starts with a verb. */
export interface Step {
  /**
   * The step's stable identity, used by transcripts, scripted answers and
   * `runbook list`: the id of its action code block if it has one, else of
   * its `when` block, else `${sectionSlug}.${ordinal}` (e.g.
   * `provisioning-the-yubihsm-2.4`).
   */
  readonly id: string;
  /** Slug of the section the step belongs to. */
  readonly section: string;
  /**
   * The step's position among its siblings, dotted for sub-steps: `"5"`, or
   * `"2.1"` for the first sub-step of step 2. Counts from the list's start
   * number, as a renderer numbers it.
   */
  readonly ordinal: string;
  readonly kind: StepKind;
  /**
   * The item's first paragraph as plain text (markup removed), verbs
   * included, e.g. `DO hit y once ready to continue.` For an IF step this is
   * the whole `IF … THEN …` sentence.
   */
  readonly text: string;
  /**
   * For `if` steps: the condition, the plain text between **IF** and
   * **THEN**. Asked of the operator as a yes/no question unless `when` is set.
   */
  readonly condition?: string;
  /**
   * For `if` steps: the action, the plain text after **THEN** (may be empty
   * when the action is only sub-steps, a code block or a GO TO).
   */
  readonly action?: string;
  /**
   * What the step tells the operator to do, as a sentence: for a DO its words
   * after the verb, for an IF those after **THEN**, in both cases up to a GO
   * TO (which follows the action). `DO remove YubiHSM2-1 from its bag and GO
   * TO …` gives `Remove YubiHSM2-1 from its bag.` Absent when nothing is left
   * (`DO GO TO …`, `IF … THEN END`) and for GO TO and END steps.
   */
  readonly instruction?: string;
  /**
   * The instruction, when the operator performs it by hand: the step has
   * neither a code block nor sub-steps to carry it out, and does not end the
   * ceremony. The executor asks the operator to confirm it done.
   */
  readonly manual?: string;
  /**
   * A GO TO in the step. Set for `goto` steps, and for `do` / `if` steps whose
   * text ends with a GO TO (the PSF runbook's "DO remove YubiHSM2-1 … and GO TO
   * Provisioning the YubiHSM 2"): the call comes after the step's own action,
   * and for an IF only when the condition holds.
   */
  readonly goto?: GoTo;
  /**
   * True when reaching this step ends the ceremony: every `end` step, and an
   * `if` whose action is **END** (then only when the condition holds).
   */
  readonly ends: boolean;
  /** The action block (a `ts` block without `when`): runs when the step is performed. */
  readonly code?: CodeBlock;
  /**
   * For `if` steps: a `ts` block marked `when` that computes the condition.
   * It must resolve to a boolean (the type-check enforces it); when absent the
   * operator is asked.
   */
  readonly when?: CodeBlock;
  /** Expected output (`text {output}` blocks), in document order. */
  readonly outputs: readonly TextBlock[];
  /** Expected file lists (`text {files}` blocks), in document order. */
  readonly files: readonly TextBlock[];
  /** Nested ordered-list items. For an IF they are part of the action. */
  readonly substeps: readonly Step[];
  /** Where the list item starts. */
  readonly position: SourcePosition;
}

/** A GO TO: call a section with parameters, then come back. */
export interface GoTo {
  /** The anchor linked to (without `#`): the target section's slug. */
  readonly slug: string;
  /** The link's text, normally the target heading. */
  readonly title: string;
  /** The `name=value` arguments written after the link. */
  readonly params: Readonly<Record<string, string>>;
  readonly position: SourcePosition;
}

/** Attribute values from an info string: `{id=x destructive}` → `{ id: 'x', destructive: true }`. */
export type BlockAttributes = Readonly<Record<string, string | true>>;

/** A fenced `ts` block bound to a step. */
export interface CodeBlock {
  /** The block's `id` attribute, unique in the runbook. */
  readonly id: string;
  /** `action` runs as the step; `when` computes an IF condition. */
  readonly role: 'action' | 'when';
  readonly attrs: BlockAttributes;
  /** The code, with the list indentation removed. */
  readonly code: string;
  /** Line of the first code line (the one after the opening fence), and the code's column. */
  readonly position: SourcePosition;
  /** Where the opening fence is (for findings about the block as a whole). */
  readonly fence: SourcePosition;
}

/**
 * A fenced `text` block bound to a step: what the operator will see
 * (`output`) or the files the step must leave behind (`files`, one path per
 * line). Either may contain `{{name}}` placeholders (expected.ts).
 */
export interface TextBlock {
  readonly role: 'output' | 'files';
  readonly attrs: BlockAttributes;
  readonly text: string;
  /** Line of the first text line, and its column. */
  readonly position: SourcePosition;
  readonly fence: SourcePosition;
}

/** Every step of a runbook, depth first in document order. */
export function* allSteps(runbook: Pick<Runbook, 'sections'>): Generator<Step> {
  for (const section of runbook.sections) yield* walkSteps(section.steps);
}

/** The steps of a list and their sub-steps, depth first. */
export function* walkSteps(steps: readonly Step[]): Generator<Step> {
  // A stack rather than recursive `yield*`, which re-yields every step
  // through each level of nesting.
  const stack = [...steps].reverse();
  for (let step = stack.pop(); step; step = stack.pop()) {
    yield step;
    for (let i = step.substeps.length - 1; i >= 0; i--) stack.push(step.substeps[i]!);
  }
}

/** Every code block (action and `when`), in document order. */
export function* allCodeBlocks(runbook: Pick<Runbook, 'sections'>): Generator<CodeBlock> {
  for (const step of allSteps(runbook)) {
    if (step.when) yield step.when;
    if (step.code) yield step.code;
  }
}

/**
 * Sections by slug, built once per section list: every GO TO looks its
 * target up, and a scan per GO TO makes checking and running a long runbook
 * quadratic. The model is immutable, so the index never goes stale.
 */
const sectionIndex = new WeakMap<readonly Section[], Map<string, Section>>();

/** The section with this slug. */
export function findSection(runbook: Pick<Runbook, 'sections'>, slug: string): Section | undefined {
  let index = sectionIndex.get(runbook.sections);
  if (!index) {
    index = new Map();
    // The first of two equal slugs wins, as a reader's link would.
    for (const section of runbook.sections) if (!index.has(section.slug)) index.set(section.slug, section);
    sectionIndex.set(runbook.sections, index);
  }
  return index.get(slug);
}
