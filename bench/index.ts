// `npm run bench [-- AREA…]`: prints the project's speed figures, area by area.
//
// Figures, never assertions: machines are shared and noisy, so targets are
// printed beside the measurement (and as ratios where there is something to
// compare with) for a person to judge.
import { cpus, totalmem } from 'node:os';

const AREAS = {
  cli: () => import('./cli.ts'),
  runbook: () => import('./runbook.ts'),
  yubihsm: () => import('./yubihsm.ts'),
  pkcs11: () => import('./pkcs11.ts'),
  verify: () => import('./verify.ts'),
  rehearse: () => import('./rehearse.ts'),
  cvc: () => import('./cvc.ts'),
} as const satisfies Record<string, () => Promise<{ run(): Promise<void> }>>;

type Area = keyof typeof AREAS;

const asked = process.argv.slice(2);
const unknown = asked.filter((a) => !(a in AREAS));
if (unknown.length > 0) {
  console.error(`bench: unknown area ${unknown.join(', ')}; areas: ${Object.keys(AREAS).join(', ')}`);
  process.exit(2);
}
const areas = (asked.length > 0 ? asked : Object.keys(AREAS)) as Area[];

console.log(
  `# runbook bench — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
);
for (const area of areas) {
  console.log(`\n## ${area}`);
  const { run } = await AREAS[area]();
  await run();
}
