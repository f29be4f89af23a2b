// `runbook run` end to end through the CLI entry point, unattended (answers
// file), as CI and the rehearsal use it.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { projectPath } from '../../lib/paths.ts';
import { verifyTranscript } from '../../lib/runbook/transcript.ts';
import { executeFixture as fixture, FRONT_MATTER } from '../fixtures/execute/harness.ts';
import { runCli } from '../support/cli.ts';

/** The code in `runbook: message [CODE]`, the CLI's one-line error. */
function errorCode(stderr: string): string | undefined {
  return /^runbook: (?!warning).*\[([A-Z_]+)\]$/m.exec(stderr)?.[1];
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'runbook-run-'));
}

describe('runbook run', () => {
  it('performs the fixture ceremony from an answers file and summarises it', async () => {
    const products = await tempDir();
    const { code, stdout, stderr } = await runCli(['run', fixture('ceremony.md'), '--answers', fixture('ceremony.answers.yaml'), '--products', products]);
    expect(errorCode(stderr)).toBeUndefined();
    expect(code).toBe(0);
    // Each step as it starts: ordinal, text and id, under its section.
    expect(stdout).toContain('== Provisioning the YubiHSM 2 (hsm=YubiHSM2-2)');
    expect(stdout).toContain('2. DO reset the device:  [yubihsm.reset]');
    expect(stdout).toContain('| reset YubiHSM2-2 (P-384) serial 0007550099');
    expect(stdout).toMatch(/run reached END: 14 steps performed, 1 condition not met\n$/);
    // Rehearsal secrets are flagged, and never printed.
    expect(stderr.match(/\[SECRET_FROM_FILE\]/g)).toHaveLength(2);
    expect(stdout + stderr).not.toContain('rehearsal-password');
  });

  it('warns, without stopping, when a step prints other than its documented output', async () => {
    const dir = await tempDir();
    const file = join(dir, 'RUNBOOK.md');
    const body = [
      '# Start',
      '',
      '1. **DO** wait for the banner:',
      '',
      '   ```text {output}',
      '   Hit "y" (case insensitive) to continue.',
      '   ```',
      '',
      '   ```ts {id=start.banner}',
      "   ctx.say('Hit \"n\" to continue.');",
      '   ```',
      '',
    ].join('\n');
    await writeFile(file, `${FRONT_MATTER}\n${body}`);
    const { code, stderr } = await runCli(['run', file, '--answers', fixture('ceremony.answers.yaml'), '--products', dir]);
    expect(code).toBe(0);
    const line = `${FRONT_MATTER}\n${body}`.split('\n').indexOf('   Hit "y" (case insensitive) to continue.') + 1;
    expect(stderr).toContain(`${file}:${line}: step start.banner`);
    expect(stderr).toContain('[OUTPUT_MISMATCH]');
  });

  it('is a usage error without a terminal and without --answers', async () => {
    const { code, stderr, stdout } = await runCli(['run', fixture('ceremony.md')]);
    expect(code).toBe(2);
    expect(errorCode(stderr)).toBe('CLI_USAGE');
    expect(stdout).toBe('');
  });

  it('stops before the next step at the first Ctrl-C, and exits 130 at the second, even while a block runs', async () => {
    // Stands in for the real exit, which would end the test run; taken as the
    // CLI takes it, before the block runs with `process.exit` refused to it.
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => undefined as never);
    const listeners = process.listenerCount('SIGINT');
    try {
      const dir = await tempDir();
      const file = join(dir, 'RUNBOOK.md');
      const interrupt = "   ```ts {id=start.interrupt}\n   process.emit('SIGINT');\n   process.emit('SIGINT');\n   ```\n";
      const after = "   ```ts {id=start.after}\n   ctx.say('not reached');\n   ```\n";
      const body = `# Start\n\n1. **DO** press Ctrl-C twice:\n\n${interrupt}\n2. **DO** go on:\n\n${after}`;
      await writeFile(file, `${FRONT_MATTER}\n${body}`);
      const { code, stdout, stderr } = await runCli(['run', file, '--answers', fixture('ceremony.answers.yaml'), '--products', dir]);
      expect(exit).toHaveBeenCalledWith(130);
      expect(stderr).toContain('runbook: stopping after the current operation (Ctrl-C again to stop at once)');
      expect(errorCode(stderr)).toBe('RUN_INTERRUPTED');
      expect(code).toBe(1);
      expect(stdout).not.toContain('not reached');
    } finally {
      exit.mockRestore();
    }
    // The handler is the run's only: gone once it ends.
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  });

  it('fails with the code of a failing block, naming the step', async () => {
    const dir = await tempDir();
    const file = join(dir, 'RUNBOOK.md');
    await writeFile(file, `${FRONT_MATTER}\n# Start\n\n1. **DO** fail:\n\n   \`\`\`ts {id=start.fail}\n   throw new Error('no HSM found');\n   \`\`\`\n`);
    const { code, stdout, stderr } = await runCli(['run', file, '--answers', fixture('ceremony.answers.yaml')]);
    expect(code).toBe(1);
    expect(errorCode(stderr)).toBe('STEP_FAILED');
    expect(stdout).toContain('run FAILED at step start.fail (STEP_FAILED)');
  });

  it('fails with PROMPT_UNANSWERED when the answers file misses a prompt', async () => {
    const dir = await tempDir();
    const answers = join(dir, 'answers.yaml');
    await writeFile(answers, 'answers:\n  "*/done": done\n');
    const { code, stderr } = await runCli(['run', fixture('ceremony.md'), '--answers', answers, '--products', dir]);
    expect(code).toBe(1);
    expect(errorCode(stderr)).toBe('PROMPT_UNANSWERED');
  });

  it('refuses a runbook that the check rejects, before running anything', async () => {
    const dir = await tempDir();
    const file = join(dir, 'RUNBOOK.md');
    await writeFile(file, `${FRONT_MATTER}\n# Start\n\n1. **GO TO** [Nowhere](#nowhere)\n`);
    const { code, stdout, stderr } = await runCli(['run', file, '--answers', fixture('ceremony.answers.yaml')]);
    expect(code).toBe(1);
    expect(errorCode(stderr)).toBe('GOTO_TARGET_MISSING');
    expect(stdout).toBe('');
  });

  it('reports a missing answers file and an unknown --from step by their codes', async () => {
    const missing = await runCli(['run', fixture('ceremony.md'), '--answers', join(tmpdir(), 'no-such-answers.yaml')]);
    expect(errorCode(missing.stderr)).toBe('ANSWERS_FILE_UNREADABLE');
    const from = await runCli(['run', fixture('ceremony.md'), '--answers', fixture('ceremony.answers.yaml'), '--from', 'no.such.step']);
    expect(errorCode(from.stderr)).toBe('FROM_STEP_UNKNOWN');
  });

  it('starts at --from, passing over earlier steps', async () => {
    const products = await tempDir();
    const { code, stdout } = await runCli([
      'run',
      fixture('ceremony.md'),
      '--answers',
      fixture('ceremony.answers.yaml'),
      '--products',
      products,
      '--from',
      'prepare-the-environment.4',
    ]);
    expect(code).toBe(0);
    expect(stdout).not.toContain('[yubihsm.serial]\n      ? Serial number printed on the YubiHSM 2 7550054');
    expect(stdout).toMatch(/run reached END: 7 steps performed, 8 passed over\n$/);
  });

  it("writes products beside the runbook, in the front matter's products directory", async () => {
    const dir = await tempDir();
    const file = join(dir, 'RUNBOOK.md');
    await writeFile(
      file,
      `${FRONT_MATTER}\n# Start\n\n1. **DO** write a product:\n\n   \`\`\`ts {id=start.write}\n   await ctx.writeProduct('0007550054/0007550054_root_pubkey.pem', 'KEY');\n   \`\`\`\n`,
    );
    await copyFile(fixture('ceremony.answers.yaml'), join(dir, 'answers.yaml'));
    const { code, stdout } = await runCli(['run', file, '--answers', join(dir, 'answers.yaml')]);
    expect(code).toBe(0);
    const product = join(dir, 'ceremony-products', '0007550054', '0007550054_root_pubkey.pem');
    expect(await readFile(product, 'utf8')).toBe('KEY');
    expect(stdout).toContain(`wrote ${product} (sha256 `);
    expect(await readdir(join(dir, 'ceremony-products', '0007550054'))).toEqual(['0007550054_root_pubkey.pem']);
  });

  it('records the run in a hash-chained transcript and prints its head', async () => {
    const dir = await tempDir();
    const transcript = join(dir, 'transcript.jsonl');
    const argv = ['run', fixture('ceremony.md'), '--answers', fixture('ceremony.answers.yaml'), '--products', dir, '--transcript', transcript];
    const { code, stdout } = await runCli(argv);
    expect(code).toBe(0);
    const head = /transcript: .* \((\d+) records, head sha256 ([0-9a-f]{64})\)\n$/.exec(stdout);
    expect(head).not.toBeNull();
    const verified = await verifyTranscript(transcript, { head: head![2]! });
    expect(verified.records).toBe(Number(head![1]));
    expect(await readFile(transcript, 'utf8')).not.toContain('rehearsal-password');

    // The transcript names the exact runbook and code that ran: the digest
    // `runbook digest` prints, shown to the witnesses before the first step.
    const digest = (await runCli(['digest', fixture('ceremony.md')])).stdout.trim();
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(stdout.startsWith(`runbook digest: ${digest}\n`)).toBe(true);
    const first = JSON.parse((await readFile(transcript, 'utf8')).split('\n')[0]!) as { event: { type: string; digest?: string } };
    expect(first.event).toMatchObject({ type: 'run.started', digest });

    // A second run never writes over the first one's record.
    const again = await runCli(argv);
    expect(again.code).toBe(1);
    expect(errorCode(again.stderr)).toBe('TRANSCRIPT_EXISTS');
    expect((await verifyTranscript(transcript, { head: head![2]! })).records).toBe(verified.records);
  });

  // Only a real process can run out of work: these go through bin/runbook.js,
  // as the operator starts it.
  describe('in its own process', () => {
    const runbookProcess = (argv: readonly string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [projectPath('bin', 'runbook.js'), ...argv], { timeout: 60_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
        );
      });

    it('a block waiting on a promise nothing settles fails the run and closes the transcript, rather than exiting quietly', async () => {
      const dir = await tempDir();
      const file = join(dir, 'RUNBOOK.md');
      await writeFile(file, `${FRONT_MATTER}\n# Start\n\n1. **DO** wait:\n\n   \`\`\`ts {id=start.wait}\n   await new Promise(() => {});\n   \`\`\`\n`);
      const transcript = join(dir, 'transcript.jsonl');
      const { code, stdout, stderr } = await runbookProcess(['run', file, '--answers', fixture('ceremony.answers.yaml'), '--transcript', transcript]);
      expect(errorCode(stderr)).toBe('STEP_STALLED');
      expect(code).toBe(1);
      expect(stdout).toContain('run FAILED at step start.wait (STEP_STALLED)');
      const { events } = await verifyTranscript(transcript);
      expect(events.at(-1)).toMatchObject({ type: 'run.finished', outcome: 'failed', error: { code: 'STEP_STALLED' } });
    });

    it('a block calling process.exit(0) fails the run with status 1', async () => {
      const dir = await tempDir();
      const file = join(dir, 'RUNBOOK.md');
      await writeFile(file, `${FRONT_MATTER}\n# Start\n\n1. **DO** leave:\n\n   \`\`\`ts {id=start.leave}\n   process.exit(0);\n   \`\`\`\n`);
      const { code, stderr } = await runbookProcess(['run', file, '--answers', fixture('ceremony.answers.yaml')]);
      expect(errorCode(stderr)).toBe('STEP_EXIT_REFUSED');
      expect(code).toBe(1);
    });
  });
});
