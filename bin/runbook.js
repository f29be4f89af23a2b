#!/usr/bin/env node
// The `runbook` command. The sources are TypeScript; tsx compiles them on
// first use (and caches the result), so the CLI runs from a fresh clone after
// `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lib/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
