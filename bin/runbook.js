#!/usr/bin/env node
// The `runbook` command.
//
// The sources are TypeScript and run from a fresh clone after `npm ci`, with
// no build step to remember. A cold start through a TypeScript loader costs
// ~200 ms before any of our code runs, so the CLI is bundled with esbuild into
// .runbook/cli/ on first use and again whenever a source file is newer than
// the bundle. The bundle is a cache, never a second source of truth: it is
// rebuilt from lib/ and steps/ and is not committed.
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const cacheDir = join(root, '.runbook', 'cli');
const bundle = join(cacheDir, 'main.js');

/** Newest modification time of anything the bundle is built from. */
function newestSource() {
  let newest = statSync(join(root, 'package.json')).mtimeMs;
  for (const dir of ['lib', 'steps']) {
    let names;
    try {
      names = readdirSync(join(root, dir), { recursive: true });
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.endsWith('.ts')) continue;
      const m = statSync(join(root, dir, name)).mtimeMs;
      if (m > newest) newest = m;
    }
  }
  return newest;
}

function bundleTime() {
  try {
    return statSync(bundle).mtimeMs;
  } catch {
    return -1;
  }
}

async function rebuild() {
  const { build } = await import('esbuild');
  // Build beside the cache and swap it in with one rename, so two commands
  // starting at once never load a half-written bundle.
  const temp = `${cacheDir}.${process.pid}.tmp`;
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
  mkdirSync(dirname(cacheDir), { recursive: true });
  rmSync(cacheDir, { recursive: true, force: true });
  try {
    renameSync(temp, cacheDir);
  } catch {
    // Another process won the race with an equally fresh bundle.
    rmSync(temp, { recursive: true, force: true });
  }
}

async function load() {
  if (bundleTime() >= newestSource()) return import(pathToFileURL(bundle).href);
  try {
    await rebuild();
    return await import(pathToFileURL(bundle).href);
  } catch {
    // A read-only install cannot keep a cache: compile on the fly instead.
    const { register } = await import('tsx/esm/api');
    register();
    return import('../lib/cli/main.ts');
  }
}

const { main } = await load();
process.exitCode = await main(process.argv.slice(2));
