/**
 * `verifyProducts`: proves a ceremony's published products to a third party.
 *
 * The entry point behind `runbook verify`, and what a rehearsal calls on the
 * products it has just made. It never throws for a failed check: every check
 * runs, each failure is a finding with a stable code, and the report says
 * whether everything holds. It throws (VerifyError) only when a DIR cannot be
 * verified at all: missing, a file, empty, unreadable.
 */
import { createHash } from 'node:crypto';
import { loadTrustStore, colonHex, type ExtraTrust } from '../trust/anchors.ts';
import type { Curve, EcPublicKey } from '../keys.ts';
import type { ReadKey } from './der.ts';
import { discover, type DeviceDir } from './layout.ts';
import { verifyNitrokey } from './nitrokey.ts';
import {
  ATTESTATION_CHECKS,
  CHECKS,
  type CheckName,
  type CheckStatus,
  type DeviceReport,
  type Finding,
  type InventoryEntry,
  type KeyReport,
  type Role,
  type VerificationReport,
} from './report.ts';
import { verifyYubiHsm, type DeviceOutcome, type VerifyContext } from './yubihsm.ts';

export type * from './report.ts';
export { VerifyError, type VerifyCheckCode, type VerifyErrorCode, type VerifyInputCode } from './errors.ts';
export { renderTable, renderJson } from './render.ts';

/** The ceremony's HSMs, as the runbook's front matter lists them (lib/runbook/inventory.ts's Inventory fits). */
export interface VerifyInventory {
  readonly title?: string;
  readonly hsms: readonly InventoryEntry[];
}

