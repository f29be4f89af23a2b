/**
 * `runbook list [FILE]`: the step tree with each step's id, the names a
 * transcript and a scripted-answers file use.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from './context.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('list')
    .description('print the step tree of a runbook with step ids')
    .argument('[file]', 'the runbook', 'RUNBOOK.md')
    .option('--json', 'print the sections and steps as JSON')
    .option('--prompts', 'list every prompt id a rehearsal asks, with its kind and step (for answers files)')
    .action(async (file: string, options: { json?: boolean; prompts?: boolean }) => {
      if (options.prompts) {
        await listPrompts(file, options.json === true, ctx);
        return;
      }
      const { loadRunbook } = await import('../runbook/parse.ts');
      const { formatDiagnostic } = await import('../runbook/diagnostics.ts');
      const { renderTree } = await import('../runbook/tree.ts');
      const { runbook, diagnostics } = await loadRunbook(file);
      if (runbook) {
        ctx.stdout.write(options.json ? `${JSON.stringify({ file, entry: runbook.entry, sections: runbook.sections }, null, 2)}\n` : renderTree(runbook));
      }
      // The tree is printed even when the parse found problems (it helps to
      // find them), but the exit status says the runbook is not usable.
      for (const d of diagnostics) ctx.stderr.write(`${formatDiagnostic(d)}\n`);
      ctx.exitCode = diagnostics.length === 0 ? 0 : 1;
    });
}

/** A prompt as `list --prompts` shows it. */
interface ListedPrompt {
  readonly id: string;
  readonly kind: 'confirm' | 'input' | 'secret' | 'choice';
  readonly step: string;
  /** The section calls it is asked in (`hsm=YubiHSM2-1`, …); empty outside any call with parameters. */
  readonly calls: string[];
  /** The question, as the first call asked it. */
  readonly message: string;
}

/**
 * The prompts are found by rehearsing the runbook on simulated HSMs and
 * noting every question asked: those of the blocks, those the ceremony's
 * steps ask inside them, and the run's own (done, condition, destructive),
 * with the exact ids an answers file must use.
 */
async function listPrompts(file: string, json: boolean, ctx: CliContext): Promise<void> {
  const { rehearse } = await import('../../steps/rehearsal/rehearse.ts');
  const prompts = new Map<string, ListedPrompt>();
  /** Section call number → its parameters, as `hsm=YubiHSM2-1`. */
  const calls = new Map<number, string>();
  const dir = await mkdtemp(join(tmpdir(), 'runbook-prompts-'));
  let failed: Error | undefined;
  try {
    const rehearsal = await rehearse({
      file,
      out: join(dir, 'rehearsal'),
      transcript: false,
      observers: [
        {
          onEvent(event) {
            if (event.type !== 'section.entered') return;
            const params = Object.entries(event.params).map(([k, v]) => `${k}=${v}`).join(',');
            if (params !== '') calls.set(event.call, params);
          },
        },
        {
          onEvent(event) {
            if (event.type !== 'prompt.asked') return;
            const kind = event.kind === 'select' ? 'choice' : event.kind;
            const listed = prompts.get(event.prompt) ?? { id: event.prompt, kind, step: event.step, calls: [], message: event.message };
            prompts.set(event.prompt, listed);
            const call = calls.get(event.call);
            if (call !== undefined && !listed.calls.includes(call)) listed.calls.push(call);
          },
        },
      ],
    });
    failed = rehearsal.error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const list = [...prompts.values()];
  if (json) {
    ctx.stdout.write(`${JSON.stringify({ file, prompts: list }, null, 2)}\n`);
  } else {
    const width = Math.max(...list.map((p) => p.id.length), 6);
    for (const p of list) {
      const calls = p.calls.length === 0 ? '' : `  (${p.calls.length} call${p.calls.length === 1 ? '' : 's'}: ${p.calls.map((c) => c.replace(/^hsm=/, '')).join(', ')})`;
      ctx.stdout.write(`${p.id.padEnd(width)}  ${p.kind.padEnd(7)}  step ${p.step}${calls}\n`);
    }
  }
  if (failed !== undefined) throw failed;
}
