// The Nitrokey sequence of the ceremony ("Provisioning the Nitrokey HSM",
// steps 4–22) on SoftHSM2: in process through pkcs11js, side by side with
// the same sequence as the seed ran it, one pkcs11-tool (and openssl)
// process per step. Figures only; nothing here asserts a time.
//
// The pkcs11-tool side passes bench PINs on its argv because that is how the
// seed's tooling worked; it is measured here, never used by the runbook.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openPkcs11Token } from '../lib/pkcs11/driver.ts';
import { generateCeremonyKeys } from '../lib/pkcs11/generate.ts';
import { SOFTHSM2 } from '../lib/pkcs11/identity.ts';
import { DEFAULT_SO_PIN } from '../lib/pkcs11/pins.ts';
import { DEFAULT_LABEL, provisionToken } from '../lib/pkcs11/provision.ts';
import type { Curve } from '../lib/products/keys.ts';

const RUNS = 7;
const START_USER_PIN = '648219';
const NEW_SO_PIN = '0f1e2d3c4b5a6978';
const NEW_USER_PIN = 'tuf-2020';

const MODULES = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib64/pkcs11/libsofthsm2.so', '/usr/local/lib/softhsm/libsofthsm2.so', '/opt/homebrew/lib/softhsm/libsofthsm2.so'];

/**
 * Where the SoftHSM2 token store lives. SoftHSM2 syncs its token files on
 * every object it creates: on a disk that costs on the order of 100 ms per
 * key pair on both sides and measures the disk more than the sequence, so
 * the figures are given for a store in memory (where the system has one)
 * and on disk.
 */
const STORES: [string, string][] = [
  ...(existsSync('/dev/shm') ? [['in memory', '/dev/shm'] as [string, string]] : []),
  ['on disk', tmpdir()],
];

/** A fresh SoftHSM2 store with one token at the SmartCard-HSM factory PINs; setup is not timed. */
function freshStore(root: string): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(root, 'runbook-bench-pkcs11-'));
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'ceremony', '--so-pin', DEFAULT_SO_PIN, '--pin', START_USER_PIN], { env, stdio: 'pipe' });
  return { dir, env };
}

async function inProcess(module: string, curve: Curve, root: string): Promise<number> {
  const { dir, env } = freshStore(root);
  process.env.SOFTHSM2_CONF = env.SOFTHSM2_CONF;
  try {
    const started = process.hrtime.bigint();
    const token = await openPkcs11Token({ module });
    try {
      await provisionToken(token, { soPin: DEFAULT_SO_PIN, newSoPin: NEW_SO_PIN, userPin: NEW_USER_PIN, expect: SOFTHSM2 });
      await generateCeremonyKeys(token, { userPin: NEW_USER_PIN, curve, productsDir: join(dir, 'products'), expect: SOFTHSM2 });
    } finally {
      await token.close();
    }
    return Number(process.hrtime.bigint() - started) / 1e6;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function withTools(module: string, curve: Curve, root: string): number {
  const { dir, env } = freshStore(root);
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { env, stdio: 'pipe' });
  const p11 = (args: string[]) => run('pkcs11-tool', ['--module', module, ...args]);
  const keyType = curve === 'P-256' ? 'EC:prime256v1' : 'EC:secp384r1';
  try {
    const started = process.hrtime.bigint();
    // nitrohsm-provision: re-initialize, new SO PIN, user PIN.
    p11(['--token-label', 'ceremony', '--init-token', '--so-pin', DEFAULT_SO_PIN, '--label', DEFAULT_LABEL]);
    p11(['--token-label', DEFAULT_LABEL, '--login', '--login-type', 'so', '--so-pin', DEFAULT_SO_PIN, '--change-pin', '--new-pin', NEW_SO_PIN]);
    p11(['--token-label', DEFAULT_LABEL, '--login', '--login-type', 'so', '--so-pin', NEW_SO_PIN, '--init-pin', '--new-pin', NEW_USER_PIN]);
    // generate-nitrohsm-keys: per key, generate, read the public key, convert it.
    for (const [id, label] of [['12', 'root'], ['13', 'targets']] as const) {
      const pub = join(dir, `SERIAL_${label}_pubkey.pub`);
      p11(['--token-label', DEFAULT_LABEL, '--login', '--pin', NEW_USER_PIN, '--keypairgen', '--key-type', keyType, '--id', id, '--label', label]);
      p11(['--token-label', DEFAULT_LABEL, '--read-object', '--type', 'pubkey', '--id', id, '-o', pub]);
      run('openssl', ['ec', '-inform', 'DER', '-pubin', '-in', pub, '-out', join(dir, `SERIAL_${label}_pubkey.pem`)]);
    }
    return Number(process.hrtime.bigint() - started) / 1e6;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function onPath(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

export async function run(): Promise<void> {
  const module = process.env.RUNBOOK_SOFTHSM_MODULE ?? MODULES.find((p) => existsSync(p));
  const missing = [module ? '' : 'SoftHSM2', ...['softhsm2-util', 'pkcs11-tool', 'openssl'].filter((t) => !onPath(t))].filter(Boolean);
  console.log('pkcs11: Nitrokey sequence (re-initialize, SO PIN, user PIN, root + targets key pairs, export) on SoftHSM2');
  if (!module || missing.length) {
    console.log(`  skipped: ${missing.join(', ')} not installed`);
    return;
  }
  // P-256 only: pkcs11-tool 0.23 with OpenSSL 3 cannot --read-object a P-384
  // public key ("cannot create EVP_PKEY"), so the seed's P-384 path cannot be
  // replayed with the tools installed here.
  const curve: Curve = 'P-256';
  for (const [where, root] of STORES) {
    // One warm-up of each, so that neither side pays for cold caches.
    await inProcess(module, curve, root);
    withTools(module, curve, root);
    const ours: number[] = [];
    const tools: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      ours.push(await inProcess(module, curve, root));
      tools.push(withTools(module, curve, root));
    }
    const a = median(ours);
    const b = median(tools);
    console.log(
      `  ${curve}, token store ${where}: in process ${a.toFixed(1)} ms | pkcs11-tool + openssl (9 processes) ${b.toFixed(1)} ms | ` +
        `in process is ${(b / a).toFixed(1)}x faster (median of ${RUNS})`,
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run();
}
