/**
 * `runbook verify DIR…`: proves published ceremony products to a third party
 * (lib/products/verify). Exit status 0 only when every check holds, 1 when
 * one fails, 2 when the command line cannot be acted on (a DIR missing, a
 * file, empty; a bad --runbook or --hsm).
 */
import { Option, type Command } from 'commander';
import type { Curve } from '../keys.ts';
import type { VerifyInventory } from '../products/verify/index.ts';
import type { HsmEntry, HsmKind } from '../runbook/inventory-types.ts';
import type { CliContext } from './context.ts';
import { parseAt } from './arguments.ts';
import { CliError } from './errors.ts';

interface VerifyFlags {
  runbook?: string;
  hsm?: HsmEntry[];
  json?: boolean;
  allowSimulated?: boolean;
  requireAttestation?: boolean;
  at?: Date;
}

const HSM_FLAG = /^([A-Za-z0-9._:-]+)=(yubihsm2|nitrokey-hsm):(P-256|P-384)(?::([A-Za-z0-9]+))?$/;

/** `--hsm ID=KIND:CURVE[:SERIAL]`, the inventory entry the front matter would hold. */
function parseHsm(value: string, previous: HsmEntry[] | undefined): HsmEntry[] {
  const m = HSM_FLAG.exec(value);
  if (!m) {
    throw new CliError('CLI_USAGE', `--hsm ${value}: expected ID=KIND:CURVE[:SERIAL], e.g. YubiHSM2-1=yubihsm2:P-256 (KIND yubihsm2 or nitrokey-hsm, CURVE P-256 or P-384)`);
  }
  const [, id = '', kind, keyType, serial] = m;
  return [...(previous ?? []), { id, kind: kind as HsmKind, keyType: keyType as Curve, ...(serial ? { serial } : {}) }];
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('verify')
    .description('verify ceremony products: attestation chains to Yubico and CardContact, attested key properties, key consistency, the inventory')
    .argument('<dir...>', 'ceremony-products directories (one subdirectory per device serial) or single device directories')
    .addOption(new Option('--runbook <file>', "check the devices against the inventory in the runbook's front matter").conflicts('hsm'))
    .addOption(new Option('--hsm <id=kind:curve[:serial]>', 'an inventory entry (repeat for each HSM), instead of --runbook').argParser(parseHsm))
    .option('--json', 'print the report as JSON')
    .option('--allow-simulated', "accept attestations from the simulators' roots, and rehearsal SoftHSM2 tokens (reported SIMULATED)")
    .option('--require-attestation', 'fail a Nitrokey HSM whose products hold no attestation (VERIFY_UNATTESTED), instead of warning')
    .addOption(new Option('--at <time>', 'check certificate validity at this ISO 8601 date or time instead of now').argParser(parseAt))
    .addHelpText(
      'after',
      `
A DIR named by a device serial (10-digit YubiHSM 2 serial, or a Nitrokey HSM
serial such as DENK0102947) is one device's products; any other DIR is a
ceremony-products directory holding only device directories. Several DIRs
are a history of ceremonies: no key may appear twice across them, and with an
inventory each ceremony-products DIR must match it.

A Nitrokey HSM's attestations (SERIAL_devaut.cvc, SERIAL_ROLE_attestation.cvc)
are verified to CardContact's root when present; without them the device is
reported unattested, a warning unless --require-attestation.

Exit status: 0 every check holds (warnings do not count), 1 a check fails, 2
the command line cannot be acted on.`,
    )
    .action(async (dirs: string[], flags: VerifyFlags) => {
      const { verifyProducts, renderJson, renderTable, VerifyError } = await import('../products/verify/index.ts');
      let inventory: VerifyInventory | undefined;
      if (flags.runbook !== undefined) {
        const { readInventory } = await import('../runbook/inventory.ts');
        try {
          inventory = await readInventory(flags.runbook);
        } catch (err) {
          ctx.exitCode = 2;
          throw err;
        }
      } else if (flags.hsm) {
        inventory = { hsms: flags.hsm };
      }
      let report;
      try {
        report = await verifyProducts(dirs, {
          inventory,
          allowSimulated: flags.allowSimulated === true,
          requireAttestation: flags.requireAttestation === true,
          ...(flags.at ? { at: flags.at } : {}),
        });
      } catch (err) {
        // A DIR that cannot be verified at all is a command-line problem.
        if (err instanceof VerifyError) ctx.exitCode = 2;
        throw err;
      }
      ctx.stdout.write(flags.json ? renderJson(report) : renderTable(report));
      ctx.exitCode = report.ok ? 0 : 1;
    });
}
