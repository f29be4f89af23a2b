/**
 * The ceremony's steps, bound to a run: what RUNBOOK.md's blocks reach as
 * `ctx.steps` (typed by steps/api.ts). The executor calls `ceremonySteps`
 * once per run, with the run's context.
 */
import { projectPath } from '../lib/paths.ts';
import type { RunbookContext } from '../lib/runbook/api.ts';
import type { CeremonySteps } from './api.ts';
import type { Hardware } from './hardware.ts';
import { nitrokeySteps } from './nitrokey.ts';
import { verifyCeremonyProducts } from './verify.ts';
import { yubihsmSteps } from './yubihsm.ts';

export type { CeremonySteps } from './api.ts';
export { deviceHardware, type DeviceOptions, type Hardware } from './hardware.ts';

/** The steps for one run, on `hardware`. */
export function ceremonySteps(hardware: Hardware): (ctx: RunbookContext<object>) => CeremonySteps {
  return (ctx) => ({
    yubihsm: yubihsmSteps(ctx, hardware),
    nitrokey: nitrokeySteps(ctx, hardware),
    verifyProducts: () => verifyCeremonyProducts(ctx, hardware),
  });
}

/** The module RUNBOOK.md's blocks are type-checked against (a path: the CLI runs bundled, away from the sources). */
export const CEREMONY_API_MODULE: string = projectPath('steps', 'api.ts');
