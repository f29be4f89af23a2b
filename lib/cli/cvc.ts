/**
 * `runbook nitrokey verify-attestation --device FILE --request FILE
 * [--key FILE] [--serial S] [--at TIME] [--allow-simulated]`: the standalone
 * check of one Nitrokey HSM key attestation, for anyone holding the files
 * (SERIAL_devaut.cvc, SERIAL_ROLE_attestation.cvc, SERIAL_ROLE_pubkey.pub).
 * It prints the chain, SRCA → DICA → device → key, and exits 0 only when
 * every link holds (lib/cvc); otherwise `runbook: message [CVC_…]`, exit 1.
 * A file that cannot be read, or a bad option, is a usage error (exit 2).
 *
 * `runbook nitrokey` is lib/cli/nitrokey.ts's command: this module adds its
 * subcommand through registerVerifyAttestation.
 */
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import type { KeyAttestation } from '../cvc/attestation.ts';
import type { CvcPart } from '../cvc/errors.ts';
import { untrustedText } from '../untrusted-text.ts';
import type { CliContext } from './context.ts';
import { parseAt, parseNitrokeySerial } from './arguments.ts';
import { CliError } from './errors.ts';

interface VerifyAttestationFlags {
  device?: string;
  request?: string;
  key?: string;
  serial?: string;
  at?: Date;
  allowSimulated?: boolean;
}


