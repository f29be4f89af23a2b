// The dynamic check's observer: what steps print against the output the
// runbook documents under them, placeholders filled from the run.
import { describe, expect, it } from 'vitest';
import { OutputCheck } from '../../lib/runbook/output-check.ts';
import { FRONT_MATTER, run, runbookOf } from '../fixtures/execute/harness.ts';

const body = (printed: string) => `
# Start

1. **GO TO** [Provision](#provision) \`hsm=YubiHSM2-1\`

2. **GO TO** [Provision](#provision) \`hsm=YubiHSM2-2\`

# Provision

**Parameters:**

- \`hsm\`: the device.

1. **DO** write down the serial number:

   \`\`\`ts {id=provision.serial}
   ctx.values.set('serial', params.hsm === 'YubiHSM2-1' ? '0007550054' : '0007550099');
   \`\`\`

2. **DO** wait for the program to find the device:

   \`\`\`text {output}
   Discovered a Yubico YubiHSM with serial number {{serial}}
   We've successfully authenticated with {{hsm}}!
   \`\`\`

   \`\`\`ts {id=provision.discover}
   ${printed}
   \`\`\`

3. **DO** wait for the warning, printed by the program itself:

   \`\`\`text {output}
   DANGER!
   \`\`\`
`;

describe('OutputCheck', () => {
  it('matches printed output with the documented output, placeholders filled from the call', async () => {
    const rb = runbookOf(
      body(
        "ctx.say(`Discovered a Yubico YubiHSM with serial number ${ctx.values.string('serial')}`);\n   ctx.say(`We've successfully authenticated with ${params.hsm}!`);",
      ),
    );
    const matching = new OutputCheck(rb);
    const { error } = await run(rb, 'answers:\n  "*/done": done\n', { observers: [matching] });
    expect(error).toBeUndefined();
    expect(matching.mismatches).toEqual([]);
    expect(matching.matched).toBe(2);
    // Step 3's banner comes from outside the run: counted, not proven.
    expect(matching.unproven).toBe(2);
  });

  it('reports the first documented line that the output does not match, at its runbook line', async () => {
    // The second device prints the first one's serial number: the known value
    // of {{serial}} in that call makes it a mismatch.
    const text = body("ctx.say('Discovered a Yubico YubiHSM with serial number 0007550054');\n   ctx.say(`We've successfully authenticated with ${params.hsm}!`);");
    const rb = runbookOf(text);
    const check = new OutputCheck(rb);
    await run(rb, 'answers:\n  "*/done": done\n', { observers: [check] });
    const line = (FRONT_MATTER + text).split('\n').indexOf('   Discovered a Yubico YubiHSM with serial number {{serial}}') + 1;
    expect(check.matched).toBe(1);
    expect(check.mismatches).toEqual([
      {
        step: 'provision.discover',
        call: 3,
        at: { file: 'RUNBOOK.md', line, column: 4 },
        printed: "Discovered a Yubico YubiHSM with serial number 0007550054\nWe've successfully authenticated with YubiHSM2-2!",
      },
    ]);
  });

  it('points at the second documented line when only it differs', async () => {
    const text = body("ctx.say(`Discovered a Yubico YubiHSM with serial number ${ctx.values.string('serial')}`);\n   ctx.say('Authentication failed');");
    const rb = runbookOf(text);
    const check = new OutputCheck(rb);
    await run(rb, 'answers:\n  "*/done": done\n', { observers: [check] });
    const line = (FRONT_MATTER + text).split('\n').indexOf("   We've successfully authenticated with {{hsm}}!") + 1;
    expect(check.mismatches.map((m) => m.at.line)).toEqual([line, line]);
  });
});
