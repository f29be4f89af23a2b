// SoftHSM2 for the PKCS#11 tests and the bench: the module, and shelves of
// tokens (lib/pkcs11/softhsm.ts) in fresh temporary directories, with tokens
// made in process through pkcs11js (so no PIN is ever on an argv, not even a
// fixture's).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FACTORY_SO_PIN, FACTORY_USER_PIN } from '../../../lib/pkcs11/simulator/smartcard-hsm.ts';
import { SoftHsmShelf, findSoftHsmModule } from '../../../lib/pkcs11/softhsm.ts';

/** The SoftHSM2 module, or undefined (RUNBOOK_SOFTHSM_MODULE="" pretends it is not installed). */
export const softhsmModule: string | undefined = findSoftHsmModule();

/** The PINs a token has before the ceremony: the SmartCard-HSM factory values. */
export const FACTORY_PINS = { soPin: FACTORY_SO_PIN, userPin: FACTORY_USER_PIN } as const;

/** A new, empty shelf in a fresh directory under `root`, selected through SOFTHSM2_CONF; new tokens get the factory PINs. */
export function newShelf(module: string, root: string = tmpdir()): SoftHsmShelf {
  return new SoftHsmShelf(mkdtempSync(join(root, 'runbook-softhsm-')), { module, ...FACTORY_PINS }).use();
}

/** A new shelf with one token, made and inserted: what the ceremony finds when one Nitrokey HSM is plugged in. */
export async function shelfWithOne(module: string, root?: string): Promise<{ shelf: SoftHsmShelf; serial: string }> {
  const shelf = newShelf(module, root);
  const { serial } = await shelf.create('hsm');
  await shelf.insert('hsm');
  return { shelf, serial };
}

/** Deletes the shelf's directory and every token in it. */
export function discardShelf(shelf: SoftHsmShelf): void {
  rmSync(shelf.dir, { recursive: true, force: true });
}
