import { describe, expect, it } from 'vitest';
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
});
