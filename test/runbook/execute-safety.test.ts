// What a misbehaving block can do to a run, and what the run does about it:
// every failure names the step and the Markdown line, nothing ends the
// process behind the run's back, products stay in their directory, and the
// secrets typed during the run stay out of events and errors.
import { mkdir, mkdtemp, readdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExecuteError } from '../../lib/runbook/execute-errors.ts';
import { parseRunbook } from '../../lib/runbook/parse.ts';
import { REDACTED } from '../../lib/runbook/redact.ts';
import { FRONT_MATTER, rethrow, run, runbookOf, said } from '../fixtures/execute/harness.ts';
import { codeStep } from './support.ts';

/** A runbook whose only step runs `code`, and the Markdown line of each code line. */
function oneBlock(code: string) {
  const body = `# Start\n\n${codeStep(1, 'probe', 'start.probe', code)}`;
  const firstCodeLine = `${FRONT_MATTER}${body}`.split('\n').indexOf('   ```ts {id=start.probe}') + 2;
  return { runbook: runbookOf(body), line: (n: number) => firstCodeLine + n - 1 };
}

function located(error: unknown): { line: number; column: number } | undefined {
  return error instanceof ExecuteError ? error.at : undefined;
}

describe('errors of the context name the step and the line of the call', () => {
  it.each([
    ['VALUE_MISSING', "ctx.say('reading');\nctx.values.string('serial');", 2, 15],
    ['PRODUCT_PATH_OUTSIDE', "ctx.say('writing');\nawait ctx.writeProduct('../up.pem', 'x');", 2, 14],
    ['RUN_ABORTED', "ctx.say('stopping');\nctx.abort('the serial numbers differ');", 2, 8],
  ])('%s (at the called method, as V8 places a call)', async (code, block, codeLine, column) => {
    const { runbook, line } = oneBlock(block);
    const { error, events } = await run(runbook, '');
    expect(rethrow(error)).toThrowWithCode(code);
    expect(located(error)).toEqual({ file: 'RUNBOOK.md', line: line(codeLine), column });
    expect((error as ExecuteError).step).toBe('start.probe');
    expect((error as Error).message).toMatch(new RegExp(`^RUNBOOK\\.md:${line(codeLine)}:${column}: step start\\.probe`));
    expect(events).toContainEqual(expect.objectContaining({ type: 'step.failed', step: 'start.probe', code }));
  });
});

it('a throw in a block that opens its step is placed at its column, not at the list marker', async () => {
  // Parsed despite its finding (the step has no verb): the executor must still place the throw.
  const { runbook } = parseRunbook(`${FRONT_MATTER}# Start\n\n1. \`\`\`ts {id=start.first}\n   throw new Error('no device');\n   \`\`\`\n`, 'RUNBOOK.md');
  const { error } = await run(runbook, '');
  expect(rethrow(error)).toThrowWithCode('STEP_FAILED');
  // Line 17 `   throw new Error(…)`: the error is made at `new`, column 10
  // (column 7 when the list marker was taken for the block's indentation).
  expect(located(error)).toEqual({ file: 'RUNBOOK.md', line: 17, column: 10 });
});

it.each([
  ['a string', "throw 'no device';", 'no device'],
  ['an object without a prototype', 'throw Object.create(null);', 'cannot be shown as text'],
  ['undefined', 'throw undefined;', 'undefined'],
])('a block that throws %s fails its step with STEP_FAILED, not an internal error', async (_, code, reason) => {
  const { runbook, line } = oneBlock(code);
  const { error } = await run(runbook, '');
  expect(rethrow(error)).toThrowWithCode('STEP_FAILED');
  expect((error as ExecuteError).step).toBe('start.probe');
  expect((error as Error).message).toContain(reason);
  expect(located(error)?.line).toBe(line(1));
});

describe('process.exit in a block', () => {
  it('is refused, and fails the step at the call, instead of ending the process with status 0', async () => {
    const { runbook, line } = oneBlock("ctx.say('about to exit');\nprocess.exit(0);\nctx.say('after exit');");
    const { error, events } = await run(runbook, '');
    expect(rethrow(error)).toThrowWithCode('STEP_EXIT_REFUSED');
    expect(located(error)).toMatchObject({ line: line(2) });
    expect(said(events)).toEqual(['about to exit']);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', outcome: 'failed', error: { code: 'STEP_EXIT_REFUSED' } });
  });

  it('still fails the step when the block catches the refusal and goes on', async () => {
    const { runbook } = oneBlock("try {\n  process.exit(3);\n} catch {\n  ctx.say('caught');\n}");
    const { error, events } = await run(runbook, '');
    expect(rethrow(error)).toThrowWithCode('STEP_EXIT_REFUSED');
    expect(said(events)).toEqual(['caught']);
  });

  it('works as always again once the block is done', async () => {
    const exit = () => Object.getOwnPropertyDescriptor(process, 'exit')?.value as unknown;
    const before = exit();
    await run(oneBlock('process.exit(0);').runbook, '');
    expect(exit()).toBe(before);
  });
});

