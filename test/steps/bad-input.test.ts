// What goes wrong at a ceremony, on the simulated bench, through RUNBOOK.md
// itself: each case stops the step (or asks again) with an error naming the
// device, and loses nothing already written.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { paddedYubiHsmSerial } from '../../lib/ceremony.ts';
import { projectPath } from '../../lib/paths.ts';
import { TokenFlag } from '../../lib/pkcs11/token.ts';
import { parseAnswers } from '../../lib/runbook/answers.ts';
import type { RunEvent, RunObserver } from '../../lib/runbook/events.ts';
import { readRunbook } from '../../lib/runbook/check/index.ts';
import type { PromptSource, SecretRequest } from '../../lib/runbook/prompts.ts';
import { Bench } from '../../steps/rehearsal/bench.ts';
import { rehearse, type RehearseOptions } from '../../steps/rehearsal/rehearse.ts';

const RUNBOOK = projectPath('RUNBOOK.md');
const inventory = (await readRunbook(RUNBOOK)).frontMatter;
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function outDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'runbook-bad-input-'));
  dirs.push(dir);
  return join(dir, 'rehearsal');
}

/** Calls `act` when step `step` starts in the call for `hsm`. */
function atStep(step: string, hsm: string, act: () => void | Promise<void>): RunObserver {
  const calls = new Map<number, string>();
  return {
    async onEvent(event: RunEvent) {
      if (event.type === 'section.entered' && event.params.hsm !== undefined) calls.set(event.call, event.params.hsm);
      if (event.type === 'step.started' && event.step === step && calls.get(event.call) === hsm) await act();
    },
  };
}

async function run(options: Partial<RehearseOptions> & { bench?: Bench } = {}) {
  const bench = options.bench ?? (await Bench.create({ inventory }));
  const out = options.out ?? (await outDir());
  const said: string[] = [];
  const rehearsal = await rehearse({
    file: RUNBOOK,
    out,
    transcript: false,
    ...options,
    bench,
    observers: [...(options.observers ?? []), { onEvent: (e) => void ((e.type === 'output' || e.type === 'note') && said.push(e.text)) }],
  });
  const cause = causeOf(rehearsal.error);
  return { rehearsal, bench, out, said, cause };
}

/** The products of one device directory, with their hashes. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));
}

/** Plays an operator who mistypes: the first `times` answers to prompt `id` are `typo`, then the rehearsal's own. */
function mistypes(id: string, times: number, typo: string): (base: PromptSource) => PromptSource {
  let left = times;
  return (base) => ({
    confirm: (r) => base.confirm(r),
    input: (r) => base.input(r),
    select: (r) => base.select(r),
    secret: (r: SecretRequest) => {
      if (r.id !== id || left === 0) return base.secret(r);
      left--;
      return Promise.resolve({ value: typo, origin: 'rehearsal' as const });
    },
  });
}

describe('a serial that differs from the one written down', () => {
  it('stops at yubihsm.connect, naming the device, before anything is done to it; the products of the devices before it stay', async () => {
    const answers = parseAnswers('answers:\n  yubihsm.serial/serial:\n    hsm=YubiHSM2-2: "1234"\n', 'answers.yaml');
    let before: Record<string, string> = {};
    const bench = await Bench.create({ inventory });
    const out = await outDir();
    const first = join(out, 'ceremony-products', paddedYubiHsmSerial(bench.printedSerial('YubiHSM2-1')));
    const { rehearsal, cause } = await run({
      answers,
      bench,
      out,
      observers: [atStep('yubihsm.connect', 'YubiHSM2-2', () => void (before = snapshot(first)))],
    });
    expect(rehearsal.error).toMatchObject({ code: 'STEP_FAILED', step: 'yubihsm.connect' });
    expect(cause?.code).toBe('STEP_SERIAL_MISMATCH');
    expect(rehearsal.error?.message).toContain('YubiHSM2-2');
    expect(Object.keys(before)).toHaveLength(7);
    expect(snapshot(first)).toEqual(before);
  });
});

describe('two devices plugged in, or none', () => {
  it('refuses two YubiHSM 2 devices', async () => {
    const bench = await Bench.create({ inventory });
    const { rehearsal, cause } = await run({ bench, observers: [atStep('yubihsm.connect', 'YubiHSM2-2', () => bench.plugIn('YubiHSM2-3'))] });
    expect(rehearsal.error).toMatchObject({ step: 'yubihsm.connect' });
    expect(cause?.code).toBe('YUBIHSM_USB_SEVERAL_DEVICES');
  });

  it('refuses when no YubiHSM 2 is plugged in', async () => {
    const bench = await Bench.create({ inventory });
    const { rehearsal, cause } = await run({ bench, observers: [atStep('yubihsm.connect', 'YubiHSM2-1', () => bench.unplug('YubiHSM2-1'))] });
    expect(cause?.code).toBe('YUBIHSM_USB_NO_DEVICE');
    expect(rehearsal.error?.message).toContain('yubihsm.connect');
  });

  it('refuses two Nitrokey HSMs', async () => {
    const bench = await Bench.create({ inventory });
    const { cause } = await run({ bench, observers: [atStep('nitrokey.connect', 'NitrokeyHSM-4', () => bench.plugIn('NitrokeyHSM-5'))] });
    expect(cause?.code).toBe('PKCS11_TOKEN_AMBIGUOUS');
  });
});

