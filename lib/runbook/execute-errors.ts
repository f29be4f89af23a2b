import { RunbookError } from '../errors.ts';

/**
 * Failures while performing a runbook (`runbook run`, the rehearsal): the
 * steps, the operator's answers and the answers file. Static problems with the
 * document itself are `runbook check`'s diagnostics, not these.
 *
 * Messages name the step id, prompt id, file and line; they never carry what
 * the operator typed for a secret.
 */
export type ExecuteErrorCode =
  /** A code block does not transpile, or its module does not load. */
  | 'BLOCK_COMPILE_FAILED'
  /** A code block threw: the run stops at that step. */
  | 'STEP_FAILED'
  /** A code block called `process.exit`, which would end the run without its record (block-guard.ts). */
  | 'STEP_EXIT_REFUSED'
  /** A code block awaits something nothing is left to settle: the process would quietly exit (block-guard.ts). */
  | 'STEP_STALLED'
  /** The operator reported that a step performed by hand failed. */
  | 'STEP_REPORTED_FAILED'
  /** A file the step's `{files}` block lists is not in the products directory after the step. */
  | 'FILES_MISSING'
  /** A block called `ctx.abort(reason)`. */
  | 'RUN_ABORTED'
  /** The run was interrupted (its signal aborted) between or during steps. */
  | 'RUN_INTERRUPTED'
  /** A GO TO names a section the runbook does not have. */
  | 'GOTO_UNKNOWN_SECTION'
  /** A GO TO would enter a section that is already being performed. */
  | 'GOTO_CYCLE'
  /** A block computing an IF condition returned something other than a boolean. */
  | 'CONDITION_NOT_BOOLEAN'
  /** The operator declined a destructive step's confirmation. */
  | 'DESTRUCTIVE_DECLINED'
  /** A scripted run reached a destructive step its answers file does not confirm. */
  | 'DESTRUCTIVE_UNCONFIRMED'
  /** `--from` names a step the runbook does not have. */
  | 'FROM_STEP_UNKNOWN'
  /** `--from` names a step the run never reached. */
  | 'FROM_STEP_NOT_REACHED'
  /** `ctx.hsm` used where the section call names no HSM, or one not in the inventory. */
  | 'CONTEXT_NO_HSM'
  /** A value read before any step set it. */
  | 'VALUE_MISSING'
  /** A value read as a type other than the one it was set with. */
  | 'VALUE_TYPE'
  /** `ctx.writeProduct` given a path outside the products directory. */
  | 'PRODUCT_PATH_OUTSIDE'
  /** A scripted run reached a prompt its answers file does not answer. */
  | 'PROMPT_UNANSWERED'
  /** An answers file's answer does not fit its prompt (type, pattern, choices). */
  | 'PROMPT_ANSWER_INVALID'
  /** Two equally specific answers in an answers file match one prompt. */
  | 'PROMPT_ANSWER_AMBIGUOUS'
  /** The operator cancelled a prompt (Ctrl-C). */
  | 'PROMPT_CANCELLED'
  /** The two entries of a secret typed twice kept differing. */
  | 'PROMPT_SECRET_MISMATCH'
  /** The answers file cannot be read. */
  | 'ANSWERS_FILE_UNREADABLE'
  /** The answers file is not valid YAML or does not follow the answers format. */
  | 'ANSWERS_FILE_INVALID';

/** A place in the runbook (1-based), as the model's SourcePosition. */
export interface ErrorLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export class ExecuteError extends RunbookError<ExecuteErrorCode> {
  /** The step the run stopped at, when there was one. */
  readonly step: string | undefined;
  /** Where in the runbook: for a block that threw, the line it threw from. */
  readonly at: ErrorLocation | undefined;

  constructor(code: ExecuteErrorCode, message: string, options?: { cause?: unknown; step?: string; at?: ErrorLocation }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.step = options?.step;
    this.at = options?.at;
  }
}

/** The transcript: the hash-chained record of a run (transcript.ts). */
export type TranscriptErrorCode =
  /** A transcript file already exists: a run never writes over another's record. */
  | 'TRANSCRIPT_EXISTS'
  /** The transcript cannot be written (disk full, permissions, …): the run stops. */
  | 'TRANSCRIPT_WRITE_FAILED'
  /** The transcript cannot be read. */
  | 'TRANSCRIPT_UNREADABLE'
  /** A line is not a transcript record. */
  | 'TRANSCRIPT_MALFORMED'
  /** A record's number is not the next one: a record was removed, added or moved. */
  | 'TRANSCRIPT_SEQUENCE_BROKEN'
  /** A record's `prev` is not the hash of the record before it: that record was changed. */
  | 'TRANSCRIPT_CHAIN_BROKEN'
  /** The last record's hash is not the one written down at the end of the run. */
  | 'TRANSCRIPT_HEAD_MISMATCH';

export class TranscriptError extends RunbookError<TranscriptErrorCode> {
  /** The 1-based line of the transcript the problem is on, when it is on one. */
  readonly line: number | undefined;

  constructor(code: TranscriptErrorCode, message: string, options?: { cause?: unknown; line?: number }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.line = options?.line;
  }
}
