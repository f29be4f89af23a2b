// `runbook --help` cold start: a new Node process each time, as an operator
// or a CI job starts it. Target ≤ 300 ms.
//
// Two figures: the usual start (the CLI bundle in .runbook/cli/ is up to
// date), and the first start after a source file changed, which rebuilds the
// bundle with esbuild once.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { projectPath } from '../lib/paths.ts';

const bin = projectPath('bin', 'runbook.js');

function startMs(): number {
  const t0 = process.hrtime.bigint();
  execFileSync(process.execPath, [bin, '--help'], { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export function run(): Promise<void> {
  const rebuilds: number[] = [];
  for (let i = 0; i < 3; i++) {
    rmSync(projectPath('.runbook', 'cli'), { recursive: true, force: true });
    rebuilds.push(startMs());
  }
  const warm = Array.from({ length: 15 }, startMs);
  const node = Array.from({ length: 15 }, () => {
    const t0 = process.hrtime.bigint();
    execFileSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
    return Number(process.hrtime.bigint() - t0) / 1e6;
  });
  console.log(`runbook --help, new process: median ${median(warm).toFixed(0)} ms of 15 (target ≤ 300 ms)`);
  console.log(`  of which Node itself starting: median ${median(node).toFixed(0)} ms (\`node -e ''\`)`);
  console.log(`  first start after a source change (bundle rebuilt): median ${median(rebuilds).toFixed(0)} ms of 3`);
  return Promise.resolve();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
