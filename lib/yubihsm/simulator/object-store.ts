import { randomInt, type KeyObject } from 'node:crypto';
import type { Capabilities } from '../capabilities.ts';
import { Algorithm } from '../protocol/algorithms.ts';
import { DeviceError } from '../protocol/errors.ts';
import { LABEL_BYTES, ObjectType } from '../protocol/objects.ts';
import type { StaticKeys } from '../session/scp03.ts';
import { refuse } from './errors.ts';

/**
 * The device's object store (Yubico, "Core Concepts: Objects", "Object ID",
 * "Domains", "Capabilities").
 *
 * - An object is identified by the pair (type, id): objects of different
 *   types may share an id; a second object with the same type and id is
 *   refused with OBJECT EXISTS.
 * - Ids are 16-bit. 0x0000 and 0xffff are reserved for the device's own
 *   objects (opaque 0 holds the device certificate); asking to create
 *   object 0 lets the device choose a free id.
 * - At most 256 objects, and together at most 1024 pages of 126 bytes
 *   (GET STORAGE INFO; "Their combined size cannot exceed 126 KB"). The
 *   device's own objects (opaque 0) live outside that storage: a new device
 *   reports 255 of 256 records and 1023 of 1024 pages free (Yubico, "GET
 *   STORAGE INFO", the shell example), its one object being authentication
 *   key 1.
 * - Labels are 40 bytes, stored as sent.
 * - Every object has a 16-bit domain field and a 64-bit capability field;
 *   authentication keys also have delegated capabilities.
 * - The sequence of an object counts how many objects with that type and id
 *   existed before it since the last reset.
 */

/** The device stores at most 256 objects (Yubico, "Core Concepts: Objects"). */
export const MAX_OBJECTS = 256;
/** Storage pages (GET STORAGE INFO: 1024 pages of 126 bytes, the 126 KB of "Core Concepts: Objects"). */
export const TOTAL_PAGES = 1024;
export const PAGE_BYTES = 126;
/** Reserved ids. */
export const RESERVED_IDS: readonly number[] = [0x0000, 0xffff];
/** All sixteen domains. */
export const ALL_DOMAINS = 0xffff;

export interface StoredObject {
  readonly id: number;
  readonly type: ObjectType;
  readonly algorithm: Algorithm;
  /** The 40 label bytes as the host sent them. */
  readonly label: Uint8Array;
  readonly domains: number;
  readonly capabilities: Capabilities;
  /** Authentication keys only (0 for other types). */
  readonly delegated: Capabilities;
  readonly sequence: number;
  /** ObjectOrigin bits. */
  readonly origin: number;
  /** Authentication keys: K-ENC and K-MAC. */
  readonly staticKeys?: StaticKeys;
  /** Asymmetric keys: the private key (the public half is derived from it). */
  readonly privateKey?: KeyObject;
  /** Opaque objects: the data. */
  readonly data?: Uint8Array;
}

export type NewObject = Omit<StoredObject, 'sequence'>;

/** What the store holds, as the state directory keeps it (the device's own objects are not part of it). */
export interface StoreSnapshot {
  readonly objects: readonly StoredObject[];
  /** The next sequence per (type, id), as [type, id, sequence]. */
  readonly sequences: readonly (readonly [number, number, number])[];
}

function key(type: number, id: number): number {
  return (type << 16) | id;
}

/**
 * Pages an object takes: its length in 126-byte pages, at least one. How the
 * device accounts for an object's metadata is not documented; this matches
 * the one published figure (a new device's authentication key takes one page).
 */
export function objectPages(o: StoredObject): number {
  return Math.max(1, Math.ceil(objectLength(o) / PAGE_BYTES));
}

/** The length GET OBJECT INFO reports: the bytes of key material or data the object holds. */
export function objectLength(o: StoredObject): number {
  switch (o.type) {
    case ObjectType.AuthenticationKey:
      // Two AES-128 keys (32 bytes) plus the 8 bytes of delegated capabilities, as devices report 40.
      return 40;
    case ObjectType.AsymmetricKey:
      // Private scalar plus both coordinates of the public point.
      return o.algorithm === Algorithm.EcP384 ? 48 * 3 : o.algorithm === Algorithm.EcP256 ? 32 * 3 : 0;
    default:
      return o.data?.length ?? 0;
  }
}

export class ObjectStore {
  private readonly objects = new Map<number, StoredObject>();
  private readonly sequences = new Map<number, number>();
  /** The device's own objects (opaque 0): outside the 256 records and the pages. */
  private readonly internal = new Set<number>();

