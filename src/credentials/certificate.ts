/*
 * Self-signed X.509 certificates for the JWT bearer flow: what `openssl req -x509 -sha256 -nodes -newkey rsa:2048`
 * makes (seed 001), minus its anti-patterns (anchors §2): SHA-256 not SHA-1, CA:FALSE not CA:TRUE, a random
 * 16-byte serial not '01', randomness from crypto.randomBytes not Math.random.
 *
 * node-forge builds the certificate structure; Node's crypto (OpenSSL) signs it, so the private key never enters
 * forge's pure-JavaScript RSA code. Node's X509Certificate reads certificates; forge's ASN.1 reader supplies the
 * one fact it lacks, the signature algorithm.
 */
import { createPublicKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { assertUsableRsaKey, describeKey, loadPrivateKey } from './keys.js';
import { messages, reasonOf } from './messages.js';
import { derToPem, firstPemLabel, pemBlocks } from './pem.js';
import type { CertificateInfo } from './types.js';

export const MAX_VALIDITY_DAYS = 3650;
/** X.520 upper bound for commonName. */
export const MAX_COMMON_NAME_LENGTH = 64;
/** notBefore is backdated by this much so that a server whose clock is slightly behind accepts the certificate. */
export const CLOCK_SKEW_MS = 60_000;
const DAY_MS = 86_400_000;

export type CreateCertificateOptions = {
  /** Unencrypted RSA private key (PEM, PKCS#8 or PKCS#1), at least 2048 bits. */
  privateKeyPem: string;
  /** Subject and issuer CN, 1 to 64 characters. */
  commonName: string;
  /** Whole days from 1 to 3650. */
  validityDays: number;
  /** Issue time; defaults to the current time. */
  now?: Date;
};

/** A random positive serial of 16 bytes (RFC 5280 allows up to 20; CA/B asks for at least 64 random bits). */
const randomSerialHex = (): string => {
  const bytes = randomBytes(16);
  // Clear the sign bit (positive INTEGER) and keep the first byte non-zero (minimal DER, always 16 bytes).
  bytes[0] = bytes[0] & 0x7f || 0x01;
  return bytes.toString('hex');
};

// Not in @types/node-forge, but part of forge's public pki API (x509.js) and used by cert.sign() itself.
const getTbsCertificate = (forge.pki as unknown as { getTBSCertificate: (c: forge.pki.Certificate) => forge.asn1.Asn1 })
  .getTBSCertificate;

/**
 * A self-signed X.509 v3 certificate (PEM) for the key: SHA-256 with RSA, random 16-byte serial, CN = commonName,
 * basicConstraints CA:FALSE and keyUsage digitalSignature (both critical), subjectKeyIdentifier, valid from one
 * minute before `now` until `now` + validityDays.
 */
export const createCertificate = (options: CreateCertificateOptions): string => {
  const { privateKeyPem, validityDays } = options;
  if (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > MAX_VALIDITY_DAYS) {
    throw messages.createError('error.InvalidValidityDays', [String(validityDays)]);
  }
  const commonName = options.commonName.trim();
  if (commonName.length < 1 || [...commonName].length > MAX_COMMON_NAME_LENGTH) {
    throw messages.createError('error.InvalidCommonName', [String([...commonName].length)]);
  }
  const { key, info } = loadPrivateKey(privateKeyPem);
  assertUsableRsaKey(info);

  const now = options.now ?? new Date();
  const cert = forge.pki.createCertificate();
  cert.version = 2; // v3
  cert.serialNumber = randomSerialHex();
  cert.publicKey = forge.pki.publicKeyFromPem(createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString());
  cert.validity.notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  cert.validity.notAfter = new Date(now.getTime() + validityDays * DAY_MS);
  // UTF8String as openssl writes it (forge's default PrintableString can't hold '_', '@', '&' or non-ASCII).
  // @types/node-forge types valueTagClass as asn1.Class though forge reads it as an asn1.Type.
  const name = [{ name: 'commonName', value: commonName, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);

  // What cert.sign(key, forge.md.sha256.create()) does, with the RSA signature computed by OpenSSL.
  cert.signatureOid = forge.pki.oids.sha256WithRSAEncryption;
  cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption;
  cert.tbsCertificate = getTbsCertificate(cert);
  const tbsDer = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), 'binary');
  cert.signature = sign('sha256', tbsDer, key).toString('binary');
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n'); // LF line ends, as openssl writes
};

