// The execution core's control flow, on runbooks parsed from Markdown: the
// PSF runbook's notation (DO, IF … THEN, GO TO as a call with parameters, END), the
// operator's confirmations, and the one shared context.
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExecuteError } from '../../lib/runbook/execute-errors.ts';
import type { RunEvent } from '../../lib/runbook/events.ts';
import { parseRunbook } from '../../lib/runbook/parse.ts';
import { ceremony, ceremonyAnswers, FRONT_MATTER, rethrow, run, runbookOf, said, started } from '../fixtures/execute/harness.ts';
import { codeStep } from './support.ts';

/** The events of one type, narrowed. */
function only<T extends RunEvent['type']>(events: readonly RunEvent[], type: T): Extract<RunEvent, { type: T }>[] {
  return events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
}

/** The fixture ceremony's steps up to and including the first device's provisioning, in order. */
const FIRST_DEVICE = [
  'start.1',
  'prepare-the-environment.1',
  'prepare-the-environment.2',
  'prepare-the-environment.3',
  'yubihsm.serial',
  'yubihsm.reset',
  'yubihsm.password',
  'provisioning-the-yubihsm-2.4',
];

describe('the fixture ceremony, end to end', () => {
  it('parses without findings', () => {
    expect(ceremony().diagnostics).toEqual([]);
  });

  it('provisions each device through the called section and comes back', async () => {
    const { events, result, error } = await run(ceremony().runbook, ceremonyAnswers());
    expect(error).toBeUndefined();
    expect(result).toEqual({ outcome: 'ended', performed: 14 });
    expect(started(events)).toEqual([
      ...FIRST_DEVICE,
      'prepare-the-environment.4',
      'yubihsm.serial',
      'yubihsm.reset',
      'yubihsm.password',
      'provisioning-the-yubihsm-2.4',
      'prepare.summary',
      'prepare-the-environment.6',
    ]);
    expect(said(events)).toEqual([
      'reset YubiHSM2-1 (P-256) serial 0007550054',
      'password set ([secret])',
      'reset YubiHSM2-2 (P-384) serial 0007550099',
      'password set ([secret])',
      'provisioned 0007550054,0007550099',
    ]);
  });

  it('numbers events in order and brackets them with run.started and run.finished', async () => {
    const { events } = await run(ceremony().runbook, ceremonyAnswers());
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]?.type).toBe('run.started');
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', outcome: 'ended', performed: 14 });
    for (const e of events) expect(Number.isNaN(Date.parse(e.at))).toBe(false);
  });

  it('asks the operator to confirm a step done by hand in its own words, before its GO TO', async () => {
    const { events } = await run(ceremony().runbook, ceremonyAnswers());
    const asked = new Map(only(events, 'prompt.asked').map((e) => [e.prompt, e.message]));
    expect(asked.get('prepare-the-environment.1/done')).toBe('Start streaming the ceremony. Done?');
    expect(asked.get('prepare-the-environment.3/done')).toBe('Remove YubiHSM2-1 from its bag. Done?');
    // The confirmation comes before the call it leads to.
    const order = events.flatMap((e) =>
      (e.type === 'prompt.asked' && e.prompt === 'prepare-the-environment.3/done') || (e.type === 'section.entered' && e.call === 3) ? [e.type] : [],
    );
    expect(order).toEqual(['prompt.asked', 'section.entered']);
  });

  it('reports each section call with its parameters, depth and caller', async () => {
    const { events } = await run(ceremony().runbook, ceremonyAnswers());
    expect(only(events, 'section.entered').map(({ call, section, params, depth, caller }) => ({ call, section, params, depth, caller }))).toEqual([
      { call: 1, section: 'start', params: {}, depth: 0, caller: undefined },
      { call: 2, section: 'prepare-the-environment', params: {}, depth: 1, caller: 'start.1' },
      { call: 3, section: 'provisioning-the-yubihsm-2', params: { hsm: 'YubiHSM2-1' }, depth: 2, caller: 'prepare-the-environment.3' },
      { call: 4, section: 'provisioning-the-yubihsm-2', params: { hsm: 'YubiHSM2-2' }, depth: 2, caller: 'prepare-the-environment.4' },
    ]);
  });
});

