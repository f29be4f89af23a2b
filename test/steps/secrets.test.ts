// steps/secrets.ts: a refused or malformed password or PIN is asked again, a
// bounded number of times, and every secret typed is wiped after its try.
import { describe, expect, it } from 'vitest';
import { Secret } from '../../lib/secret.ts';
import { SECRET_TRIES, withSecret } from '../../steps/secrets.ts';

class Refused extends Error {
  readonly code = 'WRONG';
}

function operator(...typed: string[]) {
  const asked: Secret[] = [];
  return {
    asked,
    ask: () => {
      const next = typed.shift();
      if (next === undefined) throw new Error('asked once too often');
      const s = Secret.of(next);
      asked.push(s);
      return Promise.resolve(s);
    },
  };
}

const device = (correct: string) => async (value: string) => {
  if (value !== correct) throw new Refused('refused');
  return Promise.resolve(`ok ${value.length}`);
};

describe('withSecret', () => {
  it('asks again after a refusal, tells the operator, and wipes every entry', async () => {
    const op = operator('wrong', 'right');
    const refusals: number[] = [];
    const result = await withSecret(op.ask, {
      device: 'HSM',
      what: 'the PIN',
      use: device('right'),
      refused: (err) => err instanceof Refused,
      onRefused: (n) => void refusals.push(n),
      onInvalid: () => undefined,
    });
    expect(result).toBe('ok 5');
    expect(refusals).toEqual([1]);
    expect(op.asked.every((s) => s.wiped)).toBe(true);
  });

  it(`stops with STEP_SECRET_REFUSED after ${SECRET_TRIES} refusals`, async () => {
    const op = operator('a', 'b', 'c', 'd');
    const run = withSecret(op.ask, { device: 'HSM', what: 'the PIN', use: device('z'), refused: () => true, onRefused: () => undefined, onInvalid: () => undefined });
    await expect(run).toThrowWithCode('STEP_SECRET_REFUSED');
    expect(op.asked).toHaveLength(SECRET_TRIES);
  });

  it('does not spend a device try on an entry of the wrong form, and stops with STEP_SECRET_INVALID', async () => {
    const op = operator('12', '34', '56');
    let used = 0;
    const run = withSecret(op.ask, {
      device: 'HSM',
      what: 'the PIN',
      invalid: (v) => (v.length < 6 ? 'a user PIN has 6 to 15 characters' : undefined),
      use: async (v) => {
        used++;
        return device('123456')(v);
      },
      refused: () => true,
      onRefused: () => undefined,
      onInvalid: () => undefined,
    });
    await expect(run).toThrowWithCode('STEP_SECRET_INVALID');
    expect(used).toBe(0);
  });

  it('passes on any other failure at once', async () => {
    const op = operator('x');
    const gone = new Error('the device is gone');
    const run = withSecret(op.ask, {
      device: 'HSM',
      what: 'the PIN',
      use: () => Promise.reject(gone),
      refused: (err) => err instanceof Refused,
      onRefused: () => undefined,
      onInvalid: () => undefined,
    });
    await expect(run).rejects.toBe(gone);
    expect(op.asked[0]?.wiped).toBe(true);
  });
});
