import { RunbookError } from '../errors.ts';

export type CliErrorCode = 'CLI_USAGE';

/** A command line that cannot be acted on: exit status 2. */
export class CliError extends RunbookError<CliErrorCode> {}
