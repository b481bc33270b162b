/*
 * src/credentials/: key pair, certificate, key files (0600), fingerprint comparison. Plain functions, no
 * Salesforce I/O. Private keys never reach stdout, logs or error messages.
 */
export type * from './types.js';
export { generateKeyPair, inspectPrivateKey, MIN_RSA_BITS, RSA_KEY_SIZES, type GenerateKeyPairOptions } from './keys.js';
export {
  createCertificate,
  inspectCertificate,
  normalizeFingerprint,
  sameFingerprint,
  MAX_VALIDITY_DAYS,
  STRONG_SIGNATURE_ALGORITHMS,
  type CreateCertificateOptions,
} from './certificate.js';
export { keyMatchesCertificate, validateKeyPair, type ValidateKeyPairOptions } from './validate.js';
export {
  base64Commands,
  prepareOutputDir,
  readKeyFiles,
  writeKeyFiles,
  writePublicFile,
  writeSecretFile,
  CERTIFICATE_FILE,
  PRIVATE_KEY_FILE,
  type PrepareOutputDirOptions,
  type PreparedOutputDir,
  type WriteKeyFilesOptions,
  type WrittenKeyFiles,
} from './files.js';
