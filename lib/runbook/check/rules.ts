/**
 * The static rules: what can be known about a runbook from its model alone,
 * without running or compiling anything. Each rule is a small checker so a
 * finding's code points at one rule.
 */
import { diagnostic, type Diagnostic } from '../diagnostics.ts';
import { allSteps, findSection, walkSteps, type Runbook, type SourcePosition, type Step } from '../model.ts';
import type { Checker } from './checker.ts';

/** No section has steps: the file documents but cannot run. */
export const hasSteps: Checker = {
  name: 'has-steps',
  check(runbook, report) {
    if (runbook.entry !== undefined) return;
    const at = runbook.sections[0]?.position ?? { file: runbook.file, line: 1, column: 1 };
    report(diagnostic('RUNBOOK_NO_STEPS', at, 'no section has steps (ordered-list items starting with **DO**, **IF**, **GO TO** or **END**)'));
  },
};

/**
 * Ids name steps in transcripts and scripted answers: two steps with one id
 * would make a transcript ambiguous, so every step id and block id is unique.
 */
export const uniqueIds: Checker = {
  name: 'unique-ids',
  check(runbook, report) {
    const seen = new Map<string, SourcePosition>();
    const claim = (id: string, at: SourcePosition) => {
      const first = seen.get(id);
      if (first) report(diagnostic('ID_DUPLICATE', at, `id \`${id}\` is already used at line ${first.line}`));
      else seen.set(id, at);
    };
    for (const step of allSteps(runbook)) {
      claim(step.id, step.code?.fence ?? step.when?.fence ?? step.position);
      if (step.when && step.code) claim(step.when.id, step.when.fence);
      for (const blocks of [step.outputs, step.files]) {
        for (const block of blocks) {
          const id = block.attrs['id'];
          if (typeof id === 'string') claim(id, block.fence);
        }
      }
    }
  },
};

/**
 * A GO TO calls a section: the anchor must exist and the arguments must be
 * exactly the section's declared parameters. An `hsm` argument names a
 * device of the inventory (the PSF runbook's signing body IDs).
 */
export const gotoTargets: Checker = {
  name: 'goto-targets',
  check(runbook, report) {
    const hsmIds = new Set(runbook.frontMatter.hsms.map((h) => h.id));
    for (const step of allSteps(runbook)) {
      const go = step.goto;
      if (!go) continue;
      const target = findSection(runbook, go.slug);
      if (!target) {
        report(diagnostic('GOTO_TARGET_MISSING', go.position, `no heading has the anchor #${go.slug}`));
        continue;
      }
      const declared = new Set(target.params.map((p) => p.name));
      for (const name of declared) {
        if (!(name in go.params)) report(diagnostic('GOTO_PARAM_MISSING', go.position, `"${target.title}" takes \`${name}\`; pass it as \`${name}=…\``));
      }
      for (const name of Object.keys(go.params)) {
        if (!declared.has(name)) report(diagnostic('GOTO_PARAM_UNKNOWN', go.position, `"${target.title}" takes no \`${name}\` (it takes: ${[...declared].join(', ') || 'nothing'})`));
      }
      // Only when the inventory parsed: a broken front matter is reported once, there.
      const hsm = go.params['hsm'];
      if (hsm !== undefined && hsmIds.size > 0 && !hsmIds.has(hsm)) {
        report(diagnostic('GOTO_HSM_UNKNOWN', go.position, `no HSM \`${hsm}\` in the front matter's inventory`));
      }
    }
  },
};

/**
 * A run starts in the first section with steps and enters other sections only
 * through GO TO. A section with steps that nothing reaches is dead text a
 * reviewer would still read and approve.
 */
export const reachability: Checker = {
  name: 'reachability',
  check(runbook, report) {
    if (runbook.entry === undefined) return;
    const reached = new Set<string>([runbook.entry]);
    const queue = [runbook.entry];
    for (let slug = queue.pop(); slug !== undefined; slug = queue.pop()) {
      for (const step of walkSteps(findSection(runbook, slug)?.steps ?? [])) {
        const next = step.goto?.slug;
        if (next !== undefined && !reached.has(next)) {
          reached.add(next);
          queue.push(next);
        }
      }
    }
    for (const section of runbook.sections) {
      if (section.steps.length > 0 && !reached.has(section.slug)) {
        report(diagnostic('SECTION_UNREACHABLE', section.position, `no GO TO reaches "${section.title}" from "${findSection(runbook, runbook.entry)?.title ?? runbook.entry}"`));
      }
    }
  },
};

/**
 * GO TO means "perform that section, then come back": a section that calls
 * itself, directly or through others, never comes back. Reported at the GO
 * TO that closes the loop.
 */
export const gotoCycles: Checker = {
  name: 'goto-cycles',
  check(runbook, report) {
    const done = new Set<string>();
    const active: string[] = [];
    const visit = (slug: string) => {
      active.push(slug);
      for (const step of walkSteps(findSection(runbook, slug)?.steps ?? [])) {
        const go = step.goto;
        if (!go || done.has(go.slug) || !findSection(runbook, go.slug)) continue;
        if (active.includes(go.slug)) {
          const loop = [...active.slice(active.indexOf(go.slug)), go.slug].join(' → ');
          report(diagnostic('GOTO_CYCLE', go.position, `this GO TO never returns: ${loop}`));
        } else visit(go.slug);
      }
      active.pop();
      done.add(slug);
    };
    for (const section of runbook.sections) if (!done.has(section.slug)) visit(section.slug);
  },
};

/** Nothing runs after an unconditional END in the same list. */
export const afterEnd: Checker = {
  name: 'after-end',
  check(runbook, report) {
    const visit = (steps: readonly Step[]) => {
      const end = steps.findIndex((s) => s.kind === 'end');
      const next = end >= 0 ? steps[end + 1] : undefined;
      if (next) report(diagnostic('STEP_AFTER_END', next.position, `step ${next.ordinal} follows an **END** and can never run`));
      for (const step of steps) visit(step.substeps);
    };
    for (const section of runbook.sections) visit(section.steps);
  },
};

export const STATIC_RULES: readonly Checker[] = [hasSteps, uniqueIds, gotoTargets, reachability, gotoCycles, afterEnd];

/** Runs checkers that need no I/O. */
export function runStaticRules(runbook: Runbook): Diagnostic[] {
  const found: Diagnostic[] = [];
  for (const rule of STATIC_RULES) void rule.check(runbook, (d) => found.push(d), {});
  return found;
}
