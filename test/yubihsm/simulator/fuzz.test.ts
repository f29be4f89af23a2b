// Hostile input is normal input: whatever bytes the host sends, the
// simulator answers one well-formed frame (a response or the device's error
// frame), never throws, never hangs, and never hits an internal fault.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CMD, device, frame, generateData, open, parse, u16 } from './raw-host.ts';

const KNOWN = [0x01, 0x03, 0x04, 0x05, 0x06, 0x08, 0x40, 0x42, 0x43, 0x44, 0x46, 0x48, 0x4d, 0x4e, 0x54, 0x56, 0x58, 0x64];

function wellFormed(response: Uint8Array): void {
  expect(response.length).toBeGreaterThanOrEqual(3);
  expect(response.length).toBeLessThanOrEqual(2048);
  const { code, data } = parse(response);
  if (code === 0x7f) expect(data).toHaveLength(1);
  else expect(code & 0x80).toBe(0x80);
}

describe('command parser fuzzing', () => {
  it('answers random byte strings with a frame', async () => {
    const dev = await device();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2100 }), async (bytes) => {
        wellFormed(await dev.transmit(bytes));
      }),
      { numRuns: 300 },
    );
    expect(dev.internalErrors).toEqual([]);
  });

  it('answers well-framed random commands (known codes, random data) with a frame', async () => {
    const dev = await device();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KNOWN), fc.uint8Array({ maxLength: 120 }), async (code, data) => {
        wellFormed(await dev.transmit(frame(code, data)));
      }),
      { numRuns: 400 },
    );
    expect(dev.internalErrors).toEqual([]);
  });

  it('answers every truncation of valid frames with a frame', async () => {
    const dev = await device();
    const valid = [frame(CMD.echo, [1, 2, 3]), frame(CMD.createSession, u16(1), new Uint8Array(8)), frame(CMD.authenticateSession, new Uint8Array(17))];
    for (const f of valid) {
      for (let cut = 0; cut < f.length; cut++) wellFormed(await dev.transmit(f.subarray(0, cut)));
    }
    expect(dev.internalErrors).toEqual([]);
  });

  it('answers random inner commands inside an authenticated session with an inner frame', async () => {
    const dev = await device();
    const admin = await open(dev);
    await admin.ok(CMD.generateAsym, generateData(3, 'k', 1, 0x80n, 12));
    // Keep RESET DEVICE out: it would end the session the property runs in.
    const inner = KNOWN.filter((c) => c !== CMD.reset);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...inner),
        fc.oneof(fc.uint8Array({ maxLength: 100 }), fc.constantFrom(Uint8Array.of(0, 3), Uint8Array.of(0, 3, 0, 0), Uint8Array.of(0, 3, 3))),
        async (code, data) => {
          const s = await open(dev);
          const a = await s.send(code, data);
          if (a.code === 0x7f) expect(a.data).toHaveLength(1);
          else expect(a.code).toBe(code | 0x80);
          await s.send(CMD.closeSession);
        },
      ),
      { numRuns: 300 },
    );
    expect(dev.internalErrors).toEqual([]);
  });

  it('answers the management commands with random data inside a session with an inner frame', async () => {
    // GET STORAGE INFO, SET/GET OPTION, GET PSEUDO RANDOM, SET LOG INDEX, BLINK DEVICE, CHANGE AUTHENTICATION KEY.
    const management = [0x41, 0x4f, 0x50, 0x51, 0x67, 0x6b, 0x6c];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...management),
        fc.oneof(
          fc.uint8Array({ maxLength: 100 }),
          fc.constantFrom(Uint8Array.of(1), Uint8Array.of(3), Uint8Array.of(0, 1), Uint8Array.of(1, 0, 1, 2), Uint8Array.of(3, 0, 2, 0x56, 2), Uint8Array.of(0, 1, 38)),
        ),
        async (code, data) => {
          // A fresh device each time: these commands change options, the log and keys.
          const dev = await device();
          const s = await open(dev);
          const a = await s.send(code, data);
          if (a.code === 0x7f) expect(a.data).toHaveLength(1);
          else expect(a.code).toBe(code | 0x80);
          expect(dev.internalErrors).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
