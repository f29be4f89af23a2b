// Scripted answers: the YAML file that lets a run go unattended (the
// rehearsal, CI). An unanswered prompt must fail at once with its id, never wait.
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../../lib/paths.ts';
import { loadAnswersFile, lookupAnswer, parseAnswers, ScriptedPromptSource } from '../../lib/runbook/answers.ts';
import type { ExecuteError } from '../../lib/runbook/execute-errors.ts';

const source = (yaml: string) => new ScriptedPromptSource(parseAnswers(yaml, 'answers.yaml'));
const noScope = {};

describe('parseAnswers', () => {
  it('reads answers, per-call answers and the destructive list', () => {
    const file = parseAnswers(
      [
        'answers:',
        '  start.1/condition: no',
        '  "*/done": done',
        '  yubihsm.serial/serial:',
        '    hsm=YubiHSM2-1: "0007550054"',
        '    "*": "1"',
        'destructive:',
        '  - yubihsm.reset',
        '',
      ].join('\n'),
      'answers.yaml',
    );
    expect([...file.answers.keys()]).toEqual(['start.1/condition', '*/done', 'yubihsm.serial/serial']);
    expect(file.answers.get('start.1/condition')).toEqual({ value: 'no', at: 'answers.yaml:2' });
    expect(file.answers.get('yubihsm.serial/serial')).toMatchObject({
      scoped: [
        { selector: { hsm: 'YubiHSM2-1' }, value: '0007550054', at: 'answers.yaml:5' },
        { selector: {}, value: '1', at: 'answers.yaml:6' },
      ],
    });
    expect([...file.destructive]).toEqual(['yubihsm.reset']);
  });

  it('accepts an empty file and empty sections', () => {
    expect(parseAnswers('', 'a.yaml').answers.size).toBe(0);
    expect(parseAnswers('# nothing yet\n', 'a.yaml').answers.size).toBe(0);
    expect(parseAnswers('answers:\ndestructive:\n', 'a.yaml').destructive.size).toBe(0);
  });

  // Each malformed file, with the line the error must point at.
  const malformed: [string, string, number][] = [
    ['broken YAML', 'answers:\n  a/b: x: y\n', 2],
    ['not a mapping', '- a\n- b\n', 1],
    ['unknown top-level key (a typo)', 'answer:\n  a/b: yes\n', 1],
    ['answers not a mapping', 'answers:\n  - a/b\n', 2],
    ['an unquoted number (a serial would lose its leading zeros)', 'answers:\n  a/serial: 0007550054\n', 2],
    ['a null answer', 'answers:\n  a/b:\n', 2],
    ['a list as an answer', 'answers:\n  a/b: [1, 2]\n', 2],
    ['a malformed call selector', 'answers:\n  a/b:\n    hsm: YubiHSM2-1\n', 3],
    ['a selector naming a parameter twice', 'answers:\n  a/b:\n    hsm=A,hsm=B: x\n', 3],
    ['destructive not a list', 'destructive: yubihsm.reset\n', 1],
    ['a pattern under destructive', 'destructive:\n  - "*"\n', 2],
    ['a duplicate prompt id', 'answers:\n  a/b: yes\n  a/b: no\n', 3],
  ];
  for (const [what, yaml, line] of malformed) {
    it(`rejects ${what} with ANSWERS_FILE_INVALID at line ${line}`, () => {
      let error: unknown;
      try {
        parseAnswers(yaml, 'answers.yaml');
      } catch (err) {
        error = err;
      }
      expect(() => {
        throw error;
      }).toThrowWithCode('ANSWERS_FILE_INVALID');
      expect((error as ExecuteError).at).toMatchObject({ file: 'answers.yaml', line });
    });
  }

  it('never quotes a line of the file in a YAML error (it may hold a rehearsal secret)', () => {
    let error: unknown;
    try {
      parseAnswers('answers:\n  a/password: "s3cret-rehearsal\n', 'answers.yaml');
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).not.toContain('s3cret');
  });
});

describe('loadAnswersFile', () => {
  it('reads a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runbook-answers-'));
    const path = join(dir, 'answers.yaml');
    await writeFile(path, 'answers:\n  a/b: yes\n');
    expect((await loadAnswersFile(path)).file).toBe(path);
  });

  it('fails with ANSWERS_FILE_UNREADABLE for a missing file', async () => {
    await expect(loadAnswersFile(join(tmpdir(), 'no-such-answers-file.yaml'))).toThrowWithCode('ANSWERS_FILE_UNREADABLE');
  });
});

describe('lookupAnswer', () => {
  const file = parseAnswers(
    [
      'answers:',
      '  prepare.2/condition: exact',
      '  "prepare.*/condition": prefix',
      '  "*/condition": any-condition',
      '  "*": anything',
      '  serial/serial:',
      '    hsm=A: serial-a',
      '    hsm=A,role=root: serial-a-root',
      '    "*": serial-default',
      '  tie/x:',
      '    hsm=A: one',
      '    role=root: two',
      '  "x*": left',
      '  "*x": right',
      '',
    ].join('\n'),
    'answers.yaml',
  );
  const value = (id: string, scope: Record<string, string> = {}) => lookupAnswer(file, id, scope)?.value;

  it('prefers the exact id, then the pattern with the most literal characters', () => {
    expect(value('prepare.2/condition')).toBe('exact');
    expect(value('prepare.3/condition')).toBe('prefix');
    expect(value('yubihsm.1/condition')).toBe('any-condition');
    expect(value('yubihsm.1/done')).toBe('anything');
  });

  it('picks the call selector naming the most of the call’s parameters', () => {
    expect(value('serial/serial', { hsm: 'A' })).toBe('serial-a');
    expect(value('serial/serial', { hsm: 'A', role: 'root' })).toBe('serial-a-root');
    expect(value('serial/serial', { hsm: 'B', role: 'root' })).toBe('serial-default');
    expect(value('serial/serial')).toBe('serial-default');
  });

  it('refuses to guess between equally good answers', () => {
    expect(() => value('tie/x', { hsm: 'A', role: 'root' })).toThrowWithCode('PROMPT_ANSWER_AMBIGUOUS');
    expect(() => value('xax')).toThrowWithCode('PROMPT_ANSWER_AMBIGUOUS');
  });

  it('has no answer for a per-call prompt when no selector matches', () => {
    const strict = parseAnswers('answers:\n  s/serial:\n    hsm=A: one\n', 'answers.yaml');
    expect(lookupAnswer(strict, 's/serial', { hsm: 'B' })).toBeUndefined();
  });
});

