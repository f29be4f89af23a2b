/**
 * "Prepare the environment", prepare.verify: before the products leave the
 * ceremony computer, they are proven as a third party will prove them
 * (`runbook verify`), so a bad product is found while the devices are still
 * in the room.
 */
import type { RunbookContext } from '../lib/runbook/api.ts';
import { renderTable, verifyProducts } from '../lib/products/verify/index.ts';
import { StepError } from './errors.ts';
import { isRehearsal, type Hardware } from './hardware.ts';

export async function verifyCeremonyProducts(ctx: RunbookContext<object>, hardware: Hardware): Promise<void> {
  const report = await verifyProducts([ctx.productsDir], {
    inventory: ctx.inventory,
    allowSimulated: isRehearsal(hardware),
    // Every Nitrokey HSM attests its keys (nitrokey.attest); only a SoftHSM2 token standing in for one cannot.
    requireAttestation: hardware.kind !== 'softhsm2',
  });
  ctx.say(renderTable(report));
  if (!report.ok) {
    throw new StepError('STEP_PRODUCTS_INVALID', `the products in ${ctx.productsDir} do not verify: ${report.summary.codes.join(', ')}`);
  }
}
