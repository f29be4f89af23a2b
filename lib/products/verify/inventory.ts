/**
 * The devices against the ceremony's inventory ("Prepare the environment",
 * steps 8-13: which HSMs, each with its key type), and each device's keys
 * against the key type it was provisioned with ("Provisioning the YubiHSM
 * 2", step 5; "Provisioning the Nitrokey HSM", step 19).
 */
import type { Curve } from '../../keys.ts';
import { LOOSE_DEVICES, type DeviceDir } from './layout.ts';
import type { DeviceOutcome } from './outcome.ts';
import { KIND_NAME, ROLES, type Finding, type InventoryEntry } from './report.ts';

/** The ceremony's HSMs, as the runbook's front matter lists them (lib/runbook/inventory.ts's Inventory fits). */
export interface VerifyInventory {
  readonly title?: string;
  readonly hsms: readonly InventoryEntry[];
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
    o.rec.fail('curve', 'VERIFY_CURVE', `the root key is on ${root.curve} but the targets key on ${targets.curve}; a device generates both with one key type`);
  }
}


/**
 * Matches one ceremony's devices to the inventory as a multiset: an entry
 * that names a serial takes that device; the others take any device of their
 * kind on their curve; a device left over of the right kind but on another
 * curve is matched to a left-over entry of its kind and fails the curve check
 * (the clearer report); what remains on either side is VERIFY_INVENTORY.
 */
export function matchInventory(ceremony: string, outcomes: DeviceOutcome[], inventory: VerifyInventory, findings: Finding[], assigned: Map<DeviceOutcome, InventoryEntry>): void {
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
  const sameKindAndCurve = (o: DeviceOutcome, e: InventoryEntry) => e.kind === o.device.kind && e.keyType === deviceCurve(o);
  const sameKind = (o: DeviceOutcome, e: InventoryEntry) => e.kind === o.device.kind;
  for (const fits of [sameKindAndCurve, sameKind]) {
    for (const o of outcomes) {
      if (assigned.has(o)) continue;
      const e = [...free].find((x) => x.serial === undefined && fits(o, x));
      if (e) take(o, e);
    }
  }
  for (const o of outcomes) {
    if (assigned.has(o)) continue;
    const count = inventory.hsms.filter((e) => e.kind === o.device.kind).length;
    o.rec.fail('inventory', 'VERIFY_INVENTORY', `the inventory lists ${count} ${KIND_NAME[o.device.kind]} device(s), and this one matches none of them`);
  }
  for (const e of free) {
    findings.push({
      code: 'VERIFY_INVENTORY',
      check: 'inventory',
      // The device DIRs given on their own have no directory in common.
      ...(ceremony === LOOSE_DEVICES ? {} : { file: ceremony }),
      message: `no products for inventory entry ${e.id} (${KIND_NAME[e.kind]}, ${e.keyType}${e.serial ? `, serial ${e.serial}` : ''})`,
    });
  }
}

/** Both keys of every device on one curve; a curve check passes for each key found on a ceremony curve (until the inventory says otherwise). */
export function checkCurves(outcomes: readonly DeviceOutcome[]): void {
  for (const o of outcomes) checkDeviceCurve(o);
}

/** Each matched device's keys on the curve its inventory entry names; then every key not failed passes the curve check. */
export function checkInventoryCurves(outcomes: readonly DeviceOutcome[], assigned: ReadonlyMap<DeviceOutcome, InventoryEntry>): void {
  for (const o of outcomes) {
    const entry = assigned.get(o);
    if (entry) for (const role of ROLES) o.rec.pass('inventory', role);
    for (const [role, key] of o.keys) {
      if (entry && key.curve !== entry.keyType) {
        o.rec.fail('curve', 'VERIFY_CURVE', `the ${role} key is on ${key.curve}, but inventory entry ${entry.id} is a ${entry.keyType} device`, { role });
      }
      if (!o.rec.failed('curve', role)) o.rec.pass('curve', role);
    }
  }
}
