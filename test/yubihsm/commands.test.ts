// Command payloads against the layouts of Yubico's command reference. The
// expected bytes are spelled out field by field in each test.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capabilities } from '../../lib/yubihsm/capabilities.ts';
import { YubiHsmError } from '../../lib/yubihsm/errors.ts';
import { Algorithm } from '../../lib/yubihsm/protocol/algorithms.ts';
import { decodeDeviceInfoResponse, encodeDeviceInfoResponse } from '../../lib/yubihsm/protocol/device-commands.ts';
import {
  decodeCertificateResponse,
  decodeGenerateAsymmetricKeyRequest,
  decodeObjectId,
  decodePublicKeyResponse,
  decodePutAuthenticationKeyRequest,
  decodeSignEcdsaResponse,
  encodeGenerateAsymmetricKeyRequest,
  encodePutAuthenticationKeyRequest,
  encodeSignAttestationCertificateRequest,
  encodeSignEcdsaRequest,
} from '../../lib/yubihsm/protocol/key-commands.ts';
import { decodeLogEntriesResponse, encodeLogEntriesResponse, firstBrokenLink, logDigest } from '../../lib/yubihsm/protocol/log-commands.ts';
import {
  decodeListObjectsRequest,
  decodeListObjectsResponse,
  decodeObjectInfoResponse,
  encodeListObjectsRequest,
  encodeObjectInfoResponse,
  encodeObjectRef,
} from '../../lib/yubihsm/protocol/object-commands.ts';
import { decodeLabel, domainNumbers, domainsField, encodeLabel, ObjectType } from '../../lib/yubihsm/protocol/objects.ts';
import { decodeCreateSessionResponse, encodeCreateSessionRequest } from '../../lib/yubihsm/protocol/session-commands.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const label40 = (s: string): string => Buffer.from(s).toString('hex').padEnd(80, '0');

describe('labels and domains', () => {
  it('pads a label with NULs to 40 bytes and reads it back', () => {
    expect(toHex(encodeLabel('tuf-root'))).toBe(label40('tuf-root'));
    expect(decodeLabel(encodeLabel('tuf-root'))).toBe('tuf-root');
    expect(decodeLabel(encodeLabel('x'.repeat(40)))).toBe('x'.repeat(40));
  });

  it('refuses a label over 40 bytes (counted in UTF-8) or with a NUL', () => {
    expect(() => encodeLabel('x'.repeat(41))).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
    expect(() => encodeLabel('é'.repeat(21))).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
    expect(() => encodeLabel('a\0b')).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
  });

  it('maps domain 1 to bit 0 and domain 16 to bit 15', () => {
    expect(domainsField(1)).toBe(0x0001);
    expect(domainsField(1, 16)).toBe(0x8001);
    expect(domainNumbers(0x8001)).toEqual([1, 16]);
    expect(() => domainsField(0)).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
    expect(() => domainsField(17)).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
  });
});

describe('CREATE SESSION', () => {
  it('sends key id (2) ‖ host challenge (8)', () => {
    expect(toHex(encodeCreateSessionRequest({ authKeyId: 1, hostChallenge: hex('0102030405060708') }))).toBe('0001' + '0102030405060708');
  });

  it('reads session id ‖ card challenge ‖ card cryptogram, and nothing else', () => {
    const res = decodeCreateSessionResponse(hex('07' + 'a1a2a3a4a5a6a7a8' + 'b1b2b3b4b5b6b7b8'));
    expect(res.sessionId).toBe(7);
    expect(toHex(res.cardChallenge)).toBe('a1a2a3a4a5a6a7a8');
    expect(toHex(res.cardCryptogram)).toBe('b1b2b3b4b5b6b7b8');
    expect(() => decodeCreateSessionResponse(hex('07' + '00'.repeat(17)))).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    expect(() => decodeCreateSessionResponse(hex('10' + '00'.repeat(16)))).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
  });
});

