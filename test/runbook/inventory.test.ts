import { describe, expect, it } from 'vitest';
import { parseInventoryYaml, readInventory } from '../../lib/runbook/inventory.ts';
import { projectPath } from '../../lib/paths.ts';
import { fixture } from './support.ts';

describe('readInventory', () => {
  it('reads the front matter of a runbook', async () => {
    const inventory = await readInventory(fixture('valid.md'));
    expect(inventory.hsms.map((h) => `${h.id} ${h.kind} ${h.keyType}`)).toEqual(['YubiHSM2-1 yubihsm2 P-256', 'NitrokeyHSM-4 nitrokey-hsm P-384']);
    expect(inventory.products).toBe('ceremony-products');
  });

  it.each([
    ['front-matter-missing.md', 'FRONT_MATTER_MISSING'],
    ['front-matter-yaml.md', 'FRONT_MATTER_YAML'],
    ['front-matter-unknown-key.md', 'FRONT_MATTER_UNKNOWN_KEY'],
    ['front-matter-invalid.md', 'FRONT_MATTER_INVALID'],
    ['inventory-duplicate-id.md', 'INVENTORY_DUPLICATE_ID'],
    ['no-such-runbook.md', 'FILE_NOT_FOUND'],
    ['binary.md', 'FILE_BINARY'],
  ])('%s throws %s', async (name, code) => {
    await expect(readInventory(fixture(name))).toThrowWithCode(code);
  });

  it('holds the PSF runbook’s device assignments in RUNBOOK.md', async () => {
    const inventory = await readInventory(projectPath('RUNBOOK.md'));
    expect(inventory.hsms.map((h) => [h.id, h.kind, h.keyType])).toEqual([
      ['YubiHSM2-1', 'yubihsm2', 'P-256'],
      ['YubiHSM2-2', 'yubihsm2', 'P-384'],
      ['YubiHSM2-3', 'yubihsm2', 'P-256'],
      ['NitrokeyHSM-4', 'nitrokey-hsm', 'P-384'],
      ['NitrokeyHSM-5', 'nitrokey-hsm', 'P-256'],
      ['NitrokeyHSM-6', 'nitrokey-hsm', 'P-384'],
    ]);
  });
});

describe('parseInventoryYaml', () => {
  // Line N of the text is line N of the file: line 1 is the opening `---`.
  const yaml = (body: string) => parseInventoryYaml(`\n${body}`, 'R.md');

  it('reports a missing required key at the map that lacks it', () => {
    const { diagnostics } = yaml('title: T\nhsms:\n  - id: A\n    kind: yubihsm2\n');
    expect(diagnostics.map((d) => [d.code, d.line])).toEqual([['FRONT_MATTER_INVALID', 4]]);
  });

  it('reports a wrong type at its value', () => {
    const { diagnostics } = yaml('title: T\nproducts: 3\nhsms:\n  - id: A\n    kind: yubihsm2\n    keyType: P-256\n');
    expect(diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([['FRONT_MATTER_INVALID', 3, 11]]);
  });

  it('refuses an id that could not be a file name', () => {
    const { diagnostics } = yaml('title: T\nhsms:\n  - id: ../etc\n    kind: yubihsm2\n    keyType: P-256\n');
    expect(diagnostics.map((d) => d.code)).toEqual(['FRONT_MATTER_INVALID']);
  });

  it('refuses a serial no device of that kind can have, at its value (lib/ceremony.ts formats)', () => {
    const nitrokey = (serial: string) => yaml(`title: T\nhsms:\n  - id: N\n    kind: nitrokey-hsm\n    keyType: P-384\n    serial: "${serial}"\n`).diagnostics;
    expect(nitrokey('abc').map((d) => [d.code, d.line])).toEqual([['FRONT_MATTER_INVALID', 7]]);
    expect(nitrokey('DENK0102947')).toEqual([]);
    const yubihsm = (serial: string) => yaml(`title: T\nhsms:\n  - id: Y\n    kind: yubihsm2\n    keyType: P-256\n    serial: "${serial}"\n`).diagnostics;
    expect(yubihsm('7550054')).toEqual([]);
    expect(yubihsm('0013200460')).toEqual([]);
    expect(yubihsm('DENK0102947').map((d) => d.code)).toEqual(['FRONT_MATTER_INVALID']);
  });

  it('refuses an alias bomb instead of expanding it', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, n) => `${String.fromCharCode(98 + n)}: &${String.fromCharCode(98 + n)} [${Array(10).fill(`*${String.fromCharCode(97 + n)}`).join(',')}]`)].join('\n');
    expect(yaml(`${bomb}\n`).diagnostics.map((d) => d.code)).toEqual(['FRONT_MATTER_YAML']);
  });

  it('refuses front matter that is not a mapping', () => {
    expect(yaml('- a\n- b\n').diagnostics.map((d) => d.code)).toEqual(['FRONT_MATTER_INVALID']);
  });
});
