// The two implementations of Token the contract suite runs against: the
// pkcs11js driver over SoftHSM2, and the simulated SmartCard-HSM.
import { openPkcs11Token } from '../../../lib/pkcs11/driver.ts';
import { NITROKEY_HSM, SOFTHSM2, type ExpectedToken } from '../../../lib/pkcs11/identity.ts';
import { SimulatedSmartCardHsm } from '../../../lib/pkcs11/simulator/smartcard-hsm.ts';
import { openSimulatedToken } from '../../../lib/pkcs11/simulator/token.ts';
import type { SoftHsmShelf } from '../../../lib/pkcs11/softhsm.ts';
import type { Token } from '../../../lib/pkcs11/token.ts';
import { FACTORY_PINS, discardShelf, newShelf } from './softhsm.ts';

/** The PINs a token has before the ceremony: the SmartCard-HSM factory values. */
export const START = FACTORY_PINS;

export interface Backend {
  readonly name: string;
  /** What this backend's tokens report themselves as. */
  readonly expect: ExpectedToken;
  /** A kind of token this backend is not. */
  readonly other: ExpectedToken;
  /** Opens one initialized token with the START PINs and no keys. */
  fresh(): Promise<Token>;
  /** Opens with no initialized token present (rejects). */
  none(): Promise<Token>;
  /** Opens with two initialized tokens present (rejects). */
  two(): Promise<Token>;
  /** Removes whatever the last call made. */
  cleanup(): void;
}

export function softhsmBackend(module: string): Backend {
  let shelves: SoftHsmShelf[] = [];
  const shelf = (): SoftHsmShelf => {
    const s = newShelf(module);
    shelves.push(s);
    return s;
  };
  const open = () => openPkcs11Token({ module });
  return {
    name: 'SoftHSM2 through pkcs11js',
    expect: SOFTHSM2,
    other: NITROKEY_HSM,
    async fresh() {
      const s = shelf();
      await s.create('ceremony');
      await s.insert('ceremony');
      return open();
    },
    async none() {
      // A token on the shelf, not inserted, is not seen.
      await shelf().create('bagged');
      return open();
    },
    async two() {
      const s = shelf();
      await s.create('first');
      await s.create('second');
      await s.insertAll();
      return open();
    },
    cleanup() {
      for (const s of shelves) discardShelf(s);
      shelves = [];
    },
  };
}

export function simulatorBackend(): Backend {
  return {
    name: 'simulated SmartCard-HSM',
    expect: NITROKEY_HSM,
    other: SOFTHSM2,
    fresh: () => openSimulatedToken([new SimulatedSmartCardHsm({ serial: 'DENK0102947', ...START })]),
    // An uninitialized chip in the reader does not count as a token to provision.
    none: () => openSimulatedToken([new SimulatedSmartCardHsm({ initialized: false })]),
    two: () => openSimulatedToken([new SimulatedSmartCardHsm(), new SimulatedSmartCardHsm()]),
    cleanup() {},
  };
}