/** OpenSSL's long names for the signature algorithms a certificate is likely to carry. */
const SIGNATURE_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.2.840.10040.4.3': 'dsaWithSHA1',
  '1.3.101.112': 'ED25519',
  '1.3.101.113': 'ED448',
};

/** The RSA signature algorithms Salesforce-era tooling treats as current (SHA-2 family, 256 bits and up). */
export const STRONG_SIGNATURE_ALGORITHMS: readonly string[] = [
  'sha256WithRSAEncryption',
  'sha384WithRSAEncryption',
  'sha512WithRSAEncryption',
];

/** Certificate.signatureAlgorithm.algorithm, read from the DER (X509Certificate doesn't expose it). */
const signatureAlgorithmOf = (der: Buffer): string => {
  try {
    const asn = forge.asn1.fromDer(der.toString('binary'));
    const parts = asn.value as forge.asn1.Asn1[];
    const algorithm = (parts[1].value as forge.asn1.Asn1[])[0];
    const oid = forge.asn1.derToOid(algorithm.value as string);
    return SIGNATURE_ALGORITHMS[oid] ?? oid;
  } catch {
    return 'unknown';
  }
};

const commonNameOf = (distinguishedName: string): string | undefined => {
  const line = distinguishedName.split('\n').find((l) => l.startsWith('CN='));
  return line?.slice(3);
};

/** Parses a PEM certificate (or the base64 of one); errors say what was given instead and how to fix it. */
export const loadCertificate = (certificatePem: string): X509Certificate => {
  const block = pemBlocks(certificatePem).find((b) => b.label === 'CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE');
  if (!block) {
    const label = firstPemLabel(certificatePem);
    const reason =
      label === undefined ? 'no PEM block found' : label.endsWith('PRIVATE KEY') ? 'found a private key instead' : `unexpected PEM block "${label}"`;
    throw messages.createError('error.CertificateUnreadable', [reason]);
  }
  try {
    return new X509Certificate(block.text);
  } catch (e) {
    throw messages.createError('error.CertificateUnreadable', [reasonOf(e)]);
  }
};

/** Facts about a certificate, as `openssl x509 -noout -text -fingerprint -sha256` would report them. */
export const inspectCertificate = (certificatePem: string): CertificateInfo => describeCertificate(loadCertificate(certificatePem));

export const describeCertificate = (x509: X509Certificate): CertificateInfo => {
  const { keyType, keyBits } = describeKey(x509.publicKey);
  // Issuer = subject and the signature verifies with the certificate's own key. (X509Certificate.checkIssued
  // would also demand keyUsage keyCertSign, which a CA:FALSE signing certificate rightly lacks.)
  let selfSigned = false;
  try {
    selfSigned = x509.subject === x509.issuer && x509.verify(x509.publicKey);
  } catch {
    selfSigned = false;
  }
  return {
    subjectCommonName: commonNameOf(x509.subject),
    issuerCommonName: commonNameOf(x509.issuer),
    serialNumber: x509.serialNumber.toUpperCase(),
    notBefore: new Date(x509.validFrom).toISOString(),
    notAfter: new Date(x509.validTo).toISOString(),
    keyType,
    ...(keyBits === undefined ? {} : { keyBits }),
    signatureAlgorithm: signatureAlgorithmOf(x509.raw),
    sha256Fingerprint: x509.fingerprint256,
    selfSigned,
    isCa: x509.ca,
  };
};

/** PEM text of a DER certificate (e.g. a .cer exported from a browser or Windows). */
export const certificateDerToPem = (der: Buffer): string => {
  try {
    return derToPem(new X509Certificate(der).raw, 'CERTIFICATE');
  } catch (e) {
    throw messages.createError('error.CertificateUnreadable', [reasonOf(e)]);
  }
};

/** Upper-case hex without separators, so 'ab:cd', 'AB CD' and 'abcd' compare equal. */
export const normalizeFingerprint = (fingerprint: string): string => fingerprint.replace(/[^0-9a-f]/gi, '').toUpperCase();

/** True when two fingerprints (any case, with or without colons) are the same non-empty value. */
export const sameFingerprint = (a: string, b: string): boolean => {
  const x = normalizeFingerprint(a);
  return x.length > 0 && x === normalizeFingerprint(b);
};
