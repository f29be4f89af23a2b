// Payloads of the device management commands against the layouts of
// Yubico's command reference (GET STORAGE INFO, GET PSEUDO RANDOM, BLINK
// DEVICE, SET OPTION, GET OPTION, SET LOG INDEX, CHANGE AUTHENTICATION KEY).
// Expected bytes are spelled out field by field in each test.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { YubiHsmError } from '../../lib/yubihsm/errors.ts';
import {
  decodeBlinkRequest,
  decodePseudoRandomRequest,
  decodePseudoRandomResponse,
  decodeStorageInfoResponse,
  encodeBlinkRequest,
  encodePseudoRandomRequest,
  encodeStorageInfoResponse,
  MAX_PSEUDO_RANDOM_BYTES,
} from '../../lib/yubihsm/protocol/device-commands.ts';
import { decodeChangeAuthenticationKeyRequest, encodeChangeAuthenticationKeyRequest } from '../../lib/yubihsm/protocol/key-commands.ts';
import { decodeSetLogIndexRequest, encodeSetLogIndexRequest } from '../../lib/yubihsm/protocol/log-commands.ts';
import {
  AuditSetting,
  decodeCommandAuditValue,
  decodeForceAuditValue,
  decodeGetOptionRequest,
  decodeSetOptionRequest,
  DeviceOption,
  encodeCommandAuditValue,
  encodeForceAuditValue,
  encodeGetOptionRequest,
  encodeSetOptionRequest,
} from '../../lib/yubihsm/protocol/option-commands.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('GET STORAGE INFO', () => {
  // The shell example of the reference: "free records: 255/256, free pages: 1023/1024 page size: 126 bytes".
  const bytes = '0100' + '00ff' + '0400' + '03ff' + '007e';

  it('reads total records ‖ free records ‖ total pages ‖ free pages ‖ page size', () => {
    const info = decodeStorageInfoResponse(hex(bytes));
    expect(info).toEqual({ totalRecords: 256, freeRecords: 255, totalPages: 1024, freePages: 1023, pageSize: 126 });
    expect(toHex(encodeStorageInfoResponse(info))).toBe(bytes);
  });

  it('refuses any other length, and more free than there is', () => {
    expect(() => decodeStorageInfoResponse(hex(bytes).subarray(0, 9))).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    expect(() => decodeStorageInfoResponse(hex(bytes + '00'))).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    expect(() => decodeStorageInfoResponse(hex('0100' + '0101' + '0400' + '03ff' + '007e'))).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    expect(() => decodeStorageInfoResponse(hex('0100' + '00ff' + '0400' + '0401' + '007e'))).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
  });
});

describe('GET PSEUDO RANDOM', () => {
  it('asks for a 2-byte count', () => {
    expect(toHex(encodePseudoRandomRequest(16))).toBe('0010');
    expect(toHex(encodePseudoRandomRequest(0x0200))).toBe('0200');
    expect(decodePseudoRandomRequest(hex('0010'))).toBe(16);
    expect(() => decodePseudoRandomRequest(hex('00'))).toThrowWithCode('YUBIHSM_DEVICE_WRONG_LENGTH');
    expect(() => decodePseudoRandomRequest(hex('001000'))).toThrowWithCode('YUBIHSM_DEVICE_WRONG_LENGTH');
  });

  it('asks for no more than a session response carries: 2048 − 3 − 1 − 8 = 2036, 2032 in blocks, less a pad byte and a header', () => {
    expect(MAX_PSEUDO_RANDOM_BYTES).toBe(2028);
    expect(toHex(encodePseudoRandomRequest(2028))).toBe('07ec');
    expect(() => encodePseudoRandomRequest(2029)).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
    expect(() => encodePseudoRandomRequest(-1)).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
    expect(() => encodePseudoRandomRequest(1.5)).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
  });

  it('takes exactly the bytes asked for', () => {
    expect(toHex(decodePseudoRandomResponse(hex('a1a2a3'), 3))).toBe('a1a2a3');
    expect(() => decodePseudoRandomResponse(hex('a1a2'), 3)).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    expect(() => decodePseudoRandomResponse(hex('a1a2a3a4'), 3)).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
  });
});

describe('BLINK DEVICE', () => {
  it('sends the seconds in one byte', () => {
    expect(toHex(encodeBlinkRequest(10))).toBe('0a');
    expect(decodeBlinkRequest(hex('0a'))).toBe(10);
    expect(() => encodeBlinkRequest(256)).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
    expect(() => decodeBlinkRequest(hex(''))).toThrowWithCode('YUBIHSM_DEVICE_WRONG_LENGTH');
    expect(() => decodeBlinkRequest(hex('0a00'))).toThrowWithCode('YUBIHSM_DEVICE_WRONG_LENGTH');
  });
});