describe('ScriptedPromptSource', () => {
  it('answers confirmations from booleans and yes/no words', async () => {
    const s = source('answers:\n  a/t: true\n  a/y: YES\n  a/n: n\n  a/f: false\n');
    const ask = async (id: string) => (await s.confirm({ id, message: '?', scope: noScope })).value;
    expect([await ask('a/t'), await ask('a/y'), await ask('a/n'), await ask('a/f')]).toEqual([true, true, false, false]);
    await expect(source('answers:\n  a/x: maybe\n').confirm({ id: 'a/x', message: '?', scope: noScope })).toThrowWithCode('PROMPT_ANSWER_INVALID');
  });

  it('reports the answers file as the origin', async () => {
    expect(await source('answers:\n  a/t: yes\n').confirm({ id: 'a/t', message: '?', scope: noScope })).toEqual({ value: true, origin: 'answers-file' });
  });

  it('fails at once with PROMPT_UNANSWERED for a prompt the file does not answer', async () => {
    const s = source('answers:\n  other/x: yes\n');
    await expect(s.confirm({ id: 'a/b', message: '?', scope: noScope })).toThrowWithCode('PROMPT_UNANSWERED');
    await expect(s.secret({ id: 'a/b', message: '?', scope: noScope, confirm: true })).toThrowWithCode('PROMPT_UNANSWERED');
    await expect(s.input({ id: 'a/b', message: '?', scope: noScope })).toThrowWithCode('PROMPT_UNANSWERED');
    await expect(s.select({ id: 'a/b', message: '?', scope: noScope, choices: [{ value: 'x', label: 'X' }] })).toThrowWithCode('PROMPT_UNANSWERED');
  });

  it('checks text answers against the prompt’s pattern, whole', async () => {
    const s = source('answers:\n  a/serial: "0007550054"\n  a/bad: "7550054x"\n');
    const pattern = /[0-9]{1,10}/;
    expect((await s.input({ id: 'a/serial', message: '?', scope: noScope, pattern })).value).toBe('0007550054');
    await expect(s.input({ id: 'a/bad', message: '?', scope: noScope, pattern })).toThrowWithCode('PROMPT_ANSWER_INVALID');
    await expect(source('answers:\n  a/b: true\n').input({ id: 'a/b', message: '?', scope: noScope })).toThrowWithCode('PROMPT_ANSWER_INVALID');
  });

  it('accepts only one of the offered choices', async () => {
    const choices = [
      { value: 'done', label: 'Done' },
      { value: 'failed', label: 'Failed' },
    ];
    expect((await source('answers:\n  a/done: failed\n').select({ id: 'a/done', message: '?', scope: noScope, choices })).value).toBe('failed');
    await expect(source('answers:\n  a/done: finished\n').select({ id: 'a/done', message: '?', scope: noScope, choices })).toThrowWithCode(
      'PROMPT_ANSWER_INVALID',
    );
  });

  it('gives secrets as strings only, and never puts them in an error message', async () => {
    expect((await source('answers:\n  a/pin: "123456"\n').secret({ id: 'a/pin', message: '?', scope: noScope, confirm: true })).value).toBe('123456');
    await expect(source('answers:\n  a/pin: true\n').secret({ id: 'a/pin', message: '?', scope: noScope, confirm: false })).toThrowWithCode(
      'PROMPT_ANSWER_INVALID',
    );
    await expect(source('answers:\n  a/pin: ""\n').secret({ id: 'a/pin', message: '?', scope: noScope, confirm: false })).toThrowWithCode(
      'PROMPT_ANSWER_INVALID',
    );
  });

  it('confirms a destructive step only from the destructive list, whatever the answers say', async () => {
    const request = { id: 'yubihsm.reset/destructive', message: 'DANGER', scope: noScope, destructiveStep: 'yubihsm.reset' };
    expect((await source('destructive:\n  - yubihsm.reset\n').confirm(request)).value).toBe(true);
    await expect(source('answers:\n  yubihsm.reset/destructive: yes\n  "*": yes\n').confirm(request)).toThrowWithCode('DESTRUCTIVE_UNCONFIRMED');
    await expect(source('destructive:\n  - yubihsm.reset.other\n').confirm(request)).toThrowWithCode('DESTRUCTIVE_UNCONFIRMED');
  });
});

describe('docs/FORMAT.md', () => {
  it('shows an answers file that follows the format', () => {
    const doc = readFileSync(projectPath('docs', 'FORMAT.md'), 'utf8');
    const example = /\*\*Answers files\.\*\*[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    const file = parseAnswers(example!, 'FORMAT.md');
    expect(lookupAnswer(file, 'yubihsm.serial/serial', { hsm: 'YubiHSM2-2' })?.value).toBe('7550099');
    expect(lookupAnswer(file, 'provisioning-the-yubihsm-2.7/done', {})?.value).toBe('done');
    expect([...file.destructive]).toEqual(['yubihsm.reset', 'nitrokey.reset']);
  });
});
