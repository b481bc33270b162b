/*
 * RSA key pairs: generation with Node's native generator (OpenSSL underneath, off the main thread) and
 * inspection of a private key someone hands us, without ever echoing it.
 */
import { createPrivateKey, createPublicKey, generateKeyPair as nodeGenerateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { messages, reasonOf } from './messages.js';
import { pemBlocks, firstPemLabel } from './pem.js';
import type { KeyPair, PrivateKeyInfo, RsaKeyBits } from './types.js';

const generate = promisify(nodeGenerateKeyPair);

/** Salesforce's floor for JWT bearer keys (seed 001). */
export const MIN_RSA_BITS = 2048;
export const RSA_KEY_SIZES: readonly RsaKeyBits[] = [2048, 3072, 4096];

export type GenerateKeyPairOptions = {
  /**
   * PEM container of the private key. 'pkcs8' ("BEGIN PRIVATE KEY", the default) is what
   * `openssl req -newkey rsa:2048 -nodes` writes with OpenSSL 1.1 and 3.x, so the file matches the recipe it
   * replaces, and it is the form every JWT library reads (Java's PKCS8EncodedKeySpec reads nothing else).
   * 'pkcs1' ("BEGIN RSA PRIVATE KEY") is for external systems that document only that form.
   */
  format?: 'pkcs8' | 'pkcs1';
};

/** A new RSA key pair (public exponent 65537). Asynchronous: the prime search runs on libuv's thread pool. */
export const generateKeyPair = async (bits: RsaKeyBits, options: GenerateKeyPairOptions = {}): Promise<KeyPair> => {
  if (!RSA_KEY_SIZES.includes(bits)) throw messages.createError('error.UnsupportedKeySize', [String(bits)]);
  const { privateKey, publicKey } = await generate('rsa', {
    modulusLength: bits,
    publicExponent: 65_537,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: options.format ?? 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
};

const KEY_TYPE_NAMES: Record<string, string> = {
  rsa: 'RSA',
  'rsa-pss': 'RSA-PSS',
  ec: 'EC',
  dsa: 'DSA',
  dh: 'DH',
  ed25519: 'Ed25519',
  ed448: 'Ed448',
  x25519: 'X25519',
  x448: 'X448',
};

const CURVE_BITS: Record<string, number> = {
  prime256v1: 256,
  secp256k1: 256,
  secp384r1: 384,
  secp521r1: 521,
  secp224r1: 224,
  prime192v1: 192,
};

const FORMATS: Record<string, PrivateKeyInfo['format']> = {
  'PRIVATE KEY': 'pkcs8',
  'RSA PRIVATE KEY': 'pkcs1',
  'EC PRIVATE KEY': 'sec1',
};

const NOT_A_KEY: Record<string, string> = {
  CERTIFICATE: 'certificate',
  'TRUSTED CERTIFICATE': 'certificate',
  'X509 CRL': 'certificate revocation list',
  'CERTIFICATE REQUEST': 'certificate signing request',
  'NEW CERTIFICATE REQUEST': 'certificate signing request',
  'PUBLIC KEY': 'public key',
  'RSA PUBLIC KEY': 'public key',
};

/** Facts about a key object: type and size (modulus length for RSA, curve size for EC). */
export const describeKey = (key: KeyObject): { keyType: string; keyBits?: number; curve?: string } => {
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  const keyType = KEY_TYPE_NAMES[type] ?? type.toUpperCase();
  if (details.modulusLength !== undefined) return { keyType, keyBits: details.modulusLength };
  if (details.namedCurve !== undefined) return { keyType, keyBits: CURVE_BITS[details.namedCurve], curve: details.namedCurve };
  if (type === 'ed25519') return { keyType, keyBits: 256 };
  if (type === 'ed448') return { keyType, keyBits: 456 };
  return { keyType };
};

/**
 * Parses an unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1; also its one-line base64 form).
 * Errors name the problem and the fix and never contain the input.
 */
export const loadPrivateKey = (privateKeyPem: string): { key: KeyObject; info: PrivateKeyInfo } => {
  const blocks = pemBlocks(privateKeyPem);
  const block = blocks.find((b) => b.label.endsWith('PRIVATE KEY'));
  if (!block) {
    const label = blocks[0]?.label ?? firstPemLabel(privateKeyPem);
    if (label !== undefined && NOT_A_KEY[label] !== undefined) throw messages.createError('error.NotAPrivateKey', [NOT_A_KEY[label]]);
    throw messages.createError('error.KeyUnreadable', [label === undefined ? 'no PEM block found' : `unexpected PEM block "${label}"`]);
  }
  if (block.label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,\s*ENCRYPTED/.test(block.text)) {
    throw messages.createError('error.KeyEncrypted');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: block.text, format: 'pem' });
  } catch (e) {
    if (reasonOf(e) === 'ERR_MISSING_PASSPHRASE') throw messages.createError('error.KeyEncrypted');
    throw messages.createError('error.KeyUnreadable', [reasonOf(e)]);
  }
  return { key, info: { ...describeKey(key), format: FORMATS[block.label] ?? 'unknown' } };
};

/** Type, size and PEM container of a private key. */
export const inspectPrivateKey = (privateKeyPem: string): PrivateKeyInfo => loadPrivateKey(privateKeyPem).info;

/** Throws error.KeyNotRsa or error.KeyTooSmall unless the key is RSA of at least 2048 bits. */
export const assertUsableRsaKey = (info: { keyType: string; keyBits?: number }): number => {
  if (info.keyType !== 'RSA') throw messages.createError('error.KeyNotRsa', [info.keyType]);
  const bits = info.keyBits ?? 0;
  if (bits < MIN_RSA_BITS) throw messages.createError('error.KeyTooSmall', [String(bits)]);
  return bits;
};

/** DER SubjectPublicKeyInfo of a public key or of the public half of a private key: equal bytes, same key pair. */
export const spkiDer = (key: KeyObject): Buffer =>
  (key.type === 'public' ? key : createPublicKey(key)).export({ type: 'spki', format: 'der' });
