// The real vectors are the published bytes, and the embedded root is the
// fixture's root: a changed byte anywhere would make every other test of
// lib/cvc prove something about different material.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../../lib/paths.ts';
import { SRCA_SHA256 } from '../../lib/cvc/index.ts';
import { vectorsDir } from './support.ts';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('the real SmartCard-HSM vectors', () => {
  it.each([
    ['DESRCACC100001.cvc', '453a391015c5fbb60116c838ed613591828bf62ac8a1aca276ce4e60525ec3e3'],
    ['DENK0404144_EF2F02.bin', '1b7763b72b871f37a4cc43808b72d65a915a488420fa18c0137f8389260d9aa4'],
    ['DENK0404144_CE03_p256.bin', 'b3b97eb63dfb4f47386a39b8eeab3142c9dc4b6984167430ceea2e44844e8d00'],
    ['DENK0404144_CE03_p256.spki.der', '91493c73de01b630faa8122b131fa09d5241d2c41968213db8cfa4481a331f2a'],
    ['DENK0404144_CE04_rsa2048.bin', '9e9d542bdbc2fc30c0e6b6af595e9c9641fff53e6d36c8470401c927ff7d5a50'],
    ['DENK0404144_CE04_rsa2048.spki.der', 'dfa76329fe003cf6bc93c33a1b4041683bb3d91cd573cfefb09720df5bed263f'],
    ['DENK0404144_CE01_secp256k1.bin', 'd0b4f55b149983858b4c1a8fcabc6569f1b93a2ac07e96a5026a7780476791f8'],
  ])('%s is the published file', (name, hash) => {
    expect(sha256(join(vectorsDir, name))).toBe(hash);
  });

  it('the embedded SRCA is the fixture, and its pin is its SHA-256', () => {
    expect(readFileSync(projectPath('lib', 'cvc', 'trust', 'DESRCACC100001.cvc')).equals(readFileSync(join(vectorsDir, 'DESRCACC100001.cvc')))).toBe(true);
    expect(SRCA_SHA256).toBe(sha256(join(vectorsDir, 'DESRCACC100001.cvc')));
  });
});
