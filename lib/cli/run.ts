/**
 * `runbook run [FILE]`: performs the ceremony with the operator, step by
 * step. Each step is printed as it starts (its section, ordinal and text),
 * then what it printed; a closing summary says how the run ended.
 *
 * The operator answers at the terminal; `--answers FILE` answers from a
 * file instead, for unattended rehearsals and CI (never a real ceremony's
 * passwords or PINs). Without a terminal and without `--answers` nobody
 * could answer, so that is a usage error rather than a hang.
 */
import type { Command } from 'commander';
import type { CliContext } from './context.ts';
import { CliError } from './errors.ts';
import type { RunEvent, RunObserver } from '../runbook/events.ts';

interface RunOptions {
  answers?: string;
  transcript?: string;
  from?: string;
  products?: string;
  typecheck?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('perform a runbook with the operator, step by step')
    .argument('[file]', 'the runbook', 'RUNBOOK.md')
    .option('--answers <file>', 'answer prompts from this YAML file (rehearsals and CI only: never real passwords or PINs)')
    .option('--from <step>', 'start at this step id; earlier steps are passed over, not performed')
    .option('--products <dir>', "where products are written (default: the front matter's `products`, beside the runbook)")
    .option('--transcript <file>', 'record the run in this new file, hash-chained, and print its head hash at the end')
    .option('--typecheck', 'type-check the code blocks before running (as `runbook check` does)')
    .action(async (file: string, options: RunOptions) => {
      if (options.answers === undefined && !ctx.interactive) {
        throw new CliError('CLI_USAGE', 'standard input is not a terminal: nobody could answer the prompts; pass --answers FILE for an unattended run');
      }
      const path = await import('node:path');
      const { readRunbook } = await import('../runbook/check/index.ts');
      const { executeRunbook } = await import('../runbook/execute.ts');
      const { compileRunbook } = await import('../runbook/compile.ts');

      // Read once: the bytes parsed are the bytes the digest describes, even
      // if the file changes while the run starts.
      const { readRunbookBytes } = await import('../runbook/source.ts');
      const { toError } = await import('../runbook/diagnostics.ts');
      const read = await readRunbookBytes(file);
      if ('problem' in read) throw toError(read.problem);
      const runbook = await readRunbook(file, { typecheck: options.typecheck === true, bytes: read.bytes });
      // Shown before anything happens, so the witnesses can compare it with
      // the digest pinned at the pre-ceremony.
      const { digestRunbook } = await import('../runbook/digest.ts');
      const digest = (await digestRunbook(file, undefined, read.bytes)).sha256;
      ctx.stdout.write(`runbook digest: ${digest}\n`);
      let prompts;
      if (options.answers !== undefined) {
        const { loadAnswersFile, ScriptedPromptSource } = await import('../runbook/answers.ts');
        prompts = new ScriptedPromptSource(await loadAnswersFile(options.answers));
      } else {
        const { InteractivePromptSource } = await import('../runbook/prompts.ts');
        prompts = new InteractivePromptSource();
      }
      const { OutputCheck } = await import('../runbook/output-check.ts');
      const blocks = await compileRunbook(runbook);
      // Created before the first step, so an existing record stops the run
      // before anything happens (TRANSCRIPT_EXISTS).
      const transcript =
        options.transcript === undefined ? undefined : await (await import('../runbook/transcript.ts')).TranscriptWriter.create(options.transcript);
      const productsDir = path.resolve(options.products ?? path.resolve(path.dirname(file), runbook.frontMatter.products));

      // Ctrl-C between prompts stops the run before the next step (a prompt
      // handles its own Ctrl-C); a second one stops the process at once.
      const interrupt = new AbortController();
      // Taken now: while a block runs, `process.exit` is the guard that
      // refuses it to the block (lib/runbook/block-guard.ts).
      const exit = process.exit.bind(process);
      const onSigint = () => {
        if (interrupt.signal.aborted) exit(130);
        ctx.stderr.write('\nrunbook: stopping after the current operation (Ctrl-C again to stop at once)\n');
        interrupt.abort(new Error('interrupted by the operator'));
      };
      process.on('SIGINT', onSigint);
      try {
        await executeRunbook({
          runbook,
          prompts,
          productsDir,
          blocks,
          digest,
          signal: interrupt.signal,
          observers: [
            ...(transcript ? [transcript] : []),
            new ConsoleReporter(ctx),
            // What a step prints should be what the runbook says it prints;
            // a difference is told to the operator at once, without stopping.
            new OutputCheck(runbook, (m) =>
              ctx.stderr.write(
                `runbook: warning: ${m.at.file}:${m.at.line}: step ${m.step} printed something other than the output documented here [OUTPUT_MISMATCH]\n`,
              ),
            ),
          ],
          ...(options.from === undefined ? {} : { from: options.from }),
        });
      } finally {
        process.off('SIGINT', onSigint);
        if (transcript) {
          await transcript.close();
          // The head pins the whole record: a witness writes it down, and
          // verifying against it shows that nothing was changed or cut off.
          ctx.stdout.write(`transcript: ${transcript.path} (${transcript.records} records, head sha256 ${transcript.head})\n`);
        }
      }
    });
}

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
        if (event.origin !== 'answers-file') return;
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
