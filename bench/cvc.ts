/**
 * Nitrokey HSM key attestation (lib/cvc): verifying one device's chain and
 * two key requests in process, as `runbook verify` does for a Nitrokey HSM's
 * root and targets keys. Two workloads: the real DENK0404144 (its EF 2F02
 * with CE03, P-256, and CE04, RSA-2048, each against its published key), and
 * a simulated device with two P-256 keys (a rehearsal's). Each figure is one
 * device: two verifyKeyAttestation calls, the first verifying the chain
 * SRCA → DICA → device and its request, the second its request and the
 * chain's dates (lib/cvc keeps a verified chain's signatures for the
 * process); the verified chains are forgotten before each device. The first
 * run also reads and checks the pinned root; the median is warm.
 * Figures, not assertions. Target: ≤ 5 ms per device.
 *
 *   npx tsx bench/cvc.ts
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { projectPath } from '../lib/paths.ts';

const TARGET_MS = 5;
const RUNS = 300;
const vectors = projectPath('test', 'fixtures', 'nitrokey-attestation');
const read = (name: string) => new Uint8Array(readFileSync(join(vectors, name)));

interface Figures {
  readonly first: number;
  readonly median: number;
  readonly p95: number;
  readonly n: number;
}

function measure(fn: () => unknown): Figures {
  const t0 = performance.now();
  fn();
  const first = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? Number.NaN;
  return { first, median: at(0.5), p95: at(0.95), n: RUNS };
}

const ms = (v: number) => `${v.toFixed(3)} ms`;
function line(label: string, f: Figures): void {
  const verdict = f.median <= TARGET_MS ? 'within' : 'OVER';
  console.log(`  ${label.padEnd(44)} first ${ms(f.first).padStart(10)}   median ${ms(f.median).padStart(9)}   p95 ${ms(f.p95).padStart(9)}   (n=${f.n}; ${verdict} the ${TARGET_MS} ms target)`);
}

export async function run(): Promise<void> {
  console.log('cvc: Nitrokey HSM key attestation, one device (chain + two requests), in process');
  const t0 = performance.now();
  const { verifyKeyAttestation, makeSimulatedDevice, attestKey, parseDevaut, parseRequest } = await import('../lib/cvc/index.ts');
  const { forgetVerifiedChains } = await import('../lib/cvc/chain.ts');
  console.log(`  loading lib/cvc (transpiled by tsx here)     ${ms(performance.now() - t0)}`);

  const devaut = read('DENK0404144_EF2F02.bin');
  // Inside the real chain's validity; a simulated device's certificate runs five years from today.
  const realAt = new Date('2026-06-01T00:00:00Z');
  const simulatedAt = new Date();
  const requests = [
    { request: read('DENK0404144_CE03_p256.bin'), publicKey: read('DENK0404144_CE03_p256.spki.der') },
    { request: read('DENK0404144_CE04_rsa2048.bin'), publicKey: read('DENK0404144_CE04_rsa2048.spki.der') },
  ];
  const oneDevice = (d: Uint8Array, rs: readonly { request: Uint8Array; publicKey: Uint8Array }[], serial: string, at: Date, allowSimulated: boolean) => () => {
    forgetVerifiedChains();
    return rs.map((r) => verifyKeyAttestation({ devaut: d, ...r, serial, at, allowSimulated }));
  };
  line('DENK0404144: CE03 (P-256) + CE04 (RSA-2048)', measure(oneDevice(devaut, requests, 'DENK0404144', realAt, false)));

  const device = await makeSimulatedDevice('DENK0102947');
  const simulated = [0, 1].map(() => {
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    return { request: attestKey(device, key), publicKey: new Uint8Array(key.publicKey.export({ type: 'spki', format: 'der' })) };
  });
  line('simulated DENK0102947: two P-256 keys', measure(oneDevice(device.devaut, simulated, 'DENK0102947', simulatedAt, true)));

  const parse = measure(() => [parseDevaut(devaut), ...requests.map((r) => parseRequest(r.request))]);
  console.log(`  of which decoding EF 2F02 and both requests  median ${ms(parse.median)}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run();
}
