/*
 * Test credentials: an RSA key pair (Node's native generator) and a self-signed X.509 certificate (node-forge),
 * the way an admin makes them with `openssl req -x509 -sha256 -newkey rsa:2048` (seed 001 step 1).
 */
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

export type TestKeyPair = { privateKeyPem: string; certificatePem: string };

export const makeKeyPair = (commonName = 'emulator-test', bits = 2048, validDays = 365): TestKeyPair => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(8))}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + validDays * 86_400_000);
  const attrs = [{ name: 'commonName', value: commonName }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: 'basicConstraints', cA: false }]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return { privateKeyPem: privateKey, certificatePem: forge.pki.certificateToPem(cert) };
};
