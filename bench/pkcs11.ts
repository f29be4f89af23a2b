// The Nitrokey sequence of the ceremony ("Provisioning the Nitrokey HSM",
// steps 4–22) on SoftHSM2: in process through pkcs11js, side by side with
// the same sequence as the PSF runbook ran it, one pkcs11-tool (or openssl) process
// per step. Figures only; nothing here asserts a time.
//
// Both sides get their PINs without an argv: pkcs11-tool reads them from the
// environment with its `env:NAME` form. The PSF runbook put them on the argv, which
// costs the same and shows them to `ps`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NITROKEY, PRODUCT_FILES, ROLES } from '../lib/ceremony.ts';
import { openPkcs11Token } from '../lib/pkcs11/driver.ts';
import { generateKeyPairs, type KeyPairRequest } from '../lib/pkcs11/generate.ts';
import { SOFTHSM2 } from '../lib/pkcs11/identity.ts';
import { provisionToken } from '../lib/pkcs11/provision.ts';
import { SoftHsmShelf, findSoftHsmModule } from '../lib/pkcs11/softhsm.ts';
import type { Curve } from '../lib/keys.ts';
import { writeProduct } from '../lib/products/write.ts';

const RUNS = 7;
const PINS = { soPin: NITROKEY.factorySoPin, userPin: '648219', newSoPin: '0f1e2d3c4b5a6978', newUserPin: 'tuf-2020' } as const;
/** The label a new Nitrokey HSM (and a SoftHSM2 token made by SoftHsmShelf.create) shows. */
const FRESH_LABEL = 'SmartCard-HSM';
const LABEL = NITROKEY.tokenLabel;
const KEYS: KeyPairRequest[] = ROLES.map((role) => ({ role, id: Uint8Array.of(NITROKEY.keys[role].id), label: NITROKEY.keys[role].label }));
/** pkcs11-tool processes in the PSF runbook's sequence (3 to provision, 2 per key), and openssl ones (1 per key). */
const TOOL_PROCESSES = { 'pkcs11-tool': 7, openssl: 2 } as const;

/** statfs f_type of tmpfs (linux/magic.h): a token store there never waits for a disk. */
const TMPFS_MAGIC = 0x01021994;

/**
 * Where the SoftHSM2 token store lives. SoftHSM2 writes and syncs a file for
 * every token object it creates or changes, on both sides alike; on a disk
 * that can cost more than everything else, so the figures are given for a
 * store in memory (where the system has one) and on disk, each labelled by
 * what the directory really is.
 */
function stores(): { where: string; root: string }[] {
  const all = ['/dev/shm', tmpdir()].filter((root) => existsSync(root));
  const kind = (root: string) => (statfsSync(root).type === TMPFS_MAGIC ? 'in memory' : 'on disk');
  return all.map((root) => ({ where: `${kind(root)} (${root})`, root }));
}

function ms(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** A shelf under `root` holding one new token, inserted, with the factory PINs. */
async function oneToken(module: string, root: string): Promise<SoftHsmShelf> {
  const shelf = new SoftHsmShelf(mkdtempSync(join(root, 'runbook-softhsm-')), { module, soPin: PINS.soPin, userPin: PINS.userPin }).use();
  await shelf.create('hsm');
  await shelf.insert('hsm');
  return shelf;
}

async function inProcess(module: string, curve: Curve, root: string): Promise<number> {
  const shelf = await oneToken(module, root);
  try {
    const started = process.hrtime.bigint();
    const token = await openPkcs11Token({ module });
    try {
      await provisionToken(token, { soPin: PINS.soPin, newSoPin: PINS.newSoPin, userPin: PINS.newUserPin, label: LABEL, expect: SOFTHSM2 });
      const { serial, keys } = await generateKeyPairs(token, { userPin: PINS.newUserPin, curve, keys: KEYS, expect: SOFTHSM2 });
      // Publishing, as the ceremony's step does with each key: create-exclusive, synced.
      for (const role of ROLES) {
        const key = keys.find((k) => k.role === role);
        if (!key) throw new Error(`generateKeyPairs returned no ${role} key`);
        await writeProduct(join(shelf.dir, 'products', PRODUCT_FILES.publicKey(serial, role)), key.spki);
        await writeProduct(join(shelf.dir, 'products', PRODUCT_FILES.pem(serial, role)), key.pem);
      }
    } finally {
      await token.close();
    }
    return ms(started);
  } finally {
    rmSync(shelf.dir, { recursive: true, force: true });
  }
}

async function withTools(module: string, curve: Curve, root: string): Promise<number> {
  const shelf = await oneToken(module, root);
  try {
    const env = { ...process.env, SOFTHSM2_CONF: shelf.conf, SO_PIN: PINS.soPin, NEW_SO_PIN: PINS.newSoPin, USER_PIN: PINS.newUserPin };
    const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { env, stdio: 'pipe' });
    const p11 = (args: string[]) => run('pkcs11-tool', ['--module', module, '--token-label', ...args]);
    const keyType = curve === 'P-256' ? 'EC:prime256v1' : 'EC:secp384r1';
    const started = process.hrtime.bigint();
    // nitrohsm-provision: re-initialize, new SO PIN, user PIN.
    p11([FRESH_LABEL, '--init-token', '--so-pin', 'env:SO_PIN', '--label', LABEL]);
    p11([LABEL, '--login', '--login-type', 'so', '--so-pin', 'env:SO_PIN', '--change-pin', '--new-pin', 'env:NEW_SO_PIN']);
    p11([LABEL, '--login', '--login-type', 'so', '--so-pin', 'env:NEW_SO_PIN', '--init-pin', '--new-pin', 'env:USER_PIN']);
    // generate-nitrohsm-keys: per key, generate, read the public key, convert it.
    for (const [id, label] of [['12', 'root'], ['13', 'targets']] as const) {
      const pub = join(shelf.dir, `SERIAL_${label}_pubkey.pub`);
      p11([LABEL, '--login', '--pin', 'env:USER_PIN', '--keypairgen', '--key-type', keyType, '--id', id, '--label', label]);
      p11([LABEL, '--read-object', '--type', 'pubkey', '--id', id, '-o', pub]);
      run('openssl', ['ec', '-inform', 'DER', '-pubin', '-in', pub, '-out', join(shelf.dir, `SERIAL_${label}_pubkey.pem`)]);
    }
    return ms(started);
  } finally {
    rmSync(shelf.dir, { recursive: true, force: true });
  }
}

