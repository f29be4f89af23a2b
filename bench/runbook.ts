/**
 * Figures for the runbook format (printed, never asserted):
 *
 * 1. parse + static checks of a generated 5,000-step runbook (target ≤ 300 ms):
 *    the first run in a fresh process (what `runbook check` pays, engine
 *    warm-up included), and the median once warm;
 * 2. a full `runbook check` of RUNBOOK.md, type-check included (target ≤ 3 s),
 *    as the CLI runs it (a fresh process) and in-process;
 * 3. the ratio of (2) to `tsc --noEmit` alone on the same blocks, wrapped as
 *    the check wraps them and written to a temporary directory (target ≤ 1.5×).
 *
 * Run alone with `npx tsx bench/runbook.ts`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { projectPath } from '../lib/paths.ts';
import { checkRunbook } from '../lib/runbook/check/index.ts';
import { runStaticRules } from '../lib/runbook/check/rules.ts';
import { allCodeBlocks, allSteps } from '../lib/runbook/model.ts';
import { loadRunbook, parseRunbook } from '../lib/runbook/parse.ts';
import { wrapBlock } from '../lib/runbook/wrap.ts';

const STEPS = 5_000;
const PER_SECTION = 50;

/** A runbook with `steps` steps in the shapes RUNBOOK.md uses: GO TO with parameters, IF, sub-steps, blocks. */
export function generateRunbook(steps: number): string {
  const body: string[] = [];
  let sections = 0;
  // Start's GO TOs and its END count too: one per section, plus one.
  for (let made = 1; made + 1 < steps; ) {
    const s = ++sections;
    made++;
    body.push(`## Part ${s}`, '', '**Parameters:**', '', '- `hsm`: the device.', '');
    for (let n = 1; n <= PER_SECTION && made < steps; n++, made++) {
      // Content under `10. ` is indented by four: the width of the marker.
      const pad = ' '.repeat(`${n}. `.length);
      if (n % 10 === 0) {
        body.push(`${n}. **IF** the device at step ${n} was used before **THEN** reset it.`, `${pad}1. **DO** hold the contact of the device.`);
        made++;
      } else if (n % 5 === 0) {
        body.push(`${n}. **DO** wait for the output:`, `${pad}\`\`\`text {output}`, `${pad}Discovered a Yubico YubiHSM with serial number {{serial}}`, `${pad}\`\`\``);
      } else if (n % 7 === 0) {
        body.push(`${n}. **DO** confirm.`, `${pad}\`\`\`ts {id=part${s}.step${n}}`, `${pad}await ctx.confirm('Ready?');`, `${pad}\`\`\``);
      } else {
        body.push(`${n}. **DO** carry out action ${n} of part ${s}, as the runbook describes.`);
      }
    }
    body.push('');
  }
  const start = ['---', 'title: Generated', 'hsms:', '  - id: YubiHSM2-1', '    kind: yubihsm2', '    keyType: P-256', '---', '# Generated', '', '## Start', ''];
  for (let s = 1; s <= sections; s++) start.push(`${s}. **DO** **GO TO** [Part ${s}](#part-${s}) with \`hsm=YubiHSM2-1\`.`);
  start.push(`${sections + 1}. **END**`, '');
  return `${[...start, ...body].join('\n')}\n`;
}

/** Steps in a parsed runbook, sub-steps included. */
function countSteps(source: string): number {
  return [...allSteps(parseRunbook(source, 'generated.md').runbook)].length;
}

