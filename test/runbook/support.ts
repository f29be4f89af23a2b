import { join } from 'node:path';
import { projectRoot } from '../../lib/paths.ts';

/** The runbook fixtures: one per diagnostic code, plus valid.md. */
export const runbookFixtures = join(projectRoot, 'test', 'fixtures', 'runbooks');

export function fixture(name: string): string {
  return join(runbookFixtures, name);
}