describe('GO TO', () => {
  const called = `
# Start

1. **GO TO** [Provision](#provision) \`hsm=YubiHSM2-2\`

2. **DO** back in the caller:

   \`\`\`ts {id=start.back}
   ctx.say(\`back in \${ctx.step.section} with \${JSON.stringify(params)}\`);
   \`\`\`

# Provision

**Parameters:**

- \`hsm\`: the device.

1. **DO** show the parameters:

   \`\`\`ts {id=provision.show}
   ctx.say(\`\${params.hsm} \${ctx.params.hsm} \${ctx.hsm.kind} \${ctx.hsm.keyType}\`);
   \`\`\`
`;

  it('passes its parameters to the called section and returns to the next step', async () => {
    const { events, result } = await run(runbookOf(called), '');
    expect(result?.outcome).toBe('completed');
    expect(said(events)).toEqual(['YubiHSM2-2 YubiHSM2-2 yubihsm2 P-384', 'back in start with {}']);
    // The GO TO step finishes only after the whole called section.
    const order = events.flatMap((e) => (e.type === 'step.finished' ? [e.step] : e.type === 'section.left' ? [`left ${e.section}`] : []));
    expect(order).toEqual(['provision.show', 'left provision', 'start.1', 'start.back', 'left start']);
  });

  it('nests: a called section calls another, and each sees its own parameters', async () => {
    const body = `
# Start

1. **GO TO** [Device](#device) \`hsm=NitrokeyHSM-4\`

2. **DO** done:

   \`\`\`ts {id=start.done}
   ctx.say('start done');
   \`\`\`

# Device

**Parameters:**

- \`hsm\`: the device.

1. **GO TO** [Key](#key) \`role=root\`

2. **GO TO** [Key](#key) \`role=targets\`

3. **DO** after the keys:

   \`\`\`ts {id=device.after}
   ctx.say(\`after keys of \${params.hsm}\`);
   \`\`\`

# Key

**Parameters:**

- \`role\`: the TUF role.

1. **DO** generate:

   \`\`\`ts {id=key.generate}
   ctx.say(\`\${params.role} key, params \${JSON.stringify(params)}\`);
   \`\`\`
`;
    const { events, result } = await run(runbookOf(body), '');
    expect(result?.outcome).toBe('completed');
    expect(said(events)).toEqual([
      'root key, params {"role":"root"}',
      'targets key, params {"role":"targets"}',
      'after keys of NitrokeyHSM-4',
      'start done',
    ]);
    expect(only(events, 'section.entered').map((e) => e.depth)).toEqual([0, 1, 2, 2]);
  });

  const throughAnother = `
# Start

1. **GO TO** [First](#first)

# First

1. **GO TO** [Second](#second)

# Second

1. **DO** loop back:

   \`\`\`ts {id=second.mark}
   ctx.say('in second');
   \`\`\`

2. **GO TO** [First](#first)
`;
  const intoItself = '\n# Start\n\n1. **GO TO** [Again](#again)\n\n# Again\n\n1. **GO TO** [Again](#again)\n';

  it.each([
    ['through another section', throughAnother, ['start', 'first', 'second'], 'second.2'],
    ['into itself', intoItself, ['start', 'again'], 'again.1'],
  ])('refuses a cycle %s before entering the section a second time', async (_, body, entered, at) => {
    const { events, error } = await run(runbookOf(body), '');
    expect(error).toBeInstanceOf(ExecuteError);
    expect(rethrow(error)).toThrowWithCode('GOTO_CYCLE');
    expect(only(events, 'section.entered').map((e) => e.section)).toEqual(entered);
    expect(only(events, 'step.failed')).toMatchObject([{ step: at, code: 'GOTO_CYCLE' }]);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', outcome: 'failed', error: { code: 'GOTO_CYCLE' } });
  });

  it('fails on a GO TO to a heading that does not exist, naming the step', async () => {
    // The static check reports this too (GOTO_TARGET_MISSING); the executor
    // must still never wander off when given such a runbook.
    const { runbook } = parseRunbook(`---\ntitle: t\nhsms:\n  - {id: A, kind: yubihsm2, keyType: P-256}\n---\n# Start\n\n1. **GO TO** [Nowhere](#nowhere)\n`, 'RUNBOOK.md');
    const { events, error } = await run(runbook, '');
    expect(rethrow(error)).toThrowWithCode('GOTO_UNKNOWN_SECTION');
    expect(only(events, 'step.failed')).toMatchObject([{ step: 'start.1' }]);
  });
});

