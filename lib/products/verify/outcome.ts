/** What verifying one device gives the checks that look across devices (curve, inventory, key reuse). */
import type { TrustStore } from '../trust/anchors.ts';
import type { ReadKey } from './der.ts';
import type { DeviceDir } from './layout.ts';
import type { DeviceRecorder } from './recorder.ts';
import type { AnchorSource, AttestationSummary, CheckName, NitrokeyAttestationSummary, Role } from './report.ts';

export interface VerifyContext {
  readonly trust: TrustStore;
  readonly allowSimulated: boolean;
  /** A Nitrokey HSM without attestations fails (VERIFY_UNATTESTED) instead of being warned about. */
  readonly requireAttestation: boolean;
  readonly at: Date;
}

/** The root a device's attestation chains end at. */
export interface Anchor {
  readonly source: AnchorSource;
  /** Its subject (X.509) or certificate holder reference (CV certificate). */
  readonly subject: string;
  /** SHA-256 of the certificate as pinned, hex. */
  readonly sha256: string;
}

export interface DeviceOutcome {
  readonly device: DeviceDir;
  readonly rec: DeviceRecorder;
  /** The key each role holds, when it could be read (for curve, reuse and inventory checks). */
  readonly keys: Map<Role, ReadKey>;
  readonly attestations: Map<Role, AttestationSummary>;
  /** What a Nitrokey HSM's attestations proved, per role. */
  readonly nitrokeyAttestations: Map<Role, NitrokeyAttestationSummary>;
  /** The checks that do not apply to this device's products (shown n/a). */
  readonly notApplicable: Set<CheckName>;
  anchor?: Anchor;
  /** Made by a simulator: its attestation root, or a SoftHSM2 token standing in for a Nitrokey HSM. */
  simulated: boolean;
}
