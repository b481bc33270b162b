/*
 * Facts of a PEM certificate, read with node:crypto (pure, no I/O). X509Certificate in Node 20 does not expose
 * the signature algorithm, so it is read from the DER: Certificate ::= SEQUENCE { tbs, signatureAlgorithm, sig }.
 */
import { X509Certificate } from 'node:crypto';

export type CertificateFacts = {
  subject: string;
  notBefore: Date;
  notAfter: Date;
  /** 'rsa', 'rsa-pss', 'ec', ... */
  keyType: string;
  /** RSA modulus length in bits, when RSA. */
  keyBits?: number;
  signatureAlgorithm: string;
};

const SIGNATURE_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
};

/** SHA-256 or a stronger member of the SHA-2 family. */
export const isSha2Signature = (algorithm: string): boolean => /sha(256|384|512)/i.test(algorithm);

type Tlv = { tag: number; start: number; end: number };

const readTlv = (der: Buffer, offset: number): Tlv => {
  const tag = der[offset];
  let length = der[offset + 1];
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i];
    start += bytes;
  }
  if (start + length > der.length) throw new Error('truncated DER');
  return { tag, start, end: start + length };
};

const decodeOid = (bytes: Buffer): string => {
  const parts = [Math.floor(bytes[0] / 40), bytes[0] % 40];
  let value = 0;
  for (const byte of bytes.subarray(1)) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
};

const signatureAlgorithmOf = (der: Buffer): string => {
  const certificate = readTlv(der, 0);
  const tbs = readTlv(der, certificate.start);
  const algorithm = readTlv(der, tbs.end);
  const oid = readTlv(der, algorithm.start);
  const dotted = decodeOid(der.subarray(oid.start, oid.end));
  return SIGNATURE_ALGORITHMS[dotted] ?? dotted;
};

/** The certificate's facts, or undefined when the text is not a parseable X.509 certificate. */
export const readCertificate = (pem: string): CertificateFacts | undefined => {
  try {
    const certificate = new X509Certificate(pem);
    const key = certificate.publicKey;
    return {
      subject: certificate.subject.replace(/\n/g, ', '),
      notBefore: new Date(certificate.validFrom),
      notAfter: new Date(certificate.validTo),
      keyType: key.asymmetricKeyType ?? 'unknown',
      keyBits: key.asymmetricKeyDetails?.modulusLength,
      signatureAlgorithm: signatureAlgorithmOf(certificate.raw),
    };
  } catch {
    return undefined;
  }
};
