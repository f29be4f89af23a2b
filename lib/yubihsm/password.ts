/**
 * Password-derived authentication keys, derived once per password.
 *
 * PBKDF2 with 10 000 iterations costs tens of milliseconds by design. A
 * ceremony opens several sessions with the same password (runbook
 * "Provisioning the YubiHSM 2", steps 13 and 16: one to provision, one to
 * create the TUF keys), so the derived keys are cached for the life of the
 * process. The cache is keyed by an HMAC of the password under a random
 * per-process key, so the password itself is not kept as a map key, and the
 * derivation runs on libuv's thread pool (async pbkdf2) so the event loop is
 * not blocked.
 */
import { createHmac, pbkdf2, randomBytes } from 'node:crypto';
import {
  KEY_BYTES,
  PBKDF2_HASH,
  PBKDF2_ITERATIONS,
  PBKDF2_SALT,
  splitKeys,
  type StaticKeys,
} from './session/scp03.ts';

const cacheKey = randomBytes(32);
const cache = new Map<string, Promise<StaticKeys>>();
let derivations = 0;

function slot(password: string | Uint8Array): string {
  return createHmac('sha256', cacheKey).update(password).digest('base64');
}

/**
 * K-ENC and K-MAC for `password` (PBKDF2-HMAC-SHA256, salt "Yubico", 10 000
 * iterations, 32 bytes: first 16 K-ENC, last 16 K-MAC). Runs PBKDF2 at most
 * once per distinct password; concurrent callers share the one derivation.
 */
export function keysFromPassword(password: string | Uint8Array): Promise<StaticKeys> {
  const key = slot(password);
  let pending = cache.get(key);
  if (pending === undefined) {
    derivations++;
    pending = new Promise<StaticKeys>((resolve, reject) => {
      pbkdf2(password, PBKDF2_SALT, PBKDF2_ITERATIONS, 2 * KEY_BYTES, PBKDF2_HASH, (err, out) => {
        if (err) reject(err);
        else resolve(splitKeys(out));
      });
    });
    cache.set(key, pending);
    pending.catch(() => cache.delete(key));
  }
  return pending;
}

/** How many PBKDF2 derivations this process has run (for the bench and tests; never the passwords). */
export function passwordDerivationCount(): number {
  return derivations;
}

/**
 * Forgets every cached derivation and overwrites the derived keys with zeros
 * (at the end of a ceremony, so K-ENC and K-MAC do not stay in memory for the
 * rest of the process). Keys already handed out are the same objects and are
 * wiped too: call this only when no session is being opened with them.
 */
export function clearPasswordCache(): void {
  for (const pending of cache.values()) {
    pending.then(
      (keys) => {
        keys.enc.fill(0);
        keys.mac.fill(0);
      },
      () => undefined,
    );
  }
  cache.clear();
}
