// Passwords and PINs never leave the prompt: not in events (so not in the
// transcript or the CLI's output), not in error messages. A secret taken from
// an answers file is flagged, since only a rehearsal may do that.
import { describe, expect, it } from 'vitest';
import { InteractivePromptSource } from '../../lib/runbook/prompts.ts';
import { ceremony, ceremonyAnswers, rethrow, run, runbookOf } from '../fixtures/execute/harness.ts';
import { ENTER, Terminal } from '../fixtures/execute/terminal.ts';

describe('secrets', () => {
  it('from an answers file: never in an event, and each one flagged with a warning', async () => {
    const { runbook } = ceremony();
    const { events, error } = await run(runbook, ceremonyAnswers());
    expect(error).toBeUndefined();
    const recorded = JSON.stringify(events);
    expect(recorded).not.toContain('rehearsal-password-one');
    expect(recorded).not.toContain('rehearsal-password-other');

    const answered = events.filter((e) => e.type === 'prompt.answered' && e.kind === 'secret');
    expect(answered).toHaveLength(2);
    for (const e of answered) expect(e).not.toHaveProperty('answer');
    expect(events.filter((e) => e.type === 'warning').map((e) => (e.type === 'warning' ? [e.code, e.step] : []))).toEqual([
      ['SECRET_FROM_FILE', 'yubihsm.password'],
      ['SECRET_FROM_FILE', 'yubihsm.password'],
    ]);
    // Other answers are recorded: the serial number the operator read off the device.
    expect(events).toContainEqual(expect.objectContaining({ type: 'prompt.answered', prompt: 'yubihsm.serial/serial', answer: '0007550099' }));
  });

  it('typed by the operator: never in an event, and no warning', async () => {
    const rb = runbookOf(`
# Start

1. **DO** set the new PIN:

   \`\`\`ts {id=nitrokey.user-pin}
   const pin = await ctx.secret('New user PIN', { name: 'user-pin', confirm: true });
   ctx.say(\`PIN of \${pin.length} digits set\`);
   \`\`\`
`);
    const term = new Terminal();
    const typing = (async () => {
      await term.typeAfter('? New user PIN', `64827193${ENTER}`);
      await term.typeAfter('? Re-enter: New user PIN', `64827193${ENTER}`);
    })();
    const { events, error } = await run(rb, '', { prompts: new InteractivePromptSource(term) });
    await typing;
    expect(error).toBeUndefined();
    expect(JSON.stringify(events)).not.toContain('64827193');
    expect(term.shown).not.toContain('64827193');
    expect(events).toContainEqual(expect.objectContaining({ type: 'prompt.answered', prompt: 'nitrokey.user-pin/user-pin', origin: 'operator' }));
    expect(events.some((e) => e.type === 'warning')).toBe(false);
  });
});

describe('the operator at the terminal', () => {
  const destructive = `
# Start

1. **DO** reset the device:

   \`\`\`ts {id=device.reset destructive}
   ctx.say('RESET');
   \`\`\`
`;

  it('declining a destructive step stops the run before its block runs', async () => {
    const term = new Terminal();
    const typing = term.typeAfter('DANGER', `n${ENTER}`);
    const { events, error } = await run(runbookOf(destructive), '', { prompts: new InteractivePromptSource(term) });
    await typing;
    expect(rethrow(error)).toThrowWithCode('DESTRUCTIVE_DECLINED');
    expect(events.some((e) => e.type === 'output')).toBe(false);
  });

  it('confirming it runs the block', async () => {
    const term = new Terminal();
    const typing = term.typeAfter('DANGER', `y${ENTER}`);
    const { events, error } = await run(runbookOf(destructive), '', { prompts: new InteractivePromptSource(term) });
    await typing;
    expect(error).toBeUndefined();
    expect(events).toContainEqual(expect.objectContaining({ type: 'output', text: 'RESET' }));
  });
});