describe('IF', () => {
  const asked = `
# Start

1. **IF** you have a phone with you **THEN** set it to airplane mode.

2. **IF** the device was provisioned before **THEN** reset it:

   \`\`\`ts {id=start.reset-action}
   ctx.say('reset');
   \`\`\`

3. **END**
`;

  it('asks the operator in the condition’s own words, and performs the action when it holds', async () => {
    const answers = `answers:\n  start.1/condition: yes\n  start.1/done: done\n  start.reset-action/condition: true\n`;
    const { events, result } = await run(runbookOf(asked), answers);
    expect(result).toEqual({ outcome: 'ended', performed: 3 });
    expect(only(events, 'prompt.asked').map((e) => [e.prompt, e.message])).toEqual([
      ['start.1/condition', 'You have a phone with you?'],
      ['start.1/done', 'Set it to airplane mode. Done?'],
      ['start.reset-action/condition', 'The device was provisioned before?'],
    ]);
    expect(only(events, 'condition').map((e) => [e.step, e.holds, e.by])).toEqual([
      ['start.1', true, 'answers-file'],
      ['start.reset-action', true, 'answers-file'],
    ]);
    expect(said(events)).toEqual(['reset']);
  });

  it('skips the action when the operator says no', async () => {
    const answers = `answers:\n  start.1/condition: no\n  start.reset-action/condition: false\n`;
    const { events, result } = await run(runbookOf(asked), answers);
    expect(result).toEqual({ outcome: 'ended', performed: 1 });
    expect(said(events)).toEqual([]);
    expect(only(events, 'step.finished').map((e) => [e.step, e.performed])).toEqual([
      ['start.1', false],
      ['start.reset-action', false],
      ['start.3', true],
    ]);
    // No "done?" was asked for an action that was not performed.
    expect(only(events, 'prompt.asked').map((e) => e.prompt)).not.toContain('start.1/done');
  });

  const computed = (value: string) => `
# Start

1. **DO** remember the key type:

   \`\`\`ts {id=start.remember}
   ctx.values.set('keyType', ${value});
   \`\`\`

2. **IF** the key type is P-256 **THEN** pass \`--type p256\`:

   \`\`\`ts {id=start.is-p256 when}
   return ctx.values.string('keyType') === 'P-256';
   \`\`\`

   \`\`\`ts {id=start.p256}
   ctx.say('--type p256');
   \`\`\`

   1. **DO** sub-step of the action:

      \`\`\`ts {id=start.p256-sub}
      ctx.say('sub-step');
      \`\`\`
`;

  it('computes the condition with its when block: true performs the action and its sub-steps', async () => {
    const { events, result } = await run(runbookOf(computed(`'P-256'`)), '');
    expect(result?.outcome).toBe('completed');
    expect(said(events)).toEqual(['--type p256', 'sub-step']);
    expect(only(events, 'condition')).toMatchObject([{ step: 'start.p256', holds: true, by: 'code' }]);
    expect(only(events, 'prompt.asked')).toEqual([]);
  });

  it('computes the condition with its when block: false skips the action and its sub-steps', async () => {
    const { events } = await run(runbookOf(computed(`'P-384'`)), '');
    expect(said(events)).toEqual([]);
    expect(started(events)).not.toContain('start.p256-sub');
    expect(only(events, 'condition')).toMatchObject([{ step: 'start.p256', holds: false, by: 'code' }]);
  });

  it('refuses a condition block that does not return a boolean', async () => {
    const body = `
# Start

1. **IF** the answer is known **THEN** say it.

   \`\`\`ts {id=start.known when}
   return (42 as unknown) as boolean;
   \`\`\`
`;
    const { error } = await run(runbookOf(body), '');
    expect(rethrow(error)).toThrowWithCode('CONDITION_NOT_BOOLEAN');
  });

  it('IF … THEN GO TO calls the section only when the condition holds', async () => {
    const body = (answer: string) => [
      runbookOf(`
# Start

1. **IF** the device needs a reset **THEN** **GO TO** [Reset](#reset)

# Reset

1. **DO** reset:

   \`\`\`ts {id=reset.run}
   ctx.say('reset ran');
   \`\`\`
`),
      `answers:\n  start.1/condition: ${answer}\n`,
    ] as const;
    expect(said((await run(...body('yes'))).events)).toEqual(['reset ran']);
    expect(said((await run(...body('no'))).events)).toEqual([]);
  });
});

