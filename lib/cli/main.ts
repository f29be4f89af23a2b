import { Command, CommanderError, Option } from 'commander';
import { isRunbookError } from '../errors.ts';
import type { CliContext, CommandModule } from './context.ts';
// One module per command. Each keeps its heavy imports inside its action so
// that `runbook --help` stays a cold start of a few modules.
// commands:begin
import * as checkCommand from './check.ts';
import * as digestCommand from './digest.ts';
import * as listCommand from './list.ts';
import * as runCommand from './run.ts';
import * as verifyCommand from './verify.ts';
import * as simulateCommand from './simulate.ts';
import * as rehearseCommand from './rehearse.ts';
import * as yubihsmCommand from './yubihsm.ts';
import * as nitrokeyCommand from './nitrokey.ts';
import * as pemCommand from './pem.ts';
// commands:end

const COMMANDS: CommandModule[] = [
  // registry:begin
  checkCommand,
  listCommand,
  digestCommand,
  runCommand,
  rehearseCommand,
  verifyCommand,
  simulateCommand,
  yubihsmCommand,
  nitrokeyCommand,
  pemCommand,
  // registry:end
];

export function processContext(): CliContext {
  return { stdout: process.stdout, stderr: process.stderr, exitCode: 0, interactive: Boolean(process.stdin.isTTY) };
}

/**
 * Runs one command line and returns the exit status. Errors of ours print as
 * one line, `runbook: message [code]`; `--debug` adds the stack and causes.
 */
export async function main(argv: readonly string[], ctx: CliContext = processContext()): Promise<number> {
  const debug = argv.includes('--debug');
  const program = new Command('runbook')
    .description('A literate, executable runbook for HSM key ceremonies.')
    .addOption(new Option('--debug', 'show stack traces and causes on error'))
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    })
    .showHelpAfterError(false);
  for (const command of COMMANDS) command.register(program, ctx);

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with status 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    report(err, ctx, debug);
    return isRunbookError(err) && err.code === 'CLI_USAGE' ? 2 : ctx.exitCode || 1;
  }
}

function report(err: unknown, ctx: CliContext, debug: boolean): void {
  if (isRunbookError(err)) {
    ctx.stderr.write(`runbook: ${err.message} [${err.code}]\n`);
  } else {
    ctx.stderr.write(`runbook: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  if (!debug) return;
  let cause: unknown = err;
  while (cause instanceof Error) {
    ctx.stderr.write(`${cause.stack ?? cause.message}\n`);
    cause = cause.cause;
    if (cause !== undefined) ctx.stderr.write('caused by: ');
  }
  if (cause !== undefined && !(cause instanceof Error)) ctx.stderr.write(`${JSON.stringify(cause) ?? typeof cause}\n`);
}
