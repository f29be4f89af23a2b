import { RunbookError } from '../errors.ts';

/**
 * Every finding `runbook check` can report about a runbook, and the code a
 * {@link RunbookFormatError} carries when a runbook cannot be loaded. The codes
 * are stable (CI logs, `--json` output and tests key on them); docs/FORMAT.md
 * has the table with one example each.
 */
export type FormatCode =
  // The file itself.
  /** The runbook file does not exist. */
  | 'FILE_NOT_FOUND'
  /** The path names a directory, not a file. */
  | 'FILE_IS_DIRECTORY'
  /** The file could not be read (permissions, I/O error, not a regular file). */
  | 'FILE_UNREADABLE'
  /** The file is larger than any runbook should be (MAX_RUNBOOK_BYTES). */
  | 'FILE_TOO_LARGE'
  /** The file is empty (or only whitespace). */
  | 'FILE_EMPTY'
  /** The file is not UTF-8 text (NUL bytes or invalid sequences). */
  | 'FILE_BINARY'
  // Front matter (the ceremony's inventory).
  /** The runbook does not start with a `---` front matter block. */
  | 'FRONT_MATTER_MISSING'
  /** The front matter's opening `---` has no closing `---`. */
  | 'FRONT_MATTER_UNTERMINATED'
  /** The front matter is not valid YAML. */
  | 'FRONT_MATTER_YAML'
  /** A key the schema does not know (often a typo). */
  | 'FRONT_MATTER_UNKNOWN_KEY'
  /** A value of the wrong type, or a required key that is missing. */
  | 'FRONT_MATTER_INVALID'
  /** Two HSMs in the inventory share a signing body ID. */
  | 'INVENTORY_DUPLICATE_ID'
  // Structure: sections and steps.
  /** No section has steps: there is nothing to run. */
  | 'RUNBOOK_NO_STEPS'
  /** An ordered list (steps) before the first heading. */
  | 'STEP_OUTSIDE_SECTION'
  /** An ordered-list item (a step) that does not start with a bold verb. */
  | 'STEP_VERB_MISSING'
  /** An **IF** step without its **THEN**. */
  | 'IF_WITHOUT_THEN'
  /** A step after an unconditional **END** in the same list: it can never run. */
  | 'STEP_AFTER_END'
  /** A section with steps that no GO TO reaches from the first section. */
  | 'SECTION_UNREACHABLE'
  /** The `**Parameters:**` list of a section is malformed. */
  | 'SECTION_PARAMS_MALFORMED'
  // GO TO.
  /** **GO TO** not followed by a link to a heading in this document. */
  | 'GOTO_MALFORMED'
  /** **GO TO** a `#anchor` no heading has. */
  | 'GOTO_TARGET_MISSING'
  /** A GO TO argument that is not `name=value` with a well-formed name and value. */
  | 'GOTO_PARAM_MALFORMED'
  /** A GO TO that omits a parameter the target section declares. */
  | 'GOTO_PARAM_MISSING'
  /** A GO TO that passes a parameter the target section does not declare. */
  | 'GOTO_PARAM_UNKNOWN'
  /** An `hsm=` argument naming no HSM in the inventory. */
  | 'GOTO_HSM_UNKNOWN'
  /** A GO TO that calls a section already being performed: the run could never return. */
  | 'GOTO_CYCLE'
  // Blocks.
  /** A code, output or file-list block that belongs to no step. */
  | 'BLOCK_OUTSIDE_STEP'
  /** A `ts` block without an `id` attribute. */
  | 'BLOCK_ID_MISSING'
  /** A `text` block inside a step without `output` or `files`. */
  | 'BLOCK_ROLE_MISSING'
  /** A step with more than one action block (or more than one `when` block). */
  | 'BLOCK_EXTRA'
  /** A `when` block on a step that is not an **IF**. */
  | 'WHEN_OUTSIDE_IF'
  /** Two blocks or steps with the same id. */
  | 'ID_DUPLICATE'
  /** An info-string attribute list that does not parse. */
  | 'ATTR_MALFORMED'
  /** An attribute the block's language does not take. */
  | 'ATTR_UNKNOWN'
  /** A fenced block without its closing fence. */
  | 'FENCE_UNTERMINATED'
  /** A `{{` placeholder without a well-formed name and closing `}}`. */
  | 'PLACEHOLDER_MALFORMED'
  // TypeScript.
  /** A `ts` block that does not parse. */
  | 'CODE_SYNTAX'
  /** A `ts` block that does not type-check against lib/runbook/api.ts. */
  | 'CODE_TYPE'
  // ---- The dynamic check: the runbook rehearsed against simulated HSMs.
  /** A step printed something other than the `{output}` documented under it. */
  | 'OUTPUT_MISMATCH'
  /** A file a `{files}` block lists was not there after its step. */
  | 'FILES_MISSING'
  /** The rehearsal stopped at this step. */
  | 'REHEARSAL_FAILED'
  /** The rehearsal's products do not verify. */
  | 'REHEARSAL_PRODUCTS_INVALID';

/** Every code, for tables and for tests that must cover them all. */
export const FORMAT_CODES = [
  'FILE_NOT_FOUND', 'FILE_IS_DIRECTORY', 'FILE_UNREADABLE', 'FILE_TOO_LARGE', 'FILE_EMPTY', 'FILE_BINARY',
  'FRONT_MATTER_MISSING', 'FRONT_MATTER_UNTERMINATED', 'FRONT_MATTER_YAML', 'FRONT_MATTER_UNKNOWN_KEY', 'FRONT_MATTER_INVALID', 'INVENTORY_DUPLICATE_ID',
  'RUNBOOK_NO_STEPS', 'STEP_OUTSIDE_SECTION', 'STEP_VERB_MISSING', 'IF_WITHOUT_THEN', 'STEP_AFTER_END', 'SECTION_UNREACHABLE', 'SECTION_PARAMS_MALFORMED',
  'GOTO_MALFORMED', 'GOTO_TARGET_MISSING', 'GOTO_PARAM_MALFORMED', 'GOTO_PARAM_MISSING', 'GOTO_PARAM_UNKNOWN', 'GOTO_HSM_UNKNOWN', 'GOTO_CYCLE',
  'BLOCK_OUTSIDE_STEP', 'BLOCK_ID_MISSING', 'BLOCK_ROLE_MISSING', 'BLOCK_EXTRA', 'WHEN_OUTSIDE_IF', 'ID_DUPLICATE', 'ATTR_MALFORMED', 'ATTR_UNKNOWN',
  'FENCE_UNTERMINATED', 'PLACEHOLDER_MALFORMED', 'CODE_SYNTAX', 'CODE_TYPE',
  'OUTPUT_MISMATCH', 'FILES_MISSING', 'REHEARSAL_FAILED', 'REHEARSAL_PRODUCTS_INVALID',
] as const satisfies readonly FormatCode[];

// Fails to compile when a code is added to the union but not to the list.
const complete: Exclude<FormatCode, (typeof FORMAT_CODES)[number]> extends never ? true : never = true;
void complete;

/**
 * A runbook that cannot be used as it is. Carries where (file, line and
 * column, 1-based) so the CLI prints `FILE:LINE:COL`.
 */
export class RunbookFormatError extends RunbookError<FormatCode> {
  readonly file: string;
  readonly line: number;
  readonly column: number;

  constructor(code: FormatCode, where: { file: string; line: number; column: number }, message: string, options?: { cause?: unknown }) {
    super(code, `${where.file}:${where.line}:${where.column}: ${message}`, options);
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
  }
}