describe('END', () => {
  it('stops the run: no later step runs, in the section or in any caller', async () => {
    const body = `
# Start

1. **GO TO** [Sub](#sub)

2. **DO** never:

   \`\`\`ts {id=start.never}
   ctx.say('must not run');
   \`\`\`

# Sub

1. **DO** before:

   \`\`\`ts {id=sub.before}
   ctx.say('before');
   \`\`\`

2. **END**

3. **DO** never either:

   \`\`\`ts {id=sub.never}
   ctx.say('must not run either');
   \`\`\`
`;
    const { runbook } = parseRunbook(`---\ntitle: t\nhsms:\n  - {id: A, kind: yubihsm2, keyType: P-256}\n---\n${body}`, 'RUNBOOK.md');
    const { events, result } = await run(runbook, '');
    expect(result).toEqual({ outcome: 'ended', performed: 3 });
    expect(said(events)).toEqual(['before']);
    expect(started(events)).toEqual(['start.1', 'sub.before', 'sub.2']);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', outcome: 'ended' });
  });

  it('IF … THEN END ends only when the condition holds', async () => {
    const body = `
# Start

1. **IF** the ceremony is called off **THEN** **END**

2. **DO** carry on:

   \`\`\`ts {id=start.carry-on}
   ctx.say('carried on');
   \`\`\`
`;
    const yes = await run(runbookOf(body), 'answers:\n  start.1/condition: yes\n');
    expect(yes.result?.outcome).toBe('ended');
    expect(said(yes.events)).toEqual([]);
    const no = await run(runbookOf(body), 'answers:\n  start.1/condition: no\n');
    expect(no.result?.outcome).toBe('completed');
    expect(said(no.events)).toEqual(['carried on']);
  });

  it('a block can end the ceremony with ctx.end()', async () => {
    const body = `
# Start

1. **DO** decide:

   \`\`\`ts {id=start.decide}
   ctx.say('ending');
   ctx.end();
   \`\`\`

2. **DO** never:

   \`\`\`ts {id=start.never}
   ctx.say('must not run');
   \`\`\`
`;
    const { events, result } = await run(runbookOf(body), '');
    expect(result?.outcome).toBe('ended');
    expect(said(events)).toEqual(['ending']);
  });
});

describe('steps performed by hand', () => {
  const body = `
# Start

1. **DO** take pictures of each HSM in its bag.

2. **DO** check the pictures:

   \`\`\`ts {id=start.after}
   ctx.say('after');
   \`\`\`
`;

  it('go on once the operator confirms them done', async () => {
    const { events, result } = await run(runbookOf(body), 'answers:\n  start.1/done: done\n');
    expect(result?.outcome).toBe('completed');
    expect(only(events, 'prompt.answered')).toMatchObject([{ prompt: 'start.1/done', kind: 'select', answer: 'done' }]);
    expect(said(events)).toEqual(['after']);
  });

  it('stop the run when the operator reports a failure', async () => {
    const { events, error } = await run(runbookOf(body), 'answers:\n  start.1/done: failed\n');
    expect(rethrow(error)).toThrowWithCode('STEP_REPORTED_FAILED');
    expect((error as ExecuteError).step).toBe('start.1');
    expect(said(events)).toEqual([]);
  });

  it('IF … THEN with a manual action and a GO TO confirms the action, then calls', async () => {
    const { events } = await run(
      runbookOf(`
# Start

1. **IF** the device is new **THEN** unpack it and **GO TO** [Next](#next)

2. **IF** the device is old **THEN** **GO TO** [Next](#next)

# Next

1. **END**
`),
      'answers:\n  start.1/condition: yes\n  start.1/done: done\n',
    );
    expect(only(events, 'prompt.asked').map((e) => [e.prompt, e.message])).toEqual([
      ['start.1/condition', 'The device is new?'],
      ['start.1/done', 'Unpack it. Done?'],
    ]);
  });

  it('asks what the model says is done by hand, not what it reads in the text', async () => {
    const rb = runbookOf('\n# Start\n\n1. **DO** take pictures of each HSM.\n\n2. **DO** seal the bags.\n');
    const [first, second] = rb.sections[0]?.steps ?? [];
    const steps = [{ ...first!, manual: 'Photograph every bag.' }, { ...second!, manual: undefined }];
    const edited = { ...rb, sections: [{ ...rb.sections[0]!, steps }] };
    const { events } = await run(edited, 'answers:\n  "*/done": done\n');
    expect(only(events, 'prompt.asked').map((e) => [e.prompt, e.message])).toEqual([['start.1/done', 'Photograph every bag. Done?']]);
  });

  it('a DO that only goes to a section asks nothing before the call', async () => {
    const { events } = await run(
      runbookOf(`
# Start

1. **DO** **GO TO** [Next](#next)

# Next

1. **END**
`),
      '',
    );
    expect(only(events, 'prompt.asked')).toEqual([]);
  });

  it('a DO whose sub-steps are the action asks about the sub-steps only', async () => {
    const { events } = await run(
      runbookOf(`
# Start

1. **DO** determine the current PIN:

   1. **IF** the device is new **THEN** the PIN is the factory default.

   2. **IF** the device was provisioned before **THEN** use the PIN kept from then.
`),
      'answers:\n  start.1.1/condition: yes\n  start.1.1/done: done\n  start.1.2/condition: no\n',
    );
    expect(only(events, 'prompt.asked').map((e) => e.prompt)).toEqual(['start.1.1/condition', 'start.1.1/done', 'start.1.2/condition']);
  });
});

