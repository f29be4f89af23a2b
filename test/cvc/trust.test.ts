// The pinned roots: CardContact's SRCA as embedded, the SIMULATED root, and
// what happens when the installation's copy is not the pinned file.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../../lib/paths.ts';
import { loadRoot, rootFor, sha256Hex, SIMULATED_SRCA_SHA256, SRCA_CHR, SRCA_SHA256 } from '../../lib/cvc/trust.ts';
import { SIMULATED_SRCA_CHR } from '../../lib/cvc/simulator/names.ts';
import { parseDevaut } from '../../lib/cvc/index.ts';
import { REAL, failure, flip, offsetIn } from './support.ts';

const embedded = projectPath('lib', 'cvc', 'trust', 'DESRCACC100001.cvc');

async function temp(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'runbook-cvc-')), name);
  await writeFile(path, bytes);
  return path;
}

describe('the pinned roots', () => {
  it("CardContact's SRCA loads: pinned, self-signed, role C0, brainpoolP256r1", () => {
    const root = rootFor(SRCA_CHR);
    expect(root).toMatchObject({ sha256: SRCA_SHA256, simulated: false, path: embedded });
    expect(root?.certificate.chr).toBe('DESRCACC100001');
    expect(root?.key.curve).toBe('brainpoolP256r1');
  });

  it('the SIMULATED root loads, marked simulated, under its own pin', () => {
    expect(rootFor(SIMULATED_SRCA_CHR)).toMatchObject({ sha256: SIMULATED_SRCA_SHA256, simulated: true });
  });

  it('any other name is no root', () => {
    expect(rootFor('DESRCACC100002')).toBeUndefined();
    expect(rootFor('DEDINK0400001')).toBeUndefined();
  });

  it('a copy that is not the pinned file fails: CVC_TRUST_PIN', async () => {
    const path = await temp('DESRCACC100001.cvc', flip(REAL.srca, REAL.srca.length - 1));
    expect(failure(() => loadRoot(path, SRCA_SHA256, SRCA_CHR, false))).toEqual({ code: 'CVC_TRUST_PIN', part: 'srca' });
  });

  it('a pinned file whose self-signature fails is refused all the same: CVC_TRUST_PIN', async () => {
    const bad = flip(REAL.srca, REAL.srca.length - 1);
    const path = await temp('DESRCACC100001.cvc', bad);
    expect(failure(() => loadRoot(path, sha256Hex(bad), SRCA_CHR, false))).toEqual({ code: 'CVC_TRUST_PIN', part: 'srca' });
  });

  it('a certificate that is not a root (the DICA) is refused even when pinned: CVC_TRUST_PIN', async () => {
    const dica = Uint8Array.from(parseDevaut(REAL.devaut).dica.bytes);
    const path = await temp('DEDINK0400001.cvc', dica);
    expect(failure(() => loadRoot(path, sha256Hex(dica), 'DEDINK0400001', false))).toEqual({ code: 'CVC_TRUST_PIN', part: 'srca' });
  });

  it('a missing or unparseable root file: CVC_TRUST_PIN', async () => {
    expect(failure(() => loadRoot(join(tmpdir(), 'no-such-root.cvc'), SRCA_SHA256, SRCA_CHR, false))).toEqual({ code: 'CVC_TRUST_PIN', part: 'srca' });
    const junk = Uint8Array.of(0x7f, 0x21, 0x00);
    const path = await temp('junk.cvc', junk);
    expect(failure(() => loadRoot(path, sha256Hex(junk), SRCA_CHR, false))).toEqual({ code: 'CVC_TRUST_PIN', part: 'srca' });
  });

  it('the DICA of EF 2F02 is checked against the embedded root, not taken from the file', () => {
    const { dica } = parseDevaut(REAL.devaut);
    expect(offsetIn(REAL.devaut, dica.bytes)).toBeGreaterThan(0);
    expect(dica.car).toBe(SRCA_CHR);
  });
});
