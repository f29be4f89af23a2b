#!/usr/bin/env node
// The `runbook` command.
//
// The sources are TypeScript and run from a fresh clone after `npm ci`, with
// no build step to remember. A cold start through a TypeScript loader costs
// ~200 ms before any of our code runs, so the CLI is bundled with esbuild into
// .runbook/cli/<key>/ on first use. The key is a SHA-256 over the sources the
// bundle is built from (their paths and bytes), not their modification
// times: the code that runs is always the code `runbook digest` describes,
// never a stale bundle, and a bundle is a cache, never a second source of
// truth. It is not committed.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const cacheRoot = join(root, '.runbook', 'cli');

/** SHA-256 (hex, first 32 digits) over everything the bundle is built from. */
function sourceKey() {
  const hash = createHash('sha256');
  hash.update(readFileSync(join(root, 'package.json')));
  for (const dir of ['lib', 'steps']) {
    let names;
    try {
      names = readdirSync(join(root, dir), { recursive: true });
    } catch {
      continue;
    }
    for (const name of names.filter((n) => n.endsWith('.ts')).sort()) {
      hash.update(`\0${dir}/${name}\0`);
      hash.update(readFileSync(join(root, dir, name)));
    }
  }
  return hash.digest('hex').slice(0, 32);
}

function exists(path) {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function rebuild(dir) {
  const { build } = await import('esbuild');
  // Build beside the cache and move it into place with one rename, so two
  // commands starting at once never load a half-written bundle.
  const temp = `${dir}.${process.pid}.tmp`;
  await build({
    entryPoints: { main: join(root, 'lib', 'cli', 'main.ts') },
    outdir: temp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'error',
  });
  try {
    renameSync(temp, dir);
  } catch {
    // Another process won the race with the same bundle.
    rmSync(temp, { recursive: true, force: true });
  }
  // Bundles of earlier sources are of no further use.
  for (const old of readdirSync(cacheRoot)) {
    if (join(cacheRoot, old) !== dir && !old.endsWith('.tmp')) rmSync(join(cacheRoot, old), { recursive: true, force: true });
  }
}

async function load() {
  const dir = join(cacheRoot, sourceKey());
  const bundle = pathToFileURL(join(dir, 'main.js')).href;
  if (exists(dir)) return import(bundle);
  try {
    mkdirSync(cacheRoot, { recursive: true });
    await rebuild(dir);
    return await import(bundle);
  } catch {
    // A read-only install cannot keep a cache: compile on the fly instead.
    const { register } = await import('tsx/esm/api');
    register();
    return import('../lib/cli/main.ts');
  }
}

const { main } = await load();
process.exitCode = await main(process.argv.slice(2));
