/**
 * The step tree as text (`runbook list`): one line per section, then one per
 * step with its ordinal, its id and its text, indented by depth.
 */
import type { Runbook, Step } from './model.ts';

const TEXT_WIDTH = 100;

export function renderTree(runbook: Runbook): string {
  const out: string[] = [];
  for (const section of runbook.sections) {
    if (section.steps.length === 0) continue;
    const params = section.params.length > 0 ? ` (${section.params.map((p) => p.name).join(', ')})` : '';
    const entry = section.slug === runbook.entry ? ' [start]' : '';
    out.push(`#${section.slug}${params}${entry}  ${section.title}`);
    const visit = (steps: readonly Step[], depth: number) => {
      for (const step of steps) {
        const text = step.text.length > TEXT_WIDTH ? `${step.text.slice(0, TEXT_WIDTH - 1)}…` : step.text;
        out.push(`${'  '.repeat(depth)}${step.ordinal}  ${step.id}  ${text}`);
        visit(step.substeps, depth + 1);
      }
    };
    visit(section.steps, 1);
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