describe('destructive blocks', () => {
  const body = `
# Start

1. **DO** reset the device:

   \`\`\`ts {id=device.reset destructive}
   ctx.say('RESET');
   \`\`\`
`;

  it('run once the answers file confirms that very step', async () => {
    const { events, result } = await run(runbookOf(body), 'destructive:\n  - device.reset\n');
    expect(result?.outcome).toBe('completed');
    expect(said(events)).toEqual(['RESET']);
    expect(only(events, 'prompt.asked')).toMatchObject([{ prompt: 'device.reset/destructive', kind: 'confirm' }]);
  });

  it('do not run under scripted answers that do not list the step', async () => {
    const { events, error } = await run(runbookOf(body), 'destructive:\n  - other.step\n');
    expect(rethrow(error)).toThrowWithCode('DESTRUCTIVE_UNCONFIRMED');
    expect(said(events)).toEqual([]);
  });

  it('are not confirmed by an answers entry or a pattern, only by the destructive list', async () => {
    const answers = 'answers:\n  device.reset/destructive: yes\n  "*": yes\n';
    const { events, error } = await run(runbookOf(body), answers);
    expect(rethrow(error)).toThrowWithCode('DESTRUCTIVE_UNCONFIRMED');
    expect(said(events)).toEqual([]);
  });
});

describe('a failing block', () => {
  const body = `
# Start

${codeStep(1, 'first', 'start.first', "ctx.say('first');")}
2. **DO** fail:

   \`\`\`ts {id=start.fail}
   const device = 'YubiHSM2-1';
   await Promise.resolve();
   throw new Error(\`\${device} did not answer\`);
   \`\`\`

3. **DO** never:

   \`\`\`ts {id=start.never}
   ctx.say('must not run');
   \`\`\`
`;

  it('stops the run with STEP_FAILED naming the step and the Markdown line it threw from', async () => {
    const rb = runbookOf(body);
    const { events, error } = await run(rb, '');
    expect(rethrow(error)).toThrowWithCode('STEP_FAILED');
    const failure = error as ExecuteError;
    expect(failure.step).toBe('start.fail');
    // V8 places an error where it was constructed: `new Error` on the block's
    // third line, mapped back through the transpiler's source map.
    const lines = (FRONT_MATTER + body).split('\n');
    const line = lines.findIndex((l) => l.includes('throw new Error')) + 1;
    const column = lines[line - 1]!.indexOf('new Error') + 1;
    expect(failure.at).toEqual({ file: 'RUNBOOK.md', line, column });
    expect(failure.cause).toBeInstanceOf(Error);
    expect(said(events)).toEqual(['first']);
    expect(only(events, 'step.failed')).toMatchObject([{ step: 'start.fail', code: 'STEP_FAILED' }]);
    expect(started(events)).not.toContain('start.never');
  });

  it('reports the failure once, at the step that failed, not again at the GO TO that called it', async () => {
    const rb = runbookOf(`
# Start

1. **GO TO** [Sub](#sub)

# Sub

1. **DO** fail:

   \`\`\`ts {id=sub.fail}
   throw new Error('no');
   \`\`\`
`);
    const { events, error } = await run(rb, '');
    expect(rethrow(error)).toThrowWithCode('STEP_FAILED');
    expect(only(events, 'step.failed').map((e) => e.step)).toEqual(['sub.fail']);
  });

  it('a block that does not compile stops the run before any step starts', async () => {
    const rb = runbookOf(`
# Start

1. **DO** fine:

   \`\`\`ts {id=start.fine}
   ctx.say('fine');
   \`\`\`

2. **DO** broken:

   \`\`\`ts {id=start.broken}
   const = ;
   \`\`\`
`);
    const { events, error } = await run(rb, '');
    expect(rethrow(error)).toThrowWithCode('BLOCK_COMPILE_FAILED');
    expect(started(events)).toEqual([]);
  });

  it('a compile failure names the first broken block in document order, at its Markdown line', async () => {
    const body = `
# Start

1. **DO** first broken:

   \`\`\`ts {id=start.first}
   ctx.say('fine');
   let x = ;
   \`\`\`

2. **DO** second broken:

   \`\`\`ts {id=start.second}
   const = ;
   \`\`\`
`;
    const { error } = await run(runbookOf(body), '');
    expect(rethrow(error)).toThrowWithCode('BLOCK_COMPILE_FAILED');
    const lines = (FRONT_MATTER + body).split('\n');
    const line = lines.indexOf('   let x = ;') + 1;
    expect(error).toMatchObject({ step: 'start.first', at: { file: 'RUNBOOK.md', line, column: 12 } });
  });

  it('ctx.abort stops the run with RUN_ABORTED', async () => {
    const rb = runbookOf(`
# Start

1. **DO** check the serial number:

   \`\`\`ts {id=start.check}
   ctx.abort('the serial number does not match the one written down');
   \`\`\`
`);
    const { error } = await run(rb, '');
    expect(rethrow(error)).toThrowWithCode('RUN_ABORTED');
  });
});

