/*
 * src/credentials/: key pairs, certificates, key files. Real keys, real files in a temp directory; no Salesforce.
 */
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Messages, SfError } from '@salesforce/core';
import { expect } from 'chai';
import forge from 'node-forge';
import {
  base64Commands,
  createCertificate,
  generateKeyPair,
  inspectCertificate,
  inspectPrivateKey,
  keyMatchesCertificate,
  normalizeFingerprint,
  prepareOutputDir,
  readKeyFiles,
  sameFingerprint,
  validateKeyPair,
  writeKeyFiles,
  writePublicFile,
  writeSecretFile,
  type KeyPair,
} from '../../src/credentials/index.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'credentials');

const DAY = 86_400_000;

/** Every error the tests provoke, checked at the end for key material. */
const seenErrors: SfError[] = [];

const asSfError = (e: unknown, name: string): SfError => {
  expect(e).to.be.instanceOf(SfError);
  const err = e as SfError;
  expect(err.name).to.equal(name);
  seenErrors.push(err);
  return err;
};

const expectError = (fn: () => unknown, name: string): SfError => {
  try {
    fn();
  } catch (e) {
    return asSfError(e, name);
  }
  throw new Error(`expected ${name}`);
};

const expectRejection = async (promise: Promise<unknown>, name: string): Promise<SfError> => {
  try {
    await promise;
  } catch (e) {
    return asSfError(e, name);
  }
  throw new Error(`expected ${name}`);
};

const rsaPem = (bits: number): string =>
  generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  }).privateKey;

