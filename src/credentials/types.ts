/*
 * Plain data about credentials. None of these types carries key material except KeyPair and KeyFiles, whose
 * private key must never reach stdout, --json output, logs or error messages.
 */

export type RsaKeyBits = 2048 | 3072 | 4096;

/** PEM encodings of a freshly generated key pair. `privateKeyPem` is a secret. */
export type KeyPair = {
  /** PKCS#8 (a PEM labelled "BEGIN PRIVATE KEY") unless PKCS#1 was asked for. */
  privateKeyPem: string;
  /** SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----"). */
  publicKeyPem: string;
};

/** 'RSA', 'EC', 'Ed25519', ... as openssl names them; 'RSA-PSS' for RSASSA-PSS-only keys. */
export type KeyType = string;

export type PrivateKeyInfo = {
  keyType: KeyType;
  /** Modulus length for RSA, curve size for EC; undefined when unknown. */
  keyBits?: number;
  /** Named curve of an EC key, e.g. 'prime256v1'. */
  curve?: string;
  /** PEM container the key came in. */
  format: 'pkcs8' | 'pkcs1' | 'sec1' | 'unknown';
};

export type CertificateInfo = {
  subjectCommonName?: string;
  issuerCommonName?: string;
  /** Hex, upper case, as openssl prints it. */
  serialNumber: string;
  /** ISO 8601. */
  notBefore: string;
  /** ISO 8601. */
  notAfter: string;
  keyType: KeyType;
  keyBits?: number;
  /** OpenSSL long name, e.g. 'sha256WithRSAEncryption', 'sha1WithRSAEncryption', 'ecdsa-with-SHA256'; the dotted OID when unknown. */
  signatureAlgorithm: string;
  /** Colon-separated upper-case hex, as `openssl x509 -noout -fingerprint -sha256` prints it. */
  sha256Fingerprint: string;
  selfSigned: boolean;
  isCa: boolean;
};

export type CredentialWarningCode = 'WeakSignature' | 'NotYetValid' | 'ExpiresSoon' | 'CertificateIsCa' | 'KeyFilePermissive';

/** A finding worth telling the user that doesn't stop the command. */
export type CredentialWarning = { code: CredentialWarningCode; message: string; actions?: string[] };

export type KeyPairValidation = {
  keyBits: number;
  certificate?: CertificateInfo;
  warnings: CredentialWarning[];
};

/** Contents of key files read from disk. `privateKeyPem` is a secret. */
export type KeyFiles = {
  privateKeyPem: string;
  certificatePem?: string;
  warnings: CredentialWarning[];
};

export type Base64Command = {
  platform: 'macos' | 'linux' | 'powershell';
  /** Heading for the runbook, e.g. "Linux, Git Bash, or WSL". */
  label: string;
  command: string;
};
