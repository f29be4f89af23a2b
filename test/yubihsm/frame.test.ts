// Framing: expected bytes are written out here from the command reference
// ("cmd | len (2, BE) | data"; response cmd|0x80; error 0x7f 0001 code),
// never produced by the encoder under test.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { YubiHsmError } from '../../lib/yubihsm/errors.ts';
import { Command } from '../../lib/yubihsm/protocol/commands.ts';
import { DeviceError } from '../../lib/yubihsm/protocol/errors.ts';
import {
  decodeFrame,
  decodeResponse,
  encodeErrorFrame,
  encodeFrame,
  FrameAssembler,
  MAX_DATA_BYTES,
  MAX_MESSAGE_BYTES,
} from '../../lib/yubihsm/protocol/frame.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('request frames', () => {
  it('frames ECHO "abc" as 01 0003 616263', () => {
    expect(toHex(encodeFrame(Command.Echo, new TextEncoder().encode('abc')))).toBe('010003616263');
  });

  it('frames an empty GET DEVICE INFO as 06 0000', () => {
    expect(toHex(encodeFrame(Command.GetDeviceInfo))).toBe('060000');
  });

  it('writes the length big-endian (300 bytes -> 012c)', () => {
    const f = encodeFrame(Command.Echo, new Uint8Array(300));
    expect(toHex(f.subarray(0, 3))).toBe('01012c');
    expect(f).toHaveLength(303);
  });

  it('refuses data over the 2048-byte message limit, and takes it up to the limit', () => {
    expect(encodeFrame(Command.Echo, new Uint8Array(MAX_DATA_BYTES))).toHaveLength(MAX_MESSAGE_BYTES);
    expect(() => encodeFrame(Command.Echo, new Uint8Array(MAX_DATA_BYTES + 1))).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
  });

  it('frames a device error as 7f 0001 code', () => {
    expect(toHex(encodeErrorFrame(DeviceError.SessionsFull))).toBe('7f000105');
  });
});

describe('response frames', () => {
  it('returns the data of the matching response (cmd | 0x80)', () => {
    expect(toHex(decodeResponse(Command.Echo, hex('810002beef')))).toBe('beef');
  });

  const deviceErrors: [number, string][] = [
    [0x01, 'YUBIHSM_DEVICE_INVALID_COMMAND'],
    [0x02, 'YUBIHSM_DEVICE_INVALID_DATA'],
    [0x03, 'YUBIHSM_DEVICE_INVALID_SESSION'],
    [0x04, 'YUBIHSM_DEVICE_AUTH_FAIL'],
    [0x05, 'YUBIHSM_DEVICE_SESSIONS_FULL'],
    [0x06, 'YUBIHSM_DEVICE_SESSION_FAILED'],
    [0x07, 'YUBIHSM_DEVICE_STORAGE_FAILED'],
    [0x08, 'YUBIHSM_DEVICE_WRONG_LENGTH'],
    [0x09, 'YUBIHSM_DEVICE_INSUFFICIENT_PERMISSIONS'],
    [0x0a, 'YUBIHSM_DEVICE_LOG_FULL'],
    [0x0b, 'YUBIHSM_DEVICE_OBJECT_NOT_FOUND'],
    [0x0c, 'YUBIHSM_DEVICE_INVALID_ID'],
    [0x0e, 'YUBIHSM_DEVICE_SSH_CA_CONSTRAINT_VIOLATION'],
    [0x0f, 'YUBIHSM_DEVICE_INVALID_OTP'],
    [0x10, 'YUBIHSM_DEVICE_DEMO_MODE'],
    [0x11, 'YUBIHSM_DEVICE_OBJECT_EXISTS'],
    [0x12, 'YUBIHSM_DEVICE_ALGORITHM_DISABLED'],
    [0xff, 'YUBIHSM_DEVICE_COMMAND_UNEXECUTED'],
    [0x0d, 'YUBIHSM_DEVICE_UNKNOWN_ERROR'],
  ];

  it.each(deviceErrors)('turns error 0x%s into %s, keeping the device byte', (code, name) => {
    const frame = new Uint8Array([0x7f, 0x00, 0x01, code]);
    expect(() => decodeResponse(Command.SignEcdsa, frame)).toThrowWithCode(name);
    try {
      decodeResponse(Command.SignEcdsa, frame);
    } catch (err) {
      expect((err as YubiHsmError).deviceCode).toBe(code);
    }
  });

  it('refuses an error frame without exactly one code byte', () => {
    expect(() => decodeResponse(Command.Echo, hex('7f0000'))).toThrowWithCode('YUBIHSM_FRAME_MALFORMED');
    expect(() => decodeResponse(Command.Echo, hex('7f00020405'))).toThrowWithCode('YUBIHSM_FRAME_MALFORMED');
  });

  it('refuses a response to another command', () => {
    expect(() => decodeResponse(Command.Echo, hex('860000'))).toThrowWithCode('YUBIHSM_RESPONSE_UNEXPECTED');
    // The request code itself (high bit clear) is not a response.
    expect(() => decodeResponse(Command.Echo, hex('010000'))).toThrowWithCode('YUBIHSM_RESPONSE_UNEXPECTED');
  });

  it('refuses a length field that disagrees with the bytes, either way', () => {
    expect(() => decodeFrame(hex('810003beef'))).toThrowWithCode('YUBIHSM_FRAME_MALFORMED');
    expect(() => decodeFrame(hex('810001beef'))).toThrowWithCode('YUBIHSM_FRAME_MALFORMED');
  });

  it('refuses every truncation of a response, at every byte', () => {
    const whole = hex('8100056162636465');
    for (let n = 0; n < whole.length; n++) {
      expect(() => decodeResponse(Command.Echo, whole.subarray(0, n))).toThrowWithCode('YUBIHSM_FRAME_MALFORMED');
    }
  });

  it('refuses a frame over the message limit', () => {
    const big = new Uint8Array(MAX_MESSAGE_BYTES + 1);
    big[0] = 0x81;
    big[1] = (MAX_MESSAGE_BYTES - 2) >> 8;
    big[2] = (MAX_MESSAGE_BYTES - 2) & 0xff;
    expect(() => decodeFrame(big)).toThrowWithCode('YUBIHSM_FRAME_MALFORMED');
  });
});

