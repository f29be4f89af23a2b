/**
 * Generates the SIMULATED SmartCard-HSM attestation CA, once.
 *
 *   npx tsx lib/cvc/simulator/make-ca.ts [outDir]
 *
 * The output (default lib/cvc/simulator/ca/) is committed: the simulated root
 * is pinned by SHA-256 in lib/cvc/trust.ts exactly as CardContact's is, so
 * the files must never be regenerated casually; the script refuses to
 * overwrite any of them (writeProduct is create-exclusive) and prints the new
 * root's SHA-256 for the pin.
 *
 * The chain mirrors CardContact's (DESRCACC100001 → DEDINK0400001), byte
 * layout included:
 *
 *   root  UTSRCASIM00001, brainpoolP256r1 with its domain parameters in the
 *         certificate, self-signed, CHAT role C0
 *   DICA  UTDICASIM00001, brainpoolP256r1 point only (inherits the root's
 *         parameters), signed by the root, CHAT role 80, an empty
 *         extensions element (65 00) as DEDINK0400001 carries
 *
 * both signed id-TA-ECDSA-SHA-256, plain r ‖ s. The private keys are written
 * beside the certificates on purpose (PKCS#8 PEM): they are public, and
 * anything signed with them proves only that it came from the simulator.
 */
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeProduct } from '../../products/write.ts';
import { ROLE, TA } from '../algorithms.ts';
import { cvPublicKey } from '../encode/key-object.ts';
import { sha256Hex } from '../trust.ts';
import { issueCertificate } from './certify.ts';
import { SIMULATED_CA_FILES, SIMULATED_CA_VALIDITY, SIMULATED_DICA_CHR, SIMULATED_SRCA_CHR, simulatedCaPath } from './names.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

export async function makeSimulatedCa(outDir: string): Promise<{ srcaSha256: string }> {
  const srca = await generateKeyPairAsync('ec', { namedCurve: 'brainpoolP256r1' });
  const dica = await generateKeyPairAsync('ec', { namedCurve: 'brainpoolP256r1' });
  const v = SIMULATED_CA_VALIDITY;
  // The root's key signs id-TA-ECDSA-SHA-256, as its certificate says.
  const byRoot = { key: srca.privateKey, algorithm: TA.ecdsaSha256 };

  const root = issueCertificate(
    {
      car: SIMULATED_SRCA_CHR,
      publicKey: cvPublicKey(srca.publicKey, true),
      chr: SIMULATED_SRCA_CHR,
      role: ROLE.root,
      validFrom: new Date(v.srca.from),
      validTo: new Date(v.srca.to),
    },
    byRoot,
  );
  const issuer = issueCertificate(
    {
      car: SIMULATED_SRCA_CHR,
      publicKey: cvPublicKey(dica.publicKey, false),
      chr: SIMULATED_DICA_CHR,
      role: ROLE.dica,
      validFrom: new Date(v.dica.from),
      validTo: new Date(v.dica.to),
      extensions: new Uint8Array(0),
    },
    byRoot,
  );

  const pem = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }).toString();
  await writeProduct(join(outDir, SIMULATED_CA_FILES.srca), root);
  await writeProduct(join(outDir, SIMULATED_CA_FILES.dica), issuer);
  await writeProduct(join(outDir, SIMULATED_CA_FILES.srcaKey), pem(srca.privateKey));
  await writeProduct(join(outDir, SIMULATED_CA_FILES.dicaKey), pem(dica.privateKey));
  return { srcaSha256: sha256Hex(root) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const outDir = process.argv[2] ?? simulatedCaPath('');
  makeSimulatedCa(outDir).then(
    ({ srcaSha256 }) => process.stdout.write(`simulated SmartCard-HSM CA written to ${outDir}\nroot SHA-256 (pin it as SIMULATED_SRCA_SHA256 in lib/cvc/trust.ts): ${srcaSha256}\n`),
    (err: unknown) => {
      process.stderr.write(`make-ca: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
