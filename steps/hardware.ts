/**
 * Where the ceremony's devices are: the one seam between the ceremony's
 * steps and the world. A live ceremony reaches real devices (a YubiHSM 2
 * over USB or a yubihsm-connector, a Nitrokey HSM through OpenSC's PKCS#11
 * module); a rehearsal reaches simulated ones, or SoftHSM2 tokens standing
 * in for the Nitrokeys (steps/rehearsal/bench.ts). The steps are the same.
 */
import { scHsmToolReader, type AttestationReader } from '../lib/pkcs11/attestation.ts';
import { NITROKEY_HSM, type ExpectedToken } from '../lib/pkcs11/identity.ts';
import type { Token } from '../lib/pkcs11/token.ts';
import type { YubiHsmClient } from '../lib/yubihsm/client.ts';

export interface Hardware {
  /** What stands behind it, for messages and the transcript: `devices`, `simulated`, `softhsm2`. */
  readonly kind: 'devices' | 'simulated' | 'softhsm2';
  /**
   * Opens the one YubiHSM 2 plugged in ("Provisioning the YubiHSM 2": exactly
   * one). None, or more than one, is refused with the device library's code.
   */
  openYubiHsm(): Promise<YubiHsmClient>;
  /** Opens the one initialized token present ("Provisioning the Nitrokey HSM": exactly one). */
  openNitrokey(): Promise<Token>;
  /** What the token must report itself to be. */
  readonly nitrokeyIdentity: ExpectedToken;
  /**
   * Where the attestations of the keys on `token` (opened by openNitrokey)
   * are read: OpenSC's sc-hsm-tool for a real Nitrokey HSM, the chip itself
   * for a simulated one; undefined when the token cannot attest its keys
   * (a SoftHSM2 token). Absent: this hardware attests nothing.
   */
  nitrokeyAttestation?(token: Token): AttestationReader | undefined;
}

export interface DeviceOptions {
  /** A yubihsm-connector URL; without one, the YubiHSM 2 is reached over USB. */
  readonly connector?: string;
  /** The PKCS#11 module for the Nitrokey HSM; default OpenSC's. */
  readonly pkcs11Module?: string;
  /** OpenSC's sc-hsm-tool, which reads a Nitrokey HSM's attestations; default `sc-hsm-tool` on PATH. */
  readonly scHsmTool?: string;
}

/** Real devices, for `runbook run`. Libraries are loaded on first use: a rehearsal never loads `usb` or a PKCS#11 module. */
export function deviceHardware(options: DeviceOptions = {}): Hardware {
  return {
    kind: 'devices',
    nitrokeyIdentity: NITROKEY_HSM,
    async openYubiHsm() {
      const { YubiHsmClient } = await import('../lib/yubihsm/client.ts');
      return options.connector === undefined ? YubiHsmClient.usb() : YubiHsmClient.connector(options.connector);
    },
    async openNitrokey() {
      const { openPkcs11Token } = await import('../lib/pkcs11/driver.ts');
      return openPkcs11Token(options.pkcs11Module === undefined ? {} : { module: options.pkcs11Module });
    },
    nitrokeyAttestation() {
      // The token is a Nitrokey HSM (steps check its identity before anything else): a SmartCard-HSM, which OpenSC's tool reads.
      return scHsmToolReader(options.scHsmTool === undefined ? {} : { tool: options.scHsmTool });
    },
  };
}

/**
 * A rehearsal's hardware: its attestations chain to the simulators' CAs, and
 * its Nitrokey HSMs may be SoftHSM2 tokens; both are trusted only then.
 */
export function isRehearsal(hardware: Pick<Hardware, 'kind'>): boolean {
  return hardware.kind !== 'devices';
}
