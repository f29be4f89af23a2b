import { Pkcs11Error } from './errors.ts';
import { TokenFlag, type TokenInfo } from './token.ts';
import { untrustedText } from '../untrusted-text.ts';

/** A slot with a token present, as a module lists it. */
export interface SlotCandidate<S> {
  readonly slot: S;
  readonly info: TokenInfo;
}

/**
 * "Provisioning the Nitrokey HSM", step 3: exactly one HSM is inserted.
 *
 * Only initialized tokens count. SoftHSM2 always offers one spare,
 * uninitialized slot for the next token, and a card that was never
 * initialized is not one the ceremony can re-initialize with an SO PIN
 * anyway. None is a refusal, and so is more than one: we never guess which
 * device the operator meant.
 */
export function selectToken<S>(candidates: readonly SlotCandidate<S>[], where: string): SlotCandidate<S> {
  const initialized = candidates.filter((c) => (c.info.flags & TokenFlag.TOKEN_INITIALIZED) !== 0);
  const [only, ...others] = initialized;
  if (!only) {
    throw new Pkcs11Error('PKCS11_NO_TOKEN', `no initialized token found through ${where}; insert exactly one HSM`);
  }
  if (others.length > 0) {
    const list = initialized.map((c) => `${untrustedText(c.info.label)} (serial ${untrustedText(c.info.serial)})`).join(', ');
    throw new Pkcs11Error(
      'PKCS11_TOKEN_AMBIGUOUS',
      `${initialized.length} initialized tokens found through ${where}: ${list}; remove all but the one to provision`,
    );
  }
  return only;
}
