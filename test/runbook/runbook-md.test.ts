// The repository's RUNBOOK.md: the PSF runbook's ceremony in this format.
import { describe, expect, it } from 'vitest';
import { projectPath } from '../../lib/paths.ts';
import { checkRunbook } from '../../lib/runbook/check/index.ts';
import { allSteps, findSection, walkSteps } from '../../lib/runbook/model.ts';
import { CEREMONY_API_MODULE } from '../../steps/index.ts';

// Checked as `runbook check` checks it: blocks against the ceremony's API (steps/api.ts).
const { runbook, diagnostics } = await checkRunbook(projectPath('RUNBOOK.md'), { apiModule: CEREMONY_API_MODULE });

describe('RUNBOOK.md', () => {
  it('passes every check, type-check included', () => {
    expect(diagnostics).toEqual([]);
  });

  it('starts at Start and ends the ceremony at the end of the preparation', () => {
    expect(runbook?.entry).toBe('start');
    const prepare = findSection(runbook!, 'prepare-the-environment');
    expect(prepare?.steps.at(-1)?.kind).toBe('end');
  });

  it('provisions every inventory device once, in the section for its kind, in the PSF runbook’s order', () => {
    const prepare = findSection(runbook!, 'prepare-the-environment')!;
    const calls = [...walkSteps(prepare.steps)].flatMap((s) => (s.goto && 'hsm' in s.goto.params ? [[s.goto.params['hsm'], s.goto.slug]] : []));
    const sectionOf = { yubihsm2: 'provisioning-the-yubihsm-2', 'nitrokey-hsm': 'provisioning-the-nitrokey-hsm' } as const;
    expect(calls).toEqual(runbook!.frontMatter.hsms.map((h) => [h.id, sectionOf[h.kind]]));
  });

  it('documents the PSF runbook’s prompts and product files', () => {
    const outputs = [...allSteps(runbook!)].flatMap((s) => s.outputs.map((o) => o.text)).join('\n');
    expect(outputs).toContain('DANGER!');
    expect(outputs).toContain('Discovered a Yubico YubiHSM with serial number {{serial}}');
    expect(outputs).toContain('Use this serial number when doing key generation: {{serial}}');
    const files = [...allSteps(runbook!)].flatMap((s) => s.files.flatMap((f) => f.text.trim().split('\n')));
    expect(files).toContain('ceremony-products/{{serial}}/{{serial}}_root_attestation.der');
    expect(files).toContain('ceremony-products/{{serial}}/{{serial}}_targets_pubkey.pem');
  });

  it('never passes a PIN or password on a command line', () => {
    expect(runbook!.source).not.toMatch(/--so-pin|--pin|--password/);
  });
});
