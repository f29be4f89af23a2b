/**
 * YubiHSM 2 client figures: session set-up cost and per-command round trip,
 * in process and over the connector HTTP API on loopback, against the
 * simulated device. Figures, not assertions. Target: median in-process round
 * trip ≤ 0.3 ms once the session is open.
 *
 *   npx tsx bench/yubihsm.ts
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { YubiHsmClient, type YubiHsmSession } from '../lib/yubihsm/client.ts';
import { clearPasswordCache, keysFromPassword, passwordDerivationCount } from '../lib/yubihsm/password.ts';
import { passwordToKeys } from '../lib/yubihsm/session/scp03.ts';
import { ConnectorServer, SimulatedYubiHsm } from '../lib/yubihsm/simulator/index.ts';
import { HttpTransport } from '../lib/yubihsm/transports/http.ts';
import { InProcessTransport } from '../lib/yubihsm/transports/in-process.ts';

interface Figures {
  readonly median: number;
  readonly p95: number;
  readonly n: number;
}

async function measure(n: number, warmup: number, fn: () => Promise<unknown>): Promise<Figures> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { median: at(0.5), p95: at(0.95), n };
}

const ms = (v: number) => `${v.toFixed(3)} ms`;
function line(label: string, f: Figures): void {
  console.log(`  ${label.padEnd(38)} median ${ms(f.median).padStart(10)}   p95 ${ms(f.p95).padStart(10)}   (n=${f.n})`);
}

export async function run(): Promise<void> {
  console.log('yubihsm: client against the simulated YubiHSM 2');

  // Password derivation: PBKDF2 (10 000 iterations) once per password.
  clearPasswordCache();
  const before = passwordDerivationCount();
  const t0 = performance.now();
  await keysFromPassword('bench password');
  const firstMs = performance.now() - t0;
  const cached = await measure(200, 10, () => keysFromPassword('bench password'));
  const raw = await measure(5, 1, () => Promise.resolve(passwordToKeys('bench password')));
  console.log(`  password derivation: first ${ms(firstMs)}, cached median ${ms(cached.median)}, uncached PBKDF2 median ${ms(raw.median)}`);

  const device = await SimulatedYubiHsm.create();
  const server = await ConnectorServer.start(device);
  const links: [string, YubiHsmClient][] = [
    ['in-process', new YubiHsmClient(new InProcessTransport(device))],
    ['HTTP loopback', new YubiHsmClient(new HttpTransport(server.url))],
  ];

  const results = new Map<string, Map<string, Figures>>();
  let sessionsOpened = 0;
  for (const [name, client] of links) {
    const r = new Map<string, Figures>();
    results.set(name, r);
    console.log(`${name}:`);
    r.set('plain echo', await measure(500, 200, () => client.echo(new Uint8Array(16))));
    line('ECHO, no session (16 bytes)', r.get('plain echo')!);
    r.set('session', await measure(200, 20, async () => {
      const s = await client.openSession(1, { password: 'password' });
      sessionsOpened++;
      await s.close();
    }));
    line('session open + close (SCP03)', r.get('session')!);

    const s: YubiHsmSession = await client.openSession(1, { password: 'password' });
    sessionsOpened++;
    r.set('echo', await measure(2000, 200, () => s.echo(new Uint8Array(16))));
    line('ECHO in session (16 bytes)', r.get('echo')!);
    await s.generateEcKey({ id: 0x100, label: 'bench', domains: [1], capabilities: ['sign-ecdsa'], curve: 'P-256' }).catch(() => 0x100);
    const digest = createHash('sha256').update('bench').digest();
    r.set('sign', await measure(500, 50, () => s.signEcdsa(0x100, digest)));
    line('SIGN ECDSA P-256 in session', r.get('sign')!);
    await s.close();
  }

  const inproc = results.get('in-process')!;
  const http = results.get('HTTP loopback')!;
  console.log('ratios (HTTP loopback / in-process, medians):');
  for (const k of ['plain echo', 'session', 'echo', 'sign']) {
    console.log(`  ${k.padEnd(12)} ${(http.get(k)!.median / inproc.get(k)!.median).toFixed(1)}x`);
  }
  const derivations = passwordDerivationCount() - before;
  console.log(`PBKDF2 runs: ${derivations} for 2 distinct passwords over ${sessionsOpened} sessions opened (once per password)`);
  const target = inproc.get('echo')!.median;
  console.log(`target: median in-process round trip ${ms(target)} (target ≤ 0.300 ms: ${target <= 0.3 ? 'met' : 'NOT met'})`);

  await server.close();
  device.close();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