describe('the shared context', () => {
  it('carries values from one step to the next, typed', async () => {
    const rb = runbookOf(`
# Start

1. **DO** note things:

   \`\`\`ts {id=start.note}
   ctx.values.set('serial', '0007550054');
   ctx.values.set('count', 3);
   ctx.values.set('ok', true);
   ctx.values.set('point', new Uint8Array([4, 1, 2]));
   \`\`\`

2. **DO** read them back:

   \`\`\`ts {id=start.read}
   ctx.say([ctx.values.string('serial'), ctx.values.number('count') + 1, ctx.values.boolean('ok'), ctx.values.bytes('point').join(':')].join(' '));
   \`\`\`
`);
    const { events, error } = await run(rb, '');
    expect(error).toBeUndefined();
    expect(said(events)).toEqual(['0007550054 4 true 4:1:2']);
  });

  it('reading a value as the wrong type, or one never set, fails with its code', async () => {
    const read = (expr: string) =>
      runbookOf(`
# Start

1. **DO** set:

   \`\`\`ts {id=start.set}
   ctx.values.set('serial', '0007550054');
   \`\`\`

2. **DO** read:

   \`\`\`ts {id=start.read}
   ${expr};
   \`\`\`
`);
    expect(rethrow((await run(read(`ctx.values.number('serial')`), '')).error)).toThrowWithCode('VALUE_TYPE');
    expect(rethrow((await run(read(`ctx.values.string('other')`), '')).error)).toThrowWithCode('VALUE_MISSING');
  });

  it('gives each section call its own values, readable from callers, unless kept for the run', async () => {
    const rb = runbookOf(`
# Start

1. **DO** set a value for the whole ceremony:

   \`\`\`ts {id=start.set}
   ctx.values.set('operator', 'alice');
   \`\`\`

2. **GO TO** [Device](#device) \`hsm=YubiHSM2-1\`

3. **GO TO** [Device](#device) \`hsm=YubiHSM2-2\`

4. **DO** list:

   \`\`\`ts {id=start.list}
   ctx.say(\`serial kept: \${ctx.values.has('serial')}; last: \${ctx.values.string('last')}\`);
   \`\`\`

# Device

**Parameters:**

- \`hsm\`: the device.

1. **DO** look:

   \`\`\`ts {id=device.look}
   ctx.say(\`\${params.hsm}: operator \${ctx.values.string('operator')}, serial before \${ctx.values.has('serial')}\`);
   ctx.values.set('serial', params.hsm);
   ctx.values.set('last', params.hsm, { scope: 'run' });
   \`\`\`
`);
    const { events, error } = await run(rb, '');
    expect(error).toBeUndefined();
    expect(said(events)).toEqual([
      'YubiHSM2-1: operator alice, serial before false',
      'YubiHSM2-2: operator alice, serial before false',
      'serial kept: false; last: YubiHSM2-2',
    ]);
  });

  it('ctx.hsm fails outside a call that names an HSM in the inventory', async () => {
    const rb = (hsm: string) =>
      runbookOf(`
# Start

1. **GO TO** [Device](#device) \`hsm=${hsm}\`

# Device

**Parameters:**

- \`hsm\`: the device.

1. **DO** use it:

   \`\`\`ts {id=device.use}
   ctx.say(ctx.hsm.id);
   \`\`\`
`);
    expect(rethrow((await run(rb('YubiHSM2-9'), '')).error)).toThrowWithCode('CONTEXT_NO_HSM');
    const none = runbookOf(`
# Start

1. **DO** use it:

   \`\`\`ts {id=start.use}
   ctx.say(ctx.hsm.id);
   \`\`\`
`);
    expect(rethrow((await run(none, '')).error)).toThrowWithCode('CONTEXT_NO_HSM');
  });

  it('asks the operator through prompts with stable ids: named, or a slug of the question', async () => {
    const rb = runbookOf(`
# Start

1. **DO** ask:

   \`\`\`ts {id=start.ask}
   const sealed = await ctx.confirm('Is the bag sealed?');
   const pin = await ctx.secret('Current SO-PIN', { name: 'so-pin' });
   const slot = await ctx.input('Slot number', { name: 'slot', pattern: /[0-9]+/ });
   const role = await ctx.choose('Which key?', ['root', { value: 'targets', label: 'Targets key' }], { name: 'role' });
   ctx.say([sealed, pin, slot, role].join(' '));
   \`\`\`
`);
    const answers = 'answers:\n  start.ask/is-the-bag-sealed: yes\n  start.ask/so-pin: "3537363231383830"\n  start.ask/slot: "0"\n  start.ask/role: targets\n';
    const { events, error } = await run(rb, answers);
    expect(error).toBeUndefined();
    expect(said(events)).toEqual(['true [secret] 0 targets']);
    expect(only(events, 'prompt.asked').map((e) => [e.prompt, e.kind])).toEqual([
      ['start.ask/is-the-bag-sealed', 'confirm'],
      ['start.ask/so-pin', 'secret'],
      ['start.ask/slot', 'input'],
      ['start.ask/role', 'select'],
    ]);
    const wrongChoice = answers.replace('role: targets', 'role: snapshot');
    expect(rethrow((await run(rb, wrongChoice)).error)).toThrowWithCode('PROMPT_ANSWER_INVALID');
  });

  it('refuses values that cannot be carried or recorded', async () => {
    const rb = runbookOf(`
# Start

1. **DO** set:

   \`\`\`ts {id=start.set}
   ctx.values.set('count', Number.NaN);
   \`\`\`
`);
    expect(rethrow((await run(rb, '')).error)).toThrowWithCode('VALUE_TYPE');
  });

  it('is one object, seen by every block', async () => {
    const rb = runbookOf(`
# Start

${codeStep(1, 'first', 'start.first', '(globalThis as Record<string, unknown>).__runbookFirst = ctx;')}
${codeStep(2, 'second', 'start.second', 'ctx.say(String((globalThis as Record<string, unknown>).__runbookFirst === ctx));')}`);
    const { events } = await run(rb, '');
    delete (globalThis as Record<string, unknown>).__runbookFirst;
    expect(said(events)).toEqual(['true']);
  });
});

