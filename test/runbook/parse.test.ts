import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allSteps, findSection, type Step } from '../../lib/runbook/model.ts';
import { parseRunbook } from '../../lib/runbook/parse.ts';
import { fixture } from './support.ts';

const file = fixture('valid.md');
const { runbook, diagnostics } = parseRunbook(readFileSync(file, 'utf8'), file);
const step = (id: string): Step => {
  const s = [...allSteps(runbook)].find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id}`);
  return s;
};

const FRONT = '---\ntitle: T\nhsms:\n  - id: YubiHSM2-1\n    kind: yubihsm2\n    keyType: P-256\n---\n';

describe('parseRunbook on valid.md', () => {
  it('reports nothing and reads the inventory', () => {
    expect(diagnostics).toEqual([]);
    expect(runbook.frontMatter).toEqual({
      title: 'Fixture ceremony',
      products: 'ceremony-products',
      hsms: [
        { id: 'YubiHSM2-1', kind: 'yubihsm2', keyType: 'P-256' },
        { id: 'NitrokeyHSM-4', kind: 'nitrokey-hsm', keyType: 'P-384' },
      ],
    });
  });

  it('makes every heading a section with its GitHub anchor, line and level', () => {
    expect(runbook.sections.map((s) => [s.slug, s.level, s.position.line])).toEqual([
      ['fixture-ceremony', 1, 11],
      ['start', 2, 13],
      ['provisioning', 2, 18],
    ]);
    expect(runbook.entry).toBe('start');
  });

  it('reads declared section parameters', () => {
    expect(findSection(runbook, 'provisioning')?.params).toEqual([
      { name: 'hsm', description: 'the signing body ID of the device in hand.', position: { file, line: 22, column: 1 } },
    ]);
  });

  it('turns a DO with a GO TO into a call with parameters', () => {
    const s = step('start.1');
    expect(s.kind).toBe('do');
    expect(s.goto).toEqual({ slug: 'provisioning', title: 'Provisioning', params: { hsm: 'YubiHSM2-1' }, position: { file, line: 15, column: 13 } });
    expect(s.position).toEqual({ file, line: 15, column: 1 });
  });

  it('marks END', () => {
    expect(step('start.2')).toMatchObject({ kind: 'end', ends: true, ordinal: '2' });
  });

  it('binds a ts block to its step: the step takes the block id; code without the list indentation', () => {
    const s = step('provisioning.confirm');
    expect(s.ordinal).toBe('1');
    expect(s.code).toEqual({
      id: 'provisioning.confirm',
      role: 'action',
      attrs: { id: 'provisioning.confirm' },
      code: 'await ctx.confirm(`Is ${ctx.hsm.id} inserted?`);\n',
      position: { file, line: 26, column: 4 },
      fence: { file, line: 25, column: 4 },
    });
  });

  it('splits IF into condition and action; a `when` block computes the condition; sub-steps are dotted', () => {
    const s = step('provisioning.used');
    expect(s).toMatchObject({ kind: 'if', condition: 'the device was used before', action: 'reset it.', ends: false });
    expect(s.when?.role).toBe('when');
    expect(s.code).toBeUndefined();
    expect(s.substeps.map((x) => [x.id, x.ordinal, x.kind])).toEqual([['provisioning.2.1', '2.1', 'do']]);
  });

  it('reads output and file-list blocks', () => {
    expect(step('provisioning.3').outputs.map((b) => [b.role, b.text, b.position.line])).toEqual([
      ['output', 'Discovered a Yubico YubiHSM with serial number {{serial}}\n', 35],
    ]);
    expect(step('provisioning.4').files.map((b) => [b.role, b.text])).toEqual([['files', 'ceremony-products/{{serial}}/{{serial}}_root_pubkey.pub\n']]);
  });

  it('treats IF … THEN END as a conditional end', () => {
    expect(step('provisioning.5')).toMatchObject({ kind: 'if', condition: 'the serial number differs', ends: true });
  });
});

describe('parseRunbook details', () => {
  const parse = (body: string) => parseRunbook(FRONT + body, 'R.md');

  it('numbers steps from the list start, as a renderer does', () => {
    const { runbook: r } = parse('# S\n\n3. **DO** a\n4. **DO** b\n');
    expect(r.sections[0]?.steps.map((s) => s.id)).toEqual(['s.3', 's.4']);
  });

  it('anchors headings as GitHub does, repeats and inner spaces included', () => {
    const { runbook: r } = parse('# Notes\n\n# Notes\n\n# Two  spaces `and code`!\n');
    expect(r.sections.map((s) => s.slug)).toEqual(['notes', 'notes-1', 'two--spaces-and-code']);
  });

  it('reads a GO TO step with several arguments and a URL-encoded anchor', () => {
    const { runbook: r, diagnostics: d } = parse('# S\n\n1. **GO TO** [Ü x](#%C3%BC-x) with `hsm=YubiHSM2-1` and `keyType=P-256`.\n\n# Ü x\n\n**Parameters:**\n\n- `hsm`: a\n- `keyType`: b\n\n1. **END**\n');
    expect(d).toEqual([]);
    expect(r.sections[0]?.steps[0]).toMatchObject({ kind: 'goto', goto: { slug: 'ü-x', params: { hsm: 'YubiHSM2-1', keyType: 'P-256' } } });
    expect(r.sections[1]?.slug).toBe('ü-x');
  });

  it('keeps a GO TO in the action of an IF, not in its condition', () => {
    const { runbook: r } = parse('# S\n\n1. **IF** it failed **THEN** **GO TO** [S](#s)\n');
    expect(r.sections[0]?.steps[0]).toMatchObject({ kind: 'if', condition: 'it failed', goto: { slug: 's' } });
  });

  it('ignores shell illustrations, in a step or not', () => {
    const { runbook: r, diagnostics: d } = parse('# S\n\n```sh\n$ ls\n```\n\n1. **DO** look:\n   ```console {whatever}\n   $ ls\n   ```\n');
    expect(d).toEqual([]);
    expect(r.sections[0]?.steps[0]).toMatchObject({ outputs: [], files: [] });
    expect(r.sections[0]?.steps[0]?.code).toBeUndefined();
  });

  it.each([
    ['**DO** remove YubiHSM2-1 from its bag and **GO TO** [S](#s) with `hsm=YubiHSM2-1`.', 'Remove YubiHSM2-1 from its bag.', true],
    ['**DO** start streaming, then **GO TO** [S](#s)', 'Start streaming.', true],
    ['**DO** **GO TO** [S](#s)', undefined, false],
    ['**GO TO** [S](#s)', undefined, false],
    ['**END**', undefined, false],
    ['**DO** hit y once ready:', 'Hit y once ready.', true],
    ['**DO** check the seal!', 'Check the seal!', true],
    ['**IF** it is new **THEN** unpack it and **GO TO** [S](#s)', 'Unpack it.', true],
    ['**IF** it is new **THEN** **GO TO** [S](#s)', undefined, false],
    ['**IF** the serial differs **THEN** **END**', undefined, false],
    ['**IF** it is new **THEN**', undefined, false],
  ])('reads what a step asks of the operator by hand: %s', (text, instruction, byHand) => {
    const { runbook: r } = parse(`# S\n\n1. ${text}\n`);
    const s = r.sections[0]?.steps[0];
    expect(s?.instruction).toBe(instruction);
    expect(s?.manual).toBe(byHand ? instruction : undefined);
  });

  it('leaves a step to its code or its sub-steps rather than the operator', () => {
    const body = '# S\n\n1. **DO** reset the device:\n   ```ts {id=s.reset}\n   ctx.say("x");\n   ```\n2. **DO** prepare:\n   1. **DO** plug it in.\n';
    const [withCode, withSubsteps] = parse(body).runbook.sections[0]?.steps ?? [];
    expect(withCode).toMatchObject({ instruction: 'Reset the device.' });
    expect(withCode?.manual).toBeUndefined();
    expect(withSubsteps).toMatchObject({ instruction: 'Prepare.' });
    expect(withSubsteps?.manual).toBeUndefined();
    expect(withSubsteps?.substeps[0]?.manual).toBe('Plug it in.');
  });

  it('keeps line numbers when the front matter has Windows line ends', () => {
    const { runbook: r, diagnostics: d } = parseRunbook(`${FRONT}# S\n\n1. **END**\n`.replace(/\n/g, '\r\n'), 'R.md');
    expect(d).toEqual([]);
    expect(r.sections[0]?.position.line).toBe(8);
  });

  it('a BOM before the front matter is ignored by the loader', async () => {
    const { decodeRunbook } = await import('../../lib/runbook/source.ts');
    const decoded = decodeRunbook('R.md', Buffer.from(`\uFEFF${FRONT}# S\n\n1. **END**\n`));
    expect('source' in decoded && parseRunbook(decoded.source, 'R.md').diagnostics).toEqual([]);
  });

  // Regressions: anchors that differed from GitHub's, so a GO TO that works on
  // GitHub was reported missing here, or the other way round.
  describe('anchors as GitHub makes them from the rendered heading', () => {
    const slugs = (body: string) => parse(body).runbook.sections.map((s) => s.slug);

    it('keeps a space written as an entity at either end of the heading', () => {
      expect(slugs('# &#x20;Start\n\n# End&#x20;\n')).toEqual(['-start', 'end-']);
    });

    it('drops the line break of a two-line Setext heading rather than making it a hyphen', () => {
      expect(slugs('Provisioning the\nYubiHSM 2\n==========\n')).toEqual(['provisioning-theyubihsm-2']);
    });

    it('leaves out the alt text of an image and the tags of inline HTML', () => {
      expect(slugs('# ![logo](logo.png) Keys <kbd>K</kbd>\n')).toEqual(['-keys-k']);
    });

    it('counts headings inside list items when numbering repeats', () => {
      const { runbook: r } = parse('# Notes\n\n1. **DO** read:\n\n   ## Notes\n\n# Notes\n');
      expect(r.sections.map((s) => s.slug)).toEqual(['notes', 'notes-2']);
    });
  });

  it('places a block whose fence opens its step at the fence, not at the list marker', () => {
    const { runbook: r, diagnostics: d } = parse('# S\n\n1. ```ts {id=s.first}\n   ctx.say("x");\n   ```\n');
    expect(r.sections[0]?.steps[0]?.code).toMatchObject({ fence: { line: 10, column: 4 }, position: { line: 11, column: 4 } });
    // Such a step has no verb: that finding still points at the item.
    expect(d.map((x) => [x.code, x.line, x.column])).toEqual([['STEP_VERB_MISSING', 10, 1]]);
  });

  it('reports a block without an id at its fence when the fence opens the step', () => {
    const { diagnostics: d } = parse('# S\n\n1. **DO** a\n2. ```ts\n   ctx.say("x");\n   ```\n');
    expect(d.filter((x) => x.code === 'BLOCK_ID_MISSING').map((x) => [x.line, x.column])).toEqual([[11, 4]]);
  });

  it('counts a lone CR as a line end, as the Markdown parser does, for columns too', () => {
    const { diagnostics: d, runbook: r } = parseRunbook(`${FRONT}# S\r\r1. **DO** a\r2. **GO TO** [S](#s)\r`, 'R.md');
    expect(d).toEqual([]);
    // `GO TO` starts at column 6 of `2. **GO TO** [X](#x)`.
    expect(r.sections[0]?.steps[1]?.goto?.position).toMatchObject({ line: 11, column: 6 });
  });

  // Markdown that a renderer reads in more than one way: each must give the
  // step, block and GO TO a reader sees on GitHub.
  describe('tricky Markdown', () => {
    const TARGET = '\n\n# T\n\n1. **END**\n';

    it.each([
      ['a link with a title', '1. **GO TO** [T](#t "the end")'],
      ['a link in angle brackets', '1. **GO TO** [T](<#t>)'],
      ['a reference link', '1. **GO TO** [T][end]\n\n[end]: #t'],
    ])('GO TO through %s', (_, step) => {
      const { runbook: r, diagnostics: d } = parse(`# S\n\n${step}${TARGET}`);
      expect(d).toEqual([]);
      expect(r.sections[0]?.steps[0]?.goto?.slug).toBe('t');
    });

    it.each([
      ['a tilde fence', '~~~ts {id=s.a}\n   ctx.say("```");\n   ~~~', 'ctx.say("```");\n'],
      ['a longer backtick fence holding a shorter one', '````ts {id=s.a}\n   ctx.say(`\n   ```\n   `);\n   ````', 'ctx.say(`\n```\n`);\n'],
      ['no space before the attributes', '```ts{id=s.a}\n   ctx.say("a");\n   ```', 'ctx.say("a");\n'],
      ['odd spacing in the attributes', '```ts   {  id=s.a    destructive  }  \n   ctx.say("a");\n   ```', 'ctx.say("a");\n'],
    ])('a code block in %s', (_, fence, code) => {
      const { runbook: r, diagnostics: d } = parse(`# S\n\n1. **DO** a:\n\n   ${fence}\n`);
      expect(d).toEqual([]);
      expect(r.sections[0]?.steps[0]?.code).toMatchObject({ id: 's.a', code });
    });

    it('an HTML comment hides the steps and blocks in it, as GitHub hides them', () => {
      const { runbook: r, diagnostics: d } = parse('# S\n\n<!--\n1. **DO** hidden\n```ts {id=hidden}\nx\n```\n-->\n\n1. **END**\n');
      expect(d).toEqual([]);
      expect(r.sections[0]?.steps.map((s) => s.kind)).toEqual(['end']);
    });

    it('an output block in a sub-step of an IF belongs to that sub-step', () => {
      const { runbook: r, diagnostics: d } = parse('# S\n\n1. **IF** a **THEN** b:\n   1. **DO** wait:\n\n      ```text {output}\n      ready\n      ```\n');
      expect(d).toEqual([]);
      expect(r.sections[0]?.steps[0]?.outputs).toEqual([]);
      expect(r.sections[0]?.steps[0]?.substeps[0]?.outputs).toMatchObject([{ text: 'ready\n', position: { line: 14, column: 7 } }]);
    });

    it('a Setext heading is a section like any other', () => {
      const { runbook: r } = parse('Start\n=====\n\n1. **END**\n');
      expect(r.sections[0]).toMatchObject({ slug: 'start', title: 'Start', level: 1, position: { line: 8 } });
    });
  });
});
