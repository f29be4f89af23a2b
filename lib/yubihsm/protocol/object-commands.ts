/**
 * Object management payloads: LIST OBJECTS, GET OBJECT INFO, DELETE OBJECT
 * (Yubico command reference, sections of the same names).
 */
import { decodeCapabilities, encodeCapabilities, type Capabilities } from '../capabilities.ts';
import { YubiHsmError } from '../errors.ts';
import { Reader, requestReader, Writer } from './bytes.ts';
import { decodeLabel, encodeLabel, LABEL_BYTES, labelField, type ObjectType } from './objects.ts';

/** LIST OBJECTS filter tags (Yubico command reference, "LIST OBJECTS"). */
export const enum ListFilter {
  /** Object id (2 bytes). */
  Id = 0x01,
  /** Object type (1 byte). */
  Type = 0x02,
  /** Domains (2 bytes): objects in any of these domains. */
  Domains = 0x03,
  /** Capabilities (8 bytes): objects with any of these capabilities. */
  Capabilities = 0x04,
  /** Algorithm (1 byte). */
  Algorithm = 0x05,
  /** Label (40 bytes, NUL-padded). */
  Label = 0x06,
}

export interface ListObjectsFilter {
  readonly id?: number;
  readonly type?: ObjectType | number;
  readonly domains?: number;
  readonly capabilities?: Capabilities;
  readonly algorithm?: number;
  readonly label?: string;
}

/** One LIST OBJECTS entry. */
export interface ObjectEntry {
  readonly id: number;
  readonly type: number;
  /** Bumped each time an object with this id and type is created. */
  readonly sequence: number;
}

/** LIST OBJECTS request data: tag (1) ‖ value, for each filter given, in tag order. */
export function encodeListObjectsRequest(filter: ListObjectsFilter = {}): Uint8Array {
  const w = new Writer();
  if (filter.id !== undefined) w.u8(ListFilter.Id).u16(filter.id);
  if (filter.type !== undefined) w.u8(ListFilter.Type).u8(filter.type);
  if (filter.domains !== undefined) w.u8(ListFilter.Domains).u16(filter.domains);
  if (filter.capabilities !== undefined) w.u8(ListFilter.Capabilities).bytes(encodeCapabilities(filter.capabilities));
  if (filter.algorithm !== undefined) w.u8(ListFilter.Algorithm).u8(filter.algorithm);
  if (filter.label !== undefined) w.u8(ListFilter.Label).bytes(encodeLabel(filter.label));
  return w.finish();
}

/** LIST OBJECTS filters as the device reads them: the label as its 40 raw bytes, compared byte for byte. */
export interface ReceivedListFilter extends Omit<ListObjectsFilter, 'label'> {
  readonly label?: Uint8Array;
}

/**
 * Device side: parses LIST OBJECTS request data (attacker-controlled). A
 * truncated filter is WRONG LENGTH; an unknown tag is INVALID DATA.
 */
export function decodeListObjectsRequest(data: Uint8Array): ReceivedListFilter {
  const r = requestReader(data, 'LIST OBJECTS');
  const f: {
    id?: number;
    type?: number;
    domains?: number;
    capabilities?: Capabilities;
    algorithm?: number;
    label?: Uint8Array;
  } = {};
  while (r.remaining > 0) {
    const tag = r.u8('filter tag');
    // A host-sent byte; tags the device does not define fall to the default.
    switch (tag as ListFilter) {
      case ListFilter.Id:
        f.id = r.u16('id filter');
        break;
      case ListFilter.Type:
        f.type = r.u8('type filter');
        break;
      case ListFilter.Domains:
        f.domains = r.u16('domains filter');
        break;
      case ListFilter.Capabilities:
        f.capabilities = decodeCapabilities(r.bytesN(8, 'capabilities filter'));
        break;
      case ListFilter.Algorithm:
        f.algorithm = r.u8('algorithm filter');
        break;
      case ListFilter.Label:
        f.label = Uint8Array.from(r.bytesN(LABEL_BYTES, 'label filter'));
        break;
      default:
        throw new YubiHsmError('YUBIHSM_DEVICE_INVALID_DATA', `LIST OBJECTS request: unknown filter tag 0x${tag.toString(16)}`);
    }
  }
  return f;
}

