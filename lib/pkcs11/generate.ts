import { join } from 'node:path';
import { ProductsError } from '../products/errors.ts';
import { pemFromPoint, spkiFromPoint, type Curve } from '../keys.ts';
import { refuseExistingProduct, writeProduct } from '../products/write.ts';
import { curveOfParams, decodeEcPoint } from './ec-point.ts';
import { Pkcs11Error } from './errors.ts';
import { NITROKEY_HSM, checkIdentity, checkSafeState, type ExpectedToken } from './identity.ts';
import { checkUserPin } from './pins.ts';
import { PRIVATE_KEY_FLAGS, PUBLIC_KEY_FLAGS, attributeName, type PrivateKeyFlag, type PublicKeyFlag } from './templates.ts';
import { idHex, type KeyPairAttributes, type Token } from './token.ts';
import { untrustedText } from '../untrusted-text.ts';
import { checkSerial } from './untrusted.ts';

/**
 * "Provisioning the Nitrokey HSM", steps 19–22 (the PSF runbook's
 * generate-nitrohsm-keys): generate the TUF root and targets key pairs on the
 * token and publish their public keys as ceremony products.
 */

export type KeyRole = 'root' | 'targets';

export interface CeremonyKey {
  readonly role: KeyRole;
  /** CKA_ID. The PSF runbook passed `--id 12` and `--id 13` to pkcs11-tool, which reads ids as hex. */
  readonly id: Uint8Array;
  /** CKA_LABEL, as the PSF runbook's `--label`. */
  readonly label: string;
}

export const CEREMONY_KEYS: readonly CeremonyKey[] = [
  { role: 'root', id: Uint8Array.of(0x12), label: 'root' },
  { role: 'targets', id: Uint8Array.of(0x13), label: 'targets' },
];

export interface GenerateOptions {
  /** The user PIN set during provisioning (step 21). */
  readonly userPin: string;
  /** Step 19: P-256 (`--type p256`) or P-384 (`--type p384`), from the HSM inventory. */
  readonly curve: Curve;
  /** The ceremony-products folder; files go to `<dir>/<serial>/`. */
  readonly productsDir: string;
  readonly expect?: ExpectedToken;
}

export interface GeneratedKey extends CeremonyKey {
  readonly curve: Curve;
  /** DER SubjectPublicKeyInfo, the `.pub` product. */
  readonly spki: Uint8Array;
  /** The same key in PEM, the `.pem` product. */
  readonly pem: string;
  readonly files: { readonly pub: string; readonly pem: string };
}

export interface GenerateResult {
  readonly serial: string;
  readonly keys: readonly GeneratedKey[];
}

/** Step 22: the product files, `<serial>/<serial>_<role>_pubkey.{pub,pem}`. */
export function productPaths(productsDir: string, serial: string, role: KeyRole): { pub: string; pem: string } {
  const base = join(productsDir, serial, `${serial}_${role}_pubkey`);
  return { pub: `${base}.pub`, pem: `${base}.pem` };
}

export async function generateCeremonyKeys(token: Token, options: GenerateOptions): Promise<GenerateResult> {
  checkUserPin(options.userPin);
  const info = await token.info();
  checkIdentity(info, options.expect ?? NITROKEY_HSM, token.description);
  // A wrong PIN now could lock the user PIN: refuse a token already on its final try.
  checkSafeState(info, token.description);
  const serial = checkSerial(info.serial, token.description);

  // The PSF runbook refused to overwrite an existing product. We check before
  // generating anything, so a refusal leaves the token untouched.
  const planned = CEREMONY_KEYS.map((key) => ({ key, files: productPaths(options.productsDir, serial, key.role) }));
  for (const { files } of planned) {
    await refuseExistingProduct(files.pub);
    await refuseExistingProduct(files.pem);
  }

  await token.login('user', options.userPin);
  try {
    // Keys are never overwritten either: any object already holding one of our ids stops us.
    const present = await describeTokenKeys(token);
    if (present.length > 0) {
      throw new Pkcs11Error(
        'PKCS11_KEY_EXISTS',
        `${token.description} already holds ${present.join(' and ')} under the ceremony's key ids ${CEREMONY_KEYS.map((k) => idHex(k.id)).join(' and ')}; ` +
          'keys are never overwritten, and nothing was generated',
        { onToken: present },
      );
    }

    const generated: GeneratedKey[] = [];
    for (const { key, files } of planned) {
      try {
        await token.generateKeyPair({ curve: options.curve, id: key.id, label: key.label });
        generated.push(await exportKey(token, key, options.curve, files));
      } catch (err) {
        throw await incomplete(token, err, `generating the ${key.label} key (id ${idHex(key.id)})`);
      }
    }

    // Both pairs exist and check out: publish, all or nothing reported.
    const written: string[] = [];
    try {
      for (const key of generated) {
        await writeProduct(key.files.pub, key.spki);
        written.push(key.files.pub);
        await writeProduct(key.files.pem, key.pem);
        written.push(key.files.pem);
      }
    } catch (err) {
      const code = err instanceof ProductsError ? err.code : 'PRODUCT_WRITE_FAILED';
      throw new ProductsError(
        code,
        `${(err as Error).message}; the root and targets keys exist on ${token.description}, ` +
          `and ${written.length ? `only ${written.join(', ')} were written` : 'no product was written'}`,
        { cause: err },
      );
    }
    return { serial, keys: generated };
  } finally {
    await token.logout();
  }
}

