/**
 * `verifyProducts`: proves a ceremony's published products to a third party.
 *
 * The entry point behind `runbook verify`, and what a rehearsal calls on the
 * products it has just made. It never throws for a failed check: every check
 * runs, each failure is a finding with a stable code, and the report says
 * whether everything holds. It throws (VerifyError) only when a DIR cannot be
 * verified at all: missing, a file, empty, unreadable.
 */
import { SERIALS } from '../../ceremony.ts';
import { loadTrustStore, colonHex, sha256Hex, type ExtraTrust } from '../trust/anchors.ts';
import { discover } from './layout.ts';
import { verifyNitrokey } from './nitrokey.ts';
import {
  ATTESTATION_CHECKS,
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
import type { DeviceOutcome, VerifyContext } from './outcome.ts';
import { checkKeyReuse } from './reuse.ts';
import { verifyYubiHsm } from './yubihsm.ts';

export type * from './report.ts';
export { VerifyError, type VerifyCheckCode, type VerifyErrorCode, type VerifyInputCode } from './errors.ts';
export { renderTable, renderJson } from './render.ts';

export type { VerifyInventory } from './inventory.ts';

export interface VerifyOptions {
  /** Check the devices against the ceremony's inventory (each ceremony-products DIR is one ceremony). */
  readonly inventory?: VerifyInventory;
  /**
   * Accept a rehearsal's products: attestation chains that end at the
   * YubiHSM simulator's root, and Nitrokey HSM directories named by a
   * SoftHSM2 token's serial (a rehearsal with `--pkcs11-module`). Such devices
   * are marked simulated.
   */
  readonly allowSimulated?: boolean;
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
  const ctx: VerifyContext = { trust, allowSimulated: options.allowSimulated === true, at: options.at ?? new Date() };
  const outcomes = layout.devices.map((d) => (d.kind === 'yubihsm2' ? verifyYubiHsm(d, ctx) : verifyNitrokey(d)));
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
  // The roots the chains end at, each once, in the order devices reach them.
  const usedAnchors = [...new Set(outcomes.flatMap((o) => (o.anchor ? [o.anchor] : [])))];
  return {
    ok: all.length === 0,
    at: ctx.at.toISOString(),
    directories: [...dirs],
    trust: usedAnchors.map((r) => ({ source: r.source, subject: r.cert.subject, sha256: colonHex(r.sha256) })),
    inventory: options.inventory ? { title: options.inventory.title, entries: [...options.inventory.hsms] } : undefined,
    devices,
    findings,
    summary: {
      devices: devices.length,
      keys: devices.reduce((n, d) => n + d.keys.length, 0),
      failures: all.length,
      codes: [...new Set(all.map((f) => f.code))].sort(),
    },
  };
}

/** A finding about the whole device first, then root, then targets. */
function roleOrder(role: Role | undefined): number {
  return role === undefined ? -1 : ROLES.indexOf(role);
}

function deviceReport(o: DeviceOutcome, entry: InventoryEntry | undefined, withInventory: boolean): DeviceReport {
  // A YubiHSM 2 attested by the simulator's CA, or a SoftHSM2 token standing in for a Nitrokey HSM.
  const simulated = o.anchor?.source === 'simulated' || (o.device.kind === 'nitrokey-hsm' && SERIALS.softhsm.pattern.test(o.device.serial));
  const keys: KeyReport[] = ROLES.map((role) => {
    const checks = {} as Record<CheckName, CheckStatus>;
    for (const check of CHECKS) {
      const na = (o.device.kind === 'nitrokey-hsm' && ATTESTATION_CHECKS.includes(check)) || (check === 'inventory' && !withInventory);
      checks[check] = na ? 'n/a' : o.rec.status(check, role);
    }
    const key = o.keys.get(role);
    return {
      role,
      ...(key ? { curve: key.curve, spkiSha256: sha256Hex(key.spki) } : {}),
      ...(o.attestations.has(role) ? { attestation: o.attestations.get(role) } : {}),
      checks,
    };
  });
  return {
    products: o.device.products,
    dir: o.device.dir,
    kind: o.device.kind,
    serial: o.device.serial,
    ...(entry ? { inventoryId: entry.id } : {}),
    ...(o.anchor ? { anchor: o.anchor.source } : {}),
    simulated,
    keys,
    // In table order (files, chain, ...), then root before targets: the same
    // products always give the same report.
    findings: [...o.rec.findings].sort(
      (a, b) => CHECKS.indexOf(a.check) - CHECKS.indexOf(b.check) || roleOrder(a.role) - roleOrder(b.role) || (a.file ?? '').localeCompare(b.file ?? ''),
    ),
  };
}
