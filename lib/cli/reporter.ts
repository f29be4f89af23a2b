/**
 * What the operator (and the camera) sees of a run: sections as they are
 * entered, each step as it starts, what blocks print, the products written
 * and the files checked, and a closing summary. Shared by `run` and
 * `rehearse`.
 */
import type { CliContext } from './context.ts';
import type { RunEvent, RunObserver } from '../runbook/events.ts';

/**
 * Prints the run for the operator (and the camera): sections as they are
 * entered, each step as it starts, what blocks print, and a summary.
 */
export class ConsoleReporter implements RunObserver {
  readonly #ctx: CliContext;
  /** Depth of each section call, for indentation. */
  readonly #depth = new Map<number, number>();
  /** Prompt id → its question, to show beside a scripted answer. */
  readonly #asked = new Map<string, string>();
  #lastStep: string | undefined;
  #skipped = 0;
  #notMet = 0;

  constructor(ctx: CliContext) {
    this.#ctx = ctx;
  }

  onEvent(event: RunEvent): void {
    const out = (line: string) => this.#ctx.stdout.write(`${line}\n`);
    switch (event.type) {
      case 'run.started':
        out(`runbook: ${event.file}${event.from === undefined ? '' : ` (from step ${event.from})`}`);
        return;
      case 'section.entered': {
        this.#depth.set(event.call, event.depth);
        const params = Object.entries(event.params).map(([k, v]) => `${k}=${v}`);
        out(`\n${indent(event.depth)}== ${event.title}${params.length > 0 ? ` (${params.join(', ')})` : ''}`);
        return;
      }
      case 'step.started':
        this.#lastStep = event.step;
        out(`${indent(event.depth)}${event.ordinal}. ${event.text}  [${event.step}]`);
        return;
      case 'step.skipped':
        this.#skipped++;
        return;
      case 'condition':
        if (!event.holds) this.#notMet++;
        out(`${indent(this.#at(event.call) + 1)}condition ${event.holds ? 'holds' : 'does not hold'} (${event.by === 'code' ? 'computed' : event.by})`);
        return;
      case 'output':
        for (const line of event.text.replace(/\n$/, '').split('\n')) out(`${indent(this.#at(event.call) + 1)}| ${line}`);
        return;
      case 'note':
        for (const line of event.text.replace(/\n$/, '').split('\n')) out(`${indent(this.#at(event.call) + 1)}! ${line}`);
        return;
      case 'files.checked':
        out(`${indent(this.#at(event.call) + 1)}checked: ${event.files} file${event.files === 1 ? '' : 's'} present, as listed`);
        return;
      case 'product.written':
        out(`${indent(this.#at(event.call) + 1)}wrote ${event.path} (sha256 ${event.sha256})`);
        return;
      case 'warning':
        this.#ctx.stderr.write(`runbook: warning: ${event.message} [${event.code}]\n`);
        return;
      case 'step.failed':
        out(`${indent(this.#at(event.call) + 1)}FAILED [${event.code}]`);
        return;
      case 'run.finished': {
        const passed = this.#skipped > 0 ? `, ${this.#skipped} passed over` : '';
        const notMet = this.#notMet > 0 ? `, ${this.#notMet} condition${this.#notMet === 1 ? '' : 's'} not met` : '';
        const counts = `${event.performed} step${event.performed === 1 ? '' : 's'} performed${notMet}${passed}`;
        if (event.outcome === 'failed') {
          out(`\nrun FAILED${this.#lastStep ? ` at step ${this.#lastStep}` : ''} (${event.error?.code ?? 'unknown'}): ${counts}`);
        } else {
          out(`\nrun ${event.outcome === 'ended' ? 'reached END' : 'completed'}: ${counts}`);
        }
        return;
      }
      case 'prompt.asked':
        this.#asked.set(event.prompt, event.message);
        return;
      case 'prompt.answered': {
        // The operator's prompts show themselves at the terminal; an unattended
        // run shows what the file answered, except a secret's value.
        if (event.origin === 'operator') return;
        const answer = event.kind === 'secret' ? '(secret)' : event.answer === true ? 'yes' : event.answer === false ? 'no' : String(event.answer);
        out(`${indent(this.#at(event.call) + 1)}? ${this.#asked.get(event.prompt) ?? event.prompt} ${answer}  [${event.prompt}]`);
        return;
      }
      case 'section.left':
      case 'step.finished':
        return;
    }
  }

  #at(call: number): number {
    return this.#depth.get(call) ?? 0;
  }
}

function indent(depth: number): string {
  return '  '.repeat(depth);
}