/** Reads back one generated pair, checks it is what the ceremony asked for, and encodes its public key. */
async function exportKey(token: Token, key: CeremonyKey, curve: Curve, files: { pub: string; pem: string }): Promise<GeneratedKey> {
  const attributes = await token.keyAttributes(key.id);
  const wrong = unexpectedAttributes(attributes, key.label);
  if (wrong.length > 0) {
    throw new Pkcs11Error('PKCS11_KEY_ATTRIBUTES', `the ${key.label} key on ${token.description} came out with ${wrong.join(', ')}`);
  }
  const object = await token.publicKey(key.id);
  const onCurve = curveOfParams(object.ecParams);
  if (onCurve !== curve) {
    throw new Pkcs11Error('PKCS11_KEY_ATTRIBUTES', `the ${key.label} key on ${token.description} is on ${onCurve}, not ${curve}`);
  }
  // The PSF runbook's `pkcs11-tool --read-object --type pubkey` + `openssl ec -pubin`, in process.
  const point = decodeEcPoint(curve, object.ecPoint);
  return { ...key, curve, spki: spkiFromPoint(curve, point), pem: pemFromPoint(curve, point), files };
}

/**
 * How a generated pair differs from what the ceremony asked for: any flag of
 * the templates the token did not honour, or a label it did not keep. Empty
 * when the pair is as asked.
 */
export function unexpectedAttributes(a: KeyPairAttributes, label: string): string[] {
  const wrong: string[] = [];
  for (const [flag, wanted] of Object.entries(PRIVATE_KEY_FLAGS) as [PrivateKeyFlag, boolean][]) {
    if (a.private[flag] !== wanted) wrong.push(`${attributeName(flag)} ${String(a.private[flag])} on the private key`);
  }
  for (const [flag, wanted] of Object.entries(PUBLIC_KEY_FLAGS) as [PublicKeyFlag, boolean][]) {
    if (a.public[flag] !== wanted) wrong.push(`${attributeName(flag)} ${String(a.public[flag])} on the public key`);
  }
  for (const half of ['private', 'public'] as const) {
    if (a[half].label !== label) wrong.push(`CKA_LABEL ${untrustedText(a[half].label)} on the ${half} key`);
  }
  return wrong;
}

/** A key generation stopped part-way: say exactly which ceremony keys are on the token now. */
async function incomplete(token: Token, err: unknown, doing: string): Promise<Pkcs11Error> {
  const onToken = await describeTokenKeys(token).catch(() => undefined);
  const state = onToken === undefined ? 'what is on the token could not be read back' : onToken.length ? `on the token now: ${onToken.join(', ')}` : 'no ceremony key is on the token';
  const ckr = err instanceof Pkcs11Error ? err.ckr : undefined;
  const why = err instanceof Error ? err.message : String(err);
  return new Pkcs11Error('PKCS11_KEYGEN_INCOMPLETE', `${doing} failed (${why}); ${state}; re-provision the token before trying again`, {
    cause: err,
    ckr,
    onToken: onToken ?? [],
  });
}

/** "root (public-key, private-key)" for each ceremony id that has objects on the token. */
async function describeTokenKeys(token: Token): Promise<string[]> {
  const found: string[] = [];
  for (const key of CEREMONY_KEYS) {
    const classes = await token.objectsWithId(key.id);
    if (classes.length) found.push(`${key.label} (${classes.join(', ')})`);
  }
  return found;
}
