// `runbook verify` side by side with the verification method that came with
// the original runbook, reproduced in bench/psf-verify.sh: per YubiHSM 2,
// logged SHA-1 and SHA-256 checksums of each product, DER to PEM
// conversions, and `openssl verify` of the sub-CA, the device certificate and
// each attestation. Both are timed as whole processes: `node bin/runbook.js
// verify …` (the CLI as esbuild bundles it, .runbook/cli/, so its start-up is
// a bundled cold start; the untimed warm-up run builds the bundle if a source
// changed) against `bash bench/psf-verify.sh …`. The start-up alone is
// measured too (`runbook --help`), as the floor under every runbook figure.
// Figures only; nothing here asserts a time.
//
// Workloads:
//  - the PSF 2020-10-30 products: 6 devices (3 YubiHSM 2, 3 Nitrokey HSM);
//  - a history of ceremonies: 100 YubiHSM 2 in 10 ceremony directories,
//    each device with its own RSA-2048 device certificate and its own keys,
//    issued from the YubiHSM simulator's committed CA (whose keys are public,
//    so any tool can issue from it); and 100 devices in PSF-shaped
//    ceremonies (half Nitrokey HSM, which the original method only
//    checksums). Copies of the PSF devices would not do:
//    the same key 34 times over is exactly what `verify` must flag
//    (VERIFY_KEY_REUSED), so that run is reported on its own line, as the
//    cost of the Yubico chain at scale, with its exit status.
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectPath } from '../lib/paths.ts';
import { verifyProducts } from '../lib/products/verify/index.ts';
import { psfProducts, yubicoFixtures } from '../test/support/paths.ts';
import { simulatorCa, writeNitrokey, writeYubiHsm } from '../test/products/support/test-ca.ts';

const RUNS = 5;
/** Fewer runs for the 100-device histories: the original method takes tens of seconds each time. */
const HISTORY_RUNS = 3;
const YUBICO_ROOT = join(yubicoFixtures, 'yubihsm2-attest-ca-crt.pem');
const YUBICO_SUB_CA = join(yubicoFixtures, 'E45DA5F361B091B30D8F2C6FA040DB6FEF57918E.pem');
const SIM_ROOT = projectPath('lib', 'yubihsm', 'simulator', 'ca', 'root-ca.pem');
const SIM_SUB_CA = projectPath('lib', 'yubihsm', 'simulator', 'ca', 'sub-ca.pem');

interface Timed {
  readonly seconds: number;
  readonly status: number | null;
}

function time(command: string, args: string[]): Timed {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: projectPath(), stdio: ['ignore', 'ignore', 'pipe'] });
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, status: result.status };
}

/** Median wall time of `runs` runs, after one untimed warm-up (the CLI bundle, the page cache). */
function median(command: string, args: string[], runs = RUNS): Timed {
  time(command, args);
  const all = Array.from({ length: runs }, () => time(command, args)).sort((a, b) => a.seconds - b.seconds);
  return all[Math.floor(all.length / 2)] ?? { seconds: Number.NaN, status: null };
}

const runbook = (dirs: string[], flags: string[] = [], runs = RUNS) => median(process.execPath, [projectPath('bin', 'runbook.js'), 'verify', ...flags, ...dirs], runs);
const psfMethod = (root: string, sub: string, dirs: string[], runs = RUNS) => median('bash', [projectPath('bench', 'psf-verify.sh'), root, sub, ...dirs], runs);

