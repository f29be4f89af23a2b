/**
 * The API the ceremony's blocks are written against: the engine's context
 * (lib/runbook/api.ts) with `ctx.steps` filled in by the ceremony's
 * operations. `runbook check` type-checks RUNBOOK.md's blocks against this
 * module, and the executor hands them the implementation (steps/index.ts).
 *
 * Types only, and nothing heavy behind them: every block's type-check loads
 * this file.
 *
 * A step that needs a password or PIN takes a function that asks for it,
 * not the value: the step asks again when the device refuses one (a typo at
 * a masked prompt is the commonest failure of a ceremony), and a block still
 * shows, in its own words, what the operator is asked.
 */
import type { RunbookContext as EngineContext, Secret, StepParams } from '../lib/runbook/api.ts';

export type { Secret, StepParams };

/** Asks the operator for a password or PIN (a `ctx.secret` call). */
export type AskSecret = () => Promise<Secret>;

/** "Provisioning the YubiHSM 2". */
export interface YubiHsmSteps {
  /** Asks for the serial printed on the casing and keeps it, zero-padded to 10 digits, as `serial`. */
  noteSerial(): Promise<string>;
  /** Shows the DANGER banner and asks for "y". */
  warn(): Promise<void>;
  /**
   * Finds exactly one YubiHSM 2, checks its serial against the one noted,
   * checks that no product of that serial exists and that products can be
   * written, and authenticates with the factory key (object 1).
   */
  connect(): Promise<void>;
  /** RESET DEVICE, then waits for the device to come back, polling; authenticates with the factory key again. */
  reset(): Promise<void>;
  /** Shows the authentication key banner and asks for "y". */
  authKeyWarning(): Promise<void>;
  /** Puts authentication key 2 (`tuf-authkey`), derived from the new password, and deletes the factory key. */
  replaceAuthKey(ask: AskSecret): Promise<void>;
  /**
   * Authenticates with the new key (asking again if the device refuses the
   * password), generates the root and targets keys, has the device attest
   * them, and writes the certificates and raw public keys.
   */
  createKeys(ask: AskSecret): Promise<void>;
  /** The PSF runbook's raw-ec-points-to-pem: writes both `.pem` files from the `.pub` files on disk. */
  writePem(): Promise<void>;
  /** Shows what to write on the bag. */
  label(): void;
}

/** "Provisioning the Nitrokey HSM". */
export interface NitrokeySteps {
  /** Shows the DANGER banner and asks for "y". */
  warn(): Promise<void>;
  /**
   * Finds exactly one token, checks it is a Nitrokey HSM (or the rehearsal's
   * stand-in) in a safe state, keeps its serial as `serial`, and checks that
   * no product of that serial exists and that products can be written.
   */
  connect(): Promise<void>;
  /** Re-initializes the token with its current SO-PIN (asked again if the device refuses it). */
  reset(askCurrentSoPin: AskSecret): Promise<void>;
  /** Sets the new SO-PIN (typed twice). */
  setSoPin(ask: AskSecret): Promise<void>;
  /** Sets the new user PIN (typed twice), checks it, and shows the serial to write down. */
  setUserPin(ask: AskSecret): Promise<void>;
  /** Asks for the serial as written down and checks it against the device's. */
  noteSerial(): Promise<void>;
  /** Generates the root and targets key pairs with the user PIN and writes their public keys. */
  createKeys(askUserPin: AskSecret): Promise<void>;
  /** True when the device in hand can attest its keys: a Nitrokey HSM (real or simulated) can, a SoftHSM2 token cannot. */
  canAttest(): Promise<boolean>;
  /**
   * With no PIN and no change to the device: reads the device's certificates
   * (EF 2F02) and the authenticated request the device signed for each of the
   * root and targets keys, matched to the keys by the key each attests,
   * checks each to the scheme root, and writes `SERIAL_devaut.cvc` and
   * `SERIAL_{root,targets}_attestation.cvc`.
   */
  attest(): Promise<void>;
  /** Shows what to write on the bag. */
  label(): void;
}

/** What `ctx.steps` offers the ceremony's blocks. */
export interface CeremonySteps {
  readonly yubihsm: YubiHsmSteps;
  readonly nitrokey: NitrokeySteps;
  /** Proves every product written so far, as `runbook verify` would, and prints the result. */
  verifyProducts(): Promise<void>;
}

/** The context of a block of RUNBOOK.md. */
export type RunbookContext = EngineContext<CeremonySteps>;
