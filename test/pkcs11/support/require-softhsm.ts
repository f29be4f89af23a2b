// The rule on skipping the SoftHSM2 half of the PKCS#11 suites.
import { it } from 'vitest';
import { softhsmModule } from './softhsm.ts';

/** CI sets RUNBOOK_REQUIRE_SOFTHSM=1: there a missing SoftHSM2 is a failure, never a skip. */
export const softhsmRequired = process.env.RUNBOOK_REQUIRE_SOFTHSM === '1';

/**
 * The SoftHSM2 module when the SoftHSM2 suites can run. When they cannot, say so loudly (a
 * quiet skip would let the real-implementation half of the contract go
 * untested without anyone noticing), and under RUNBOOK_REQUIRE_SOFTHSM=1
 * register a test that fails.
 */
export function softhsmAvailable(): string | undefined {
  if (softhsmModule) return softhsmModule;
  if (softhsmRequired) {
    it('SoftHSM2 is installed (RUNBOOK_REQUIRE_SOFTHSM=1)', () => {
      throw new Error('RUNBOOK_REQUIRE_SOFTHSM=1 but no libsofthsm2.so was found; the SoftHSM2 suites must not skip in CI');
    });
    return undefined;
  }
  const banner = [
    '',
    '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
    '!!! SoftHSM2 is not installed: the PKCS#11 contract suite runs against the',
    '!!! simulated SmartCard-HSM only. Install it (Debian: apt-get install',
    '!!! softhsm2 opensc) or set RUNBOOK_SOFTHSM_MODULE to libsofthsm2.so.',
    '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
    '',
  ].join('\n');
  process.stderr.write(banner);
  return undefined;
}

