import { ProductReadError, type FindingCode, type VerifyWarningCode } from './errors.ts';
import type { CheckName, CheckStatus, Finding, Role, Warning } from './report.ts';

/**
 * Collects one device's check results. A check passes for a role only when
 * it was recorded as passing for that role; a failure recorded without a role
 * (the device certificate, a stray file) fails every row of the device.
 */
export class DeviceRecorder {
  readonly findings: Finding[] = [];
  readonly warnings: Warning[] = [];
  private readonly passes = new Set<string>();

  /** `message` is the reason alone: the file it concerns goes in `where.file`, and the report shows both. */
  fail(check: CheckName, code: FindingCode, message: string, where: { role?: Role; file?: string } = {}): void {
    this.findings.push({ code, check, message, ...where });
  }

  /** Something left unproven that fails no check: reported, and `ok` unaffected. */
  warn(check: CheckName, code: VerifyWarningCode, message: string, where: { role?: Role; file?: string } = {}): void {
    this.warnings.push({ code, check, message, ...where });
  }

  /**
   * Records what a product reader refused (der.ts) as a finding of `check`,
   * or of `curve` when the key is on no ceremony curve; anything else is a
   * fault of the verifier and is rethrown.
   */
  failRead(err: unknown, check: CheckName, file: string, role?: Role): void {
    if (!(err instanceof ProductReadError)) throw err;
    this.fail(err.code === 'VERIFY_CURVE' ? 'curve' : check, err.code, err.message, { role, file });
  }

  pass(check: CheckName, role: Role): void {
    this.passes.add(`${check}:${role}`);
  }

  failed(check: CheckName, role?: Role): boolean {
    return this.findings.some((f) => f.check === check && (f.role === undefined || role === undefined || f.role === role));
  }

  status(check: CheckName, role: Role): CheckStatus {
    if (this.failed(check, role)) return 'fail';
    return this.passes.has(`${check}:${role}`) ? 'pass' : 'skipped';
  }
}
