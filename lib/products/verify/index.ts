/**
 * `verifyProducts`: proves a ceremony's published products to a third party.
 *
 * The entry point behind `runbook verify`, and what a rehearsal calls on the
 * products it has just made. It never throws for a failed check: every check
 * runs, each failure is a finding with a stable code, and the report says
 * whether everything holds. It throws (VerifyError) only when a DIR cannot be
 * verified at all: missing, a file, empty, unreadable.
 */
import { loadTrustStore, colonHex, sha256Hex, type ExtraTrust } from '../trust/anchors.ts';
import { discover } from './layout.ts';
import { verifyNitrokey } from './nitrokey.ts';
import {
  CHECKS,
  type CheckName,
  type CheckStatus,
  type DeviceReport,
  type InventoryEntry,
  type KeyReport,
  ROLES,
  type Role,
  type VerificationReport,
} from './report.ts';
import { checkCurves, checkInventoryCurves, matchInventory, type VerifyInventory } from './inventory.ts';
import type { Anchor, DeviceOutcome, VerifyContext } from './outcome.ts';
import { checkKeyReuse } from './reuse.ts';
import { verifyYubiHsm } from './yubihsm.ts';

export type * from './report.ts';
export { VerifyError, type FindingCode, type VerifyCheckCode, type VerifyErrorCode, type VerifyInputCode, type VerifyWarningCode } from './errors.ts';
export { renderTable, renderJson } from './render.ts';

export type { VerifyInventory } from './inventory.ts';

export interface VerifyOptions {
  /** Check the devices against the ceremony's inventory (each ceremony-products DIR is one ceremony). */
  readonly inventory?: VerifyInventory;
  /**
   * Accept a rehearsal's products: attestation chains that end at the
   * YubiHSM simulator's root or at the simulated token's SIMULATED SRCA, and
   * Nitrokey HSM directories named by a SoftHSM2 token's serial (a rehearsal
   * with `--pkcs11-module`). Such devices are marked simulated.
   */
  readonly allowSimulated?: boolean;
  /**
   * A Nitrokey HSM whose products hold no attestation fails with
   * VERIFY_UNATTESTED. Otherwise it is a warning: the PSF's 2020 products,
   * made before attestations were captured, stay verifiable.
   */
  readonly requireAttestation?: boolean;
  /** The time certificates must be valid at; the current time by default. */
  readonly at?: Date;
  /**
   * Further roots and sub-CAs to trust, reported as source "extra". For the
   * test suite's and the benchmarks' own CAs only: the command line has no
   * way to set it, so published products are only ever proven against
   * Yubico's pinned certificates (or, when allowed, the simulator's).
   */
  readonly extraTrust?: ExtraTrust;
}

export async function verifyProducts(dirs: readonly string[], options: VerifyOptions = {}): Promise<VerificationReport> {
  const layout = await discover(dirs, { rehearsal: options.allowSimulated === true });
  const trust = await loadTrustStore(options.extraTrust);
  const ctx: VerifyContext = {
    trust,
    allowSimulated: options.allowSimulated === true,
    requireAttestation: options.requireAttestation === true,
    at: options.at ?? new Date(),
  };
  const outcomes = layout.devices.map((d) => (d.kind === 'yubihsm2' ? verifyYubiHsm(d, ctx) : verifyNitrokey(d, ctx)));
  const findings = [...layout.findings];

  // "Prepare the environment", steps 8-13: the devices and key types the ceremony planned.
  checkCurves(outcomes);
  const assigned = new Map<DeviceOutcome, InventoryEntry>();
  if (options.inventory) {
    for (const ceremony of layout.ceremonies) {
      matchInventory(ceremony, outcomes.filter((o) => o.device.ceremony === ceremony), options.inventory, findings, assigned);
    }
  }
  checkInventoryCurves(outcomes, assigned);
  checkKeyReuse(outcomes);

  const devices = outcomes.map((o) => deviceReport(o, assigned.get(o), options.inventory !== undefined));
  const all = [...findings, ...devices.flatMap((d) => d.findings)];
  const warnings = devices.flatMap((d) => d.warnings);
  // The roots the chains end at, each once, in the order devices reach them.
  const usedAnchors = new Map<string, Anchor>();
  for (const o of outcomes) if (o.anchor && !usedAnchors.has(o.anchor.sha256)) usedAnchors.set(o.anchor.sha256, o.anchor);
  return {
    ok: all.length === 0,
    at: ctx.at.toISOString(),
    directories: [...dirs],
    trust: [...usedAnchors.values()].map((r) => ({ source: r.source, subject: r.subject, sha256: colonHex(r.sha256) })),
    inventory: options.inventory ? { title: options.inventory.title, entries: [...options.inventory.hsms] } : undefined,
    devices,
    findings,
    summary: {
      devices: devices.length,
      keys: devices.reduce((n, d) => n + d.keys.length, 0),
      failures: all.length,
      codes: [...new Set(all.map((f) => f.code))].sort(),
      warnings: warnings.length,
      warningCodes: [...new Set(warnings.map((w) => w.code))].sort(),
    },
  };
}

/** A finding about the whole device first, then root, then targets. */
function roleOrder(role: Role | undefined): number {
  return role === undefined ? -1 : ROLES.indexOf(role);
}

function deviceReport(o: DeviceOutcome, entry: InventoryEntry | undefined, withInventory: boolean): DeviceReport {
  const keys: KeyReport[] = ROLES.map((role) => {
    const checks = {} as Record<CheckName, CheckStatus>;
    for (const check of CHECKS) {
      const na = o.notApplicable.has(check) || (check === 'inventory' && !withInventory);
      checks[check] = na ? 'n/a' : o.rec.status(check, role);
    }
    const key = o.keys.get(role);
    return {
      role,
      ...(key ? { curve: key.curve, spkiSha256: sha256Hex(key.spki) } : {}),
      ...(o.attestations.has(role) ? { attestation: o.attestations.get(role) } : {}),
      ...(o.nitrokeyAttestations.has(role) ? { nitrokeyAttestation: o.nitrokeyAttestations.get(role) } : {}),
      checks,
    };
  });
  const order = <T extends { check: CheckName; role?: Role; file?: string }>(a: T, b: T) =>
    CHECKS.indexOf(a.check) - CHECKS.indexOf(b.check) || roleOrder(a.role) - roleOrder(b.role) || (a.file ?? '').localeCompare(b.file ?? '');
  return {
    products: o.device.products,
    dir: o.device.dir,
    kind: o.device.kind,
    serial: o.device.serial,
    ...(entry ? { inventoryId: entry.id } : {}),
    ...(o.anchor ? { anchor: o.anchor.source } : {}),
    simulated: o.simulated,
    keys,
    // In table order (files, chain, ...), then root before targets: the same
    // products always give the same report.
    findings: [...o.rec.findings].sort(order),
    warnings: [...o.rec.warnings].sort(order),
  };
}
