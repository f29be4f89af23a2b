/**
 * The verification report: what `runbook verify` found, for the witness's
 * table and for `--json`. Plain data (strings, numbers, booleans) so that it
 * serialises as is.
 */
import type { Curve } from '../../keys.ts';
import type { HsmKind, Role } from '../../ceremony.ts';
import type { HsmEntry } from '../../runbook/inventory-types.ts';
import type { VerifyCheckCode } from './errors.ts';

/** The two TUF keys each device generates. */
export { ROLES, type Role } from '../../ceremony.ts';

export type DeviceKind = HsmKind;

/** The kinds as people name them. */
export const KIND_NAME: Readonly<Record<DeviceKind, string>> = { yubihsm2: 'YubiHSM 2', 'nitrokey-hsm': 'Nitrokey HSM' };

/** The table's check columns, in order. */
export type CheckName = 'files' | 'chain' | 'serial' | 'origin' | 'label' | 'capabilities' | 'key' | 'curve' | 'unique' | 'inventory';
export const CHECKS: readonly CheckName[] = ['files', 'chain', 'serial', 'origin', 'label', 'capabilities', 'key', 'curve', 'unique', 'inventory'];

/** Checks that only a YubiHSM attestation can answer. */
export const ATTESTATION_CHECKS: readonly CheckName[] = ['chain', 'serial', 'origin', 'label', 'capabilities'];

/**
 * pass: checked and holds. fail: checked and does not hold. skipped: could not
 * be checked because something it depends on failed (always beside a fail).
 * n/a: does not apply (a Nitrokey has no attestation; no inventory was given).
 */
export type CheckStatus = 'pass' | 'fail' | 'skipped' | 'n/a';

export interface Finding {
  readonly code: VerifyCheckCode;
  readonly check: CheckName;
  /** Why the check fails, for people (wording may change; the code does not). The file is in `file`, not here. */
  readonly message: string;
  /** The role the finding is about; absent when it concerns the whole device. */
  readonly role?: Role;
  /** The file or directory at fault, when there is one (a path; its name comes from the products, so it is untrusted text). */
  readonly file?: string;
}

/** Where a YubiHSM's attestation chain ends. */
export type AnchorSource = 'yubico' | 'simulated' | 'extra';

export interface AttestationSummary {
  readonly firmware: string;
  readonly serial: number;
  readonly origin: string;
  readonly domains: number[];
  readonly capabilities: string[];
  readonly objectId: number;
  readonly label: string;
}

export interface KeyReport {
  readonly role: Role;
  /** The key's curve, when a key could be read. */
  curve?: Curve;
  /** SHA-256 of the key's DER SubjectPublicKeyInfo, hex: the key's identity across the report. */
  spkiSha256?: string;
  /** What the device attested (YubiHSM only). */
  attestation?: AttestationSummary;
  readonly checks: Record<CheckName, CheckStatus>;
}

export interface DeviceReport {
  /** The DIR argument the device was found under. */
  readonly products: string;
  /** The device's directory. */
  readonly dir: string;
  readonly kind: DeviceKind;
  /** The serial as the directory names it (YubiHSM: 10 digits, 0-padded). */
  readonly serial: string;
  /** The inventory entry the device was matched to (e.g. YubiHSM2-2). */
  inventoryId?: string;
  /** The trust anchor the attestation chain ends at (YubiHSM only). */
  anchor?: AnchorSource;
  /** The chain ends at the simulator's CA: every line of the table says SIMULATED. */
  simulated: boolean;
  readonly keys: KeyReport[];
  readonly findings: Finding[];
}

/** One HSM the ceremony's inventory lists (the runbook's front matter). */
export type InventoryEntry = HsmEntry;

export interface InventoryReport {
  readonly title?: string;
  readonly entries: readonly InventoryEntry[];
}

export interface VerificationReport {
  /** Everything holds: no check failed. */
  readonly ok: boolean;
  /** The time certificates were checked against (ISO 8601). */
  readonly at: string;
  readonly directories: string[];
  readonly trust: { readonly source: AnchorSource; readonly subject: string; readonly sha256: string }[];
  readonly inventory?: InventoryReport;
  readonly devices: DeviceReport[];
  /** Findings that belong to no device: an entry of a products directory that is no device, an inventory entry without products. */
  readonly findings: Finding[];
  readonly summary: { readonly devices: number; readonly keys: number; readonly failures: number; readonly codes: VerifyCheckCode[] };
}
