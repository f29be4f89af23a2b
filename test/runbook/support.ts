import { join } from 'node:path';
import { projectRoot } from '../../lib/paths.ts';

/** The runbook fixtures: one per diagnostic code, plus valid.md. */
export const runbookFixtures = join(projectRoot, 'test', 'fixtures', 'runbooks');

export function fixture(name: string): string {
  return join(runbookFixtures, name);
}

/**
 * One numbered DO step whose action is a `ts` block, as a runbook writes it:
 * the block indented under its list item, so the parser binds it to the step.
 */
export function codeStep(ordinal: number, text: string, id: string, code: string): string {
  const indent = ' '.repeat(`${ordinal}. `.length);
  const lines = ['```ts {id=' + id + '}', ...code.split('\n'), '```'].map((l) => indent + l);
  return `${ordinal}. **DO** ${text}:\n\n${lines.join('\n')}\n`;
}