/** A certificate made with forge's own signer, the way older plugins did it. */
const forgeCertificate = (privateKeyPem: string, opts: { md: forge.md.MessageDigest; ca?: boolean }): string => {
  const key = forge.pki.privateKeyFromPem(privateKeyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * DAY);
  const name = [{ name: 'commonName', value: 'legacy' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([{ name: 'basicConstraints', cA: opts.ca ?? false }]);
  cert.sign(key, opts.md);
  return forge.pki.certificateToPem(cert);
};

/** 40 characters from the middle of the PEM body: a fragment of key material. */
const keyFragment = (pem: string): string => {
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return body.slice(body.length / 2, body.length / 2 + 40);
};

describe('credentials', () => {
  let pair: KeyPair;
  let certificatePem: string;
  let dir: string;

  before(async () => {
    pair = await generateKeyPair(2048);
    certificatePem = createCertificate({ privateKeyPem: pair.privateKeyPem, commonName: 'salesforce-jwt-integration', validityDays: 365 });
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'credentials-test-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('generateKeyPair', () => {
    for (const bits of [2048, 3072, 4096] as const) {
      it(`makes an RSA key of ${bits} bits`, async () => {
        const kp = await generateKeyPair(bits);
        expect(inspectPrivateKey(kp.privateKeyPem)).to.deep.equal({ keyType: 'RSA', keyBits: bits, format: 'pkcs8' });
        expect(kp.privateKeyPem).to.match(/^-----BEGIN PRIVATE KEY-----\n/);
        expect(kp.publicKeyPem).to.match(/^-----BEGIN PUBLIC KEY-----\n/);
      });
    }

    it('writes PKCS#1 when asked', async () => {
      const kp = await generateKeyPair(2048, { format: 'pkcs1' });
      expect(kp.privateKeyPem).to.match(/^-----BEGIN RSA PRIVATE KEY-----\n/);
      expect(inspectPrivateKey(kp.privateKeyPem)).to.deep.equal({ keyType: 'RSA', keyBits: 2048, format: 'pkcs1' });
    });

    it('makes a different key each time', async () => {
      const other = await generateKeyPair(2048);
      expect(other.publicKeyPem).to.not.equal(pair.publicKeyPem);
    });

    it('refuses sizes other than 2048, 3072 and 4096', async () => {
      const err = await expectRejection(generateKeyPair(1024 as 2048), 'UnsupportedKeySizeError');
      expect(err.message).to.include('1024');
    });
  });

  describe('createCertificate', () => {
    it('is PEM with LF line ends, as openssl writes it', () => {
      expect(certificatePem).to.match(/^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END CERTIFICATE-----\n$/);
    });

    it('is SHA-256, not a CA, self-signed, for the key, with the CN asked for', () => {
      const info = inspectCertificate(certificatePem);
      expect(info.signatureAlgorithm).to.equal('sha256WithRSAEncryption');
      expect(info.isCa).to.equal(false);
      expect(info.selfSigned).to.equal(true);
      expect(info.subjectCommonName).to.equal('salesforce-jwt-integration');
      expect(info.issuerCommonName).to.equal('salesforce-jwt-integration');
      expect(info.keyType).to.equal('RSA');
      expect(info.keyBits).to.equal(2048);
      expect(keyMatchesCertificate(pair.privateKeyPem, certificatePem)).to.equal(true);
      expect(new X509Certificate(certificatePem).verify(new X509Certificate(certificatePem).publicKey)).to.equal(true);
    });

    it('is X.509 v3 with basicConstraints CA:FALSE and keyUsage digitalSignature only', () => {
      const cert = forge.pki.certificateFromPem(certificatePem);
      expect(cert.version).to.equal(2);
      const basic = cert.getExtension('basicConstraints') as { cA?: boolean; critical?: boolean };
      expect(basic.cA).to.equal(false);
      const usage = cert.getExtension('keyUsage') as { digitalSignature?: boolean; keyCertSign?: boolean };
      expect(usage.digitalSignature).to.equal(true);
      expect(usage.keyCertSign).to.equal(false);
    });

    it('uses a random positive 16-byte serial: two certificates differ', () => {
      const a = inspectCertificate(certificatePem).serialNumber;
      const b = inspectCertificate(createCertificate({ privateKeyPem: pair.privateKeyPem, commonName: 'x', validityDays: 1 })).serialNumber;
      for (const serial of [a, b]) {
        expect(serial).to.match(/^[0-7][0-9A-F]{31}$/);
        expect(serial).to.not.match(/^0+1$/);
      }
      expect(a).to.not.equal(b);
    });

    it('is valid from one minute before now for the number of days asked', () => {
      const now = new Date('2030-05-01T12:00:00.000Z');
      const info = inspectCertificate(createCertificate({ privateKeyPem: pair.privateKeyPem, commonName: 'x', validityDays: 90, now }));
      expect(info.notBefore).to.equal('2030-05-01T11:59:00.000Z');
      expect(info.notAfter).to.equal(new Date(now.getTime() + 90 * DAY).toISOString());
    });

    it('accepts 3650 days and refuses 0, 3651 and fractions', () => {
      const info = inspectCertificate(createCertificate({ privateKeyPem: pair.privateKeyPem, commonName: 'x', validityDays: 3650 }));
      expect(Date.parse(info.notAfter) - Date.parse(info.notBefore)).to.be.closeTo(3650 * DAY + 60_000, 2000);
      for (const validityDays of [0, 3651, 1.5, -1]) {
        const err = expectError(() => createCertificate({ privateKeyPem: pair.privateKeyPem, commonName: 'x', validityDays }), 'InvalidValidityDaysError');
        expect(err.message).to.include(String(validityDays));
        expect(err.actions?.length).to.be.greaterThan(0);
      }
    });

    it('keeps characters PrintableString cannot hold in the CN', () => {
      const info = inspectCertificate(createCertificate({ privateKeyPem: pair.privateKeyPem, commonName: 'jwt_integration@acme & co', validityDays: 1 }));
      expect(info.subjectCommonName).to.equal('jwt_integration@acme & co');
    });

    it('refuses an empty or over-long CN', () => {
      expectError(() => createCertificate({ privateKeyPem: pair.privateKeyPem, commonName: '  ', validityDays: 1 }), 'InvalidCommonNameError');
      expectError(() => createCertificate({ privateKeyPem: pair.privateKeyPem, commonName: 'x'.repeat(65), validityDays: 1 }), 'InvalidCommonNameError');
    });

    it('refuses to certify an ECDSA or 1024-bit key', () => {
      const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
      expectError(() => createCertificate({ privateKeyPem: ec.privateKey, commonName: 'x', validityDays: 1 }), 'KeyNotRsaError');
      expectError(() => createCertificate({ privateKeyPem: rsaPem(1024), commonName: 'x', validityDays: 1 }), 'KeyTooSmallError');
    });
  });

  describe('inspectCertificate', () => {
    it('gives an openssl-style SHA-256 fingerprint of the DER', () => {
      const info = inspectCertificate(certificatePem);
      expect(info.sha256Fingerprint).to.match(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      const digest = createHash('sha256').update(new X509Certificate(certificatePem).raw).digest('hex');
      expect(normalizeFingerprint(info.sha256Fingerprint)).to.equal(digest.toUpperCase());
      expect(sameFingerprint(info.sha256Fingerprint, digest)).to.equal(true);
      expect(sameFingerprint(info.sha256Fingerprint, (digest.startsWith('0') ? '1' : '0') + digest.slice(1))).to.equal(false);
      expect(sameFingerprint('', '')).to.equal(false);
    });

    it('reads the signature algorithm and CA flag of other certificates', () => {
      const info = inspectCertificate(forgeCertificate(pair.privateKeyPem, { md: forge.md.sha1.create(), ca: true }));
      expect(info.signatureAlgorithm).to.equal('sha1WithRSAEncryption');
      expect(info.isCa).to.equal(true);
      expect(info.serialNumber).to.equal('01');
    });

    it('reads the one-line base64 form of a PEM file', () => {
      const info = inspectCertificate(Buffer.from(certificatePem).toString('base64'));
      expect(info.sha256Fingerprint).to.equal(inspectCertificate(certificatePem).sha256Fingerprint);
    });

    it('explains input that is not a certificate', () => {
      const garbage = expectError(() => inspectCertificate('hello'), 'CertificateUnreadableError');
      expect(garbage.message).to.include('no PEM block');
      expect(garbage.actions?.join('\n')).to.include('openssl x509');
      const key = expectError(() => inspectCertificate(pair.privateKeyPem), 'CertificateUnreadableError');
      expect(key.message).to.include('found a private key instead');
      const broken = certificatePem.replace(/\n[A-Za-z0-9+/]{64}\n/, '\nAAAA\n');
      expectError(() => inspectCertificate(broken), 'CertificateUnreadableError');
    });
  });

  describe('inspectPrivateKey', () => {
    it('identifies EC keys in PKCS#8 and SEC1 form', () => {
      const pkcs8 = generateKeyPairSync('ec', { namedCurve: 'secp384r1', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
      expect(inspectPrivateKey(pkcs8.privateKey)).to.deep.equal({ keyType: 'EC', keyBits: 384, curve: 'secp384r1', format: 'pkcs8' });
      const sec1 = generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'sec1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
      expect(inspectPrivateKey(sec1.privateKey)).to.deep.equal({ keyType: 'EC', keyBits: 256, curve: 'prime256v1', format: 'sec1' });
    });

    it('reads the one-line base64 form the external system is given', () => {
      expect(inspectPrivateKey(Buffer.from(pair.privateKeyPem).toString('base64')).keyBits).to.equal(2048);
    });

    it('refuses encrypted keys (PKCS#8 and legacy PEM encryption) and says how to decrypt', () => {
      const pkcs8 = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' },
      }).privateKey;
      expect(pkcs8).to.include('ENCRYPTED PRIVATE KEY');
      const err = expectError(() => inspectPrivateKey(pkcs8), 'KeyEncryptedError');
      expect(err.message).to.equal(messages.getMessage('error.KeyEncrypted'));
      expect(err.actions?.join('\n')).to.include('openssl pkey -in');
      const legacy = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs1', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'secret' },
      }).privateKey;
      expect(legacy).to.include('Proc-Type: 4,ENCRYPTED');
      expectError(() => inspectPrivateKey(legacy), 'KeyEncryptedError');
      expectError(() => validateKeyPair(legacy, certificatePem), 'KeyEncryptedError');
    });

    it('says so when given a certificate or public key instead of a private key', () => {
      const cert = expectError(() => inspectPrivateKey(certificatePem), 'NotAPrivateKeyError');
      expect(cert.message).to.include('certificate');
      const pub = expectError(() => inspectPrivateKey(pair.publicKeyPem), 'NotAPrivateKeyError');
      expect(pub.message).to.include('public key');
    });

    it('explains unreadable input', () => {
      expectError(() => inspectPrivateKey(''), 'KeyUnreadableError');
      const truncated = pair.privateKeyPem.replace(/\n[A-Za-z0-9+/]{64}\n/, '\n');
      expectError(() => inspectPrivateKey(truncated), 'KeyUnreadableError');
    });
  });

  describe('validateKeyPair', () => {
    it('accepts a generated pair without warnings', () => {
      const result = validateKeyPair(pair.privateKeyPem, certificatePem);
      expect(result.keyBits).to.equal(2048);
      expect(result.certificate?.sha256Fingerprint).to.equal(inspectCertificate(certificatePem).sha256Fingerprint);
      expect(result.warnings).to.deep.equal([]);
      expect(validateKeyPair(pair.privateKeyPem)).to.deep.equal({ keyBits: 2048, warnings: [] });
    });

    it('refuses an ECDSA key with the message of seed 001', () => {
      const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
      const err = expectError(() => validateKeyPair(ec.privateKey), 'KeyNotRsaError');
      expect(err.message).to.equal(messages.getMessage('error.KeyNotRsa', ['EC']));
      expect(err.message).to.include('Salesforce accepts only RSA keys');
      expect(err.actions?.length).to.be.greaterThan(0);
      // What `openssl ecparam -name prime256v1 -genkey` writes: an EC PARAMETERS block, then the SEC1 key.
      const sec1 = generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'sec1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
      const ecparam = `-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${sec1.privateKey}`;
      expectError(() => validateKeyPair(ecparam, certificatePem), 'KeyNotRsaError');
    });

    it('refuses a 1024-bit RSA key', () => {
      const err = expectError(() => validateKeyPair(rsaPem(1024)), 'KeyTooSmallError');
      expect(err.message).to.equal(messages.getMessage('error.KeyTooSmall', ['1024']));
    });

    it('refuses a certificate made for another key', async () => {
      const other = await generateKeyPair(2048);
      expect(keyMatchesCertificate(other.privateKeyPem, certificatePem)).to.equal(false);
      const err = expectError(() => validateKeyPair(other.privateKeyPem, certificatePem), 'KeyCertificateMismatchError');
      expect(err.message).to.include('invalid assertion');
    });

    it('recognises the same key in PKCS#1 form as matching', () => {
      const pkcs1 = forge.pki.privateKeyToPem(forge.pki.privateKeyFromPem(pair.privateKeyPem));
      expect(pkcs1).to.include('BEGIN RSA PRIVATE KEY');
      expect(keyMatchesCertificate(pkcs1, certificatePem)).to.equal(true);
    });

    it('refuses an expired certificate', () => {
      const now = new Date(Date.now() - 400 * DAY);
      const expired = createCertificate({ privateKeyPem: pair.privateKeyPem, commonName: 'x', validityDays: 30, now });
      const err = expectError(() => validateKeyPair(pair.privateKeyPem, expired), 'CertificateExpiredError');
      expect(err.message).to.include(inspectCertificate(expired).notAfter);
    });

    it('warns, without failing, about a SHA-1 signature and a CA certificate', () => {
      const sha1 = forgeCertificate(pair.privateKeyPem, { md: forge.md.sha1.create(), ca: true });
      const result = validateKeyPair(pair.privateKeyPem, sha1);
      expect(result.warnings.map((w) => w.code)).to.have.members(['WeakSignature', 'CertificateIsCa']);
      expect(result.warnings.find((w) => w.code === 'WeakSignature')?.message).to.include('sha1WithRSAEncryption');
      const sha512 = validateKeyPair(pair.privateKeyPem, forgeCertificate(pair.privateKeyPem, { md: forge.md.sha512.create() }));
      expect(sha512.warnings).to.deep.equal([]);
    });

    it('warns about a certificate about to expire or not yet valid', () => {
      const soon = createCertificate({ privateKeyPem: pair.privateKeyPem, commonName: 'x', validityDays: 10 });
      expect(validateKeyPair(pair.privateKeyPem, soon).warnings.map((w) => w.code)).to.deep.equal(['ExpiresSoon']);
      expect(validateKeyPair(pair.privateKeyPem, soon, { expiryWarningDays: 5 }).warnings).to.deep.equal([]);
      const future = createCertificate({ privateKeyPem: pair.privateKeyPem, commonName: 'x', validityDays: 365, now: new Date(Date.now() + 2 * DAY) });
      expect(validateKeyPair(pair.privateKeyPem, future).warnings.map((w) => w.code)).to.deep.equal(['NotYetValid']);
    });
  });

  describe('readKeyFiles', () => {
    it('reads the key and certificate as PEM', async () => {
      await writeSecretFile(join(dir, 'private-key.pem'), pair.privateKeyPem);
      await writePublicFile(join(dir, 'cert.pem'), certificatePem);
      const files = await readKeyFiles(join(dir, 'private-key.pem'), join(dir, 'cert.pem'));
      expect(files.privateKeyPem).to.equal(pair.privateKeyPem);
      expect(files.certificatePem).to.equal(certificatePem);
      expect(files.warnings).to.deep.equal([]);
    });

    it('decodes a base64-encoded key file and a DER certificate', async () => {
      await writeSecretFile(join(dir, 'key.b64'), Buffer.from(pair.privateKeyPem).toString('base64'));
      await writeFile(join(dir, 'cert.cer'), new X509Certificate(certificatePem).raw);
      const files = await readKeyFiles(join(dir, 'key.b64'), join(dir, 'cert.cer'));
      expect(files.privateKeyPem).to.equal(pair.privateKeyPem);
      expect(inspectCertificate(files.certificatePem!).sha256Fingerprint).to.equal(inspectCertificate(certificatePem).sha256Fingerprint);
    });

    it('names the missing file', async () => {
      const missing = join(dir, 'nope', 'private-key.pem');
      const err = await expectRejection(readKeyFiles(missing), 'FileNotFoundError');
      expect(err.message).to.include(missing);
      await writeSecretFile(join(dir, 'k.pem'), pair.privateKeyPem);
      const cert = await expectRejection(readKeyFiles(join(dir, 'k.pem'), join(dir, 'cert.pem')), 'FileNotFoundError');
      expect(cert.message).to.include(join(dir, 'cert.pem'));
    });

    it('names a directory given as a file, and a file that is not PEM', async () => {
      const err = await expectRejection(readKeyFiles(dir), 'FileIsDirectoryError');
      expect(err.message).to.include(dir);
      await writeFile(join(dir, 'notes.txt'), 'not a key', { mode: 0o600 });
      const notPem = await expectRejection(readKeyFiles(join(dir, 'notes.txt')), 'FileNotPemError');
      expect(notPem.message).to.include(join(dir, 'notes.txt'));
    });

    it('warns when the key file is readable by others', async () => {
      const file = join(dir, 'private-key.pem');
      await writeFile(file, pair.privateKeyPem);
      await chmod(file, 0o644);
      const { warnings } = await readKeyFiles(file);
      expect(warnings.map((w) => w.code)).to.deep.equal(['KeyFilePermissive']);
      expect(warnings[0].message).to.include('0644');
      expect(warnings[0].actions?.join('\n')).to.include(`chmod 600 ${file}`);
    });
  });

  describe('writeSecretFile / writePublicFile', () => {
    it('writes the private key with mode 0600 and leaves no temp file', async () => {
      const file = join(dir, 'private-key.pem');
      await writeSecretFile(file, pair.privateKeyPem);
      expect((await stat(file)).mode & 0o777).to.equal(0o600);
      expect(await readFile(file, 'utf8')).to.equal(pair.privateKeyPem);
      expect(await readdir(dir)).to.deep.equal(['private-key.pem']);
    });

    it('replaces a wider-mode file with a 0600 one', async () => {
      const file = join(dir, 'private-key.pem');
      await writeFile(file, 'old');
      await chmod(file, 0o666);
      await writeSecretFile(file, pair.privateKeyPem);
      expect((await stat(file)).mode & 0o777).to.equal(0o600);
      expect(await readdir(dir)).to.deep.equal(['private-key.pem']);
    });

    it('with exclusive, refuses to replace an existing file', async () => {
      const file = join(dir, 'private-key.pem');
      await writeFile(file, 'existing');
      const err = await expectRejection(writeSecretFile(file, pair.privateKeyPem, { exclusive: true }), 'FileWriteFailedError');
      expect(err.message).to.include(file);
      expect(await readFile(file, 'utf8')).to.equal('existing');
      expect(await readdir(dir)).to.deep.equal(['private-key.pem']);
    });

    it('removes the temp file when the final step fails', async () => {
      await mkdir(join(dir, 'private-key.pem'));
      const err = await expectRejection(writeSecretFile(join(dir, 'private-key.pem'), pair.privateKeyPem), 'FileWriteFailedError');
      expect(err.message).to.include(join(dir, 'private-key.pem'));
      expect(await readdir(dir)).to.deep.equal(['private-key.pem']);
    });

    it('writes public files with mode 0644', async () => {
      const file = join(dir, 'cert.pem');
      await writePublicFile(file, certificatePem);
      expect((await stat(file)).mode & 0o777).to.equal(0o644);
      expect(await readFile(file, 'utf8')).to.equal(certificatePem);
    });
  });

  describe('prepareOutputDir / writeKeyFiles', () => {
    it('creates a missing directory with mode 0700', async () => {
      const out = join(dir, 'a', 'creds');
      const prepared = await prepareOutputDir(out, { privateKeyPem: pair.privateKeyPem });
      expect(prepared).to.deep.equal({ dir: out, privateKeyFile: join(out, 'private-key.pem'), created: true, existingKey: 'none' });
      expect((await stat(out)).mode & 0o777).to.equal(0o700);
    });

    it('refuses a directory that holds a different key, or any key when a new one would be generated', async () => {
      await writeSecretFile(join(dir, 'private-key.pem'), pair.privateKeyPem);
      const other = await generateKeyPair(2048);
      const err = await expectRejection(prepareOutputDir(dir, { privateKeyPem: other.privateKeyPem }), 'OutputDirHasDifferentKeyError');
      expect(err.message).to.include(dir);
      expect(err.actions?.length).to.be.greaterThan(0);
      await expectRejection(prepareOutputDir(dir), 'OutputDirHasDifferentKeyError');
      await writeFile(join(dir, 'private-key.pem'), 'garbage');
      await expectRejection(prepareOutputDir(dir, { privateKeyPem: pair.privateKeyPem }), 'OutputDirHasDifferentKeyError');
    });

    it('accepts a directory that holds the same key, in either PEM form', async () => {
      await writeSecretFile(join(dir, 'private-key.pem'), pair.privateKeyPem);
      expect((await prepareOutputDir(dir, { privateKeyPem: pair.privateKeyPem })).existingKey).to.equal('identical');
      const pkcs1 = forge.pki.privateKeyToPem(forge.pki.privateKeyFromPem(pair.privateKeyPem));
      expect((await prepareOutputDir(dir, { privateKeyPem: pkcs1 })).existingKey).to.equal('identical');
    });

    it('refuses a path that is a file', async () => {
      await writeFile(join(dir, 'file'), 'x');
      await expectRejection(prepareOutputDir(join(dir, 'file')), 'OutputNotDirectoryError');
    });

    it('writes both files with their modes, and keeps an identical key untouched on a re-run', async () => {
      const out = join(dir, 'creds');
      const written = await writeKeyFiles(out, { privateKeyPem: pair.privateKeyPem, certificatePem });
      expect(written).to.deep.equal({ privateKeyFile: join(out, 'private-key.pem'), certificateFile: join(out, 'cert.pem'), privateKeyWritten: true, createdDir: true });
      expect((await stat(written.privateKeyFile)).mode & 0o777).to.equal(0o600);
      expect((await stat(written.certificateFile)).mode & 0o777).to.equal(0o644);
      expect((await readdir(out)).sort()).to.deep.equal(['cert.pem', 'private-key.pem']);
      const before = await stat(written.privateKeyFile);
      const newCert = createCertificate({ privateKeyPem: pair.privateKeyPem, commonName: 'renewed', validityDays: 30 });
      const again = await writeKeyFiles(out, { privateKeyPem: pair.privateKeyPem, certificatePem: newCert });
      expect(again.privateKeyWritten).to.equal(false);
      expect((await stat(written.privateKeyFile)).ino).to.equal(before.ino);
      expect(await readFile(written.certificateFile, 'utf8')).to.equal(newCert);
    });

    it('refuses to replace a different key and writes nothing', async () => {
      const out = join(dir, 'creds');
      await writeKeyFiles(out, { privateKeyPem: pair.privateKeyPem, certificatePem });
      const other = await generateKeyPair(2048);
      const otherCert = createCertificate({ privateKeyPem: other.privateKeyPem, commonName: 'x', validityDays: 1 });
      await expectRejection(writeKeyFiles(out, { privateKeyPem: other.privateKeyPem, certificatePem: otherCert }), 'OutputDirHasDifferentKeyError');
      expect(await readFile(join(out, 'private-key.pem'), 'utf8')).to.equal(pair.privateKeyPem);
      expect(await readFile(join(out, 'cert.pem'), 'utf8')).to.equal(certificatePem);
    });

    it('refuses a mismatched pair before writing anything', async () => {
      const other = await generateKeyPair(2048);
      await expectRejection(writeKeyFiles(join(dir, 'creds'), { privateKeyPem: other.privateKeyPem, certificatePem }), 'KeyCertificateMismatchError');
      expect(await readdir(dir)).to.deep.equal([]);
    });

    it('removes the key it wrote (and the directory it made) when the certificate cannot be written', async () => {
      const out = join(dir, 'creds');
      const err = await expectRejection(
        writeKeyFiles(out, { privateKeyPem: pair.privateKeyPem, certificatePem }, { certificateFileName: join('missing', 'cert.pem') }),
        'FileWriteFailedError'
      );
      expect(err.message).to.include(join(out, 'missing', 'cert.pem'));
      expect(await readdir(dir)).to.deep.equal([]);
    });

    it('keeps an existing identical key when the certificate cannot be written', async () => {
      await writeSecretFile(join(dir, 'private-key.pem'), pair.privateKeyPem);
      await expectRejection(
        writeKeyFiles(dir, { privateKeyPem: pair.privateKeyPem, certificatePem }, { certificateFileName: join('missing', 'cert.pem') }),
        'FileWriteFailedError'
      );
      expect(await readdir(dir)).to.deep.equal(['private-key.pem']);
    });
  });

  describe('base64Commands', () => {
    it('gives the seed 001 commands for macOS, Linux and PowerShell', () => {
      expect(base64Commands('private-key.pem')).to.deep.equal([
        { platform: 'macos', label: 'macOS (Terminal)', command: 'base64 -i private-key.pem' },
        { platform: 'linux', label: 'Linux, Git Bash, or WSL', command: 'base64 -w 0 private-key.pem' },
        { platform: 'powershell', label: 'Windows (PowerShell)', command: "[Convert]::ToBase64String([IO.File]::ReadAllBytes((Resolve-Path 'private-key.pem')))" },
      ]);
    });

    it('quotes paths with spaces and quotes', () => {
      const [mac, linux, ps] = base64Commands("/home/me/my keys/it's.pem").map((c) => c.command);
      expect(mac).to.equal("base64 -i '/home/me/my keys/it'\\''s.pem'");
      expect(linux).to.equal("base64 -w 0 '/home/me/my keys/it'\\''s.pem'");
      expect(ps).to.include("(Resolve-Path '/home/me/my keys/it''s.pem')");
    });
  });

  describe('secrets', () => {
    it('no error carries key material', async () => {
      const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
      const other = await generateKeyPair(2048);
      const keys = [pair.privateKeyPem, ec.privateKey, other.privateKeyPem];
      expectError(() => validateKeyPair(ec.privateKey), 'KeyNotRsaError');
      expectError(() => validateKeyPair(other.privateKeyPem, certificatePem), 'KeyCertificateMismatchError');
      expectError(() => inspectCertificate(pair.privateKeyPem), 'CertificateUnreadableError');
      expectError(() => inspectPrivateKey(pair.privateKeyPem.replace(/\n[A-Za-z0-9+/]{64}\n/, '\n')), 'KeyUnreadableError');
      expectError(() => createCertificate({ privateKeyPem: pair.privateKeyPem, commonName: 'x', validityDays: 0 }), 'InvalidValidityDaysError');
      await writeFile(join(dir, 'private-key.pem'), pair.privateKeyPem);
      await expectRejection(prepareOutputDir(dir, { privateKeyPem: other.privateKeyPem }), 'OutputDirHasDifferentKeyError');

      expect(seenErrors.length).to.be.greaterThan(20);
      for (const err of seenErrors) {
        const text = [err.message, ...(err.actions ?? []), String(err.cause ?? ''), err.stack ?? ''].join('\n');
        expect(text).to.not.include('PRIVATE KEY');
        for (const key of keys) expect(text).to.not.include(keyFragment(key));
      }
    });
  });
});
