/**
 * No key twice: a TUF key is one device's, for one role. The same public key
 * under two roles, two devices or two ceremonies means products were copied
 * or a key was imported, whatever the attestations say.
 */
import type { EcPublicKey } from '../../keys.ts';
import type { DeviceOutcome } from './outcome.ts';
import type { Role } from './report.ts';

function keyId(key: EcPublicKey): string {
  return `${key.curve}:${Buffer.from(key.point).toString('hex')}`;
}

export function checkKeyReuse(outcomes: readonly DeviceOutcome[]): void {
  const uses = new Map<string, { o: DeviceOutcome; role: Role }[]>();
  for (const o of outcomes) {
    for (const [role, key] of o.keys) {
      const id = keyId(key);
      const list = uses.get(id);
      if (list) list.push({ o, role });
      else uses.set(id, [{ o, role }]);
    }
  }
  for (const list of uses.values()) {
    for (const { o, role } of list) {
      if (list.length === 1) {
        o.rec.pass('unique', role);
        continue;
      }
      const others = list
        .filter((u) => u.o !== o || u.role !== role)
        .map((u) => `${u.o.device.serial} ${u.role}${u.o.device.products === o.device.products ? '' : ` in ${u.o.device.products}`}`);
      o.rec.fail('unique', 'VERIFY_KEY_REUSED', `the ${role} key is also the key of ${others.join(', ')}`, { role });
    }
  }
}
