// Any bytes at all, and any damage to the real vectors, end in a result or a
// CvcError with a code: never a crash of the decoder, a TypeError or a
// RangeError, and never a verified attestation of damaged material.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attestedKeySpki, CvcError, parseDevaut, parseRequest, verifyKeyAttestation } from '../../lib/cvc/index.ts';
import { AT, REAL } from './support.ts';

/** `fn` returns, or throws a CvcError; the thrown code, or 'ok'. */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (!(err instanceof CvcError)) throw err;
    expect(typeof err.code).toBe('string');
    expect(typeof err.part).toBe('string');
    return err.code;
  }
}

/** A damaged copy of `bytes`: bytes flipped, cut, inserted or removed. */
function damaged(bytes: Uint8Array) {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), data: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
    fc.record({ kind: fc.constant('remove' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits) => {
    let out = Uint8Array.from(bytes);
    for (const e of edits) {
      const at = out.length === 0 ? 0 : e.at % out.length;
      if (e.kind === 'flip' && out.length > 0) out[at] = out[at]! ^ e.mask;
      if (e.kind === 'cut') out = out.subarray(0, at);
      if (e.kind === 'insert') out = Uint8Array.from([...out.subarray(0, at), ...e.data, ...out.subarray(at)]);
      if (e.kind === 'remove') out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + e.count)]);
    }
    return out;
  });
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

describe('the parsers take any bytes', () => {
  it('random bytes: parseDevaut, parseRequest and attestedKeySpki throw only CvcError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        outcome(() => parseDevaut(bytes));
        outcome(() => parseRequest(bytes));
        outcome(() => attestedKeySpki(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it('random bytes behind a plausible header: the same', () => {
    const headed = fc.tuple(fc.constantFrom([0x7f, 0x21], [0x67], [0x7f, 0x21, 0x81], [0x67, 0x82, 0x01]), fc.uint8Array({ maxLength: 500 })).map(([h, rest]) => Uint8Array.from([...h, ...rest]));
    fc.assert(
      fc.property(headed, (bytes) => {
        outcome(() => parseDevaut(bytes));
        outcome(() => parseRequest(bytes));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('damaged real vectors', () => {
  it('a damaged EF 2F02 is refused with a code (never verified)', () => {
    fc.assert(
      fc.property(damaged(REAL.devaut), (devaut) => {
        fc.pre(!same(devaut, REAL.devaut));
        expect(outcome(() => parseDevaut(devaut))).toMatch(/^(ok|CVC_[A-Z_]+)$/);
        expect(outcome(() => verifyKeyAttestation({ devaut, request: REAL.ce03, at: AT }))).not.toBe('ok');
      }),
      { numRuns: 400 },
    );
  });

  it('a damaged request is refused with a code (never verified)', () => {
    fc.assert(
      fc.property(fc.constantFrom(REAL.ce03, REAL.ce04, REAL.ce01).chain((r) => damaged(r).map((d) => [r, d] as const)), ([original, request]) => {
        fc.pre(!same(request, original));
        outcome(() => parseRequest(request));
        outcome(() => attestedKeySpki(request));
        expect(outcome(() => verifyKeyAttestation({ devaut: REAL.devaut, request, at: AT }))).not.toBe('ok');
      }),
      { numRuns: 400 },
    );
  });
});