describe('products', () => {
  const body = (path: string) => `
# Start

1. **DO** write the public key:

   \`\`\`ts {id=start.write}
   const path = await ctx.writeProduct('${path}', 'PUBLIC KEY');
   ctx.say(path.slice(ctx.productsDir.length));
   \`\`\`
`;

  it('are written under the products directory and reported with their digest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runbook-products-'));
    const { events, error } = await run(runbookOf(body('0007550054/0007550054_root_pubkey.pem')), '', { productsDir: dir });
    expect(error).toBeUndefined();
    expect(await readFile(join(dir, '0007550054', '0007550054_root_pubkey.pem'), 'utf8')).toBe('PUBLIC KEY');
    expect(only(events, 'product.written')).toMatchObject([
      {
        step: 'start.write',
        path: join(dir, '0007550054', '0007550054_root_pubkey.pem'),
        // sha256("PUBLIC KEY"), computed independently with `printf 'PUBLIC KEY' | sha256sum`.
        sha256: 'd5bdb5ef4027714bda9b15052336ec4d0b71adf5556df40524934d7b774e12aa',
        bytes: 10,
      },
    ]);
  });

  it('are never overwritten: a second write of the same product fails the step', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runbook-products-'));
    const rb = runbookOf(body('key.pem'));
    expect((await run(rb, '', { productsDir: dir })).error).toBeUndefined();
    const second = await run(rb, '', { productsDir: dir });
    expect(rethrow(second.error)).toThrowWithCode('STEP_FAILED');
    expect((second.error as ExecuteError).cause).toMatchObject({ code: 'PRODUCT_EXISTS' });
    expect(await readdir(dir)).toEqual(['key.pem']);
  });

  it('must stay inside the products directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runbook-products-'));
    for (const path of ['../escape.pem', '/etc/escape.pem', '', '.', 'sub/../../escape.pem']) {
      const { error } = await run(runbookOf(body(path)), '', { productsDir: dir });
      expect(rethrow(error)).toThrowWithCode('PRODUCT_PATH_OUTSIDE');
    }
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('--from', () => {
  it('passes over earlier steps, following GO TOs, and starts at the step with its call’s parameters', async () => {
    const { events, result } = await run(ceremony().runbook, ceremonyAnswers(), { from: 'prepare-the-environment.4' });
    expect(result?.outcome).toBe('ended');
    expect(started(events)[0]).toBe('prepare-the-environment.4');
    expect(said(events)[0]).toBe('reset YubiHSM2-2 (P-384) serial 0007550099');
    expect(only(events, 'step.skipped').map((e) => e.step)).toEqual(FIRST_DEVICE);
  });

  it('can start inside a called section; values set by the steps passed over are not there', async () => {
    const { events, result } = await run(ceremony().runbook, ceremonyAnswers(), { from: 'provisioning-the-yubihsm-2.4' });
    expect(result?.outcome).toBe('ended');
    expect(started(events).slice(0, 2)).toEqual(['provisioning-the-yubihsm-2.4', 'prepare-the-environment.4']);
    expect(only(events, 'step.started')[0]).toMatchObject({ call: 3, params: { hsm: 'YubiHSM2-1' } });
    // Only the second device's serial: the first device's steps were passed over.
    expect(said(events).at(-1)).toBe('provisioned 0007550099');
  });

  it('refuses a step id the runbook does not have', async () => {
    const { events, error } = await run(ceremony().runbook, ceremonyAnswers(), { from: 'no.such.step' });
    expect(rethrow(error)).toThrowWithCode('FROM_STEP_UNKNOWN');
    expect(events).toEqual([]);
  });

  it('fails when the step is never reached', async () => {
    const rb = runbookOf(`
# Start

1. **END**

# Unreached

1. **DO** never reached.
`);
    // The parser accepts this; `runbook check` reports the section as unreachable.
    const { error } = await run(rb, '', { from: 'unreached.1' });
    expect(rethrow(error)).toThrowWithCode('FROM_STEP_NOT_REACHED');
  });
});

