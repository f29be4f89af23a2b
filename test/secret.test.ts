import { format, inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Secret, revealSecret } from '../lib/secret.ts';
import { Redactor } from '../lib/runbook/redact.ts';

describe('Secret', () => {
  const pin = () => Secret.of('3537363231383830');

  it('never shows its characters: text, templates, joins, JSON, inspect, format', () => {
    const s = pin();
    // The point is what happens when code forgets a value is secret: lint would stop these in the project's own code.
    /* eslint-disable @typescript-eslint/restrict-template-expressions, @typescript-eslint/restrict-plus-operands */
    const shown = [
      String(s),
      `${s}`,
      [s, 'x'].join(' '),
      JSON.stringify({ s }),
      inspect(s),
      inspect({ nested: { s } }),
      format('%s %o %O %j', s, s, s, s),
      'pin: ' + s,
    ];
    /* eslint-enable @typescript-eslint/restrict-template-expressions, @typescript-eslint/restrict-plus-operands */
    for (const text of shown) expect(text).not.toContain('3537363231383830');
    expect(String(s)).toBe('[secret]');
    expect(JSON.stringify({ s })).toBe('{"s":"[secret]"}');
  });

  it('hands its characters only to revealSecret, and not after it is wiped', () => {
    const s = pin();
    expect(revealSecret(s, (v) => v.length)).toBe(16);
    s.wipe();
    expect(s.wiped).toBe(true);
    expect(() => revealSecret(s, (v) => v)).toThrow();
  });

  it('compares two entries without revealing either', () => {
    expect(Secret.of('abc').equals(Secret.of('abc'))).toBe(true);
    expect(Secret.of('abc').equals(Secret.of('abd'))).toBe(false);
  });
});

describe('redaction is not an oracle', () => {
  it('leaves a secret inside a longer word alone: a PIN 55 does not mark its place in a serial', () => {
    const r = new Redactor();
    r.add('55');
    expect(r.text('serial 0007550054')).toBe('serial 0007550054');
    expect(r.text('the PIN is 55.')).toBe('the PIN is [secret].');
  });

  it('replaces a secret that stands alone, wherever it is in the text', () => {
    const r = new Redactor();
    r.add('correct-horse');
    expect(r.text('correct-horse\nand "correct-horse"')).toBe('[secret]\nand "[secret]"');
  });
});