  /** Forgets every object and every sequence counter (RESET DEVICE). */
  clear(): void {
    this.objects.clear();
    this.sequences.clear();
    this.internal.clear();
  }

  /** Every object held, the device's own included. */
  get size(): number {
    return this.objects.size;
  }

  /** Records in use: the objects in the object storage (not the device's own). */
  get records(): number {
    return this.objects.size - this.internal.size;
  }

  /** Pages in use by the objects in the object storage. */
  get pages(): number {
    let n = 0;
    for (const [k, o] of this.objects) if (!this.internal.has(k)) n += objectPages(o);
    return n;
  }

  get(type: number, id: number): StoredObject | undefined {
    return this.objects.get(key(type, id));
  }

  /** Every object, in (type, id) order. */
  list(): StoredObject[] {
    return [...this.objects.values()].sort((a, b) => a.type - b.type || a.id - b.id);
  }

  /** A free id for `type`, chosen at random as the device does when asked for id 0. */
  freeId(type: number): number {
    if (this.records >= MAX_OBJECTS) throw refuse(DeviceError.StorageFailed, 'the object store is full');
    for (;;) {
      const id = randomInt(1, 0xffff);
      if (!this.objects.has(key(type, id))) return id;
    }
  }

  /**
   * Stores a new object. `internal` allows the reserved ids, for the device's
   * own objects (opaque 0), which take no record and no page. Refuses a
   * taken (type, id) with OBJECT EXISTS, a reserved id with INVALID ID, and
   * a full store (records or pages) with STORAGE FAILED.
   */
  add(o: NewObject, internal = false): StoredObject {
    if (!internal && RESERVED_IDS.includes(o.id)) throw refuse(DeviceError.InvalidId, `id 0x${o.id.toString(16)} is reserved`);
    if (o.label.length !== LABEL_BYTES) throw refuse(DeviceError.InvalidData, `a label has ${LABEL_BYTES} bytes`);
    const k = key(o.type, o.id);
    if (this.objects.has(k)) throw refuse(DeviceError.ObjectExists, `object 0x${o.id.toString(16)} of type ${o.type} exists`);
    const sequence = this.sequences.get(k) ?? 0;
    const stored: StoredObject = { ...o, label: Uint8Array.from(o.label), sequence };
    if (!internal) {
      if (this.records >= MAX_OBJECTS) throw refuse(DeviceError.StorageFailed, 'the object store is full');
      if (this.pages + objectPages(stored) > TOTAL_PAGES) throw refuse(DeviceError.StorageFailed, 'the object storage has no room for the object');
    }
    this.objects.set(k, stored);
    if (internal) this.internal.add(k);
    this.sequences.set(k, (sequence + 1) & 0xff);
    return stored;
  }

  /**
   * Replaces the key material of an existing object (CHANGE AUTHENTICATION
   * KEY), keeping its id, type, attributes and sequence.
   */
  replaceKeys(type: number, id: number, staticKeys: StaticKeys): StoredObject {
    const k = key(type, id);
    const o = this.objects.get(k);
    if (!o) throw refuse(DeviceError.ObjectNotFound, `no object 0x${id.toString(16)} of type ${type}`);
    const changed: StoredObject = { ...o, staticKeys };
    this.objects.set(k, changed);
    return changed;
  }

  delete(type: number, id: number): boolean {
    const k = key(type, id);
    this.internal.delete(k);
    return this.objects.delete(k);
  }

  /** The objects in the object storage and the sequence counters (not the device's own objects, which come from its identity). */
  snapshot(): StoreSnapshot {
    const objects = [...this.objects].filter(([k]) => !this.internal.has(k)).map(([, o]) => o);
    const sequences = [...this.sequences].map(([k, s]) => [k >>> 16, k & 0xffff, s] as const);
    return { objects, sequences };
  }

  /**
   * Puts back a snapshot's objects and sequences, beside the device's own
   * objects already added. The snapshot's objects are taken as they were
   * stored: with their sequence, within the limits.
   */
  restore(s: StoreSnapshot): void {
    for (const o of s.objects) {
      const k = key(o.type, o.id);
      if (this.objects.has(k) || this.records >= MAX_OBJECTS) throw refuse(DeviceError.StorageFailed, `object 0x${o.id.toString(16)} cannot be restored`);
      this.objects.set(k, { ...o, label: Uint8Array.from(o.label) });
    }
    for (const [type, id, sequence] of s.sequences) this.sequences.set(key(type, id), sequence & 0xff);
  }
}
