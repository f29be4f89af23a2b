/**
 * The dynamic half of the check, as a run observer: does what a step really
 * printed match the output the runbook documents under it?
 *
 * The PSF runbook tells the operator what to wait for ("DO wait for this prompt:"
 * and the DANGER banner). When a step's code prints (`ctx.say`), that text is
 * compared, once the step has finished, with the step's `text {output}`
 * blocks, placeholders filled from the run (`{{hsm}}` from the GO TO,
 * `{{serial}}` from what the operator wrote down) through `matchExpected`.
 * The rehearsal runs the whole ceremony against simulated HSMs with this
 * observer attached, so CI proves that the document and the code agree.
 *
 * A step that documents output but printed nothing is not compared here
 * (its output comes from outside the run, or from another step); it is
 * counted, so a report can say how much of the document was proven.
 */
import type { RunEvent, RunObserver, RunView } from './events.ts';
import { matchExpected } from './expected.ts';
import { allSteps, type Runbook, type SourcePosition, type Step } from './model.ts';

/** Documented output that the run did not print. */
export interface OutputMismatch {
  readonly step: string;
  /** The section call it happened in (events' `call`). */
  readonly call: number;
  /** The first documented line that does not match, in the runbook. */
  readonly at: SourcePosition;
  /** What the step printed, one `ctx.say` per line. */
  readonly printed: string;
}

export class OutputCheck implements RunObserver {
  readonly #steps: ReadonlyMap<string, Step>;
  readonly #printed = new Map<string, string[]>();
  readonly mismatches: OutputMismatch[] = [];
  /** Step performances whose documented output matched what they printed. */
  matched = 0;
  /** Step performances with documented output that printed nothing. */
  unproven = 0;

  readonly #onMismatch: ((mismatch: OutputMismatch) => void) | undefined;

  /** `onMismatch` hears of each mismatch as the step finishes (the CLI warns the operator). */
  constructor(runbook: Pick<Runbook, 'sections'>, onMismatch?: (mismatch: OutputMismatch) => void) {
    this.#steps = new Map([...allSteps(runbook)].map((s) => [s.id, s]));
    this.#onMismatch = onMismatch;
  }

  onEvent(event: RunEvent, view: RunView): void {
    if (event.type === 'output') {
      const key = `${event.call}:${event.step}`;
      this.#printed.set(key, [...(this.#printed.get(key) ?? []), event.text]);
      return;
    }
    if (event.type !== 'step.finished' || !event.performed) return;
    const step = this.#steps.get(event.step);
    if (!step || step.outputs.length === 0) return;
    const key = `${event.call}:${event.step}`;
    const printed = this.#printed.get(key);
    this.#printed.delete(key);
    if (printed === undefined) {
      this.unproven++;
      return;
    }
    // Several output blocks under one step are read as one, in order.
    const expected = step.outputs.map((b) => b.text.replace(/\n$/, '')).join('\n');
    const actual = printed.join('\n');
    const result = matchExpected(expected, actual, view.known());
    if (result.ok) {
      this.matched++;
      return;
    }
    const mismatch = { step: step.id, call: event.call, at: lineOf(step, result.line), printed: actual };
    this.mismatches.push(mismatch);
    this.#onMismatch?.(mismatch);
  }
}

/**
 * The runbook position of line `n` of a step's documented output, counted as
 * `matchExpected` counts it: in the blocks read as one, leading blank lines
 * left out.
 */
function lineOf(step: Step, n: number): SourcePosition {
  const blocks = step.outputs.map((b) => ({ position: b.position, lines: b.text.replace(/\n$/, '').split('\n') }));
  const all = blocks.flatMap((b) => b.lines);
  let index = Math.max(all.findIndex((l) => l.trim() !== ''), 0) + n - 1;
  for (const block of blocks) {
    if (index < block.lines.length) return { ...block.position, line: block.position.line + index };
    index -= block.lines.length;
  }
  return blocks.at(-1)?.position ?? step.position;
}