describe('GET DEVICE INFO', () => {
  it('reads version, serial, log usage and algorithms', () => {
    const info = decodeDeviceInfoResponse(hex('020202' + '00733466' + '3e' + '05' + '0c0d2b'));
    expect(info).toEqual({ version: { major: 2, minor: 2, patch: 2 }, serial: 7550054, logTotal: 62, logUsed: 5, algorithms: [12, 13, 43] });
    expect(toHex(encodeDeviceInfoResponse(info))).toBe('020202007334663e050c0d2b');
  });

  it('refuses a response shorter than the fixed fields', () => {
    const whole = hex('020202007334663e05');
    for (let n = 0; n < whole.length; n++) {
      expect(() => decodeDeviceInfoResponse(whole.subarray(0, n))).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    }
  });
});

describe('PUT AUTHENTICATION KEY', () => {
  // Runbook "Provisioning the YubiHSM 2", step 13: key 2, tuf-authkey, with the PSF runbook's capabilities.
  const req = {
    id: 2,
    label: 'tuf-authkey',
    domains: 0x0001,
    capabilities: capabilities('get-opaque', 'generate-asymmetric-key', 'sign-ecdsa', 'sign-attestation-certificate', 'delete-authentication-key'),
    algorithm: Algorithm.Aes128YubicoAuthentication,
    delegatedCapabilities: capabilities('sign-ecdsa'),
    encKey: hex('00112233445566778899aabbccddeeff'),
    macKey: hex('ffeeddccbbaa99887766554433221100'),
  };
  const expected =
    '0002' + label40('tuf-authkey') + '0001' + '0000010400000091' + '26' + '0000000000000080' + '00112233445566778899aabbccddeeff' + 'ffeeddccbbaa99887766554433221100';

  it('lays out id, label, domains, capabilities, algorithm 38, delegated capabilities, K-ENC, K-MAC', () => {
    expect(toHex(encodePutAuthenticationKeyRequest(req))).toBe(expected);
    expect(hex(expected)).toHaveLength(93);
  });

  it('decodes on the device side to the same fields', () => {
    // The device keeps the label as the 40 bytes sent.
    expect(decodePutAuthenticationKeyRequest(hex(expected))).toEqual({ ...req, label: hex(label40('tuf-authkey')) });
    // A request longer or shorter than the layout is the device's WRONG LENGTH.
    expect(() => decodePutAuthenticationKeyRequest(hex(expected + '00'))).toThrowWithCode('YUBIHSM_DEVICE_WRONG_LENGTH');
    expect(() => decodePutAuthenticationKeyRequest(hex(expected.slice(0, -2)))).toThrowWithCode('YUBIHSM_DEVICE_WRONG_LENGTH');
  });

  it('refuses keys of the wrong size', () => {
    expect(() => encodePutAuthenticationKeyRequest({ ...req, encKey: new Uint8Array(15) })).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
  });
});

describe('GENERATE ASYMMETRIC KEY', () => {
  it('lays out id, label, domains, capabilities, algorithm (tuf-root, P-256)', () => {
    const req = { id: 3, label: 'tuf-root', domains: 1, capabilities: capabilities('sign-ecdsa'), algorithm: Algorithm.EcP256 };
    const expected = '0003' + label40('tuf-root') + '0001' + '0000000000000080' + '0c';
    expect(toHex(encodeGenerateAsymmetricKeyRequest(req))).toBe(expected);
    expect(decodeGenerateAsymmetricKeyRequest(hex(expected))).toEqual({ ...req, label: hex(label40('tuf-root')) });
  });

  it('uses algorithm 13 for P-384', () => {
    const out = encodeGenerateAsymmetricKeyRequest({ id: 4, label: 'tuf-targets', domains: 1, capabilities: 0x80n, algorithm: Algorithm.EcP384 });
    expect(out[out.length - 1]).toBe(13);
  });

  it('reads the id the device answers (exactly 2 bytes)', () => {
    expect(decodeObjectId(hex('0003'), 'x')).toBe(3);
    expect(() => decodeObjectId(hex('00'), 'x')).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    expect(() => decodeObjectId(hex('000300'), 'x')).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
  });
});

