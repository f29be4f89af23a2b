// Looking at a token from the outside, for tests that claim a refusal left
// it as it was or that an error names exactly what is on it.
import { inspect } from 'node:util';
import { expect } from 'vitest';
import { idHex, type Token } from '../../../lib/pkcs11/token.ts';
import { KEYS } from './keys.ts';

export interface TokenState {
  readonly label: string;
  readonly serial: string;
  readonly flags: number;
  /** Per test key id (hex, support/keys.ts): the object classes on the token and the public point, as a user sees them. */
  readonly objects: Record<string, { classes: string[]; point: string | undefined }>;
}

/**
 * Everything a provisioning or key-generation step could have changed:
 * token info, and, logged in as the user (private keys are invisible
 * otherwise, PKCS#11 v2.40 §4.4), the objects under both test key ids.
 * `userPin` undefined means the user PIN is not set, so only public objects can be seen.
 */
export async function tokenState(token: Token, userPin: string | undefined): Promise<TokenState> {
  const info = await token.info();
  if (userPin !== undefined) await token.login('user', userPin);
  try {
    const objects: TokenState['objects'] = {};
    for (const key of KEYS) {
      const classes = (await token.objectsWithId(key.id)).sort();
      const point = classes.includes('public-key') ? Buffer.from((await token.publicKey(key.id)).ecPoint).toString('hex') : undefined;
      objects[idHex(key.id)] = { classes, point };
    }
    return { label: info.label, serial: info.serial, flags: info.flags, objects };
  } finally {
    if (userPin !== undefined) await token.logout();
  }
}

/** No object at all under either test key id. */
export const NO_KEYS: TokenState['objects'] = Object.fromEntries(KEYS.map((k) => [idHex(k.id), { classes: [], point: undefined }]));

/**
 * The same token, with `method` replaced: for faults a real token shows only
 * rarely (a card pulled, memory full, an attribute not honoured). Every other
 * call goes to the real token unchanged.
 */
export function withFault<M extends keyof Token>(token: Token, method: M, fault: Token[M]): Token {
  return new Proxy(token, {
    get(target, prop) {
      if (prop === method) return fault;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Neither the error, nor any error in its cause chain, nor any property or stack, holds one of `secrets`. */
export function expectNoSecret(err: unknown, secrets: readonly string[]): void {
  expect(err).toBeInstanceOf(Error);
  const text = inspect(err, { depth: 20, showHidden: true });
  for (const secret of secrets) expect(text, 'a PIN leaked into an error').not.toContain(secret);
}

/** True if `text` holds a C0 or C1 control or a bidirectional override: what a terminal would act on. */
export function hasControl(text: string): boolean {
  return [...text].some((c) => {
    const code = c.codePointAt(0) ?? 0;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
  });
}
