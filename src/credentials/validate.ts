/*
 * Is this key (and certificate) usable for Salesforce's JWT bearer flow? Hard failures are errors with the fix;
 * things Salesforce tolerates but shouldn't be left as they are come back as warnings.
 */
import { assertUsableRsaKey, loadPrivateKey, spkiDer } from './keys.js';
import { describeCertificate, loadCertificate, STRONG_SIGNATURE_ALGORITHMS } from './certificate.js';
import { messages, warning } from './messages.js';
import type { CredentialWarning, KeyPairValidation } from './types.js';

const DAY_MS = 86_400_000;

/** True when the certificate carries the public half of the private key (same SubjectPublicKeyInfo). */
export const keyMatchesCertificate = (privateKeyPem: string, certificatePem: string): boolean => {
  const { key } = loadPrivateKey(privateKeyPem);
  const certificate = loadCertificate(certificatePem);
  return spkiDer(key).equals(spkiDer(certificate.publicKey));
};

export type ValidateKeyPairOptions = {
  /** The time to judge validity at; defaults to the current time. */
  now?: Date;
  /** Warn when the certificate expires within this many days (default 30). */
  expiryWarningDays?: number;
};

/**
 * Checks a private key, and the certificate uploaded (or to be uploaded) to the External Client App.
 * Throws error.KeyNotRsa (ECDSA and other non-RSA keys), error.KeyTooSmall (< 2048 bits),
 * error.KeyCertificateMismatch, error.CertificateExpired, and the parse errors of inspectPrivateKey and
 * inspectCertificate. Warns about non-SHA-2 signatures, CA certificates and certificates not yet valid or
 * about to expire.
 */
export const validateKeyPair = (privateKeyPem: string, certificatePem?: string, options: ValidateKeyPairOptions = {}): KeyPairValidation => {
  const { key, info } = loadPrivateKey(privateKeyPem);
  const keyBits = assertUsableRsaKey(info);
  const warnings: CredentialWarning[] = [];
  if (certificatePem === undefined) return { keyBits, warnings };

  const x509 = loadCertificate(certificatePem);
  const certificate = describeCertificate(x509);
  // An RSA key with an EC (or DSA) certificate: say so, rather than only that the public keys differ.
  const certType = x509.publicKey.asymmetricKeyType;
  if (certType && key.asymmetricKeyType && certType !== key.asymmetricKeyType) {
    throw messages.createError('error.KeyCertificateTypeMismatch', [key.asymmetricKeyType.toUpperCase(), certType.toUpperCase()]);
  }
  if (!spkiDer(key).equals(spkiDer(x509.publicKey))) {
    throw messages.createError('error.KeyCertificateMismatch');
  }
  const now = (options.now ?? new Date()).getTime();
  const notAfter = Date.parse(certificate.notAfter);
  const notBefore = Date.parse(certificate.notBefore);
  if (notAfter < now) throw messages.createError('error.CertificateExpired', [certificate.notAfter]);

  if (!STRONG_SIGNATURE_ALGORITHMS.includes(certificate.signatureAlgorithm)) {
    warnings.push(warning('WeakSignature', [certificate.signatureAlgorithm]));
  }
  if (certificate.isCa) warnings.push(warning('CertificateIsCa'));
  if (notBefore > now) warnings.push(warning('NotYetValid', [certificate.notBefore]));
  const daysLeft = Math.floor((notAfter - now) / DAY_MS);
  if (daysLeft < (options.expiryWarningDays ?? 30)) {
    warnings.push(warning('ExpiresSoon', [certificate.notAfter, String(daysLeft)]));
  }
  return { keyBits, certificate, warnings };
};
