import { describe, expect, it } from 'vitest';
import { matchExpected, matchFiles, parseExpected } from '../../lib/runbook/expected.ts';

describe('placeholders', () => {
  it('parses names and the ellipsis', () => {
    expect(parseExpected('serial {{serial}} then {{...}}.').parts).toEqual([{ literal: 'serial ' }, { name: 'serial' }, { literal: ' then ' }, { any: true }, { literal: '.' }]);
  });

  it.each(['{{serial number}}', '{{}}', '{{1st}}', 'open {{serial'])('%s is malformed', (text) => {
    expect(parseExpected(text).problems).toHaveLength(1);
  });
});

describe('matchExpected', () => {
  const banner = 'Discovered a Yubico YubiHSM with serial number {{serial}}\nWe have authenticated with the HSM!\n';

  it('binds placeholders', () => {
    expect(matchExpected(banner, 'Discovered a Yubico YubiHSM with serial number 0007550054\nWe have authenticated with the HSM!')).toEqual({ ok: true, values: { serial: '0007550054' } });
  });

  it('ignores trailing spaces and surrounding blank lines, not inner differences', () => {
    expect(matchExpected('a\nb\n', '\n\na   \nb\n\n').ok).toBe(true);
    expect(matchExpected('a\nb\n', 'a\n\nb').ok).toBe(false);
  });

  it('points at the first expected line that does not match', () => {
    expect(matchExpected('one\ntwo {{x}}\nthree', 'one\ntwo 2\nfour')).toEqual({ ok: false, line: 3 });
    expect(matchExpected('one\ntwo', 'uno\ntwo')).toEqual({ ok: false, line: 1 });
  });

  it('a repeated name must repeat the same text', () => {
    expect(matchExpected('{{s}}/{{s}}_cert.der', '0007550054/0007550054_cert.der').ok).toBe(true);
    expect(matchExpected('{{s}}/{{s}}_cert.der', '0007550054/0007550055_cert.der').ok).toBe(false);
  });

  it('known values must appear verbatim', () => {
    expect(matchExpected('serial {{serial}}', 'serial 0007550054', { serial: '0007550054' }).ok).toBe(true);
    expect(matchExpected('serial {{serial}}', 'serial 0007550055', { serial: '0007550054' }).ok).toBe(false);
  });

  it('a placeholder matches neither spaces nor slashes; the ellipsis matches anything', () => {
    expect(matchExpected('x {{v}} y', 'x a b y').ok).toBe(false);
    expect(matchExpected('begin\n{{...}}\nend', 'begin\nlots\nof lines\nend').ok).toBe(true);
  });

  it('treats regular-expression characters literally', () => {
    expect(matchExpected('Continue? [y/N] (*)', 'Continue? [y/N] (*)').ok).toBe(true);
    expect(matchExpected('a.c', 'abc').ok).toBe(false);
  });
});

describe('matchFiles', () => {
  const expected = 'ceremony-products/{{serial}}/{{serial}}_root_pubkey.pub\nceremony-products/{{serial}}/{{serial}}_targets_pubkey.pub\n';

  it('binds one serial across all lines', () => {
    const present = ['ceremony-products/0007550054/0007550054_root_pubkey.pub', 'ceremony-products/0007550054/0007550054_targets_pubkey.pub'];
    expect(matchFiles(expected, present)).toEqual({ ok: true, missing: [], values: { serial: '0007550054' } });
  });

  it('lists what is missing', () => {
    const present = ['ceremony-products/0007550054/0007550054_root_pubkey.pub', 'ceremony-products/0007550099/0007550099_targets_pubkey.pub'];
    expect(matchFiles(expected, present).missing).toEqual(['ceremony-products/{{serial}}/{{serial}}_targets_pubkey.pub']);
  });
});
