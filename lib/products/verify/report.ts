/**
 * The verification report: what `runbook verify` found, for the witness's
 * table and for `--json`. Plain data (strings, numbers, booleans) so that it
 * serialises as is.
 */
import type { Curve } from '../../keys.ts';
import type { HsmKind, Role } from '../../ceremony.ts';
import type { HsmEntry } from '../../runbook/inventory-types.ts';
import type { FindingCode, VerifyWarningCode } from './errors.ts';

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
 * Those a Nitrokey HSM's attestation answers too: the chain to CardContact's
 * root, the serial of the device that signed, and that the key was generated
 * on that device. It states no label or capabilities: those never apply to a
 * Nitrokey HSM, and none of the three applies to an unattested one.
 */
export const NITROKEY_ATTESTATION_CHECKS: readonly CheckName[] = ['chain', 'serial', 'origin'];

/**
 * pass: checked and holds. fail: checked and does not hold. skipped: could not
 * be checked because something it depends on failed (always beside a fail).
 * n/a: does not apply (what no attestation states; a Nitrokey HSM without
 * attestations, which is a warning; no inventory was given).
 */
export type CheckStatus = 'pass' | 'fail' | 'skipped' | 'n/a';

export interface Finding {
  /** A VERIFY_ code, or a CVC_ code: how a Nitrokey HSM's attestation failed (lib/cvc). */
  readonly code: FindingCode;
  readonly check: CheckName;
  /** Why the check fails, for people (wording may change; the code does not). The file is in `file`, not here. */
  readonly message: string;
  /** The role the finding is about; absent when it concerns the whole device. */
  readonly role?: Role;
  /** The file or directory at fault, when there is one (a path; its name comes from the products, so it is untrusted text). */
  readonly file?: string;
}

/**
 * Something the products do not prove, without a check failing: it is
 * reported, and leaves the exit status alone. Today one kind: a Nitrokey HSM
 * with no attestation (VERIFY_UNATTESTED), which `--require-attestation`
 * makes a finding instead.
 */
export interface Warning {
  readonly code: VerifyWarningCode;
  /** The check column it is about. */
  readonly check: CheckName;
  readonly message: string;
  readonly role?: Role;
  readonly file?: string;
}

/**
 * Where an attestation chain ends: Yubico's YubiHSM root, CardContact's
 * SmartCard-HSM Scheme Root CA (a Nitrokey HSM), a simulator's root (either
 * kind), or a root the caller added (tests only).
 */
export type AnchorSource = 'yubico' | 'cardcontact' | 'simulated' | 'extra';

export interface AttestationSummary {
  readonly firmware: string;
  readonly serial: number;
  readonly origin: string;
  readonly domains: number[];
  readonly capabilities: string[];
  readonly objectId: number;
  readonly label: string;
}

/**
 * What a Nitrokey HSM's attestation proves about a key: the CV certificate
 * chain it verified through, by certificate holder reference (CHR), and the
 * device's serial.
 */
export interface NitrokeyAttestationSummary {
  /** The Scheme Root CA's CHR (DESRCACC100001 for CardContact's). */
  readonly root: string;
  /** The Device Issuer CA's CHR (e.g. DEDINK0400001). */
  readonly issuer: string;
  /** The device's CHR (e.g. DENK040414400000): the serial and a five-digit sequence. */
  readonly device: string;
  /** The serial the device CHR gives (e.g. DENK0404144). */
  readonly serial: string;
  /** The attested key's request CHR: the serial and the device's key sequence number (e.g. DENK040414400001). */
  readonly key: string;
  /** The device certificate's validity, as dates (YYYY-MM-DD). */
  readonly validFrom: string;
  readonly validTo: string;
}

export interface KeyReport {
  readonly role: Role;
  /** The key's curve, when a key could be read. */
  curve?: Curve;
  /** SHA-256 of the key's DER SubjectPublicKeyInfo, hex: the key's identity across the report. */
  spkiSha256?: string;
  /** What the device attested (YubiHSM only). */
  attestation?: AttestationSummary;
  /** What the device attested (Nitrokey HSM with attestations only). */
  nitrokeyAttestation?: NitrokeyAttestationSummary;
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
  /** The trust anchor the attestation chains end at (a YubiHSM, or an attested Nitrokey HSM). */
  anchor?: AnchorSource;
  /** A simulator's products (its CA, or a SoftHSM2 token): every line of the table says SIMULATED. */
  simulated: boolean;
  readonly keys: KeyReport[];
  readonly findings: Finding[];
  /** What the products leave unproven without failing a check (VERIFY_UNATTESTED). */
  readonly warnings: Warning[];
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
  readonly summary: {
    readonly devices: number;
    readonly keys: number;
    readonly failures: number;
    /** The findings' codes, each once, sorted. */
    readonly codes: FindingCode[];
    /** Warnings count for nothing in `ok`. */
    readonly warnings: number;
    readonly warningCodes: VerifyWarningCode[];
  };
}