describe('GET PUBLIC KEY', () => {
  it('reads algorithm ‖ X ‖ Y and checks the length against the curve', () => {
    const p256 = decodePublicKeyResponse(hex('0c' + 'aa'.repeat(64)));
    expect(p256.algorithm).toBe(12);
    expect(p256.key).toHaveLength(64);
    expect(decodePublicKeyResponse(hex('0d' + 'bb'.repeat(96))).key).toHaveLength(96);
    expect(() => decodePublicKeyResponse(hex('0c' + 'aa'.repeat(63)))).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    expect(() => decodePublicKeyResponse(hex('0d' + 'aa'.repeat(64)))).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    expect(() => decodePublicKeyResponse(hex(''))).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
  });
});

describe('SIGN ECDSA and SIGN ATTESTATION CERTIFICATE', () => {
  it('sends key id ‖ digest', () => {
    expect(toHex(encodeSignEcdsaRequest(3, hex('00'.repeat(31) + '01')))).toBe('0003' + '00'.repeat(31) + '01');
    expect(() => encodeSignEcdsaRequest(3, new Uint8Array(0))).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
  });

  it('accepts a DER ECDSA-Sig-Value and refuses malformed ones', () => {
    const good = hex('3006' + '020101' + '020102');
    expect(toHex(decodeSignEcdsaResponse(good))).toBe(toHex(good));
    expect(toHex(decodeSignEcdsaResponse(hex('3007' + '02020080' + '020101')))).toBe('300702020080020101');
    for (const bad of ['3106020101020102', '3007020101020102', '300602010102010200', '3006020181020101', '30070202000102 0101', '3005020101020100'.slice(0, 12)]) {
      expect(() => decodeSignEcdsaResponse(hex(bad))).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    }
  });

  it('sends key id ‖ attestation key id', () => {
    expect(toHex(encodeSignAttestationCertificateRequest(4, 0))).toBe('00040000');
  });

  it('accepts one DER SEQUENCE as a certificate and nothing more', () => {
    expect(decodeCertificateResponse(hex('3003020100'), 'x')).toHaveLength(5);
    expect(() => decodeCertificateResponse(hex('300302010000'), 'x')).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    expect(() => decodeCertificateResponse(hex('30820100'), 'x')).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    expect(() => decodeCertificateResponse(hex(''), 'x')).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
  });

  it('refuses a certificate whose DER length is not minimally encoded', () => {
    // The same 3-byte body, with its length in the one-byte, 0x81 and 0x82 forms: only the first is DER.
    expect(decodeCertificateResponse(hex('3003' + '020100'), 'x')).toHaveLength(5);
    expect(() => decodeCertificateResponse(hex('308103' + '020100'), 'x')).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    expect(() => decodeCertificateResponse(hex('30820003' + '020100'), 'x')).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    // 0x81 is right from 128 bytes on, 0x82 from 256.
    expect(decodeCertificateResponse(hex('308180' + '04' + '7e' + '00'.repeat(126)), 'x')).toHaveLength(131);
    expect(decodeCertificateResponse(hex('30820100' + '0481fd' + '00'.repeat(253)), 'x')).toHaveLength(260);
  });
});

