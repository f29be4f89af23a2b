/**
 * Turns a runbook's code blocks into functions the executor can call.
 *
 * Each block is wrapped exactly as `runbook check` type-checks it (wrap.ts),
 * transpiled by esbuild, and imported from a `data:` URL. Nothing is written
 * to disk, so a run leaves no temporary files behind, whatever happens to
 * it. The module carries a `//# sourceURL` naming the block, and esbuild's
 * source map is kept, so an error thrown by a block is reported at the
 * Markdown line it came from: the reviewer's line, not a generated one.
 *
 * All blocks are compiled before the first step runs, so a block that does
 * not even parse stops the run before any HSM is touched.
 */
import { SourceMap, type SourceMapPayload } from 'node:module';
import type { RunbookContext, StepParams } from './api.ts';
import { ExecuteError } from './execute-errors.ts';
import { allCodeBlocks, type CodeBlock, type Runbook } from './model.ts';
import { mapToMarkdown, wrapBlock, type WrappedBlock } from './wrap.ts';

/** A block's default export. */
export type BlockFunction = (ctx: RunbookContext, params: StepParams) => Promise<unknown>;

export interface CompiledBlock {
  readonly block: CodeBlock;
  readonly run: BlockFunction;
  /**
   * Where in the Markdown an error thrown by this block was raised: the first
   * stack frame inside the block, mapped back through the source map and the
   * wrapper. Undefined when no frame is inside the block.
   */
  locate(err: unknown): { line: number; column: number } | undefined;
}

/**
 * Distinguishes modules compiled in one process, so every run imports fresh
 * code. Node never unloads an ES module: a process keeps one small module
 * per block per run, which is nothing next to a ceremony's length.
 */
let compiled = 0;

/** Compiles every code block of a runbook, keyed by block id. */
export async function compileRunbook(runbook: Pick<Runbook, 'sections' | 'file'>): Promise<Map<string, CompiledBlock>> {
  const { transform } = await import('esbuild');
  const list = [...allCodeBlocks(runbook)];
  // Transpiled concurrently (esbuild's service works in parallel); the first
  // failure in document order is the one reported, whatever finished first.
  const results = await Promise.allSettled(list.map((block) => compileBlock(block, runbook.file, transform)));
  const blocks = new Map<string, CompiledBlock>();
  for (const result of results) {
    if (result.status === 'rejected') throw result.reason;
    blocks.set(result.value.block.id, result.value);
  }
  return blocks;
}

type Transform = typeof import('esbuild').transform;

/** Compiles one block. `file` names the runbook in messages. */
export async function compileBlock(block: CodeBlock, file: string, transform?: Transform): Promise<CompiledBlock> {
  const esbuildTransform = transform ?? (await import('esbuild')).transform;
  const wrapped = wrapBlock(block);

  let output: { code: string; map: string };
  try {
    output = await esbuildTransform(wrapped.source, {
      loader: 'ts',
      format: 'esm',
      target: 'node20',
      sourcemap: 'external',
      sourcefile: `${block.id}.ts`,
      logLevel: 'silent',
    });
  } catch (err) {
    const first = (err as { errors?: { text: string; location?: { line: number; column: number } | null }[] }).errors?.[0];
    // esbuild's lines are 1-based, its columns 0-based.
    const md = first?.location ? mapToMarkdown(block, wrapped, first.location.line, first.location.column + 1) : block.position;
    const at = { file, line: md.line, column: md.column };
    throw new ExecuteError('BLOCK_COMPILE_FAILED', `${file}:${at.line}:${at.column}: block ${block.id} does not compile: ${first?.text ?? String(err)}`, {
      cause: err,
      step: block.id,
      at,
    });
  }

  // The frames of this module are named by the sourceURL; V8 honours it for
  // modules imported from data: URLs.
  const sourceUrl = `runbook-block:${encodeURIComponent(block.id)}:${++compiled}`;
  const code = `${output.code}\n//# sourceURL=${sourceUrl}\n`;
  const url = `data:text/javascript;charset=utf-8,${encodeURIComponent(code)}`;
  let mod: { default?: unknown };
  try {
    mod = (await importModule(url)) as { default?: unknown };
  } catch (err) {
    throw new ExecuteError('BLOCK_COMPILE_FAILED', `${file}:${block.position.line}: block ${block.id} does not load: ${(err as Error).message}`, { cause: err });
  }
  const run = mod.default;
  if (typeof run !== 'function') {
    throw new ExecuteError('BLOCK_COMPILE_FAILED', `${file}:${block.position.line}: block ${block.id} has no function to run`);
  }
  const map = new SourceMap(JSON.parse(output.map) as SourceMapPayload);
  return { block, run: run as BlockFunction, locate: (err) => locate(err, [sourceUrl, url], map, block, wrapped) };
}

function importModule(url: string): Promise<unknown> {
  return import(/* @vite-ignore */ url);
}

/**
 * Frames name the module by its sourceURL, or by its data: URL when a
 * source-map hook formats the stack (as test runners install), so both are
 * looked for.
 */
function locate(
  err: unknown,
  names: readonly string[],
  map: SourceMap,
  block: CodeBlock,
  wrapped: WrappedBlock,
): { line: number; column: number } | undefined {
  const stack = err instanceof Error ? err.stack : undefined;
  if (!stack) return undefined;
  for (const frame of stack.split('\n')) {
    const name = names.find((n) => frame.includes(`${n}:`));
    if (name === undefined) continue;
    const m = /^(\d+):(\d+)/.exec(frame.slice(frame.indexOf(`${name}:`) + name.length + 1));
    if (!m) continue;
    const entry = map.findEntry(Number(m[1]) - 1, Number(m[2]) - 1) as { originalLine?: number; originalColumn?: number };
    if (entry.originalLine === undefined || entry.originalColumn === undefined) continue;
    return mapToMarkdown(block, wrapped, entry.originalLine + 1, entry.originalColumn + 1);
  }
  return undefined;
}