describe('FrameAssembler', () => {
  const whole = hex('c40010' + '00112233445566778899aabbccddeeff'); // a 19-byte response

  it('assembles a frame cut at every byte boundary into two chunks', () => {
    for (let cut = 0; cut <= whole.length; cut++) {
      const a = new FrameAssembler();
      const first = a.push(whole.subarray(0, cut));
      if (cut === whole.length) {
        expect(toHex(first!)).toBe(toHex(whole));
        continue;
      }
      expect(first).toBeUndefined();
      expect(toHex(a.push(whole.subarray(cut))!)).toBe(toHex(whole));
    }
  });

  it('assembles a frame delivered one byte at a time', () => {
    const a = new FrameAssembler();
    let out: Uint8Array | undefined;
    for (const b of whole) out = a.push(Uint8Array.of(b)) ?? out;
    expect(toHex(out!)).toBe(toHex(whole));
  });

  it('refuses bytes past the frame, and a header announcing more than the limit', () => {
    const a = new FrameAssembler();
    expect(() => a.push(new Uint8Array([...whole, 0x00]))).toThrowWithCode('YUBIHSM_FRAME_MALFORMED');
    const b = new FrameAssembler();
    expect(() => b.push(hex('81ffff'))).toThrowWithCode('YUBIHSM_FRAME_MALFORMED');
  });

  it('reports a stream that ends early', () => {
    for (let cut = 0; cut < whole.length; cut++) {
      const a = new FrameAssembler();
      a.push(whole.subarray(0, cut));
      expect(() => a.finish()).toThrowWithCode('YUBIHSM_FRAME_MALFORMED');
    }
  });
});

describe('response parser fuzzing', () => {
  const onlyTyped = (fn: () => unknown): void => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof YubiHsmError)) throw err;
    }
  };

  it('never throws anything but a YubiHsmError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.constantFrom(Command.Echo, Command.CreateSession, Command.SessionMessage), (bytes, cmd) => {
        onlyTyped(() => decodeResponse(cmd, bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but a YubiHsmError on mutated valid frames', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (data, pos, byte) => {
        const frame = Uint8Array.from(encodeFrame(0x81, data));
        frame[pos % frame.length] = byte;
        onlyTyped(() => decodeResponse(Command.Echo, frame));
      }),
      { numRuns: 2000 },
    );
  });

  it('the assembler, fed arbitrary chunks, returns a frame matching its header or a typed error', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 10 }), (chunks) => {
        const a = new FrameAssembler();
        onlyTyped(() => {
          for (const c of chunks) {
            const f = a.push(c);
            if (f !== undefined) {
              expect(f.length).toBe(3 + ((f[1]! << 8) | f[2]!));
              return;
            }
          }
          a.finish();
        });
      }),
      { numRuns: 2000 },
    );
  });
});
