// The type-check over virtual modules, against a stand-in API so that these
// tests pin the wrapping and the line mapping, not lib/runbook/api.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { typecheckBlocks } from '../../lib/runbook/check/typecheck.ts';
import { parseRunbook } from '../../lib/runbook/parse.ts';
import { API_MODULE, mapToMarkdown, wrapBlock } from '../../lib/runbook/wrap.ts';

const dir = mkdtempSync(join(tmpdir(), 'runbook-api-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const apiModule = join(dir, 'api.ts');
writeFileSync(
  apiModule,
  'export type StepParams = Readonly<Record<string, string>>;\nexport interface RunbookContext { confirm(question: string): Promise<boolean>; readonly serial: string }\n',
);

const FRONT = '---\ntitle: T\nhsms:\n  - id: YubiHSM2-1\n    kind: yubihsm2\n    keyType: P-256\n---\n';

function runbook(body: string) {
  return parseRunbook(FRONT + body, 'R.md').runbook;
}

describe('wrapBlock', () => {
  it('makes the block the body of the default export, one header line', () => {
    const w = wrapBlock({ code: 'await ctx.confirm("y");\n', role: 'action' }, '/api.ts');
    expect(w.source).toBe(
      'import type { RunbookContext, StepParams } from "/api.ts"; export default async function (ctx: RunbookContext, params: StepParams) {\nawait ctx.confirm("y");\n}\n',
    );
    expect(w.lineOffset).toBe(1);
    expect(w.codeLines).toBe(1);
  });

  it('declares a `when` block as resolving to a boolean', () => {
    expect(wrapBlock({ code: 'return true;', role: 'when' }, '/api.ts').source.split('\n')[0]).toContain('): Promise<boolean> {');
  });

  it('names the real API module by default', () => {
    expect(wrapBlock({ code: '', role: 'action' }).source).toContain(JSON.stringify(API_MODULE));
  });

  it('maps module lines back to Markdown, clamping the header and the closing brace', () => {
    const block = { position: { file: 'R.md', line: 20, column: 4 } };
    const w = wrapBlock({ code: 'a;\nb;\n', role: 'action' }, '/api.ts');
    expect(mapToMarkdown(block, w, 2, 1)).toEqual({ line: 20, column: 4 });
    expect(mapToMarkdown(block, w, 3, 2)).toEqual({ line: 21, column: 5 });
    expect(mapToMarkdown(block, w, 1, 80)).toEqual({ line: 20, column: 4 });
    expect(mapToMarkdown(block, w, 4, 1)).toEqual({ line: 21, column: 4 });
  });
});

describe('typecheckBlocks', () => {
  it('passes blocks that use the API as declared', () => {
    const r = runbook('# S\n\n1. **DO** a\n   ```ts {id=a}\n   if (!(await ctx.confirm(ctx.serial))) return;\n   ```\n2. **IF** b **THEN** c\n   ```ts {id=b when}\n   return params["hsm"] === "x";\n   ```\n');
    expect(typecheckBlocks(r, { apiModule })).toEqual([]);
  });

  it('reports type errors at the Markdown line and column, across blocks, in one program', () => {
    const r = runbook(
      '# S\n\n1. **DO** a\n   ```ts {id=a}\n   await ctx.confirm("ok");\n   await ctx.nothing();\n   ```\n   1. **DO** nested\n      ```ts {id=b}\n      const n: number = ctx.serial;\n      ```\n',
    );
    const found = typecheckBlocks(r, { apiModule });
    // Line 13 `   await ctx.nothing();`: `nothing` starts at column 14.
    // Line 17 `      const n: number = …`: `n` is at column 13.
    expect(found.map((d) => [d.code, d.line, d.column])).toEqual([
      ['CODE_TYPE', 13, 14],
      ['CODE_TYPE', 17, 13],
    ]);
  });

  it('rejects a `when` block that is not a boolean', () => {
    const r = runbook('# S\n\n1. **IF** a **THEN** b\n   ```ts {id=w when}\n   return "yes";\n   ```\n');
    expect((typecheckBlocks(r, { apiModule })).map((d) => [d.code, d.line])).toEqual([['CODE_TYPE', 12]]);
  });

  it('reports a syntax error once, without the type errors it causes', () => {
    const r = runbook('# S\n\n1. **DO** a\n   ```ts {id=a}\n   const x = ;\n   ```\n');
    expect((typecheckBlocks(r, { apiModule })).map((d) => [d.code, d.line])).toEqual([['CODE_SYNTAX', 12]]);
  });

  it('refuses a block that closes its function early to put code at module level', () => {
    const r = runbook('# S\n\n1. **DO** a\n   ```ts {id=a}\n   }\n   export const escaped = 1;\n   {\n   ```\n');
    expect(typecheckBlocks(r, { apiModule }).map((d) => [d.code, d.line])).toEqual([['CODE_SYNTAX', 11]]);
  });

  it('sees nothing but ctx and params: no imports at the top of a block', () => {
    const r = runbook('# S\n\n1. **DO** a\n   ```ts {id=a}\n   import { readFileSync } from "node:fs";\n   ```\n');
    expect((typecheckBlocks(r, { apiModule })).map((d) => d.line)).toEqual([12]);
  });

  // Where a reviewer must look: the line and column in the Markdown, whatever
  // the list nesting, line ends and indentation the block sits in.
  describe('mapping to the Markdown line and column', () => {
    const positions = (body: string) => typecheckBlocks(parseRunbook(FRONT + body, 'R.md').runbook, { apiModule }).map((d) => [d.code, d.line, d.column]);
    const nested = '# S\n\n1. **DO** a\n   1. **DO** b\n      1. **DO** c\n\n         ```ts {id=deep}\n         const n: number = ctx.serial;\n         ```\n';

    it('a block three list levels deep', () => {
      // Line 15 `         const n: number = …`: `n` is at column 16.
      expect(positions(nested)).toEqual([['CODE_TYPE', 15, 16]]);
    });

    it('the same with Windows line ends', () => {
      expect(positions(nested.replace(/\n/g, '\r\n'))).toEqual([['CODE_TYPE', 15, 16]]);
    });

    it('old Mac line ends (a lone CR), which Markdown also counts as line ends', () => {
      expect(positions(nested.replace(/\n/g, '\r'))).toEqual([['CODE_TYPE', 15, 16]]);
    });

    it('a block indented with tabs', () => {
      // Line 13 `\tconst n: number = …`: `n` is the 8th character.
      expect(positions('# S\n\n1.\t**DO** a\n\n\t```ts {id=tab}\n\tconst n: number = ctx.serial;\n\t```\n')).toEqual([['CODE_TYPE', 13, 8]]);
    });

    it('a step that opens with its fence, on the list marker line', () => {
      // Line 11 `   const n: number = …`, under `1. ```ts`: `n` is at column 10.
      expect(positions('# S\n\n1. ```ts {id=first}\n   const n: number = ctx.serial;\n   ```\n')).toEqual([['CODE_TYPE', 11, 10]]);
    });
  });
});