async function readInput(flag: string, path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot be read (${(err as Error).message})`;
    throw new CliError('CLI_USAGE', `${flag} ${path}: ${reason}`, { cause: err });
  }
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * The verified chain, one line per link. CHRs come from the files: shown
 * quoted and escaped, like everything read from a device.
 */
export function renderAttestation(a: KeyAttestation, options: { readonly at: Date; readonly keyFile?: string }): string {
  const q = (s: string) => untrustedText(s);
  const rows: [string, string, string, string][] = [
    ['SRCA', q(a.srca.chr), `valid ${day(a.srca.validFrom)} to ${day(a.srca.validTo)}`, `${a.simulated ? 'SIMULATED root' : 'pinned root'}, SHA-256 ${a.srca.sha256}`],
    ['DICA', q(a.dica.chr), `valid ${day(a.dica.validFrom)} to ${day(a.dica.validTo)}`, `issued by ${q(a.dica.car)}`],
    ['device', q(a.device.chr), `valid ${day(a.device.validFrom)} to ${day(a.device.validTo)}`, `issued by ${q(a.device.car)}, serial ${q(a.serial)}`],
    [
      'key',
      q(a.attestedKey.chr),
      a.attestedKey.kind === 'ec' ? `EC ${a.attestedKey.curve ?? ''}` : 'RSA',
      `generated on and authenticated by ${q(a.device.chr)}${options.keyFile ? `; it is the key in ${options.keyFile}` : ''}`,
    ],
  ];
  const width = (i: 0 | 1 | 2) => Math.max(...rows.map((r) => r[i].length));
  const lines = rows.map((r) => `  ${r[0].padEnd(width(0))}  ${r[1].padEnd(width(1))}  ${r[2].padEnd(width(2))}  ${r[3]}`);
  const head = a.simulated
    ? 'SIMULATED attestation: the chain ends at the simulator’s root, not CardContact’s; it proves nothing about a real device'
    : 'Nitrokey HSM key attestation, SRCA → DICA → device → key:';
  return `${head}\n${lines.join('\n')}\nthe attestation holds at ${options.at.toISOString()}\n`;
}

/** The file an error's part is about, to name it in the message. */
function fileOf(part: CvcPart, flags: { device: string; request: string; key?: string }): string | undefined {
  switch (part) {
    case 'devaut':
    case 'dica':
    case 'device':
      return flags.device;
    case 'request':
    case 'key':
      return flags.request;
    case 'public-key':
      return flags.key;
    case 'srca':
      return undefined;
  }
}

export function registerVerifyAttestation(nitrokey: Command, ctx: CliContext): void {
  nitrokey
    .command('verify-attestation')
    .usage('--device FILE --request FILE [--key FILE] [--serial S] [--at TIME] [--allow-simulated]')
    .description("verify one key's attestation: the device's certificates to CardContact's pinned root, and the device's signature on the key's request")
    .option('--device <file>', "the device's certificates, EF 2F02 (SERIAL_devaut.cvc) (required)")
    .option('--request <file>', "the key's attestation, the device-authenticated request of its EF CE.. (SERIAL_ROLE_attestation.cvc) (required)")
    .option('--key <file>', 'the published public key the attested key must be: DER SubjectPublicKeyInfo (.pub) or PEM (.pem)')
    .addOption(new Option('--serial <serial>', 'the serial the device must have, e.g. DENK0102947 (its products directory)').argParser(parseNitrokeySerial))
    .addOption(new Option('--at <time>', 'check certificate validity at this ISO 8601 date or time instead of now').argParser(parseAt))
    .option('--allow-simulated', 'accept attestations of the rehearsal’s simulated Nitrokey HSMs (reported SIMULATED)')
    .addHelpText(
      'after',
      `
Nothing is read from a device: the files are the ones \`runbook nitrokey
attest\` or a ceremony wrote. The chain must be exactly CardContact's Scheme
Root CA (DESRCACC100001, embedded and pinned by SHA-256) → a Device Issuer
CA → the device → the key, every certificate valid at --at (default now).

Exit status: 0 the attestation holds, 1 it does not, 2 the command line
cannot be acted on (a missing file, a bad option).`,
    )
    .action(async (flags: VerifyAttestationFlags) => {
      if (flags.device === undefined) throw new CliError('CLI_USAGE', "--device FILE is required: the device's certificates (EF 2F02)");
      if (flags.request === undefined) throw new CliError('CLI_USAGE', "--request FILE is required: the key's attestation (EF CE..)");
      const files = { device: flags.device, request: flags.request, ...(flags.key !== undefined ? { key: flags.key } : {}) };
      const devaut = await readInput('--device', flags.device);
      const request = await readInput('--request', flags.request);
      const keyBytes = flags.key !== undefined ? await readInput('--key', flags.key) : undefined;

      const { verifyKeyAttestation, CvcError } = await import('../cvc/index.ts');
      const at = flags.at ?? new Date();
      try {
        const publicKey = keyBytes && (await publishedKeyDer(keyBytes));
        const attestation = verifyKeyAttestation({
          devaut,
          request,
          ...(publicKey ? { publicKey } : {}),
          ...(flags.serial !== undefined ? { serial: flags.serial } : {}),
          at,
          allowSimulated: flags.allowSimulated === true,
        });
        ctx.stdout.write(renderAttestation(attestation, { at, ...(flags.key !== undefined ? { keyFile: flags.key } : {}) }));
        ctx.exitCode = 0;
      } catch (err) {
        if (!(err instanceof CvcError)) throw err;
        ctx.exitCode = 1;
        // The same code, with the file it is about named first.
        const file = fileOf(err.part, files);
        throw new CvcError(err.code, err.part, file ? `${file}: ${err.message}` : err.message, { cause: err });
      }
    });
}

/** The published key as DER SubjectPublicKeyInfo: a `.pem` is converted, a `.pub` passed as it is. */
async function publishedKeyDer(bytes: Uint8Array): Promise<Uint8Array> {
  const text = Buffer.from(bytes).toString('latin1');
  if (!text.startsWith('-----BEGIN')) return bytes;
  const { createPublicKey } = await import('node:crypto');
  const { CvcError } = await import('../cvc/errors.ts');
  try {
    return new Uint8Array(createPublicKey({ key: text, format: 'pem' }).export({ type: 'spki', format: 'der' }));
  } catch (err) {
    throw new CvcError('CVC_KEY_MALFORMED', 'public-key', 'the published key is not a PEM public key', { cause: err });
  }
}
