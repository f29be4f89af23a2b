import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BasicConstraintsExtension, KeyUsageFlags, KeyUsagesExtension, X509Certificate } from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { ROOT_CA_CN, SIMULATED_CA_DIR, SUB_CA_CN, simulatedCa } from '../../../lib/yubihsm/simulator/index.ts';
import { yubicoFixtures } from '../../support/paths.ts';

const file = (name: string) => join(SIMULATED_CA_DIR, name);

describe('the committed simulated CA', () => {
  it('is pinned: the root fingerprint is the one documented in ca/README.md', async () => {
    const fingerprint = Buffer.from(await simulatedCa().root.getThumbprint('SHA-256'))
      .toString('hex')
      .toUpperCase()
      .match(/../g)!
      .join(':');
    expect(readFileSync(file('README.md'), 'utf8')).toContain(fingerprint);
  });

  it('says SIMULATED in every name and is not a Yubico CA', () => {
    const { root, subCa } = simulatedCa();
    expect(root.subject).toBe(`CN=${ROOT_CA_CN}`);
    expect(root.issuer).toBe(root.subject);
    expect(subCa.subject).toBe(`CN=${SUB_CA_CN}`);
    expect(subCa.issuer).toBe(root.subject);
    for (const c of [root, subCa]) expect(c.subject).toContain('SIMULATED');
    const yubicoRoot = new X509Certificate(readFileSync(join(yubicoFixtures, 'yubihsm2-attest-ca-crt.pem'), 'utf8'));
    expect(root.subject).not.toBe(yubicoRoot.subject);
  });

  it('mirrors Yubico’s chain: RSA-4096 root and RSA-2048 sub-CA, CA constraints, validity 2017-01-01 to 2071-10-05', () => {
    const { root, subCa } = simulatedCa();
    const yubicoRoot = new X509Certificate(readFileSync(join(yubicoFixtures, 'yubihsm2-attest-ca-crt.pem'), 'utf8'));
    const yubicoSub = new X509Certificate(readFileSync(join(yubicoFixtures, 'E45DA5F361B091B30D8F2C6FA040DB6FEF57918E.pem'), 'utf8'));
    for (const [ours, theirs] of [
      [root, yubicoRoot],
      [subCa, yubicoSub],
    ] as const) {
      expect(ours.notBefore).toEqual(theirs.notBefore);
      expect(ours.notAfter).toEqual(theirs.notAfter);
      const alg = (c: X509Certificate) => c.publicKey.algorithm as unknown as { name: string; modulusLength: number };
      expect([alg(ours).name, alg(ours).modulusLength]).toEqual([alg(theirs).name, alg(theirs).modulusLength]);
      const bc = ours.getExtension(BasicConstraintsExtension)!;
      const theirBc = theirs.getExtension(BasicConstraintsExtension)!;
      expect([bc.ca, bc.pathLength, bc.critical]).toEqual([theirBc.ca, theirBc.pathLength, theirBc.critical]);
      expect(ours.getExtension(KeyUsagesExtension)!.usages).toBe(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign);
      expect(ours.extensions.map((e) => e.type)).toEqual(theirs.extensions.map((e) => e.type));
    }
  });

  it('verifies with openssl, and its published private key matches the sub-CA certificate', () => {
    expect(execFileSync('openssl', ['verify', '-CAfile', file('root-ca.pem'), file('sub-ca.pem')]).toString()).toContain(': OK');
    const certKey = execFileSync('openssl', ['x509', '-in', file('sub-ca.pem'), '-noout', '-pubkey']).toString();
    const keyPub = execFileSync('openssl', ['pkey', '-in', file('sub-ca.key.pem'), '-pubout']).toString();
    expect(keyPub).toBe(certKey);
  });
});
