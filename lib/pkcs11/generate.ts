import { pemFromPoint, spkiFromPoint, type Curve } from '../keys.ts';
import { curveOfParams, decodeEcPoint } from './ec-point.ts';
import { Pkcs11Error } from './errors.ts';
import { NITROKEY_HSM, checkIdentity, checkSafeState, type ExpectedToken } from './identity.ts';
import { checkUserPin } from './pins.ts';
import { PRIVATE_KEY_FLAGS, PUBLIC_KEY_FLAGS, attributeName, type PrivateKeyFlag, type PublicKeyFlag } from './templates.ts';
import { idHex, type KeyPairAttributes, type ObjectClass, type Token } from './token.ts';
import { untrustedText } from '../untrusted-text.ts';
import { checkSerial } from './untrusted.ts';

/**
 * Generates EC key pairs on a token and hands back their public keys: what
 * the PSF runbook's generate-nitrohsm-keys did with `pkcs11-tool --keypairgen`
 * and `--read-object`, in process. Which keys (CKA_ID, CKA_LABEL) is the
 * caller's to say; publishing the public keys is the caller's too. This
 * module writes no file.
 */

/** One key pair to make. */
export interface KeyPairRequest {
  /** The caller's name for the key (e.g. a TUF role); only echoed back and used in messages. */
  readonly role: string;
  /** CKA_ID of both halves. `pkcs11-tool --id 12` is Uint8Array.of(0x12): it reads ids as hex. */
  readonly id: Uint8Array;
  /** CKA_LABEL of both halves. */
  readonly label: string;
}

export interface GenerateKeyPairsOptions {
  /** The user PIN; a wrong one fails with PKCS11_CKR_PIN_INCORRECT and the token's count of tries moves (see pin-tries.ts). */
  readonly userPin: string;
  readonly curve: Curve;
  /** The pairs to make, in this order. Their ids must be distinct, and none may be on the token yet. */
  readonly keys: readonly KeyPairRequest[];
  /** What the token must report itself to be; default: a Nitrokey HSM through OpenSC. */
  readonly expect?: ExpectedToken;
}

/** A generated pair, read back from the token and checked. */
export interface GeneratedKeyPair {
  readonly role: string;
  readonly id: Uint8Array;
  readonly label: string;
  readonly curve: Curve;
  /** The uncompressed public point 0x04 ‖ X ‖ Y, as CKA_EC_POINT holds it. */
  readonly point: Uint8Array;
  /** DER SubjectPublicKeyInfo of the public key (what `pkcs11-tool --read-object --type pubkey` wrote). */
  readonly spki: Uint8Array;
  /** The same key in PEM (what `openssl ec -pubin` wrote). */
  readonly pem: string;
}

export interface GenerateKeyPairsResult {
  /** The token's serial, checked to be one that can name files (untrusted.ts). */
  readonly serial: string;
  readonly keys: GeneratedKeyPair[];
}

export async function generateKeyPairs(token: Token, options: GenerateKeyPairsOptions): Promise<GenerateKeyPairsResult> {
  checkUserPin(options.userPin);
  checkRequests(options.keys);
  const info = await token.info();
  checkIdentity(info, options.expect ?? NITROKEY_HSM, token.description);
  // A wrong PIN now could lock the user PIN: refuse a token already on its final try.
  checkSafeState(info, token.description);
  const serial = checkSerial(info.serial, token.description);

  // C_Login (§5.6). A wrong PIN fails here with PKCS11_CKR_PIN_INCORRECT,
  // before anything is made; the driver closes the session it opened, so the
  // token's info() shows the new count of tries straight away.
  await token.login('user', options.userPin);
  try {
    // Keys are never overwritten: any object already holding one of the
    // requested ids stops us before anything is generated. Private keys are
    // CKA_PRIVATE objects (§4.4), which only a user session sees: this is
    // why the check comes after the login.
    const present = await describeTokenKeys(token, options.keys);
    if (present.length > 0) {
      throw new Pkcs11Error(
        'PKCS11_KEY_EXISTS',
        `${token.description} already holds ${present.join(' and ')} under the key ids ${options.keys.map((k) => idHex(k.id)).join(' and ')}; ` +
          'keys are never overwritten, and nothing was generated',
        { onToken: present },
      );
    }

    const generated: GeneratedKeyPair[] = [];
    for (const key of options.keys) {
      try {
        await token.generateKeyPair({ curve: options.curve, id: key.id, label: key.label });
        generated.push(await readBack(token, key, options.curve));
      } catch (err) {
        throw await incomplete(token, options.keys, err, `generating the ${untrustedText(key.label)} key (id ${idHex(key.id)})`);
      }
    }
    return { serial, keys: generated };
  } finally {
    await token.logout();
  }
}

