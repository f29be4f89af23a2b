/**
 * Checks of one Nitrokey HSM's products ("Provisioning the Nitrokey HSM",
 * step 22): for each TUF key, its public key as DER SubjectPublicKeyInfo
 * (.pub) and as PEM (.pem). A Nitrokey HSM issues no attestation the
 * ceremony keeps, so what can be proven is that both files hold the same key,
 * a valid point on a named ceremony curve.
 */
import { basename, join } from 'node:path';
import { readPemPublicKey, readSpki, sameKey, type ReadKey } from './der.ts';
import { fileName, passFiles, readDeviceFiles, type ExpectedFile } from './device-files.ts';
import type { DeviceDir } from './layout.ts';
import { PRODUCT_FILES } from '../../ceremony.ts';
import { DeviceRecorder } from './recorder.ts';
import { ROLES, type Role } from './report.ts';
import type { DeviceOutcome } from './outcome.ts';

function nitrokeyFiles(serial: string): ExpectedFile[] {
  return ROLES.flatMap((role) => [
    { name: fileName(PRODUCT_FILES.publicKey(serial, role)), role },
    { name: fileName(PRODUCT_FILES.pem(serial, role)), role },
  ]);
}

/** One key file through `reader`; what the reader refuses is a finding. */
function read(path: string, bytes: Buffer | undefined, rec: DeviceRecorder, role: Role, reader: (bytes: Buffer) => ReadKey): ReadKey | undefined {
  if (!bytes) return undefined;
  try {
    return reader(bytes);
  } catch (err) {
    rec.failRead(err, 'key', path, role);
    return undefined;
  }
}

export function verifyNitrokey(device: DeviceDir): DeviceOutcome {
  const rec = new DeviceRecorder();
  const out: DeviceOutcome = { device, rec, keys: new Map(), attestations: new Map() };
  const s = device.serial;
  const files = readDeviceFiles(device.dir, nitrokeyFiles(s), rec);
  passFiles(ROLES, rec);
  for (const role of ROLES) {
    const pubName = fileName(PRODUCT_FILES.publicKey(s, role));
    const pemName = fileName(PRODUCT_FILES.pem(s, role));
    const pubPath = join(device.dir, pubName);
    const pemPath = join(device.dir, pemName);
    const pub = read(pubPath, files.get(pubName), rec, role, (bytes) => readSpki(bytes));
    // The .pem is compared with the .pub (validated): only a different key needs its own point check.
    const pem = read(pemPath, files.get(pemName), rec, role, (bytes) => readPemPublicKey(bytes.toString('latin1'), pub));
    if (pub) out.keys.set(role, pub);
    else if (pem) out.keys.set(role, pem);
    if (pub && pem) {
      if (sameKey(pub, pem)) rec.pass('key', role);
      else rec.fail('key', 'VERIFY_PEM_MISMATCH', `not the key of ${basename(pubPath)}`, { role, file: pemPath });
    }
  }
  return out;
}
