import { createPrivateKey } from 'node:crypto';
import { z } from 'zod';
import { LABEL_BYTES } from '../protocol/objects.ts';
import { KEY_BYTES } from '../session/scp03.ts';
import type { LogSnapshot } from './audit-log.ts';
import type { OptionsSnapshot } from './device-options.ts';
import { SimulatorError } from './errors.ts';
import type { StoredObject, StoreSnapshot } from './object-store.ts';

/**
 * The non-volatile memory of a simulated YubiHSM 2 as one JSON document: the
 * object store (key material included, so a later process can sign with
 * keys provisioned earlier), the options and the Log Store. What a real
 * device loses at power-off (sessions) is not in it; its identity (the
 * attestation key and device certificate) is kept apart, because RESET
 * DEVICE keeps it and wipes everything here.
 *
 * The file is the simulator's own, but it is read back as untrusted input:
 * every field is checked, and anything out of place is SIMULATOR_STATE_INVALID.
 */

/** What a device keeps across power cycles. */
export interface SavedDeviceState {
  readonly store: StoreSnapshot;
  readonly options: OptionsSnapshot;
  readonly log: LogSnapshot;
}

const FORMAT = 'runbook simulated YubiHSM 2 state';
const VERSION = 1;

const u8 = z.number().int().min(0).max(0xff);
const u16 = z.number().int().min(0).max(0xffff);
const u32 = z.number().int().min(0).max(0xffff_ffff);
const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${2 * bytes}}$`));
const capabilities = hex(8);
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);

const objectSchema = z.strictObject({
  id: u16,
  type: u8,
  algorithm: u8,
  label: hex(LABEL_BYTES),
  domains: u16,
  capabilities,
  delegated: capabilities,
  sequence: u8,
  origin: u8,
  enc: hex(KEY_BYTES).optional(),
  mac: hex(KEY_BYTES).optional(),
  privateKey: base64.optional(),
  data: base64.optional(),
});

const entrySchema = z.strictObject({
  number: u16,
  command: u8,
  length: u16,
  sessionKey: u16,
  targetKey: u16,
  secondKey: u16,
  result: u8,
  tick: u32,
  digest: hex(16),
});

const stateSchema = z.strictObject({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  serial: u32,
  objects: z.array(objectSchema).max(256),
  sequences: z.array(z.tuple([u8, u16, u8])),
  options: z.strictObject({
    forceAudit: z.number().int().min(0).max(2),
    commandAudit: z.array(z.tuple([u8, z.number().int().min(0).max(2)])),
  }),
  log: z.strictObject({
    entries: z.array(entrySchema).max(62),
    lastDigest: hex(16),
    nextNumber: u16,
    unloggedBoots: u16,
    unloggedAuths: u16,
  }),
});

type ObjectJson = z.infer<typeof objectSchema>;

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toBase64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const fromBase64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const capabilitiesHex = (c: bigint): string => BigInt.asUintN(64, c).toString(16).padStart(16, '0');

function objectJson(o: StoredObject): ObjectJson {
  return {
    id: o.id,
    type: o.type,
    algorithm: o.algorithm,
    label: toHex(o.label),
    domains: o.domains,
    capabilities: capabilitiesHex(o.capabilities),
    delegated: capabilitiesHex(o.delegated),
    sequence: o.sequence,
    origin: o.origin,
    ...(o.staticKeys ? { enc: toHex(o.staticKeys.enc), mac: toHex(o.staticKeys.mac) } : {}),
    ...(o.privateKey ? { privateKey: toBase64(o.privateKey.export({ type: 'pkcs8', format: 'der' })) } : {}),
    ...(o.data ? { data: toBase64(o.data) } : {}),
  };
}

/** The state as the text of the file (it holds private keys: the caller writes it readable by the owner only). */
export function encodeDeviceState(serial: number, state: SavedDeviceState): string {
  const document: z.infer<typeof stateSchema> = {
    format: FORMAT,
    version: VERSION,
    serial,
    objects: state.store.objects.map(objectJson),
    sequences: state.store.sequences.map(([type, id, sequence]) => [type, id, sequence]),
    options: {
      forceAudit: state.options.forceAudit,
      commandAudit: state.options.commandAudit.map(({ command, setting }) => [command, setting]),
    },
    log: {
      entries: state.log.entries.map((e) => ({ ...e, digest: toHex(e.digest) })),
      lastDigest: toHex(state.log.lastDigest),
      nextNumber: state.log.nextNumber,
      unloggedBoots: state.log.unloggedBoots,
      unloggedAuths: state.log.unloggedAuths,
    },
  };
  return `${JSON.stringify(document, null, 1)}\n`;
}

/** Parses the text of a state file for `serial` (`where` names the file in errors). */
export function decodeDeviceState(text: string, serial: number, where: string): SavedDeviceState {
  const invalid = (why: string, cause?: unknown) => new SimulatorError('SIMULATOR_STATE_INVALID', `${where}: ${why}`, { cause });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw invalid('not JSON', err);
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`not a simulated YubiHSM 2 state (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown issue'})`, parsed.error);
  }
  const doc = parsed.data;
  if (doc.serial !== serial) throw invalid(`holds the state of serial ${doc.serial}, not ${serial}`);
  const objects = doc.objects.map((o): StoredObject => {
    if ((o.enc === undefined) !== (o.mac === undefined)) throw invalid(`object 0x${o.id.toString(16)} has half an authentication key`);
    let privateKey: StoredObject['privateKey'];
    if (o.privateKey !== undefined) {
      try {
        privateKey = createPrivateKey({ key: Buffer.from(o.privateKey, 'base64'), format: 'der', type: 'pkcs8' });
      } catch (err) {
        throw invalid(`object 0x${o.id.toString(16)} holds an unreadable private key`, err);
      }
    }
    return {
      id: o.id,
      type: o.type,
      algorithm: o.algorithm,
      label: fromHex(o.label),
      domains: o.domains,
      capabilities: BigInt(`0x${o.capabilities}`),
      delegated: BigInt(`0x${o.delegated}`),
      sequence: o.sequence,
      origin: o.origin,
      ...(o.enc !== undefined && o.mac !== undefined ? { staticKeys: { enc: fromHex(o.enc), mac: fromHex(o.mac) } } : {}),
      ...(privateKey ? { privateKey } : {}),
      ...(o.data !== undefined ? { data: fromBase64(o.data) } : {}),
    };
  });
  return {
    store: { objects, sequences: doc.sequences },
    options: {
      forceAudit: doc.options.forceAudit,
      commandAudit: doc.options.commandAudit.map(([command, setting]) => ({ command, setting })),
    },
    log: {
      entries: doc.log.entries.map((e) => ({ ...e, digest: fromHex(e.digest) })),
      lastDigest: fromHex(doc.log.lastDigest),
      nextNumber: doc.log.nextNumber,
      unloggedBoots: doc.log.unloggedBoots,
      unloggedAuths: doc.log.unloggedAuths,
    },
  };
}