async function inProcess(dirs: string[], options: Parameters<typeof verifyProducts>[1] = {}): Promise<number> {
  await verifyProducts(dirs, options);
  const started = process.hrtime.bigint();
  await verifyProducts(dirs, options);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const seconds = (t: Timed) => `${t.seconds.toFixed(3)} s (exit ${t.status})`;

/** One workload: both wall times and the ratio (the original method's time over runbook's). */
function line(label: string, ours: Timed, theirs: Timed, note = ''): void {
  const ratio = theirs.seconds / ours.seconds;
  console.log(`  ${label.padEnd(42)} ${seconds(ours).padEnd(18)} ${seconds(theirs).padEnd(18)} ${ratio.toFixed(1)}× ${ratio >= 1 ? 'faster' : 'slower'}`);
  if (note) console.log(`    ${note}`);
}

/** 10 ceremonies of 10 simulated YubiHSM 2 each, every device and key distinct. Setup, not timed. */
async function simulatedHistory(root: string): Promise<string[]> {
  const ca = await simulatorCa();
  const dirs: string[] = [];
  for (let c = 0; c < 10; c++) {
    const products = join(root, `ceremony-${c}`, 'ceremony-products');
    await mkdir(products, { recursive: true });
    await Promise.all(
      Array.from({ length: 10 }, (_, d) => writeYubiHsm(ca, products, { serial: 20_000_000 + c * 10 + d, curve: d % 3 === 1 ? 'P-384' : 'P-256', deviceKey: 'rsa' })),
    );
    dirs.push(products);
  }
  return dirs;
}

/** PSF-shaped ceremonies (3 simulated YubiHSM 2, 3 Nitrokey HSM each) up to 100 devices, every device and key distinct. Setup, not timed. */
async function mixedHistory(root: string): Promise<string[]> {
  const ca = await simulatorCa();
  const dirs: string[] = [];
  for (let c = 0, n = 0; n < 100; c++) {
    const products = join(root, `ceremony-${c}`, 'ceremony-products');
    await mkdir(products, { recursive: true });
    const made: Promise<unknown>[] = [];
    for (let d = 0; d < 6 && n < 100; d++, n++) {
      const curve = d % 3 === 1 ? 'P-384' : 'P-256';
      made.push(
        d < 3
          ? writeYubiHsm(ca, products, { serial: 30_000_000 + c * 10 + d, curve, deviceKey: 'rsa' })
          : writeNitrokey(products, `DENK${String(3_000_000 + c * 10 + d).padStart(7, '0')}`, curve),
      );
    }
    await Promise.all(made);
    dirs.push(products);
  }
  return dirs;
}

/** 34 ceremonies holding copies of the 3 PSF YubiHSM 2 (the last one only one of them): 100 devices, every key reused. */
async function copiedHistory(root: string): Promise<string[]> {
  const dirs: string[] = [];
  const serials = ['0013200460', '0013200461', '0013200462'];
  for (let c = 0, n = 0; n < 100; c++) {
    const products = join(root, `copy-${c}`, 'ceremony-products');
    for (const serial of serials) {
      if (n++ >= 100) break;
      await cp(join(psfProducts, serial), join(products, serial), { recursive: true });
    }
    dirs.push(products);
  }
  return dirs;
}

export async function run(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'runbook-bench-verify-'));
  try {
    console.log('verify: `runbook verify DIR…` against the original method (bench/psf-verify.sh: checksum log');
    console.log('  + `openssl verify` of each chain), whole processes, wall time, median of');
    console.log(`  ${RUNS} runs (${HISTORY_RUNS} for the histories) after a warm-up; ratio = original time / runbook time`);
    const startup = median(process.execPath, [projectPath('bin', 'runbook.js'), '--help']);
    console.log(`  runbook start-up alone (\`runbook --help\`, bundled cold start): ${startup.seconds.toFixed(3)} s`);
    console.log(`  ${'workload'.padEnd(42)} ${'runbook'.padEnd(18)} ${'original method'.padEnd(18)} ratio`);
    const psf = [psfProducts];
    line('PSF 2020-10-30: 6 devices, 12 keys', runbook(psf), psfMethod(YUBICO_ROOT, YUBICO_SUB_CA, psf));

    const simulated = await simulatedHistory(join(root, 'simulated'));
    line('history: 100 YubiHSM 2, 10 ceremonies', runbook(simulated, ['--allow-simulated'], HISTORY_RUNS), psfMethod(SIM_ROOT, SIM_SUB_CA, simulated, HISTORY_RUNS), 'simulator CA, every device and key distinct');

    const mixed = await mixedHistory(join(root, 'mixed'));
    line('history: 100 devices, 17 PSF-shaped', runbook(mixed, ['--allow-simulated'], HISTORY_RUNS), psfMethod(SIM_ROOT, SIM_SUB_CA, mixed, HISTORY_RUNS), '50 YubiHSM 2 (simulator CA) + 50 Nitrokey HSM, which the original method skips');

    const copies = await copiedHistory(join(root, 'copies'));
    line('history: 100 copies of the PSF YubiHSM 2', runbook(copies, [], HISTORY_RUNS), psfMethod(YUBICO_ROOT, YUBICO_SUB_CA, copies, HISTORY_RUNS), 'Yubico chain; runbook exits 1 (every key reused), as it must');

    console.log('  in process (verifyProducts, warm, no process start):');
    console.log(`    PSF 6 devices ${(await inProcess(psf)).toFixed(3)} s   100 YubiHSM 2 ${(await inProcess(simulated, { allowSimulated: true })).toFixed(3)} s`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