/** Device side: LIST OBJECTS response data: id (2) ‖ type (1) ‖ sequence (1), per object. */
export function encodeListObjectsResponse(entries: readonly ObjectEntry[]): Uint8Array {
  const w = new Writer(4 * entries.length);
  for (const e of entries) w.u16(e.id).u8(e.type).u8(e.sequence);
  return w.finish();
}

/** Host side: parses LIST OBJECTS response data (attacker-controlled: a whole number of 4-byte entries). */
export function decodeListObjectsResponse(data: Uint8Array): ObjectEntry[] {
  if (data.length % 4 !== 0) {
    throw new YubiHsmError('YUBIHSM_RESPONSE_MALFORMED', `LIST OBJECTS response: ${data.length} bytes is not a whole number of 4-byte entries`);
  }
  const r = new Reader(data, 'LIST OBJECTS response');
  const out: ObjectEntry[] = [];
  while (r.remaining > 0) out.push({ id: r.u16('id'), type: r.u8('type'), sequence: r.u8('sequence') });
  return out;
}

/** GET OBJECT INFO and DELETE OBJECT request data: id (2) ‖ type (1). */
export function encodeObjectRef(id: number, type: ObjectType | number): Uint8Array {
  return new Writer(3).u16(id).u8(type).finish();
}

/** Device side: parses an id (2) ‖ type (1) request (attacker-controlled; wrong size: WRONG LENGTH). */
export function decodeObjectRef(data: Uint8Array, what: string): { id: number; type: number } {
  const r = requestReader(data, what);
  const id = r.u16('id');
  const type = r.u8('type');
  r.end();
  return { id, type };
}

/** An object's metadata, as GET OBJECT INFO returns it. */
export interface ObjectInfo {
  readonly capabilities: Capabilities;
  readonly id: number;
  /** Stored length in bytes. */
  readonly size: number;
  /** 16-bit domains field. */
  readonly domains: number;
  readonly type: number;
  readonly algorithm: number;
  readonly sequence: number;
  /** ObjectOrigin bits. */
  readonly origin: number;
  readonly label: string;
  readonly delegatedCapabilities: Capabilities;
}

/** Bytes of a GET OBJECT INFO response. */
export const OBJECT_INFO_BYTES = 8 + 2 + 2 + 2 + 1 + 1 + 1 + 1 + LABEL_BYTES + 8;

/**
 * Device side: GET OBJECT INFO response data: capabilities (8) ‖ id (2) ‖
 * length (2) ‖ domains (2) ‖ type (1) ‖ algorithm (1) ‖ sequence (1) ‖
 * origin (1) ‖ label (40) ‖ delegated capabilities (8).
 */
export function encodeObjectInfoResponse(info: Omit<ObjectInfo, 'label'> & { readonly label: string | Uint8Array }): Uint8Array {
  return new Writer(OBJECT_INFO_BYTES)
    .bytes(encodeCapabilities(info.capabilities))
    .u16(info.id)
    .u16(info.size)
    .u16(info.domains)
    .u8(info.type)
    .u8(info.algorithm)
    .u8(info.sequence)
    .u8(info.origin)
    .bytes(labelField(info.label))
    .bytes(encodeCapabilities(info.delegatedCapabilities))
    .finish();
}

/** Host side: parses GET OBJECT INFO response data (attacker-controlled: exactly 66 bytes). */
export function decodeObjectInfoResponse(data: Uint8Array): ObjectInfo {
  const r = new Reader(data, 'GET OBJECT INFO response');
  const info: ObjectInfo = {
    capabilities: decodeCapabilities(r.bytesN(8, 'capabilities')),
    id: r.u16('id'),
    size: r.u16('length'),
    domains: r.u16('domains'),
    type: r.u8('type'),
    algorithm: r.u8('algorithm'),
    sequence: r.u8('sequence'),
    origin: r.u8('origin'),
    label: decodeLabel(r.bytesN(LABEL_BYTES, 'label')),
    delegatedCapabilities: decodeCapabilities(r.bytesN(8, 'delegated capabilities')),
  };
  r.end();
  return info;
}
