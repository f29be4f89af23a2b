import { describe, expect, it } from 'vitest';
import { projectPath } from '../../lib/paths.ts';
import { fixture } from '../runbook/support.ts';
import { runCli } from '../support/cli.ts';

describe('runbook list', () => {
  it('prints the step tree with ids', async () => {
    const r = await runCli(['list', fixture('valid.md')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        '#start [start]  Start',
        '  1  start.1  DO GO TO Provisioning with hsm=YubiHSM2-1.',
        '  2  start.2  END',
        '#provisioning (hsm)  Provisioning',
        '  1  provisioning.confirm  DO confirm that the device is inserted.',
        '  2  provisioning.used  IF the device was used before THEN reset it.',
        '    2.1  provisioning.2.1  DO hold the contact while inserting it.',
        '  3  provisioning.3  DO wait for the banner:',
        '  4  provisioning.4  DO check the files:',
        '  5  provisioning.5  IF the serial number differs THEN END',
        '',
      ].join('\n'),
    );
  });

  it('--json prints the model', async () => {
    const r = await runCli(['list', '--json', fixture('valid.md')]);
    const out = JSON.parse(r.stdout) as { entry: string; sections: { slug: string; steps: { id: string }[] }[] };
    expect(out.entry).toBe('start');
    expect(out.sections.find((s) => s.slug === 'provisioning')?.steps.map((s) => s.id)).toEqual(['provisioning.confirm', 'provisioning.used', 'provisioning.3', 'provisioning.4', 'provisioning.5']);
  });

  it('still prints the tree of a runbook with findings, but exits 1', async () => {
    const r = await runCli(['list', fixture('if-without-then.md')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('provisioning.2');
    expect(r.stderr).toContain(' IF_WITHOUT_THEN ');
  });

  it('a missing file exits 1 with its code', async () => {
    const r = await runCli(['list', fixture('no-such-runbook.md')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(' FILE_NOT_FOUND ');
  });

  it('--prompts lists every prompt RUNBOOK.md asks, with its kind, step and devices: every password and PIN among them', async () => {
    const r = await runCli(['list', '--prompts', '--json', projectPath('RUNBOOK.md')]);
    expect(r.code).toBe(0);
    const { prompts } = JSON.parse(r.stdout) as { prompts: { id: string; kind: string; step: string; calls: string[] }[] };
    const secrets = prompts.filter((p) => p.kind === 'secret').map((p) => [p.id, p.step, p.calls.length]);
    expect(secrets).toEqual([
      ['yubihsm.authkey/password', 'yubihsm.authkey', 3],
      ['yubihsm.keys/password', 'yubihsm.keys', 3],
      ['nitrokey.reset/current-so-pin', 'nitrokey.reset', 3],
      ['nitrokey.so-pin/so-pin', 'nitrokey.so-pin', 3],
      ['nitrokey.user-pin/user-pin', 'nitrokey.user-pin', 3],
      ['nitrokey.keys/user-pin', 'nitrokey.keys', 3],
    ]);
    const byId = new Map(prompts.map((p) => [p.id, p]));
    expect(byId.get('yubihsm.reset/destructive')?.kind).toBe('confirm');
    expect(byId.get('yubihsm.serial/serial')).toMatchObject({ kind: 'input', calls: ['hsm=YubiHSM2-1', 'hsm=YubiHSM2-2', 'hsm=YubiHSM2-3'] });
    expect(byId.get('prepare-the-environment.2/done')?.kind).toBe('choice');
    // The plain listing says the same, one prompt a line.
    const plain = await runCli(['list', '--prompts', projectPath('RUNBOOK.md')]);
    expect(plain.stdout.split('\n').filter((l) => l.includes(' secret '))).toHaveLength(6);
  });
});