describe('LIST OBJECTS, GET OBJECT INFO, DELETE OBJECT', () => {
  it('encodes filters as tag ‖ value in tag order', () => {
    expect(toHex(encodeListObjectsRequest({}))).toBe('');
    expect(
      toHex(
        encodeListObjectsRequest({ id: 3, type: ObjectType.AsymmetricKey, domains: 1, capabilities: 0x80n, algorithm: Algorithm.EcP256, label: 'tuf-root' }),
      ),
    ).toBe('010003' + '0203' + '030001' + '04' + '0000000000000080' + '050c' + '06' + label40('tuf-root'));
    expect(decodeListObjectsRequest(hex('0203' + '06' + label40('tuf-root')))).toEqual({ type: 3, label: hex(label40('tuf-root')) });
    expect(() => decodeListObjectsRequest(hex('0703'))).toThrowWithCode('YUBIHSM_DEVICE_INVALID_DATA');
    expect(() => decodeListObjectsRequest(hex('0100'))).toThrowWithCode('YUBIHSM_DEVICE_WRONG_LENGTH');
  });

  it('reads 4-byte entries (id, type, sequence)', () => {
    expect(decodeListObjectsResponse(hex('0002 02 00 0003 03 01'))).toEqual([
      { id: 2, type: 2, sequence: 0 },
      { id: 3, type: 3, sequence: 1 },
    ]);
    expect(decodeListObjectsResponse(new Uint8Array(0))).toEqual([]);
    expect(() => decodeListObjectsResponse(hex('000202'))).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
  });

  it('references an object as id ‖ type', () => {
    expect(toHex(encodeObjectRef(1, ObjectType.AuthenticationKey))).toBe('000102');
  });

  it('reads the 66-byte object info', () => {
    const bytes = hex(
      '0000000000000080' + '0003' + '0079' + '0001' + '03' + '0c' + '00' + '01' + label40('tuf-root') + '0000000000000000',
    );
    const info = decodeObjectInfoResponse(bytes);
    expect(info).toEqual({
      capabilities: 0x80n,
      id: 3,
      size: 121,
      domains: 1,
      type: 3,
      algorithm: 12,
      sequence: 0,
      origin: 1,
      label: 'tuf-root',
      delegatedCapabilities: 0n,
    });
    expect(toHex(encodeObjectInfoResponse(info))).toBe(toHex(bytes));
    for (const n of [0, 8, 65, 67]) {
      const cut = n <= bytes.length ? bytes.subarray(0, n) : new Uint8Array([...bytes, 0]);
      expect(() => decodeObjectInfoResponse(cut)).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    }
  });
});

describe('GET LOG ENTRIES', () => {
  const e1 = { number: 1, command: 0x03, length: 10, sessionKey: 1, targetKey: 0xffff, secondKey: 0xffff, result: 0x83, tick: 100 };
  const e2 = { number: 2, command: 0x04, length: 17, sessionKey: 1, targetKey: 0xffff, secondKey: 0xffff, result: 0x84, tick: 101 };
  const d1 = hex('00112233445566778899aabbccddeeff');
  const d2 = logDigest(e2, d1);

  it('reads unlogged counters, count and 32-byte entries', () => {
    const bytes = hex(
      '0000' + '0002' + '02' + '0001 03 000a 0001 ffff ffff 83 00000064' + toHex(d1) + '0002 04 0011 0001 ffff ffff 84 00000065' + toHex(d2),
    );
    const log = decodeLogEntriesResponse(bytes);
    expect(log.unloggedBoots).toBe(0);
    expect(log.unloggedAuths).toBe(2);
    expect(log.entries).toEqual([
      { ...e1, digest: d1 },
      { ...e2, digest: d2 },
    ]);
    expect(toHex(encodeLogEntriesResponse(log))).toBe(toHex(bytes));
    expect(firstBrokenLink(log.entries)).toBe(-1);
    const broken = [log.entries[0]!, { ...log.entries[1]!, tick: 999 }];
    expect(firstBrokenLink(broken)).toBe(1);
  });

  it('refuses a count that does not match the bytes', () => {
    expect(() => decodeLogEntriesResponse(hex('0000000001'))).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
    expect(() => decodeLogEntriesResponse(hex('000000000000'))).toThrowWithCode('YUBIHSM_RESPONSE_MALFORMED');
  });
});

describe('response decoders under fuzzing', () => {
  const decoders: [string, (b: Uint8Array) => unknown][] = [
    ['CREATE SESSION', decodeCreateSessionResponse],
    ['GET DEVICE INFO', decodeDeviceInfoResponse],
    ['GET PUBLIC KEY', decodePublicKeyResponse],
    ['SIGN ECDSA', decodeSignEcdsaResponse],
    ['certificate', (b) => decodeCertificateResponse(b, 'x')],
    ['LIST OBJECTS', decodeListObjectsResponse],
    ['GET OBJECT INFO', decodeObjectInfoResponse],
    ['GET LOG ENTRIES', decodeLogEntriesResponse],
    ['object id', (b) => decodeObjectId(b, 'x')],
  ];

  it.each(decoders)('%s: arbitrary bytes give a value or a YubiHsmError, never another exception', (_name, decode) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decode(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(YubiHsmError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
