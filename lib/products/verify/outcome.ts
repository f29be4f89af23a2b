/** What verifying one device gives the checks that look across devices (curve, inventory, key reuse). */
import type { TrustCertificate, TrustStore } from '../trust/anchors.ts';
import type { ReadKey } from './der.ts';
import type { DeviceDir } from './layout.ts';
import type { DeviceRecorder } from './recorder.ts';
import type { AttestationSummary, Role } from './report.ts';

export interface VerifyContext {
  readonly trust: TrustStore;
  readonly allowSimulated: boolean;
  readonly at: Date;
}

export interface DeviceOutcome {
  readonly device: DeviceDir;
  readonly rec: DeviceRecorder;
  /** The key each role holds, when it could be read (for curve, reuse and inventory checks). */
  readonly keys: Map<Role, ReadKey>;
  readonly attestations: Map<Role, AttestationSummary>;
  anchor?: TrustCertificate;
}
