// Builds the CLI bundle once before the suites start, so that test files
// spawning `bin/runbook.js` in parallel do not all rebuild it at once.
import { execFileSync } from 'node:child_process';
import { projectPath } from '../../lib/paths.ts';

export default function setup(): void {
  execFileSync(process.execPath, [projectPath('bin', 'runbook.js'), '--help'], { stdio: 'ignore' });
}
