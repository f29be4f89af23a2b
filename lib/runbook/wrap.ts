/**
 * Turns a runbook code block into a module. The ONE definition of what a
 * block's code is: `runbook check` type-checks exactly this text and the
 * executor transpiles and runs exactly this text, so a block that passed the
 * check runs as checked.
 *
 * A block's code is the body of
 *
 *     import type { RunbookContext, StepParams } from '<lib/runbook/api.ts>';
 *     export default async function (ctx: RunbookContext, params: StepParams) {
 *     <the block's lines>
 *     }
 *
 * (an action's result type is inferred, so a block need not `return`). `when`
 * blocks (IF conditions computed by code) are declared `: Promise<boolean>`,
 * so the type-check rejects a condition that is not a boolean.
 * The header is one line, so line N of the block is line N + 1 of the module.
 */
import { projectPath } from '../paths.ts';
import type { CodeBlock } from './model.ts';

/** The typed API blocks are checked against (lib/runbook/api.ts). */
export const API_MODULE: string = projectPath('lib', 'runbook', 'api.ts');

export interface WrappedBlock {
  /** The module's TypeScript source. */
  readonly source: string;
  /**
   * Lines before the block's first line: module line `m` (1-based) is line
   * `m - lineOffset` of the block, i.e. Markdown line
   * `block.position.line + m - lineOffset - 1`.
   */
  readonly lineOffset: number;
  /** Lines of the block's code (the module has `lineOffset + codeLines + 1`). */
  readonly codeLines: number;
}

/**
 * The module for a block. `apiModule` is the absolute path the type import
 * names; it only matters to the type-check (the executor's transpiler erases
 * `import type`), and tests pass a stand-in.
 */
export function wrapBlock(block: Pick<CodeBlock, 'code' | 'role'>, apiModule: string = API_MODULE): WrappedBlock {
  // An action's result is left to inference: TypeScript demands a `return`
  // in a function declared `Promise<unknown>`, and most actions return nothing.
  const result = block.role === 'when' ? ': Promise<boolean>' : '';
  const header =
    `import type { RunbookContext, StepParams } from ${JSON.stringify(apiModule)}; ` +
    `export default async function (ctx: RunbookContext, params: StepParams)${result} {`;
  const code = block.code.endsWith('\n') ? block.code : `${block.code}\n`;
  return { source: `${header}\n${code}}\n`, lineOffset: 1, codeLines: code.split('\n').length - 1 };
}

/**
 * Maps a 1-based line and column of a wrapped module back to the Markdown.
 * Positions in the header map to the block's first line, positions in the
 * closing brace to its last line. `indent(line)` gives the number of
 * characters the list indentation took off that Markdown line.
 */
export function mapToMarkdown(
  block: Pick<CodeBlock, 'position'>,
  wrapped: WrappedBlock,
  line: number,
  column: number,
  indent: (markdownLine: number) => number = () => block.position.column - 1,
): { line: number; column: number } {
  const codeLine = line - wrapped.lineOffset;
  if (codeLine < 1) return { line: block.position.line, column: block.position.column };
  if (codeLine > wrapped.codeLines) {
    const last = block.position.line + Math.max(wrapped.codeLines - 1, 0);
    return { line: last, column: indent(last) + 1 };
  }
  const markdownLine = block.position.line + codeLine - 1;
  return { line: markdownLine, column: indent(markdownLine) + column };
}
