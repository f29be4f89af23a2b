/**
 * The ceremony's parameters as types: the one definition that the front
 * matter's schema (inventory.ts) produces and that code blocks see through
 * api.ts.
 *
 * Every block's type-check loads this module, so it imports types only and
 * nothing that drags a parser or schema library's declarations in with it:
 * keys.ts brings node:crypto, whose declarations every check loads anyway.
 */
import type { Curve, HsmKind } from '../ceremony.ts';

export type { Curve, HsmKind };

/** One HSM the ceremony provisions (the front matter's `hsms`). */
export interface HsmEntry {
  /** The signing body ID written on its bag, e.g. `YubiHSM2-1`, `NitrokeyHSM-4`. Unique. */
  readonly id: string;
  readonly kind: HsmKind;
  /** The curve of the keys it generates (root and targets). */
  readonly keyType: Curve;
  /** The device serial number when known before the ceremony (written on the bag). */
  readonly serial?: string;
}

/** The ceremony's parameters (the front matter). */
export interface Inventory {
  readonly title: string;
  /** Directory products are written to, relative to the runbook's directory. Default `ceremony-products`. */
  readonly products: string;
  readonly hsms: readonly HsmEntry[];
  /** Path of the PKCS#11 module that drives the Nitrokey HSMs (OpenSC's by default). */
  readonly pkcs11Module?: string;
  /** The PKCS#11 manufacturer ID a Nitrokey HSM token must report. */
  readonly nitrokeyManufacturer?: string;
}
