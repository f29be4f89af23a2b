/**
 * Type-checks every `ts` block against the typed runbook API
 * (lib/runbook/api.ts), so that a block calling something the API does not
 * offer fails in CI rather than in front of the camera.
 *
 * Each block becomes a virtual module through wrapBlock (wrap.ts), exactly
 * the text the executor runs; all of them go into ONE Program, so the
 * standard library and the API are parsed and bound once for the whole
 * runbook. Findings are mapped back from module lines to Markdown lines and
 * columns.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as TS from 'typescript';
import { projectPath, projectRoot } from '../../paths.ts';
import { diagnostic, type Diagnostic } from '../diagnostics.ts';
import { allCodeBlocks, type CodeBlock, type Runbook } from '../model.ts';
import { splitLines } from '../source.ts';
import { API_MODULE, mapToMarkdown, wrapBlock, type WrappedBlock } from '../wrap.ts';
import type { Checker } from './checker.ts';

export interface TypecheckOptions {
  /** The API module blocks import their types from; tests pass a stand-in. */
  readonly apiModule?: string;
}

/**
 * Where the virtual modules live: inside the project, so that module
 * resolution finds node_modules/@types as for any project file. Nothing is
 * written there.
 */
const VIRTUAL_DIR = join(projectRoot, '.runbook-blocks');

/**
 * The compiler, loaded on first use so `runbook --help` and `runbook list`
 * never pay for it. Loaded with `require`: an ESM `import` of this 9 MB
 * CommonJS file first scans all of it for named exports, which costs about a
 * second.
 */
const loadTypescript = (): typeof TS => createRequire(import.meta.url)('typescript') as typeof TS;
type Ts = typeof TS;

/** Library declaration files do not change during a process: parse them once (the bench and tests check many runbooks). */
const libraryFiles = new Map<string, TS.SourceFile>();

export function typecheckChecker(options: TypecheckOptions = {}): Checker {
  return {
    name: 'typecheck',
    check(runbook, report) {
      for (const d of typecheckBlocks(runbook, options)) report(d);
    },
  };
}

/** Type-checks the runbook's blocks; returns one finding per TypeScript diagnostic. */
export function typecheckBlocks(runbook: Runbook, options: TypecheckOptions = {}): Diagnostic[] {
  const blocks = [...allCodeBlocks(runbook)];
  if (blocks.length === 0) return [];
  const ts = loadTypescript();
  const compilerOptions = projectCompilerOptions(ts);
  const apiModule = options.apiModule ?? API_MODULE;

  const modules = new Map<string, { block: CodeBlock; wrapped: WrappedBlock }>();
  blocks.forEach((block, n) => {
    // Ids may hold `/` and `:`; the index keeps names unique after sanitising.
    const name = join(VIRTUAL_DIR, `${n}-${block.id.replace(/[^A-Za-z0-9._-]/g, '_')}.ts`);
    modules.set(name, { block, wrapped: wrapBlock(block, apiModule) });
  });

  const host = ts.createCompilerHost(compilerOptions);
  // As tsc does: JSDoc in declaration files (@types/node is mostly JSDoc) is
  // only parsed where it can matter to types.
  host.jsDocParsingMode = ts.JSDocParsingMode.ParseForTypeErrors;
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.fileExists = (f) => modules.has(f) || fileExists(f);
  host.readFile = (f) => modules.get(f)?.wrapped.source ?? readFile(f);
  host.getSourceFile = (f, language, onError, fresh) => {
    const virtual = modules.get(f);
    if (virtual) return ts.createSourceFile(f, virtual.wrapped.source, language, false, ts.ScriptKind.TS);
    const cacheable = f.includes('/node_modules/');
    const cached = cacheable ? libraryFiles.get(f) : undefined;
    if (cached) return cached;
    const sf = getSourceFile(f, language, onError, fresh);
    if (sf && cacheable) libraryFiles.set(f, sf);
    return sf;
  };
  const program = ts.createProgram({ rootNames: [...modules.keys()], options: compilerOptions, host });

  const lines = splitLines(runbook.source);
  const found: Diagnostic[] = [];
  for (const [name, { block, wrapped }] of modules) {
    const sf = program.getSourceFile(name);
    if (!sf) continue;
    const syntax = program.getSyntacticDiagnostics(sf);
    // A block that does not parse yields type errors that are only echoes.
    const all = syntax.length > 0 ? syntax.map((d) => ({ d, code: 'CODE_SYNTAX' as const })) : program.getSemanticDiagnostics(sf).map((d) => ({ d, code: 'CODE_TYPE' as const }));
    const codeLines = block.code.split('\n');
    // The list indentation markdown-it removed from each line of the block.
    const indent = (line: number) => {
      const source = lines[line - 1] ?? '';
      const code = codeLines[line - block.position.line] ?? '';
      return Math.max(source.length - code.length, 0);
    };
    // A block whose braces close the wrapper early puts code at module level,
    // outside the function the executor calls: the wrapper must stay exactly
    // two statements, the type import and the function.
    if (all.length === 0 && sf.statements.length !== 2) {
      found.push(diagnostic('CODE_SYNTAX', block.fence, `block ${block.id} closes its function early (unbalanced braces): code would run outside the step`));
      continue;
    }
    for (const { d, code } of all) {
      const pos = sf.getLineAndCharacterOfPosition(d.start ?? 0);
      const at = mapToMarkdown(block, wrapped, pos.line + 1, pos.character + 1, indent);
      const text = ts.flattenDiagnosticMessageText(d.messageText, ' ');
      found.push(diagnostic(code, { file: runbook.file, ...at }, `${text} (TS${d.code}, block ${block.id})`));
    }
  }
  return found;
}

let cachedOptions: TS.CompilerOptions | undefined;

/**
 * The project's own compiler settings (tsconfig.json), so blocks are held to
 * the same strictness as the code they call.
 */
function projectCompilerOptions(ts: Ts): TS.CompilerOptions {
  if (cachedOptions) return cachedOptions;
  const file = projectPath('tsconfig.json');
  const read = ts.readConfigFile(file, (f) => ts.sys.readFile(f));
  // Only the options are wanted: skip listing the project's files.
  const parsed = ts.parseJsonConfigFileContent(read.config ?? {}, { ...ts.sys, readDirectory: () => [] }, projectRoot, undefined, file);
  cachedOptions = { ...parsed.options, noEmit: true, skipLibCheck: true };
  return cachedOptions;
}