describe('interruption and observers', () => {
  const body = `
# Start

${codeStep(1, 'first', 'start.first', "ctx.say('first');")}
${codeStep(2, 'second', 'start.second', "ctx.say('second');")}`;

  it('an aborted signal stops the run before the next step, and blocks see it through ctx.signal', async () => {
    const controller = new AbortController();
    const observer = { onEvent: (e: RunEvent) => void (e.type === 'output' && e.text === 'first' && controller.abort()) };
    const watching = body.replace(
      "ctx.say('first');",
      "ctx.say('first');\n   await new Promise((resolve) => setTimeout(resolve, 20));\n   ctx.say(`aborted: ${ctx.signal.aborted}`);",
    );
    const { events, error } = await run(runbookOf(watching), '', { signal: controller.signal, observers: [observer] });
    expect(rethrow(error)).toThrowWithCode('RUN_INTERRUPTED');
    expect(said(events)).toEqual(['first', 'aborted: true']);
    expect(started(events)).toEqual(['start.first']);
  });

  it('an observer that fails (a transcript that cannot be written) stops the run at that step', async () => {
    const diskFull = new Error('disk full');
    const observer = {
      onEvent: (e: RunEvent) => {
        if (e.type === 'output') throw diskFull;
      },
    };
    const { events, error } = await run(runbookOf(body), '', { observers: [observer] });
    expect(error).toBe(diskFull);
    expect(started(events)).toEqual(['start.first']);
  });

  it('output events name the step and its section call, so the dynamic check tells calls apart', async () => {
    const { events } = await run(ceremony().runbook, ceremonyAnswers());
    const calls = only(events, 'section.entered').filter((e) => e.section === 'provisioning-the-yubihsm-2').map((e) => e.call);
    expect(calls).toEqual([3, 4]);
    const printed = new Map<string, string[]>();
    for (const e of only(events, 'output')) printed.set(`${e.call}:${e.step}`, [...(printed.get(`${e.call}:${e.step}`) ?? []), e.text]);
    const textOf = (call: number, step: string) => (printed.get(`${call}:${step}`) ?? []).join('\n');
    expect(textOf(3, 'yubihsm.reset')).toBe('reset YubiHSM2-1 (P-256) serial 0007550054');
    expect(textOf(4, 'yubihsm.reset')).toBe('reset YubiHSM2-2 (P-384) serial 0007550099');
    expect(textOf(3, 'provisioning-the-yubihsm-2.4')).toBe('');
    expect(printed.size).toBe(5);
  });

  it('awaits asynchronous observers in order', async () => {
    const seen: number[] = [];
    const observer = {
      onEvent: async (e: RunEvent) => {
        await new Promise((r) => setTimeout(r, e.seq % 2 === 0 ? 5 : 0));
        seen.push(e.seq);
      },
    };
    const { events } = await run(runbookOf(body), '', { observers: [observer] });
    expect(seen).toEqual(events.map((e) => e.seq));
  });
});
