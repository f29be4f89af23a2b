import type { Command } from 'commander';

/** Where a command writes, and what it reports back to `main`. */
export interface CliContext {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** 0 clean, 1 findings or failure, 2 usage error. Commands set it; `main` returns it. */
  exitCode: number;
  /** Standard input is an interactive terminal (prompts may be asked). */
  readonly interactive: boolean;
}

/** One module per command: it declares its flags (with their conflicts) on `program`. */
export interface CommandModule {
  register(program: Command, ctx: CliContext): void;
}
