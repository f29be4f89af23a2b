import type { FormatCode } from './errors.ts';
import { RunbookFormatError } from './errors.ts';
import type { SourcePosition } from './model.ts';

/**
 * One finding about a runbook. Printed as `FILE:LINE:COL CODE message`; the
 * code is stable, the message is for people.
 */
export interface Diagnostic {
  readonly code: FormatCode;
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  readonly message: string;
}

export function diagnostic(code: FormatCode, at: SourcePosition, message: string): Diagnostic {
  return { code, file: at.file, line: at.line, column: at.column, message };
}

/** Orders findings as a reader meets them: by file, then line, then column. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => (a.file === b.file ? a.line - b.line || a.column - b.column : a.file < b.file ? -1 : 1));
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`;
}

/** The first finding as an error, for callers that must stop (e.g. `runbook run`). */
export function toError(d: Diagnostic): RunbookFormatError {
  return new RunbookFormatError(d.code, d, d.message);
}
