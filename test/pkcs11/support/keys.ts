// The key pairs and token label the tests ask for. They are the PSF
// ceremony's (CKA_ID 0x12 "root", 0x13 "targets"; pkcs11-tool's --id 12 and
// --id 13), written out here: the device library under test knows no
// ceremony, and takes them from its caller.
import type { KeyPairRequest } from '../../../lib/pkcs11/generate.ts';

export const ROOT: KeyPairRequest = { role: 'root', id: Uint8Array.of(0x12), label: 'root' };
export const TARGETS: KeyPairRequest = { role: 'targets', id: Uint8Array.of(0x13), label: 'targets' };
export const KEYS: readonly KeyPairRequest[] = [ROOT, TARGETS];

/** The token label the tests provision with (the PSF runbook's). */
export const TOKEN_LABEL = 'Nitrokey HSM - TUF';
