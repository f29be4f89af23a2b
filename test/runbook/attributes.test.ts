import { describe, expect, it } from 'vitest';
import { parseInfo } from '../../lib/runbook/attributes.ts';

describe('info-string attributes', () => {
  it('reads values and flags after the language', () => {
    expect(parseInfo('ts {id=yubihsm.reset destructive}')).toEqual({ lang: 'ts', attrs: { id: 'yubihsm.reset', destructive: true }, problems: [] });
    expect(parseInfo('text {output}')).toEqual({ lang: 'text', attrs: { output: true }, problems: [] });
    expect(parseInfo('typescript')).toEqual({ lang: 'typescript', attrs: {}, problems: [] });
  });

  it('allows only [A-Za-z0-9._:/-] in values', () => {
    expect(parseInfo('ts {id=a/b:c-d_e.f}').attrs).toEqual({ id: 'a/b:c-d_e.f' });
    expect(parseInfo('ts {id=a;rm}').problems.map((p) => p.code)).toEqual(['ATTR_MALFORMED']);
    expect(parseInfo('ts {id="x"}').problems.map((p) => p.code)).toEqual(['ATTR_MALFORMED']);
  });

  it('reports the offset of the offending attribute', () => {
    const info = 'ts {id=a bogus}';
    expect(parseInfo(info).problems).toEqual([expect.objectContaining({ code: 'ATTR_UNKNOWN', offset: info.indexOf('bogus') })]);
  });

  it.each([
    ['ts id=a', 'not in braces'],
    ['ts {id=a', 'unclosed'],
    ['ts {id=a} trailing', 'text after the braces'],
    ['ts {id}', 'id without a value'],
    ['ts {id=a id=b}', 'repeated'],
    ['ts {when=yes id=a}', 'flag with a value'],
  ])('%s is malformed (%s)', (info) => {
    expect(parseInfo(info).problems.map((p) => p.code)).toContain('ATTR_MALFORMED');
  });

  it('leaves other languages alone', () => {
    expect(parseInfo('console {anything goes}')).toEqual({ lang: 'console', attrs: {}, problems: [] });
  });
});
