/**
 * The root of every error this project throws on purpose.
 *
 * Each area (runbook, yubihsm, pkcs11, products, tuf, cli) declares its own
 * subclass with a closed union of codes. Codes are stable: tests, the CLI's
 * `--json` output and the transcript carry them, so a code is never renamed
 * once released. Messages are for people and may change.
 *
 * Messages never contain secrets (passwords, PINs): whoever builds one must
 * name the device or file, never the value that was typed.
 */
export class RunbookError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** True for any error of ours; narrows to one that carries a `code`. */
export function isRunbookError(err: unknown): err is RunbookError {
  return err instanceof RunbookError;
}
