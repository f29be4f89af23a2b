/**
 * Generates the simulated YubiHSM attestation CA chain, once.
 *
 *   npx tsx lib/yubihsm/simulator/make-ca.ts [outDir]
 *
 * The output (default `lib/yubihsm/simulator/ca/`) is committed: a fixed
 * simulated root lets verifiers pin it by fingerprint exactly as they pin
 * Yubico's, so the files must never be regenerated casually. The script
 * refuses to overwrite any of them (writeProduct is create-exclusive).
 *
 * The chain mirrors Yubico's own (see test/fixtures/yubico/):
 *
 *   root    RSA-4096, self-signed, serial 4 bytes, SKI, BasicConstraints
 *           critical CA pathlen 2, KeyUsage critical keyCertSign|cRLSign
 *   sub-CA  RSA-2048, serial 3 bytes, SKI, AKI, BasicConstraints critical
 *           CA pathlen 1, KeyUsage critical keyCertSign|cRLSign
 *
 * both valid 2017-01-01 to 2071-10-05 and signed sha256WithRSAEncryption,
 * with single-CN UTF8String names. The names say SIMULATED so that nobody
 * can mistake anything this chain signs for a Yubico attestation.
 *
 * The private keys are written beside the certificates on purpose: they are
 * public, and anything signed with them proves only that it came from the
 * simulator. `runbook verify` accepts such a chain only with --allow-simulated.
 */
import { webcrypto } from 'node:crypto';
import { join } from 'node:path';
// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { projectPath } from '../../paths.ts';
import { writeProduct } from '../../products/write.ts';
import { CA_NOT_AFTER, CA_NOT_BEFORE, ROOT_CA_CN, SUB_CA_CN } from './ca-names.ts';

const RSA = { name: 'RSASSA-PKCS1-v1_5', publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' } as const;

/** A one-CN name encoded as a UTF8String, as Yubico encodes every name in its chain. */
export function utf8Name(cn: string): x509.Name {
  return new x509.Name([{ CN: [{ utf8String: cn }] }]);
}

function pemKey(pkcs8: ArrayBuffer): string {
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
}

/** A positive serial of `bytes` random bytes (high bit clear, not zero), in hex. */
function serialHex(bytes: number): string {
  const raw = webcrypto.getRandomValues(new Uint8Array(bytes));
  raw[0] = (raw[0]! & 0x7f) | 0x10;
  return Buffer.from(raw).toString('hex');
}

export async function makeSimulatedCa(outDir: string): Promise<void> {
  const ROOT_CA_NAME = utf8Name(ROOT_CA_CN);
  const SUB_CA_NAME = utf8Name(SUB_CA_CN);
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const rootKeys = await webcrypto.subtle.generateKey({ ...RSA, modulusLength: 4096 }, true, ['sign', 'verify']);
  const subKeys = await webcrypto.subtle.generateKey({ ...RSA, modulusLength: 2048 }, true, ['sign', 'verify']);

  const caUsage = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;
  const root = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex(4),
    issuer: ROOT_CA_NAME,
    subject: ROOT_CA_NAME,
    notBefore: CA_NOT_BEFORE,
    notAfter: CA_NOT_AFTER,
    publicKey: rootKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: RSA,
    extensions: [
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
      new x509.BasicConstraintsExtension(true, 2, true),
      new x509.KeyUsagesExtension(caUsage, true),
    ],
  });
  const sub = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex(3),
    issuer: ROOT_CA_NAME,
    subject: SUB_CA_NAME,
    notBefore: CA_NOT_BEFORE,
    notAfter: CA_NOT_AFTER,
    publicKey: subKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: RSA,
    extensions: [
      await x509.SubjectKeyIdentifierExtension.create(subKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(caUsage, true),
    ],
  });
  if (!(await sub.verify({ publicKey: root.publicKey, signatureOnly: true }))) {
    throw new Error('make-ca: the sub-CA does not verify against the root just made');
  }

  await writeProduct(join(outDir, 'root-ca.pem'), root.toString('pem') + '\n');
  await writeProduct(join(outDir, 'sub-ca.pem'), sub.toString('pem') + '\n');
  await writeProduct(join(outDir, 'root-ca.key.pem'), pemKey(await webcrypto.subtle.exportKey('pkcs8', rootKeys.privateKey)) + '\n');
  await writeProduct(join(outDir, 'sub-ca.key.pem'), pemKey(await webcrypto.subtle.exportKey('pkcs8', subKeys.privateKey)) + '\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const outDir = process.argv[2] ?? projectPath('lib', 'yubihsm', 'simulator', 'ca');
  makeSimulatedCa(outDir).then(
    () => process.stdout.write(`simulated CA written to ${outDir}\n`),
    (err: unknown) => {
      process.stderr.write(`make-ca: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
