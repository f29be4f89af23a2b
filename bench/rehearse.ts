/**
 * Figures for the whole ceremony (printed, never asserted):
 *
 * 1. `runbook rehearse` of RUNBOOK.md in a fresh process, six devices, on
 *    the simulators (target ≤ 2 s wall) and with SoftHSM2 tokens for the
 *    Nitrokey HSMs (target ≤ 5 s), beside the PSF runbook's fixed sleeps
 *    alone: 10 s after each of the three YubiHSM 2 resets, 30 s;
 * 2. the rehearsal in process, phase by phase (bench set-up, steps, the final
 *    verification), so a regression shows where it is;
 * 3. `runbook check RUNBOOK.md` with its rehearsal (target ≤ 4 s), and without.
 *
 * Run alone with `npx tsx bench/rehearse.ts`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { projectPath } from '../lib/paths.ts';
import { readRunbook } from '../lib/runbook/check/index.ts';
import { Bench } from '../steps/rehearsal/bench.ts';
import { rehearse } from '../steps/rehearsal/rehearse.ts';
import { softhsmModule } from '../test/pkcs11/support/softhsm.ts';

const RUNBOOK = projectPath('RUNBOOK.md');
const CLI = projectPath('bin', 'runbook.js');
/** The PSF runbook: "Giving the HSM 10 seconds to come back online", once per YubiHSM 2. */
const PSF_SLEEPS_S = 3 * 10;
const RUNS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

function timeCli(args: string[]): number {
  const dir = mkdtempSync(join(tmpdir(), 'bench-rehearse-'));
  try {
    const t0 = performance.now();
    execFileSync(process.execPath, [CLI, ...args.map((a) => a.replace('{out}', join(dir, 'out')))], { stdio: 'ignore' });
    return performance.now() - t0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function line(what: string, ms: number, target?: number): void {
  const t = target === undefined ? '' : `   target ≤ ${(target / 1000).toFixed(0)} s${ms <= target ? '' : '   OVER'}`;
  console.log(`${what.padEnd(58)} ${(ms / 1000).toFixed(2).padStart(6)} s${t}`);
}

export async function run(): Promise<void> {
  // Warm the CLI bundle cache first: the first command after a change builds it.
  execFileSync(process.execPath, [CLI, '--help'], { stdio: 'ignore' });

  const simulated = median(Array.from({ length: RUNS }, () => timeCli(['rehearse', RUNBOOK, '--out', '{out}', '--quiet'])));
  line(`runbook rehearse, simulators (median of ${RUNS}, fresh process)`, simulated, 2000);
  console.log(`${'  the PSF runbook’s post-reset sleeps alone'.padEnd(58)} ${PSF_SLEEPS_S.toFixed(2).padStart(6)} s   ratio ${(PSF_SLEEPS_S * 1000 / simulated).toFixed(1)}× faster`);
  if (softhsmModule) {
    const softhsm = median(Array.from({ length: RUNS }, () => timeCli(['rehearse', RUNBOOK, '--out', '{out}', '--quiet', '--pkcs11-module', softhsmModule!])));
    line(`runbook rehearse, SoftHSM2 Nitrokeys (median of ${RUNS})`, softhsm, 5000);
  } else {
    console.log('runbook rehearse, SoftHSM2 Nitrokeys: not measured (SoftHSM2 is not installed)');
  }

  // In process, phase by phase.
  const inventory = (await readRunbook(RUNBOOK)).frontMatter;
  const phases = { bench: [] as number[], steps: [] as number[], verify: [] as number[], total: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-rehearse-'));
    try {
      const t0 = performance.now();
      const bench = await Bench.create({ inventory });
      const t1 = performance.now();
      let stepsDone = t1;
      const r = await rehearse({
        file: RUNBOOK,
        out: join(dir, 'out'),
        bench,
        transcript: false,
        observers: [{ onEvent: (e) => void (e.type === 'run.finished' && (stepsDone = performance.now())) }],
      });
      const t2 = performance.now();
      if (!r.ok) throw new Error('the rehearsal failed');
      phases.bench.push(t1 - t0);
      phases.steps.push(stepsDone - t1);
      phases.verify.push(t2 - stepsDone);
      phases.total.push(t2 - t0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  line('  in process: six simulated devices made', median(phases.bench));
  line('  in process: read, digest, compile, every step', median(phases.steps));
  line('  in process: products verified', median(phases.verify));
  line('  in process: total', median(phases.total));

  const check = median(Array.from({ length: RUNS }, () => timeCli(['check', RUNBOOK])));
  line(`runbook check RUNBOOK.md, with its rehearsal (median of ${RUNS})`, check, 4000);
  const staticOnly = median(Array.from({ length: RUNS }, () => timeCli(['check', RUNBOOK, '--no-rehearse'])));
  line('runbook check RUNBOOK.md --no-rehearse', staticOnly);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