describe('the wrong kind of device', () => {
  it('a Nitrokey HSM where a YubiHSM 2 should be: no YubiHSM 2 is found, and the bench says what is plugged in', async () => {
    const bench = await Bench.create({ inventory });
    const swap = async () => {
      await bench.unplug('YubiHSM2-1');
      await bench.plugIn('NitrokeyHSM-4');
    };
    const { cause } = await run({ bench, observers: [atStep('yubihsm.connect', 'YubiHSM2-1', swap)] });
    expect(cause?.code).toBe('YUBIHSM_USB_NO_DEVICE');
    expect(cause?.message).toContain('NitrokeyHSM-4');
  });

  it('a YubiHSM 2 where a Nitrokey HSM should be: no token is found', async () => {
    const bench = await Bench.create({ inventory });
    const swap = async () => {
      await bench.unplug('NitrokeyHSM-4');
      await bench.plugIn('YubiHSM2-1');
    };
    const { cause } = await run({ bench, observers: [atStep('nitrokey.connect', 'NitrokeyHSM-4', swap)] });
    expect(cause?.code).toBe('PKCS11_NO_TOKEN');
  });
});

describe('a device unplugged in the middle of a step', () => {
  it('stops yubihsm.keys with the link failure; no product of that device is written', async () => {
    const bench = await Bench.create({ inventory });
    const { rehearsal, cause, out } = await run({
      bench,
      observers: [atStep('yubihsm.keys', 'YubiHSM2-1', () => void (bench.yubihsm('YubiHSM2-1').faults.dropAfter = 4))],
    });
    expect(rehearsal.error).toMatchObject({ step: 'yubihsm.keys' });
    expect(cause?.code).toBe('YUBIHSM_LINK_FAILED');
    const dir = join(out, 'ceremony-products', paddedYubiHsmSerial(bench.printedSerial('YubiHSM2-1')));
    expect(() => readdirSync(dir)).toThrow();
  });
});

describe('products already present for that serial', () => {
  it('stops at yubihsm.connect before the reset, and leaves the existing file as it was', async () => {
    const bench = await Bench.create({ inventory });
    const out = await outDir();
    const serial = paddedYubiHsmSerial(bench.printedSerial('YubiHSM2-1'));
    const seeded = join(out, 'ceremony-products', serial, `${serial}_cert.der`);
    const found = await run({
      bench: bench,
      out: out,
      observers: [
        atStep('yubihsm.warning', 'YubiHSM2-1', () => {
          mkdirSync(join(out, 'ceremony-products', serial), { recursive: true });
          writeFileSync(seeded, 'from an earlier run');
        }),
      ],
    });
    expect(found.rehearsal.error).toMatchObject({ step: 'yubihsm.connect' });
    expect(found.cause?.code).toBe('STEP_PRODUCTS_EXIST');
    expect(readFileSync(seeded, 'utf8')).toBe('from an earlier run');
    // The device was not reset: it still answers to its factory key.
    expect(found.said.some((s) => s.startsWith('Success! Waiting'))).toBe(false);
  });
});

describe('an unwritable products directory', () => {
  it('stops at the first device connection, before any device is touched', async () => {
    const out = await outDir();
    const { rehearsal, cause, said } = await run({
      out,
      observers: [atStep('yubihsm.connect', 'YubiHSM2-1', () => writeFileSync(join(out, 'ceremony-products'), 'a file where a directory should be'))],
    });
    expect(rehearsal.error).toMatchObject({ step: 'yubihsm.connect' });
    expect(cause?.code).toBe('STEP_PRODUCTS_UNWRITABLE');
    expect(said.some((s) => s.startsWith('Success! Waiting'))).toBe(false);
  });
});

describe('a wrong password or PIN is asked again', () => {
  it('YubiHSM 2: a mistyped password at yubihsm.keys is refused by the device, asked again, and the ceremony completes', async () => {
    const { rehearsal, said } = await run({ prompts: mistypes('yubihsm.keys/password', 1, 'not the password') });
    expect(rehearsal.error).toBeUndefined();
    expect(rehearsal.ok).toBe(true);
    expect(said.filter((s) => s === 'The HSM did not accept that password. Type it again.')).toHaveLength(1);
  });

  it('Nitrokey HSM: a wrong user PIN is asked again with the tries left; the last try is never spent', async () => {
    const once = await run({ prompts: mistypes('nitrokey.keys/user-pin', 1, '000000') });
    expect(once.rehearsal.error).toBeUndefined();
    expect(once.said).toContain('The HSM did not accept that user PIN: 2 tries left before it locks. Type it again.');

    // Two wrong PINs leave the simulated SmartCard-HSM (3 tries) on its last: the step stops rather than spend it.
    const twice = await run({ prompts: mistypes('nitrokey.keys/user-pin', 2, '000000') });
    expect(twice.rehearsal.error).toMatchObject({ step: 'nitrokey.keys' });
    expect(twice.cause?.code).toBe('STEP_SECRET_REFUSED');
    expect(twice.bench.smartCardHsm('NitrokeyHSM-4').info().flags & TokenFlag.USER_PIN_FINAL_TRY).not.toBe(0);
  });

  it('Nitrokey HSM: a wrong current SO-PIN is asked again before the reset', async () => {
    const { rehearsal, said } = await run({ prompts: mistypes('nitrokey.reset/current-so-pin', 1, '0000000000000000') });
    expect(rehearsal.error).toBeUndefined();
    expect(said.some((s) => s.startsWith('The HSM did not accept that SO-PIN.'))).toBe(true);
  });
});

/** What the failing step threw: the executor reports it as the cause of its STEP_FAILED. */
function causeOf(error: Error | undefined): { code?: unknown; message?: unknown } | undefined {
  const cause: unknown = error?.cause;
  return typeof cause === 'object' && cause !== null ? cause : undefined;
}
