/**
 * `runbook simulate yubihsm [--port P] [--serial N] [--state DIR] [--ca-cert-out FILE]`:
 * serves a simulated YubiHSM 2 on loopback through the yubihsm-connector HTTP
 * API, for rehearsals and for third-party tools (yubihsm-shell
 * `--connector http://127.0.0.1:P`). Runs until SIGINT or SIGTERM.
 *
 * `--state` keeps the device in a directory (its identity, and its objects
 * with their keys, options and audit log), so a later run with the same
 * serial is the same device, with the keys provisioned before.
 *
 * `--ca-cert-out` writes the SIMULATED root and sub-CA certificates, one
 * PEM file (never over an existing file), so that a third party can check an
 * attestation with what the simulator hands out:
 * `openssl verify -CAfile FILE -untrusted device.pem attestation.pem`.
 */
import { Option, type Command } from 'commander';
import type { CliContext } from './context.ts';
import { CliError } from './errors.ts';

/** yubihsm-connector's default port: yubihsm-shell's default connector URL then reaches the simulator. */
export const DEFAULT_PORT = 12345;

function integer(name: string, max: number): (value: string) => number {
  return (value: string) => {
    if (!/^\d{1,10}$/.test(value) || Number(value) > max) {
      throw new CliError('CLI_USAGE', `${name} must be an integer from 0 to ${max}, not "${value}"`);
    }
    return Number(value);
  };
}

export interface SimulateOptions {
  port: number;
  serial: number;
  caCertOut?: string;
  state?: string;
}

/** Resolves at the first SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export async function simulateYubiHsm(options: SimulateOptions, ctx: CliContext, stopped: Promise<unknown> = untilSignal()): Promise<void> {
  const { SimulatedYubiHsm, ConnectorServer, simulatedCaBundlePem, simulatedCa } = await import('../yubihsm/simulator/index.ts');
  if (options.caCertOut) {
    const { writeProduct } = await import('../products/write.ts');
    await writeProduct(options.caCertOut, simulatedCaBundlePem());
    const fingerprint = Buffer.from(await simulatedCa().root.getThumbprint('SHA-256')).toString('hex');
    ctx.stdout.write(`simulated root and sub-CA certificates written to ${options.caCertOut} (root SHA-256 ${fingerprint})\n`);
  }
  const device = await SimulatedYubiHsm.create({ serial: options.serial, ...(options.state === undefined ? {} : { stateDir: options.state }) });
  const server = await ConnectorServer.start(device, { port: options.port });
  ctx.stdout.write(`simulated YubiHSM 2, serial ${String(device.serial).padStart(10, '0')}, at ${server.url}\n`);
  if (options.state !== undefined) ctx.stdout.write(`its state is kept in ${options.state}\n`);
  ctx.stdout.write('its attestations chain to the SIMULATED root CA, not to Yubico; stop with Ctrl-C\n');
  try {
    await stopped;
  } finally {
    await server.close();
    device.close();
  }
  ctx.stdout.write('simulator stopped\n');
  ctx.exitCode = 0;
}

export function register(program: Command, ctx: CliContext): void {
  const simulate = program.command('simulate').description('serve simulated HSMs for rehearsals and tests');
  simulate
    .command('yubihsm')
    .description('serve a simulated YubiHSM 2 on 127.0.0.1 through the yubihsm-connector HTTP API')
    .addOption(new Option('--port <port>', 'TCP port (0 picks a free one)').argParser(integer('--port', 65535)).default(DEFAULT_PORT))
    .addOption(new Option('--serial <serial>', 'the device serial number').argParser(integer('--serial', 0xffff_ffff)).default(7550054))
    .addOption(new Option('--state <dir>', 'keep the device (identity, keys, options, audit log) in this directory across runs'))
    .addOption(new Option('--ca-cert-out <file>', 'write the simulated root and sub-CA certificates (PEM) here, for openssl verify -CAfile; never overwrites'))
    .action(async (options: SimulateOptions) => {
      await simulateYubiHsm(options, ctx);
    });
}
