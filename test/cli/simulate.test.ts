import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../lib/cli/context.ts';
import { main } from '../../lib/cli/main.ts';
import { projectRoot } from '../../lib/paths.ts';
import { SIMULATED_CA_DIR } from '../../lib/yubihsm/simulator/index.ts';

function context(): CliContext & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    exitCode: 0,
    interactive: false,
    out: () => out,
    err: () => err,
  };
}

async function until<T>(probe: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('runbook simulate yubihsm', () => {
  it('serves the simulator until SIGTERM, printing URL and serial, and writes the simulated root CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simulate-'));
    const caFile = join(dir, 'root.pem');
    const ctx = context();
    const run = main(['simulate', 'yubihsm', '--port', '0', '--serial', '13200460', '--ca-cert-out', caFile], ctx);
    const url = await until(() => /at (http:\/\/127\.0\.0\.1:\d+)/.exec(ctx.out())?.[1]);
    expect(ctx.out()).toContain('serial 0013200460');
    const status = await (await fetch(`${url}/connector/status`)).text();
    expect(status).toMatch(/^status=OK\nserial=0013200460\n/);
    const echo = await fetch(`${url}/connector/api`, { method: 'POST', body: Uint8Array.of(1, 0, 1, 42) });
    expect([...new Uint8Array(await echo.arrayBuffer())]).toEqual([0x81, 0, 1, 42]);
    expect(readFileSync(caFile, 'utf8')).toBe(readFileSync(join(SIMULATED_CA_DIR, 'root-ca.pem'), 'utf8'));

    process.emit('SIGTERM');
    expect(await run).toBe(0);
    expect(ctx.out()).toContain('simulator stopped');
    await expect(fetch(`${url}/connector/status`)).rejects.toThrow();
  });

  it('never overwrites an existing CA file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simulate-'));
    const caFile = join(dir, 'root.pem');
    const first = context();
    const run = main(['simulate', 'yubihsm', '--port', '0', '--ca-cert-out', caFile], first);
    await until(() => (first.out().includes('http://') ? true : undefined));
    process.emit('SIGINT');
    expect(await run).toBe(0);
    const second = context();
    expect(await main(['simulate', 'yubihsm', '--port', '0', '--ca-cert-out', caFile], second)).toBe(1);
    expect(second.err()).toContain('[PRODUCT_EXISTS]');
  });

  it('refuses a port or serial out of range as a usage error', async () => {
    for (const args of [
      ['--port', '70000'],
      ['--port', 'x'],
      ['--serial', '-1'],
      ['--serial', '99999999999'],
    ]) {
      const ctx = context();
      expect(await main(['simulate', 'yubihsm', ...args], ctx)).toBe(2);
      expect(ctx.err()).toContain('[CLI_USAGE]');
    }
  });

  it('stops cleanly on a real SIGINT when run as a process', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        "const { main } = await import('./lib/cli/main.ts'); process.exitCode = await main(['simulate', 'yubihsm', '--port', '0']);",
      ],
      { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const url = await until(() => /at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1], 20_000);
    expect((await fetch(`${url}/connector/status`)).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('simulator stopped');
  });
});