describe('SET OPTION and GET OPTION', () => {
  it('sets an option as tag (1) ‖ length (2) ‖ value: force-audit on', () => {
    expect(toHex(encodeSetOptionRequest(DeviceOption.ForceAudit, encodeForceAuditValue(AuditSetting.On)))).toBe('01' + '0001' + '01');
    expect(decodeSetOptionRequest(hex('01 0001 01'))).toEqual({ option: 1, value: hex('01') });
  });

  it('sets command-audit as command ‖ setting pairs (the reference example: SIGN HMAC and VERIFY HMAC off)', () => {
    const value = encodeCommandAuditValue([
      { command: 0x53, setting: AuditSetting.Off },
      { command: 0x5c, setting: AuditSetting.Off },
    ]);
    expect(toHex(value)).toBe('53005c00');
    expect(toHex(encodeSetOptionRequest(DeviceOption.CommandAudit, value))).toBe('03' + '0004' + '53005c00');
    expect(decodeCommandAuditValue(hex('5300 5c02 6701'), 'YUBIHSM_RESPONSE_MALFORMED')).toEqual([
      { command: 0x53, setting: AuditSetting.Off },
      { command: 0x5c, setting: AuditSetting.Fixed },
      { command: 0x67, setting: AuditSetting.On },
    ]);
  });

  it('refuses, device side, a length field that does not match the value (WRONG LENGTH)', () => {
    expect(() => decodeSetOptionRequest(hex('01 0002 01'))).toThrowWithCode('YUBIHSM_DEVICE_WRONG_LENGTH');
    expect(() => decodeSetOptionRequest(hex('01 0001 0101'))).toThrowWithCode('YUBIHSM_DEVICE_WRONG_LENGTH');
    expect(() => decodeSetOptionRequest(hex('01 00'))).toThrowWithCode('YUBIHSM_DEVICE_WRONG_LENGTH');
  });

  it('refuses audit values the device does not define, with the code of the side reading them', () => {
    expect(() => decodeForceAuditValue(hex('03'), 'YUBIHSM_DEVICE_INVALID_DATA')).toThrowWithCode('YUBIHSM_DEVICE_INVALID_DATA');
    expect(() => decodeForceAuditValue(hex('0101'), 'YUBIHSM_DEVICE_INVALID_DATA')).toThrowWithCode('YUBIHSM_DEVICE_INVALID_DATA');
    expect(() => decodeForceAuditValue(hex(''), 'YUBIHSM_RESPONSE_MALFORMED')).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    expect(decodeForceAuditValue(hex('02'), 'YUBIHSM_RESPONSE_MALFORMED')).toBe(AuditSetting.Fixed);
    expect(() => decodeCommandAuditValue(hex('5300 5c'), 'YUBIHSM_DEVICE_INVALID_DATA')).toThrowWithCode('YUBIHSM_DEVICE_INVALID_DATA');
    expect(() => decodeCommandAuditValue(hex('5303'), 'YUBIHSM_RESPONSE_MALFORMED')).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    expect(() => encodeForceAuditValue(3 as AuditSetting)).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
  });

  it('gets an option by its tag (1 byte)', () => {
    expect(toHex(encodeGetOptionRequest(DeviceOption.CommandAudit))).toBe('03');
    expect(decodeGetOptionRequest(hex('01'))).toBe(1);
    expect(() => decodeGetOptionRequest(hex(''))).toThrowWithCode('YUBIHSM_DEVICE_WRONG_LENGTH');
    expect(() => decodeGetOptionRequest(hex('0101'))).toThrowWithCode('YUBIHSM_DEVICE_WRONG_LENGTH');
  });
});

describe('SET LOG INDEX', () => {
  it('sends the index of the last entry read (2)', () => {
    // The reference's shell example: "audit set 0 41".
    expect(toHex(encodeSetLogIndexRequest(41))).toBe('0029');
    expect(decodeSetLogIndexRequest(hex('0029'))).toBe(41);
    expect(() => decodeSetLogIndexRequest(hex('29'))).toThrowWithCode('YUBIHSM_DEVICE_WRONG_LENGTH');
    expect(() => decodeSetLogIndexRequest(hex('002900'))).toThrowWithCode('YUBIHSM_DEVICE_WRONG_LENGTH');
  });
});

describe('CHANGE AUTHENTICATION KEY', () => {
  const enc = hex('090b47dbed595654901dee1cc655e420');
  const mac = hex('592fd483f759e29909a04c4505d2ce0a');
  const expected = '0002' + '26' + '090b47dbed595654901dee1cc655e420' + '592fd483f759e29909a04c4505d2ce0a';

  it('lays out id, algorithm 38 (aes128-yubico-authentication), K-ENC, K-MAC', () => {
    expect(toHex(encodeChangeAuthenticationKeyRequest(2, enc, mac))).toBe(expected);
    expect(hex(expected)).toHaveLength(35);
    expect(decodeChangeAuthenticationKeyRequest(hex(expected))).toEqual({ id: 2, algorithm: 38, key: hex(expected.slice(6)) });
  });

  it('refuses keys of the wrong size, and a request too short for id and algorithm', () => {
    expect(() => encodeChangeAuthenticationKeyRequest(2, enc.subarray(1), mac)).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
    expect(() => decodeChangeAuthenticationKeyRequest(hex('0002'))).toThrowWithCode('YUBIHSM_DEVICE_WRONG_LENGTH');
  });
});

describe('new decoders under fuzzing', () => {
  const decoders: [string, (b: Uint8Array) => unknown][] = [
    ['GET STORAGE INFO', decodeStorageInfoResponse],
    ['force-audit', (b) => decodeForceAuditValue(b, 'YUBIHSM_RESPONSE_MALFORMED')],
    ['command-audit', (b) => decodeCommandAuditValue(b, 'YUBIHSM_RESPONSE_MALFORMED')],
    ['SET OPTION request', decodeSetOptionRequest],
    ['GET OPTION request', decodeGetOptionRequest],
    ['GET PSEUDO RANDOM request', decodePseudoRandomRequest],
    ['BLINK DEVICE request', decodeBlinkRequest],
    ['SET LOG INDEX request', decodeSetLogIndexRequest],
    ['CHANGE AUTHENTICATION KEY request', decodeChangeAuthenticationKeyRequest],
  ];

  it.each(decoders)('%s: arbitrary bytes give a value or a YubiHsmError, never another exception', (_name, decode) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          decode(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(YubiHsmError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
