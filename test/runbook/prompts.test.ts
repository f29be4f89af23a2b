// The operator at the terminal: @inquirer/prompts driven through a pair of
// streams, typed into as an operator would (keys, Enter), with what the
// terminal showed kept for assertions.
import { describe, expect, it } from 'vitest';
import { InteractivePromptSource, matchesWhole, promptId, promptName, SECRET_ATTEMPTS } from '../../lib/runbook/prompts.ts';
import { BACKSPACE, DOWN, ENTER, Terminal } from '../fixtures/execute/terminal.ts';

describe('InteractivePromptSource', () => {
  it('asks a yes/no question', async () => {
    const term = new Terminal();
    const source = new InteractivePromptSource(term);
    const answer = source.confirm({ id: 'a/phone', message: 'You have a phone with you?', scope: {} });
    await term.typeAfter('You have a phone with you?', `y${ENTER}`);
    expect(await answer).toEqual({ value: true, origin: 'operator' });
  });

  it('defaults a yes/no question to no', async () => {
    const term = new Terminal();
    const answer = new InteractivePromptSource(term).confirm({ id: 'a/x', message: 'Go ahead?', scope: {} });
    await term.typeAfter('Go ahead?', ENTER);
    expect((await answer).value).toBe(false);
  });

  it('reads a secret masked, twice, and never shows it', async () => {
    const term = new Terminal();
    const answer = new InteractivePromptSource(term).secret({ id: 'a/password', message: 'New password', scope: {}, confirm: true });
    await term.typeAfter('? New password', `correct-horse${ENTER}`);
    await term.typeAfter('? Re-enter: New password', `correct-horse${ENTER}`);
    expect(await answer).toEqual({ value: 'correct-horse', origin: 'operator' });
    expect(term.shown).not.toContain('correct-horse');
    expect(term.shown).toContain('*************');
  });

  it('asks both entries again when they differ, and gives up after a few attempts', async () => {
    const term = new Terminal();
    const answer = new InteractivePromptSource(term).secret({ id: 'a/pin', message: 'New PIN', scope: {}, confirm: true });
    const settled = answer.then(
      () => undefined,
      (err: unknown) => err,
    );
    for (let attempt = 1; attempt <= SECRET_ATTEMPTS; attempt++) {
      await term.typeAfter('? New PIN', `123456${ENTER}`);
      await term.typeAfter('? Re-enter: New PIN', `654321${ENTER}`);
    }
    const error = await settled;
    expect(() => {
      throw error;
    }).toThrowWithCode('PROMPT_SECRET_MISMATCH');
    expect((error as Error).message).not.toMatch(/123456|654321/);
    expect(term.shown).toContain('The two entries differ');
  });

  it('accepts a second attempt that matches', async () => {
    const term = new Terminal();
    const answer = new InteractivePromptSource(term).secret({ id: 'a/pin', message: 'New PIN', scope: {}, confirm: true });
    await term.typeAfter('? New PIN', `111111${ENTER}`);
    await term.typeAfter('? Re-enter: New PIN', `222222${ENTER}`);
    await term.typeAfter('? New PIN', `333333${ENTER}`);
    await term.typeAfter('? Re-enter: New PIN', `333333${ENTER}`);
    expect((await answer).value).toBe('333333');
  });

  it('asks for text again until it matches the pattern', async () => {
    const term = new Terminal();
    const answer = new InteractivePromptSource(term).input({ id: 'a/serial', message: 'Serial number', scope: {}, pattern: /[0-9]{1,10}/ });
    await term.typeAfter('Serial number', `75500x${ENTER}`);
    // Refused: the entry stays on the line; the operator erases the stray
    // character and finishes typing.
    await term.typeAfter('must match', `${BACKSPACE}54${ENTER}`);
    expect(await answer).toEqual({ value: '7550054', origin: 'operator' });
  });

  it('offers a fixed set of choices', async () => {
    const term = new Terminal();
    const answer = new InteractivePromptSource(term).select({
      id: 'a/done',
      message: 'Seal the device. Done?',
      scope: {},
      choices: [
        { value: 'done', label: 'Done' },
        { value: 'failed', label: 'It failed' },
      ],
    });
    await term.typeAfter('It failed', `${DOWN}${ENTER}`);
    expect(await answer).toEqual({ value: 'failed', origin: 'operator' });
  });

  it('turns a cancelled prompt into PROMPT_CANCELLED', async () => {
    const term = new Terminal();
    const controller = new AbortController();
    const answer = new InteractivePromptSource({ input: term.input, output: term.output, signal: controller.signal }).confirm({
      id: 'a/x',
      message: 'Go ahead?',
      scope: {},
    });
    await term.typeAfter('Go ahead?', '');
    controller.abort();
    await expect(answer).toThrowWithCode('PROMPT_CANCELLED');
  });
});

describe('prompt ids', () => {
  it('are the step id and the prompt name', () => {
    expect(promptId('yubihsm.password', 'password')).toBe('yubihsm.password/password');
  });

  it('name an unnamed prompt by a slug of its question', () => {
    expect(promptName('Serial number printed on the YubiHSM 2')).toBe('serial-number-printed-on-the-yubihsm-2');
    expect(promptName('  Is the bag sealed?! ')).toBe('is-the-bag-sealed');
    expect(promptName('???')).toBe('prompt');
    expect(promptName('x'.repeat(100))).toHaveLength(48);
  });
});

describe('matchesWhole', () => {
  it('matches the whole answer, not a part of it', () => {
    expect(matchesWhole(/[0-9]{1,10}/, '0007550054')).toBe(true);
    expect(matchesWhole(/[0-9]{1,10}/, '0007550054x')).toBe(false);
    expect(matchesWhole(/a|b/, 'ab')).toBe(false);
    expect(matchesWhole(/[a-f]+/gi, 'ABC')).toBe(true);
  });
});
