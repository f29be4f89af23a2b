/** Reading a verification report in tests: by code and check status, never by message text. */
import type { CheckName, CheckStatus, DeviceReport, Role, VerificationReport } from '../../../lib/products/verify/index.ts';

/** Every failure code in the report, each once, sorted. */
export function codes(report: VerificationReport): string[] {
  return [...new Set([...report.findings, ...report.devices.flatMap((d) => d.findings)].map((f) => f.code))].sort();
}

export function device(report: VerificationReport, serial: string): DeviceReport {
  const d = report.devices.find((x) => x.serial === serial);
  if (!d) throw new Error(`no device ${serial} in the report`);
  return d;
}

export function status(report: VerificationReport, serial: string, role: Role, check: CheckName): CheckStatus | undefined {
  return device(report, serial).keys.find((x) => x.role === role)?.checks[check];
}
