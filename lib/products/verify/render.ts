/**
 * The report for people (a table a witness reads off the screen or a
 * printout) and for machines (`--json`).
 */
import { CHECKS, type CheckName, type CheckStatus, type DeviceReport, type Finding, type VerificationReport } from './report.ts';

const MARK: Record<CheckStatus, string> = { pass: '✓', fail: '✗', skipped: '·', 'n/a': '–' };

const HEADING: Record<CheckName, string> = {
  files: 'files',
  chain: 'chain',
  serial: 'serial',
  origin: 'origin',
  label: 'label',
  capabilities: 'caps',
  key: 'key',
  curve: 'curve',
  unique: 'unique',
  inventory: 'inventory',
};

const KIND = { yubihsm2: 'YubiHSM 2', 'nitrokey-hsm': 'Nitrokey HSM' } as const;

/** Columns of the key's fingerprint shown (the full SHA-256 of its SubjectPublicKeyInfo is in --json). */
const KEY_ID = 17;

function pad(text: string, width: number): string {
  // Check marks are one column wide in a terminal, as are the ASCII letters.
  return text + ' '.repeat(Math.max(0, width - [...text].length));
}

function reason(f: Finding, simulated: boolean): string {
  const who = f.role ? `${f.role}: ` : '';
  return `    ✗ ${HEADING[f.check]} [${f.code}] ${who}${f.message}${simulated ? '  SIMULATED' : ''}`;
}

/** The witness's table: one row per key, one column per check, each failure's reason under its device. */
export function renderTable(report: VerificationReport): string {
  const lines: string[] = [];
  lines.push(`Ceremony products, checked as of ${report.at}`);
  for (const t of report.trust) {
    const label = t.source === 'yubico' ? 'Yubico' : t.source === 'simulated' ? 'SIMULATED (not Yubico)' : 'extra (not Yubico)';
    lines.push(`Attestations chain to: ${t.subject} [${label}] SHA-256 ${t.sha256}`);
  }
  lines.push(
    report.inventory
      ? `Inventory: ${report.inventory.title ?? '(untitled)'}: ${report.inventory.entries.map((e) => `${e.id} ${e.keyType}`).join(', ')}`
      : 'Inventory: not checked (give --runbook FILE or --hsm)',
  );

  const device = (d: DeviceReport) => d.inventoryId ?? KIND[d.kind];
  const widths = {
    device: Math.max(6, ...report.devices.map((d) => device(d).length)),
    serial: Math.max(6, ...report.devices.map((d) => d.serial.length)),
  };
  const header = [pad('DEVICE', widths.device), pad('SERIAL', widths.serial), pad('ROLE', 7), pad('CURVE', 5), ...CHECKS.map((c) => HEADING[c]), 'KEY SHA-256'].join('  ');

  let products: string | undefined;
  for (const d of report.devices) {
    if (d.products !== products) {
      products = d.products;
      lines.push('', products, header);
    }
    for (const k of d.keys) {
      const cells = CHECKS.map((c) => pad(MARK[k.checks[c]], HEADING[c].length));
      const keyId = k.spkiSha256 ? `${k.spkiSha256.slice(0, KEY_ID - 1)}…` : '?';
      lines.push(
        [pad(device(d), widths.device), pad(d.serial, widths.serial), pad(k.role, 7), pad(k.curve ?? '?', 5), ...cells, pad(keyId, KEY_ID)].join('  ').trimEnd() +
          (d.simulated ? '  SIMULATED' : ''),
      );
    }
    for (const f of d.findings) lines.push(reason(f, d.simulated));
  }
  if (report.findings.length > 0) {
    lines.push('');
    for (const f of report.findings) lines.push(reason(f, false));
  }

  lines.push(
    '',
    `${MARK.pass} holds   ${MARK.fail} fails   ${MARK.skipped} not checked (an earlier check failed)   ${MARK['n/a']} does not apply   KEY SHA-256: of the key's DER SubjectPublicKeyInfo (in full with --json)`,
  );
  const { devices, keys, failures, codes } = report.summary;
  const simulated = report.devices.filter((d) => d.simulated).length;
  const sim = simulated > 0 ? `; ${simulated} SIMULATED device(s), not attested by Yubico` : '';
  lines.push(
    report.ok
      ? `OK: ${devices} device(s), ${keys} key(s): every check holds${sim}.`
      : `FAILED: ${failures} failure(s) in ${devices} device(s), ${keys} key(s): ${codes.join(', ')}${sim}.`,
  );
  return `${lines.join('\n')}\n`;
}

/** The report as JSON, for machines. */
export function renderJson(report: VerificationReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
