import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.ts';
import { projectRoot } from '../../lib/paths.ts';
import { SIMULATED_CA_DIR } from '../../lib/yubihsm/simulator/index.ts';
import { captureCli, runCli } from '../support/cli.ts';

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
    const cli = captureCli();
    const run = main(['simulate', 'yubihsm', '--port', '0', '--serial', '13200460', '--ca-cert-out', caFile], cli.ctx);
    const url = await until(() => /at (http:\/\/127\.0\.0\.1:\d+)/.exec(cli.stdout())?.[1]);
    expect(cli.stdout()).toContain('serial 0013200460');
    const status = await (await fetch(`${url}/connector/status`)).text();
    expect(status).toMatch(/^status=OK\nserial=0013200460\n/);
    const echo = await fetch(`${url}/connector/api`, { method: 'POST', body: Uint8Array.of(1, 0, 1, 42) });
    expect([...new Uint8Array(await echo.arrayBuffer())]).toEqual([0x81, 0, 1, 42]);
    expect(readFileSync(caFile, 'utf8')).toBe(readFileSync(join(SIMULATED_CA_DIR, 'root-ca.pem'), 'utf8'));

    process.emit('SIGTERM');
    expect(await run).toBe(0);
    expect(cli.stdout()).toContain('simulator stopped');
    await expect(fetch(`${url}/connector/status`)).rejects.toThrow();
  });

  it('never overwrites an existing CA file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simulate-'));
    const caFile = join(dir, 'root.pem');
    const first = captureCli();
    const run = main(['simulate', 'yubihsm', '--port', '0', '--ca-cert-out', caFile], first.ctx);
    await until(() => (first.stdout().includes('http://') ? true : undefined));
    process.emit('SIGINT');
    expect(await run).toBe(0);
    const second = await runCli(['simulate', 'yubihsm', '--port', '0', '--ca-cert-out', caFile]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('[PRODUCT_EXISTS]');
  });

  it('refuses a port or serial out of range as a usage error', async () => {
    for (const args of [
      ['--port', '70000'],
      ['--port', 'x'],
      ['--serial', '-1'],
      ['--serial', '99999999999'],
    ]) {
      const { code, stderr } = await runCli(['simulate', 'yubihsm', ...args]);
      expect(code).toBe(2);
      expect(stderr).toContain('[CLI_USAGE]');
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