describe('a block that waits on a promise nothing can settle', () => {
  it('fails with STEP_STALLED when the process runs out of work, instead of exiting quietly', async () => {
    const { runbook } = oneBlock("ctx.say('waiting');\nawait new Promise(() => {});");
    const outcome = run(runbook, '');
    // Node emits `beforeExit` once its event loop is empty; in a test runner the
    // loop never empties, so the test says it in Node's place.
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.emit('beforeExit', 0);
    const { error, events } = await outcome;
    expect(rethrow(error)).toThrowWithCode('STEP_STALLED');
    expect((error as ExecuteError).step).toBe('start.probe');
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', outcome: 'failed', error: { code: 'STEP_STALLED' } });
  });
});

describe('products and symbolic links', () => {
  const write = (path: string) => oneBlock(`await ctx.writeProduct('${path}', 'PUBLIC KEY');`).runbook;

  it('a link inside the products directory cannot carry a product out of it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runbook-products-'));
    const elsewhere = await mkdtemp(join(tmpdir(), 'runbook-elsewhere-'));
    await symlink(elsewhere, join(dir, 'link'));
    for (const path of ['link/key.pem', 'link/new/key.pem']) {
      const { error } = await run(write(path), '', { productsDir: dir });
      expect(rethrow(error)).toThrowWithCode('PRODUCT_PATH_OUTSIDE');
    }
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it('a products directory reached through a link is fine, and so is a name that starts with two dots', async () => {
    const real = await mkdtemp(join(tmpdir(), 'runbook-products-'));
    const parent = await mkdtemp(join(tmpdir(), 'runbook-parent-'));
    await symlink(real, join(parent, 'products'));
    await mkdir(join(real, 'sub'));
    for (const path of ['sub/key.pem', '..key.pem']) {
      const { error } = await run(write(path), '', { productsDir: join(parent, 'products') });
      expect(error).toBeUndefined();
    }
    expect((await readdir(real)).sort()).toEqual(['..key.pem', 'sub']);
  });
});

describe('secrets a block mishandles', () => {
  const answers = 'answers:\n  start.probe/pin: "64827193"\n';

  it('are redacted from what the block prints', async () => {
    const { runbook } = oneBlock("const pin = await ctx.secret('PIN', { name: 'pin' });\nctx.say(`the PIN is ${pin}`);");
    const { error, events } = await run(runbook, answers);
    expect(error).toBeUndefined();
    expect(said(events)).toEqual([`the PIN is ${REDACTED}`]);
    expect(JSON.stringify(events)).not.toContain('64827193');
  });

  it('are redacted from an error the block throws, its cause included', async () => {
    const { runbook } = oneBlock("const pin = await ctx.secret('PIN', { name: 'pin' });\nthrow new Error(`PIN ${pin} refused`, { cause: new Error(pin) });");
    const { error, events } = await run(runbook, answers);
    expect(rethrow(error)).toThrowWithCode('STEP_FAILED');
    const err = error as Error & { cause: Error & { cause: Error } };
    expect(err.message).toContain(`PIN ${REDACTED} refused`);
    for (const text of [err.message, err.stack, err.cause.message, err.cause.stack, err.cause.cause.message, JSON.stringify(events)]) {
      expect(text).not.toContain('64827193');
    }
  });

  it('are redacted from a question a block asks', async () => {
    const { runbook } = oneBlock("const pin = await ctx.secret('PIN', { name: 'pin' });\nawait ctx.confirm(`Is ${pin} right?`, { name: 'check' });");
    const { error, events } = await run(runbook, `${answers}  start.probe/check: yes\n`);
    expect(error).toBeUndefined();
    expect(events).toContainEqual(expect.objectContaining({ type: 'prompt.asked', prompt: 'start.probe/check', message: `Is ${REDACTED} right?` }));
  });
});