/** Writing the four products as the in-process side does: create-exclusive, synced, folder synced (writeProduct). */
async function productWrites(root: string): Promise<number> {
  const dir = mkdtempSync(join(root, 'runbook-bench-products-'));
  try {
    const once = async (i: number) => {
      const started = process.hrtime.bigint();
      for (const name of ['root_pubkey.pub', 'root_pubkey.pem', 'targets_pubkey.pub', 'targets_pubkey.pem']) {
        await writeProduct(join(dir, String(i), name), new Uint8Array(91));
      }
      return ms(started);
    };
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) times.push(await once(i));
    return median(times);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the tool side pays before doing any work: starting each process, loading the module, C_Initialize, C_Finalize. */
async function startUps(module: string, root: string): Promise<number> {
  const shelf = await oneToken(module, root);
  try {
    const env = { ...process.env, SOFTHSM2_CONF: shelf.conf };
    const once = (cmd: string, args: string[]) => {
      const started = process.hrtime.bigint();
      execFileSync(cmd, args, { env, stdio: 'pipe' });
      return ms(started);
    };
    const tool = median(Array.from({ length: RUNS }, () => once('pkcs11-tool', ['--module', module, '--list-token-slots'])));
    const openssl = median(Array.from({ length: RUNS }, () => once('openssl', ['version'])));
    return TOOL_PROCESSES['pkcs11-tool'] * tool + TOOL_PROCESSES.openssl * openssl;
  } finally {
    rmSync(shelf.dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function onPath(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

export async function run(): Promise<void> {
  const module = findSoftHsmModule();
  const missing = [module ? '' : 'SoftHSM2', ...['pkcs11-tool', 'openssl'].filter((t) => !onPath(t))].filter(Boolean);
  // P-256 only: pkcs11-tool 0.23 with OpenSSL 3 cannot --read-object a P-384
  // public key ("cannot create EVP_PKEY"), so the PSF runbook's P-384 path cannot be
  // replayed with the tools installed here.
  const curve: Curve = 'P-256';
  const processes = TOOL_PROCESSES['pkcs11-tool'] + TOOL_PROCESSES.openssl;
  console.log(`pkcs11: Nitrokey sequence on SoftHSM2 (re-initialize, SO PIN, user PIN, ${curve} root + targets key pairs, export), median of ${RUNS}`);
  if (!module || missing.length) {
    console.log(`  skipped: ${missing.join(', ')} not installed`);
    return;
  }
  const rows: { where: string; ours: number; tools: number; floor: number; products: number }[] = [];
  for (const { where, root } of stores()) {
    // One warm-up of each, so that neither side pays for cold caches.
    await inProcess(module, curve, root);
    await withTools(module, curve, root);
    const ours: number[] = [];
    const tools: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      ours.push(await inProcess(module, curve, root));
      tools.push(await withTools(module, curve, root));
    }
    rows.push({ where, ours: median(ours), tools: median(tools), floor: await startUps(module, root), products: await productWrites(root) });
  }
  const memory = rows.find((r) => r.where.startsWith('in memory'));
  for (const row of rows) {
    const f = (n: number) => `${n.toFixed(1).padStart(6)} ms`;
    console.log(`  token store ${row.where}:`);
    console.log(`    in process (pkcs11js)               ${f(row.ours)}   of which ${row.products.toFixed(1)} ms writes the four products durably (file and folder synced)`);
    console.log(`    pkcs11-tool + openssl, ${processes} processes  ${f(row.tools)}   of which ${row.floor.toFixed(1)} ms only starts them (exec, module load, C_Initialize)`);
    const why =
      row === memory || !memory
        ? 'process start-up dominates the tools, and the in-process path pays it once'
        : `SoftHSM2 writes and syncs a file for every token object on both sides (against the store in memory: +${(row.ours - memory.ours).toFixed(1)} ms in process, ` +
          `+${(row.tools - memory.tools).toFixed(1)} ms with the tools, the in-process share including the synced products the PSF runbook's openssl never synced), ` +
          'so the slower the disk, the closer the ratio falls toward 1';
    console.log(`    in process is ${(row.tools / row.ours).toFixed(1)}x faster: ${why}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run();
}
