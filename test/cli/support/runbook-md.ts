// What the device-command tests (yubihsm, nitrokey) hold a command to: the
// project's own RUNBOOK.md, whose section the command performs outside a
// ceremony with the same step ids, ordinals, destructive marks and prompts.
import { beforeAll, expect } from 'vitest';
import { projectPath } from '../../../lib/paths.ts';
import type { StandaloneSection, StandaloneStep } from '../../../lib/runbook/standalone.ts';
import { allSteps, type Runbook, type Step } from '../../../lib/runbook/model.ts';
import { loadRunbook } from '../../../lib/runbook/parse.ts';

export interface ProjectRunbook {
  /** RUNBOOK.md, parsed. */
  readonly runbook: Runbook;
  /** Its step `id`; a test naming a step it lacks fails. */
  step(id: string): Step;
  /** Ids of the blocks of `section`, in its order. */
  blocks(section: StandaloneSection): string[];
  /** Each `ctx.secret` prompt step `id`'s block asks, in its own words: [message, name]. */
  secrets(id: string): [string, string][];
  /** Each `steps` entry has the ordinal and destructive mark of its block in `section`. */
  expectDocumented(section: StandaloneSection, steps: Readonly<Record<string, StandaloneStep>>): void;
}

/** RUNBOOK.md, parsed once before the file's tests (call at the top level of a test file). */
export function projectRunbook(): ProjectRunbook {
  let parsed: Runbook | undefined;
  beforeAll(async () => {
    const loaded = await loadRunbook(projectPath('RUNBOOK.md'));
    if (!loaded.runbook) throw new Error('RUNBOOK.md does not parse');
    parsed = loaded.runbook;
  });
  const runbook = (): Runbook => {
    if (!parsed) throw new Error('RUNBOOK.md is read in beforeAll: use it inside a test');
    return parsed;
  };
  const step = (id: string): Step => {
    const found = [...allSteps(runbook())].find((s) => s.id === id);
    if (!found) throw new Error(`RUNBOOK.md has no step ${id}`);
    return found;
  };
  return {
    get runbook() {
      return runbook();
    },
    step,
    blocks: (section) => [...allSteps(runbook())].filter((s) => s.section === section.slug && s.code).map((s) => s.id),
    secrets: (id) => [...(step(id).code?.code ?? '').matchAll(/ctx\.secret\('([^']+)', \{ name: '([^']+)'/g)].map((m) => [m[1] ?? '', m[2] ?? '']),
    expectDocumented(section, steps) {
      expect(runbook().sections.find((s) => s.slug === section.slug)?.title).toBe(section.title);
      for (const s of Object.values(steps)) {
        const documented = step(s.id);
        expect(documented.section, s.id).toBe(section.slug);
        expect(documented.ordinal, s.id).toBe(s.ordinal);
        expect(documented.code?.attrs.destructive === true, s.id).toBe(s.destructive === true);
      }
    },
  };
}
