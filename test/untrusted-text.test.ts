// Text from the other end (a connector's status page, a USB serial
// descriptor) reaches error messages only through untrustedText.
import { describe, expect, it } from 'vitest';
import { untrustedText } from '../lib/untrusted-text.ts';

describe('untrustedText', () => {
  it('escapes C0 and C1 controls, DEL and bidirectional overrides', () => {
    const out = untrustedText('a\u001b[2J\u0007\u009b31m\u007f\u202eb\u2066');
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/);
    expect(out).toBe('"a\\u001b[2J\\u0007\\u009b31m\\u007f\\u202eb\\u2066"');
  });

  it('cuts long text and marks the cut', () => {
    expect(untrustedText('x'.repeat(100), 10)).toBe(`"${'x'.repeat(10)}…"`);
    expect(untrustedText('0007550054', 12)).toBe('"0007550054"');
  });
});
