import { execFileSync, spawn } from 'node:child_process';
import { createHash, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.ts';
import { keyFromPoint } from '../../lib/keys.ts';
import { projectRoot } from '../../lib/paths.ts';
import { YubiHsmClient } from '../../lib/yubihsm/client.ts';
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

function pem(der: Uint8Array): string {
  return `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
}

/** Runs `runbook simulate yubihsm ARGS` in process until `work` is done with its URL, then stops it with SIGTERM. */
async function serving<T>(args: string[], work: (url: string, stdout: () => string) => Promise<T>): Promise<T> {
  const cli = captureCli();
  const run = main(['simulate', 'yubihsm', '--port', '0', ...args], cli.ctx);
  const url = await until(() => /at (http:\/\/127\.0\.0\.1:\d+)/.exec(cli.stdout())?.[1]);
  try {
    return await work(url, () => cli.stdout());
  } finally {
    process.emit('SIGTERM');
    expect(await run).toBe(0);
  }
}

describe('runbook simulate yubihsm', () => {
  it('serves the simulator until SIGTERM, printing URL and serial, and writes the simulated root and sub-CA', async () => {
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
    const ca = (name: string) => readFileSync(join(SIMULATED_CA_DIR, name), 'utf8');
    expect(readFileSync(caFile, 'utf8')).toBe(ca('root-ca.pem') + ca('sub-ca.pem'));

    process.emit('SIGTERM');
    expect(await run).toBe(0);
    expect(cli.stdout()).toContain('simulator stopped');
    await expect(fetch(`${url}/connector/status`)).rejects.toThrow();
  });

  it('hands out what openssl needs to check an attestation: openssl verify -CAfile FILE -untrusted device.pem attestation.pem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simulate-'));
    const caFile = join(dir, 'simulated-ca.pem');
    await serving(['--serial', '13200460', '--ca-cert-out', caFile], async (url) => {
      const client = await YubiHsmClient.connector(url);
      const s = await client.openSession(1, { password: 'password' });
      await s.generateEcKey({ id: 3, label: 'tuf-root', domains: [1], capabilities: ['sign-ecdsa'], curve: 'P-384' });
      writeFileSync(join(dir, 'device.pem'), pem(await s.getDeviceCertificate()));
      writeFileSync(join(dir, 'attestation.pem'), pem(await s.signAttestationCertificate(3)));
      await s.close();
    });
    const out = execFileSync('openssl', ['verify', '-CAfile', caFile, '-untrusted', join(dir, 'device.pem'), join(dir, 'attestation.pem')]).toString();
    expect(out.trim()).toBe(`${join(dir, 'attestation.pem')}: OK`);
    // The root alone, as --ca-cert-out wrote before, cannot: the device certificate's issuer is the sub-CA.
    const rootOnly = join(dir, 'root-only.pem');
    writeFileSync(rootOnly, readFileSync(join(SIMULATED_CA_DIR, 'root-ca.pem')));
    expect(() =>
      execFileSync('openssl', ['verify', '-CAfile', rootOnly, '-untrusted', join(dir, 'device.pem'), join(dir, 'attestation.pem')], { stdio: 'pipe' }),
    ).toThrow();
  });

  it('keeps the device in --state DIR: a later run has the same certificate and signs with the keys made before', async () => {
    const state = mkdtempSync(join(tmpdir(), 'simulate-state-'));
    const args = ['--serial', '13200461', '--state', state];
    const first = await serving(args, async (url, stdout) => {
      expect(stdout()).toContain(state);
      const s = await (await YubiHsmClient.connector(url)).openSession(1, { password: 'password' });
      await s.generateEcKey({ id: 3, label: 'tuf-root', domains: [1], capabilities: ['sign-ecdsa'], curve: 'P-256' });
      const result = { point: (await s.getPublicKey(3)).point, certificate: await s.getDeviceCertificate() };
      await s.close();
      return result;
    });
    await serving(args, async (url) => {
      const s = await (await YubiHsmClient.connector(url)).openSession(1, { password: 'password' });
      expect(Buffer.from(await s.getDeviceCertificate()).equals(Buffer.from(first.certificate))).toBe(true);
      const message = Buffer.from('signed by the second run');
      const signature = await s.signEcdsa(3, createHash('sha256').update(message).digest());
      expect(verify('sha256', message, { key: keyFromPoint('P-256', first.point), dsaEncoding: 'der' }, signature)).toBe(true);
      await s.close();
    });
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