export interface VerifyOptions {
  /** Check the devices against the ceremony's inventory (each ceremony-products DIR is one ceremony). */
  readonly inventory?: VerifyInventory;
  /** Accept attestation chains that end at the YubiHSM simulator's root; such devices are marked simulated. */
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

function keyId(key: EcPublicKey): string {
  return `${key.curve}:${Buffer.from(key.point).toString('hex')}`;
}

function serialsMatch(device: DeviceDir, serial: string): boolean {
  if (device.kind === 'yubihsm2' && /^\d+$/.test(serial)) return Number.parseInt(serial, 10) === Number.parseInt(device.serial, 10);
  return serial === device.serial;
}

/** The curve a device's keys are on, when they agree ("Provisioning the YubiHSM 2", step 5: one key type per device). */
function deviceCurve(o: DeviceOutcome): Curve | undefined {
  const curves = new Set([...o.keys.values()].map((k) => k.curve));
  return curves.size === 1 ? [...curves][0] : undefined;
}

/** Both keys of a device were generated with the same key type. */
function checkDeviceCurve(o: DeviceOutcome): void {
  const root = o.keys.get('root');
  const targets = o.keys.get('targets');
  if (root && targets && root.curve !== targets.curve) {
    o.rec.fail('curve', 'VERIFY_CURVE', `${o.device.dir}: the root key is on ${root.curve} but the targets key on ${targets.curve}; a device generates both with one key type`);
  }
}

const KIND_NAME = { yubihsm2: 'YubiHSM 2', 'nitrokey-hsm': 'Nitrokey HSM' } as const;

/**
 * Matches one ceremony's devices to the inventory as a multiset: an entry
 * that names a serial takes that device; the others take any device of their
 * kind on their curve; a device left over of the right kind but on another
 * curve is matched to a left-over entry of its kind and fails the curve check
 * (the clearer report); what remains on either side is VERIFY_INVENTORY.
 */
function matchInventory(ceremony: string, outcomes: DeviceOutcome[], inventory: VerifyInventory, findings: Finding[], assigned: Map<DeviceOutcome, InventoryEntry>): void {
  const free = new Set(inventory.hsms);
  const take = (o: DeviceOutcome, e: InventoryEntry) => {
    assigned.set(o, e);
    free.delete(e);
  };
  for (const e of inventory.hsms) {
    if (e.serial === undefined) continue;
    const o = outcomes.find((d) => !assigned.has(d) && d.device.kind === e.kind && serialsMatch(d.device, e.serial ?? ''));
    if (o) take(o, e);
  }
  for (const o of outcomes) {
    if (assigned.has(o)) continue;
    const curve = deviceCurve(o);
    const e = [...free].find((x) => x.serial === undefined && x.kind === o.device.kind && x.keyType === curve);
    if (e) take(o, e);
  }
  for (const o of outcomes) {
    if (assigned.has(o)) continue;
    const e = [...free].find((x) => x.serial === undefined && x.kind === o.device.kind);
    if (e) take(o, e);
  }
  for (const o of outcomes) {
    if (assigned.has(o)) continue;
    const count = inventory.hsms.filter((e) => e.kind === o.device.kind).length;
    o.rec.fail('inventory', 'VERIFY_INVENTORY', `${o.device.dir}: the inventory lists ${count} ${KIND_NAME[o.device.kind]} device(s), and this one matches none of them`);
  }
  for (const e of free) {
    findings.push({
      code: 'VERIFY_INVENTORY',
      check: 'inventory',
      file: ceremony,
      message: `${ceremony}: no products for inventory entry ${e.id} (${KIND_NAME[e.kind]}, ${e.keyType}${e.serial ? `, serial ${e.serial}` : ''})`,
    });
  }
}

function spkiSha256(key: ReadKey): string {
  return createHash('sha256').update(key.spki).digest('hex');
}

export async function verifyProducts(dirs: readonly string[], options: VerifyOptions = {}): Promise<VerificationReport> {
  const layout = await discover(dirs);
  const trust = await loadTrustStore(options.extraTrust);
  const ctx: VerifyContext = { trust, allowSimulated: options.allowSimulated === true, at: options.at ?? new Date() };
  const outcomes = await Promise.all(layout.devices.map((d) => (d.kind === 'yubihsm2' ? verifyYubiHsm(d, ctx) : verifyNitrokey(d))));
  const findings = [...layout.findings];

  for (const o of outcomes) checkDeviceCurve(o);

  // Against the inventory, one ceremony at a time.
  const assigned = new Map<DeviceOutcome, InventoryEntry>();
  if (options.inventory) {
    for (const ceremony of layout.ceremonies) {
      matchInventory(ceremony, outcomes.filter((o) => o.device.ceremony === ceremony), options.inventory, findings, assigned);
    }
  }
  for (const o of outcomes) {
    const entry = assigned.get(o);
    for (const [role, key] of o.keys) {
      if (entry) {
        o.rec.pass('inventory', role);
        if (key.curve !== entry.keyType) {
          o.rec.fail('curve', 'VERIFY_CURVE', `${o.device.dir}: the ${role} key is on ${key.curve}, but inventory entry ${entry.id} is a ${entry.keyType} device`, { role });
        }
      }
      if (!o.rec.failed('curve', role)) o.rec.pass('curve', role);
    }
  }

  // No key twice, across roles, devices and ceremonies.
  const uses = new Map<string, { o: DeviceOutcome; role: Role }[]>();
  for (const o of outcomes) for (const [role, key] of o.keys) uses.set(keyId(key), [...(uses.get(keyId(key)) ?? []), { o, role }]);
  for (const list of uses.values()) {
    for (const { o, role } of list) {
      if (list.length === 1) {
        o.rec.pass('unique', role);
        continue;
      }
      const others = list.filter((u) => u.o !== o || u.role !== role).map((u) => `${u.o.device.dir} (${u.role})`);
      o.rec.fail('unique', 'VERIFY_KEY_REUSED', `${o.device.dir}: the ${role} key is also the key of ${others.join(', ')}`, { role });
    }
  }

  const devices = outcomes.map((o) => deviceReport(o, assigned.get(o), options.inventory !== undefined));
  const all = [...findings, ...devices.flatMap((d) => d.findings)];
  const anchors = new Map(trust.roots.map((r) => [r.sha256, r]));
  const usedAnchors = [...new Set(outcomes.flatMap((o) => (o.anchor ? [o.anchor.sha256] : [])))];
  return {
    ok: all.length === 0,
    at: ctx.at.toISOString(),
    directories: [...dirs],
    trust: usedAnchors.flatMap((sha) => {
      const r = anchors.get(sha);
      return r ? [{ source: r.source, subject: r.cert.subject, sha256: colonHex(sha) }] : [];
    }),
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

function roleOrder(role: Role | undefined): number {
  return role === undefined ? 0 : role === 'root' ? 1 : 2;
}

function deviceReport(o: DeviceOutcome, entry: InventoryEntry | undefined, withInventory: boolean): DeviceReport {
  const simulated = o.anchor?.source === 'simulated';
  const keys: KeyReport[] = (['root', 'targets'] as const).map((role) => {
    const checks = {} as Record<CheckName, CheckStatus>;
    for (const check of CHECKS) {
      const na = (o.device.kind === 'nitrokey-hsm' && ATTESTATION_CHECKS.includes(check)) || (check === 'inventory' && !withInventory);
      checks[check] = na ? 'n/a' : o.rec.status(check, role);
    }
    const key = o.keys.get(role);
    return {
      role,
      ...(key ? { curve: key.curve, spkiSha256: spkiSha256(key) } : {}),
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