/**
 * The requests must name distinct, non-empty ids (a second pair under an id
 * would make signing by id ambiguous) and printable labels (tools show them),
 * and there must be at least one. Checked before the token is touched.
 */
function checkRequests(keys: readonly KeyPairRequest[]): void {
  const refuse = (why: string) => new Pkcs11Error('PKCS11_KEY_REQUEST_INVALID', `key pairs to generate: ${why}; nothing was generated`);
  if (keys.length === 0) throw refuse('none requested');
  const ids = new Set<string>();
  const roles = new Set<string>();
  for (const key of keys) {
    if (key.id.length === 0) throw refuse(`the ${untrustedText(key.role)} key has an empty CKA_ID`);
    const hex = idHex(key.id);
    if (ids.has(hex)) throw refuse(`id ${hex} is requested twice`);
    ids.add(hex);
    if (roles.has(key.role)) throw refuse(`role ${untrustedText(key.role)} is requested twice`);
    roles.add(key.role);
    if (key.label === '' || [...key.label].some(unprintable)) {
      throw refuse(`the label ${untrustedText(key.label)} of key ${hex} is empty or holds a control or bidirectional formatting character`);
    }
  }
}

/** C0 and C1 controls and bidirectional formatting characters: what a terminal or a viewer would act on. */
function unprintable(c: string): boolean {
  return c < ' ' || (c >= '\u007f' && c <= '\u009f') || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069');
}

/** Reads back one generated pair, checks it is what was asked for, and encodes its public key. */
async function readBack(token: Token, key: KeyPairRequest, curve: Curve): Promise<GeneratedKeyPair> {
  const attributes = await token.keyAttributes(key.id);
  const wrong = unexpectedAttributes(attributes, key.label);
  if (wrong.length > 0) {
    throw new Pkcs11Error('PKCS11_KEY_ATTRIBUTES', `the ${untrustedText(key.label)} key on ${token.description} came out with ${wrong.join(', ')}`);
  }
  const object = await token.publicKey(key.id);
  const onCurve = curveOfParams(object.ecParams);
  if (onCurve !== curve) {
    throw new Pkcs11Error('PKCS11_KEY_ATTRIBUTES', `the ${untrustedText(key.label)} key on ${token.description} is on ${onCurve}, not ${curve}`);
  }
  // The PSF runbook's `pkcs11-tool --read-object --type pubkey` + `openssl ec -pubin`, in process.
  // spkiFromPoint refuses a point that is not on the curve.
  const point = decodeEcPoint(curve, object.ecPoint);
  return {
    role: key.role,
    id: Uint8Array.from(key.id),
    label: key.label,
    curve,
    point,
    spki: spkiFromPoint(curve, point),
    pem: pemFromPoint(curve, point),
  };
}

/**
 * How a generated pair differs from the templates (templates.ts): any flag
 * the token did not honour, or a label it did not keep. Empty when the pair
 * is as asked.
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

/** A key generation stopped part-way: say exactly which of the requested keys are on the token now. */
async function incomplete(token: Token, keys: readonly KeyPairRequest[], err: unknown, doing: string): Promise<Pkcs11Error> {
  const onToken = await describeTokenKeys(token, keys).catch(() => undefined);
  const state =
    onToken === undefined
      ? 'what is on the token could not be read back'
      : onToken.length
        ? `on the token now: ${onToken.join(', ')}`
        : 'none of the requested keys is on the token';
  const ckr = err instanceof Pkcs11Error ? err.ckr : undefined;
  const why = err instanceof Error ? err.message : String(err);
  return new Pkcs11Error('PKCS11_KEYGEN_INCOMPLETE', `${doing} failed (${why}); ${state}; re-provision the token before trying again`, {
    cause: err,
    ckr,
    onToken: onToken ?? [],
  });
}

/** Classes in the order messages name them; C_FindObjects returns objects in no particular order (§5.7). */
const CLASS_ORDER: readonly ObjectClass[] = ['public-key', 'private-key', 'other'];

/** "root (public-key, private-key)" for each requested id that has objects on the token (labels as requested, not as the token says). */
async function describeTokenKeys(token: Token, keys: readonly KeyPairRequest[]): Promise<string[]> {
  const found: string[] = [];
  for (const key of keys) {
    const classes = [...(await token.objectsWithId(key.id))].sort((a, b) => CLASS_ORDER.indexOf(a) - CLASS_ORDER.indexOf(b));
    if (classes.length) found.push(`${key.label} (${classes.join(', ')})`);
  }
  return found;
}