async function time<T>(fn: () => T | Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Milliseconds of a fresh process, best of `runs` (the machine is shared; the best is the least disturbed). */
function processMs(command: string, args: readonly string[], runs: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    try {
      execFileSync(command, args, { cwd: projectPath(), stdio: 'pipe' });
    } catch (err) {
      const out = err as { stdout?: Buffer; stderr?: Buffer };
      throw new Error(`${command} ${args.join(' ')} failed:\n${out.stdout?.toString() ?? ''}${out.stderr?.toString() ?? ''}`, { cause: err });
    }
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

/** Parse + static checks of the generated runbook; the number of findings (none expected). */
function parseOnce(source: string): number {
  const { runbook, diagnostics } = parseRunbook(source, 'generated.md');
  return diagnostics.length + runStaticRules(runbook).length;
}

/** The flag that makes this file time one first parse in its own process and print the milliseconds. */
const FIRST_PARSE = '--first-parse';

/** Milliseconds of the first parse in each of `runs` fresh processes. */
function freshFirstParses(runs: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const printed = execFileSync(process.execPath, ['--import', 'tsx', projectPath('bench', 'runbook.ts'), FIRST_PARSE], { cwd: projectPath(), stdio: 'pipe' });
    out.push(Number(printed.toString().trim()));
  }
  return out;
}

export async function run(): Promise<void> {
  const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

  // 1. Parse + static checks, 5,000 steps.
  const source = generateRunbook(STEPS);
  const cold = await time(() => parseOnce(source));
  if (cold.value !== 0) throw new Error(`the generated runbook has ${cold.value} findings`);
  const warm: number[] = [];
  for (let i = 0; i < 7; i++) warm.push((await time(() => parseOnce(source))).ms);
  // A lone first run swings with the machine's load: take several processes.
  const fresh = freshFirstParses(5);
  const lines = source.split('\n').length;
  console.log(
    `runbook: parse + static checks, ${countSteps(source)} steps (${lines} lines): first run in a fresh process median of 5 ${fmt(median(fresh))} ` +
      `(${fresh.map((ms) => ms.toFixed(0)).join(', ')}; here ${fmt(cold.ms)}), warm median of 7 ${fmt(median(warm))}  (target ≤ 300 ms)`,
  );

  // 2. Full check of RUNBOOK.md, type-check included.
  const runbookFile = projectPath('RUNBOOK.md');
  const inProcessCold = await time(() => checkRunbook(runbookFile));
  if (inProcessCold.value.diagnostics.length > 0) throw new Error('RUNBOOK.md has findings: run `runbook check`');
  const inProcessWarm = await time(() => checkRunbook(runbookFile));
  const cli = processMs(process.execPath, [projectPath('bin', 'runbook.js'), 'check', runbookFile], 3);
  const blocks = [...allCodeBlocks((await loadRunbook(runbookFile)).runbook ?? { sections: [] })];
  console.log(
    `runbook: check RUNBOOK.md (${blocks.length} blocks, type-check included): \`runbook check\` process ${fmt(cli)} (target ≤ 3 s); in-process first ${fmt(inProcessCold.ms)}, again ${fmt(inProcessWarm.ms)}`,
  );

  // 3. `tsc --noEmit` alone on the same blocks.
  const dir = mkdtempSync(join(tmpdir(), 'runbook-bench-'));
  try {
    const files = blocks.map((block, n) => {
      const file = join(dir, `${n}.ts`);
      writeFileSync(file, wrapBlock(block).source);
      return file;
    });
    // The blocks are ES modules, as under the project's package.json.
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    const project = join(dir, 'tsconfig.json');
    writeFileSync(
      project,
      JSON.stringify({
        extends: pathToFileURL(projectPath('tsconfig.json')).pathname,
        compilerOptions: { noEmit: true, skipLibCheck: true, typeRoots: [projectPath('node_modules', '@types')] },
        include: [],
        files,
      }),
    );
    const tsc = processMs(process.execPath, [projectPath('node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', project], 3);
    console.log(`runbook: tsc --noEmit alone on the same ${files.length} blocks: ${fmt(tsc)}; runbook check / tsc = ${(cli / tsc).toFixed(2)}× (target ≤ 1.5×)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv.includes(FIRST_PARSE)) {
    const source = generateRunbook(STEPS);
    console.log((await time(() => parseOnce(source))).ms.toFixed(1));
  } else {
    await run();
  }
}
