/**
 * The report for people (a table a witness reads off the screen or a
 * printout, 100 columns at most) and for machines (`--json`).
 *
 * File and directory names come from the products, and so does text taken
 * from certificates: whatever of it reaches the terminal goes through
 * untrustedText, so that escape sequences and bidirectional overrides are
 * shown, not obeyed.
 */
import { basename, dirname } from 'node:path';
import { escapeJsonText, untrustedText } from '../../untrusted-text.ts';
import { CHECKS, KIND_NAME, type AnchorSource, type CheckName, type CheckStatus, type DeviceReport, type Finding, type VerificationReport, type Warning } from './report.ts';

/** The widest line the table writes, so that it reads in a 100-column terminal or on a printed page. */
export const TABLE_WIDTH = 100;

const MARK: Record<CheckStatus, string> = { pass: '✓', fail: '✗', skipped: '·', 'n/a': '–' };
/** Beside a warning's code, as ✗ is beside a failure's. */
const WARNING_MARK = '!';

/** Whose root an attestation chain ends at, as the witness reads it. */
const ANCHOR_NAME: Record<AnchorSource, string> = {
  yubico: 'Yubico',
  cardcontact: 'CardContact',
  simulated: 'SIMULATED, not Yubico or CardContact',
  extra: 'extra, not Yubico or CardContact',
};

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

/** What each column proves, for the legend under the table (the runbook step each check answers is in its module). */
const MEANING: Record<CheckName, string> = {
  files: "the device's products are all there, and nothing else is",
  chain:
    'attestation ← device certificate ← Yubico sub-CA ← pinned Yubico root (Nitrokey HSM: key request ← device certificate ← ' +
    'Device Issuer CA ← pinned CardContact root); signatures, dates',
  serial: "the device certificate and the attestation state the directory's serial",
  origin: 'the key was generated on the device, never imported (Nitrokey HSM: the request was signed by this device, not another)',
  label: 'object id and label are the ones the ceremony gives the role (3 tuf-root, 4 tuf-targets); YubiHSM 2 only',
  capabilities: 'the key may sign with ECDSA and do nothing else; YubiHSM 2 only',
  key: 'the attested key is the .pub and the .pem (a Nitrokey HSM without attestations: the .pub and the .pem agree)',
  curve: 'the key is on a named ceremony curve, the one the inventory gives the device',
  unique: 'no other role, device or ceremony has the same key',
  inventory: "the device is one the ceremony's inventory lists",
};

/**
 * Check columns are 4 apart, their headings staggered over two lines (the
 * words are wider than the marks), so that ten checks fit beside the
 * device, serial, role and curve.
 */
const PITCH = 4;
const GAP = '  ';
const ROLE_WIDTH = 7;
const CURVE_WIDTH = 5;
const SIMULATED = '  SIMULATED';

/** POSIX portable file name characters: such a name prints as it is; any other goes through untrustedText. */
const PORTABLE = /^[A-Za-z0-9._-]+$/;

function shown(name: string): string {
  return PORTABLE.test(name) ? name : untrustedText(name, 60);
}

/** Text that is printable ASCII prints as it is; any other goes through untrustedText. */
function printable(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : untrustedText(text, 80);
}

function pad(text: string, width: number): string {
  // Marks and the ASCII in the table are one column wide each.
  return text + ' '.repeat(Math.max(0, width - [...text].length));
}

/** `text` folded at spaces to `width` columns less `suffix`, continuation lines indented; `suffix` ends every line. */
function wrap(text: string, indent: number, suffix = ''): string[] {
  const limit = TABLE_WIDTH - suffix.length;
  const lines: string[] = [];
  const first = /^ */.exec(text)?.[0] ?? '';
  let line = first;
  for (const word of text.slice(first.length).split(' ')) {
    const candidate = line.trim() === '' ? line + word : `${line} ${word}`;
    if ([...candidate].length > limit && line.trim() !== '') {
      lines.push(line);
      line = `${' '.repeat(indent)}${word}`;
    } else {
      line = candidate;
    }
  }
  lines.push(line);
  return lines.map((l) => l + suffix);
}

/** Where a finding is, as the table shows it: the file's name under its device or products directory. */
function place(f: Finding, base: string): string {
  if (f.file === undefined || f.file === base) return '';
  return `${shown(dirname(f.file) === base ? basename(f.file) : f.file)}: `;
}

function reason(f: Finding | Warning, base: string, suffix: string, mark = MARK.fail): string[] {
  const who = f.role ? `, ${f.role} key` : '';
  return wrap(`  ${mark} [${f.code}] ${HEADING[f.check]}${who}: ${place(f, base)}${f.message}`, 6, suffix);
}

