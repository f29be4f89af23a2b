import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project's root folder (the one holding its package.json), found by
 * walking up from this module. It works the same whether the sources run
 * directly (tsx, vitest) or from a bundle, so resources shipped with the
 * project (embedded CA certificates, RUNBOOK.md) are located through it and
 * never through a path relative to one module.
 */
export const projectRoot: string = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (name === 'runbook') return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`runbook: cannot find the project root above ${start}`);
    dir = up;
  }
}

/** A path inside the project. */
export function projectPath(...parts: string[]): string {
  return join(projectRoot, ...parts);
}