/** The witness's table: one row per key, one column per check, each failure's code and reason under its device. */
export function renderTable(report: VerificationReport): string {
  const lines: string[] = [];
  lines.push(`Ceremony products, checked as of ${report.at}`);
  for (const t of report.trust) {
    lines.push(...wrap(`Attestations chain to ${printable(t.subject)} (${ANCHOR_NAME[t.source]}), SHA-256`, 2), `  ${t.sha256}`);
  }
  if (report.inventory) {
    lines.push(`Inventory: ${report.inventory.title ?? '(untitled)'}`);
    lines.push(...wrap(`  ${report.inventory.entries.map((e) => `${e.id} ${e.keyType}`).join(', ')}`, 2));
  } else {
    lines.push('Inventory: not checked (give --runbook FILE or --hsm)');
  }

  const name = (d: DeviceReport) => d.inventoryId ?? KIND_NAME[d.kind];
  const deviceWidth = Math.max(6, ...report.devices.map((d) => name(d).length));
  const serialWidth = Math.max(6, ...report.devices.map((d) => d.serial.length));
  const lead = deviceWidth + serialWidth + ROLE_WIDTH + CURVE_WIDTH + 4 * GAP.length;
  const checksLine = (pick: (i: number) => boolean) => {
    let line = '';
    CHECKS.forEach((c, i) => {
      if (pick(i)) line = pad(line, i * PITCH) + HEADING[c];
    });
    return line;
  };
  const header = [
    [pad('DEVICE', deviceWidth), pad('SERIAL', serialWidth), pad('ROLE', ROLE_WIDTH), pad('CURVE', CURVE_WIDTH), checksLine((i) => i % 2 === 0)].join(GAP),
    ' '.repeat(lead) + checksLine((i) => i % 2 === 1),
  ];

  const sections = [...new Set(report.devices.map((d) => d.products))];
  const placed = new Set<Finding>();
  for (const products of sections) {
    lines.push('', products, ...header);
    const devices = report.devices.filter((d) => d.products === products);
    for (const d of devices) {
      const suffix = d.simulated ? SIMULATED : '';
      for (const k of d.keys) {
        const marks = CHECKS.map((c) => pad(MARK[k.checks[c]], PITCH)).join('');
        lines.push([pad(name(d), deviceWidth), pad(d.serial, serialWidth), pad(k.role, ROLE_WIDTH), pad(k.curve ?? '?', CURVE_WIDTH), marks.trimEnd()].join(GAP) + suffix);
      }
      for (const f of d.findings) lines.push(...reason(f, d.dir, suffix));
      for (const w of d.warnings) lines.push(...reason(w, d.dir, suffix, WARNING_MARK));
    }
    // Entries of this products directory that are no device, inventory entries without products.
    for (const f of report.findings) {
      if (f.file === products || (f.file !== undefined && dirname(f.file) === products)) {
        lines.push(...reason(f, products, ''));
        placed.add(f);
      }
    }
    lines.push("Keys: SHA-256 of each key's DER SubjectPublicKeyInfo");
    for (const d of devices) {
      for (const k of d.keys) lines.push(`  ${pad(d.serial, serialWidth)}${GAP}${pad(k.role, ROLE_WIDTH)}${GAP}${k.spkiSha256 ?? '(no key read)'}${d.simulated ? SIMULATED : ''}`);
    }
  }
  const rest = report.findings.filter((f) => !placed.has(f));
  if (rest.length > 0) lines.push('', ...rest.flatMap((f) => reason(f, '', '')));

  lines.push(
    '',
    `${MARK.pass} holds   ${MARK.fail} fails   ${MARK['n/a']} does not apply   ${MARK.skipped} not checked: a check it depends on failed   ${WARNING_MARK} warning`,
  );
  for (const c of CHECKS) lines.push(...wrap(`  ${pad(HEADING[c], 9)} ${MEANING[c]}`, 12));
  const { devices, keys, failures, codes, warnings, warningCodes } = report.summary;
  const simulated = report.devices.filter((d) => d.simulated).length;
  const sim = simulated > 0 ? `; ${simulated} SIMULATED device(s), not attested by their manufacturer` : '';
  // Warnings leave the verdict alone, and are said beside it all the same.
  const warned = warnings > 0 ? `; ${warnings} warning(s): ${warningCodes.join(', ')}` : '';
  lines.push(
    '',
    ...wrap(
      report.ok
        ? `OK: ${devices} device(s), ${keys} key(s): every check holds${warned}${sim}.`
        : `FAILED: ${failures} failure(s) in ${devices} device(s), ${keys} key(s): ${codes.join(', ')}${warned}${sim}.`,
      2,
    ),
  );
  return `${lines.join('\n')}\n`;
}

/**
 * The report as JSON, for machines: the same fields in the same order for
 * the same products. JSON.stringify escapes C0 controls; C1 controls and
 * bidirectional formatting characters (possible in file names and
 * certificate text) are escaped too, which leaves the values unchanged for
 * a JSON reader and keeps a terminal showing the output from obeying them.
 */
export function renderJson(report: VerificationReport): string {
  return `${escapeJsonText(JSON.stringify(report, null, 2))}\n`;
}
