/*
 * Key files on disk. The private key is written 0600 through a temporary file that is 0600 from the moment it
 * exists, then renamed into place, so no reader ever sees a partial file or a wider mode; a directory that
 * already holds a different private key is never overwritten. Errors name paths, never contents.
 */
import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, open, readFile, rename, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { certificateDerToPem } from './certificate.js';
import { loadPrivateKey, spkiDer } from './keys.js';
import { messages, reasonOf, warning } from './messages.js';
import { toPemText } from './pem.js';
import { keyMatchesCertificate } from './validate.js';
import type { Base64Command, CredentialWarning, KeyFiles } from './types.js';

export const PRIVATE_KEY_FILE = 'private-key.pem';
export const CERTIFICATE_FILE = 'cert.pem';
export const SECRET_FILE_MODE = 0o600;
export const PUBLIC_FILE_MODE = 0o644;
export const OUTPUT_DIR_MODE = 0o700;

const isWindows = process.platform === 'win32';

const codeOf = (e: unknown): string | undefined => {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
};

/** fsync a directory so a rename survives a crash; not possible (nor needed) everywhere, hence best effort. */
const syncDir = async (dir: string): Promise<void> => {
  if (isWindows) return;
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // best effort
  } finally {
    await handle?.close().catch(() => undefined);
  }
};

/**
 * Writes `content` to a temporary file created with O_EXCL and `mode` in the target's directory, fsyncs it, then
 * moves it into place: rename (replaces) or, when `exclusive`, link (fails with EEXIST if the target exists).
 * Throws the underlying Node error after removing the temporary file.
 */
const writeAtomic = async (path: string, content: string, mode: number, exclusive: boolean): Promise<void> => {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(tmp, 'wx', mode);
    await handle.chmod(mode); // the exact mode, whatever the umask
    await handle.writeFile(content, 'utf8');
    await handle.sync();
    await handle.close();
    handle = undefined;
    if (exclusive) {
      try {
        await link(tmp, path);
      } catch (e) {
        const code = codeOf(e);
        // File systems without hard links: check, then rename (a narrow race instead of none).
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV') throw e;
        const exists = await lstat(path).then(
          () => true,
          () => false
        );
        if (exists) throw Object.assign(new Error(`EEXIST: file already exists, '${path}'`), { code: 'EEXIST' });
        await rename(tmp, path);
      }
    } else {
      await rename(tmp, path);
    }
    await syncDir(dirname(path));
  } finally {
    await handle?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
  }
};

const writeFailed = (path: string, e: unknown): Error =>
  messages.createError('error.FileWriteFailed', [path, reasonOf(e)], [], e instanceof Error ? e : undefined);

/** Writes a secret (a private key) atomically with mode 0600; with `exclusive`, refuses to replace an existing file. */
export const writeSecretFile = async (path: string, content: string, options: { exclusive?: boolean } = {}): Promise<void> => {
  try {
    await writeAtomic(path, content, SECRET_FILE_MODE, options.exclusive ?? false);
  } catch (e) {
    throw writeFailed(path, e);
  }
};

/** Writes a public file (a certificate) atomically with mode 0644. */
export const writePublicFile = async (path: string, content: string): Promise<void> => {
  try {
    await writeAtomic(path, content, PUBLIC_FILE_MODE, false);
  } catch (e) {
    throw writeFailed(path, e);
  }
};

const sameKey = (existingPem: string, newPem: string): boolean => {
  const fresh = spkiDer(loadPrivateKey(newPem).key);
  try {
    return spkiDer(loadPrivateKey(existingPem).key).equals(fresh);
  } catch {
    return false; // unreadable or encrypted: can't prove it's the same key
  }
};

export type PrepareOutputDirOptions = {
  /** The key about to be written; omit when a new key would be generated. */
  privateKeyPem?: string;
  privateKeyFileName?: string;
};

export type PreparedOutputDir = {
  dir: string;
  privateKeyFile: string;
  /** This call created the directory (mode 0700). */
  created: boolean;
  /** 'identical': the directory already holds this very key (same public key), which may be kept as it is. */
  existingKey: 'none' | 'identical';
};

/**
 * Makes sure `dir` can receive the key files: creates it (0700) when missing; refuses with
 * error.OutputDirHasDifferentKey when it already holds a private key other than `privateKeyPem` (or any key, when
 * no key is given because a new one would be generated), so a re-run never replaces a key in use.
 */
export const prepareOutputDir = async (dir: string, options: PrepareOutputDirOptions = {}): Promise<PreparedOutputDir> => {
  const privateKeyFile = join(dir, options.privateKeyFileName ?? PRIVATE_KEY_FILE);
  let created = false;
  const info = await stat(dir).catch((e: unknown) => {
    if (codeOf(e) === 'ENOENT') return undefined;
    throw writeFailed(dir, e);
  });
  if (info && !info.isDirectory()) throw messages.createError('error.OutputNotDirectory', [dir]);
  if (!info) {
    try {
      await mkdir(dir, { recursive: true, mode: OUTPUT_DIR_MODE });
    } catch (e) {
      throw writeFailed(dir, e);
    }
    created = true;
  }
  let existing: string | undefined;
  try {
    existing = await readFile(privateKeyFile, 'utf8');
  } catch (e) {
    if (codeOf(e) !== 'ENOENT') throw messages.createError('error.FileNotReadable', [privateKeyFile, reasonOf(e)]);
  }
  if (existing === undefined) return { dir, privateKeyFile, created, existingKey: 'none' };
  if (options.privateKeyPem === undefined || !sameKey(existing, options.privateKeyPem)) {
    throw messages.createError('error.OutputDirHasDifferentKey', [dir]);
  }
  return { dir, privateKeyFile, created, existingKey: 'identical' };
};

export type WriteKeyFilesOptions = { privateKeyFileName?: string; certificateFileName?: string };

export type WrittenKeyFiles = {
  privateKeyFile: string;
  certificateFile: string;
  /** False when the directory already held this key, which was left untouched. */
  privateKeyWritten: boolean;
  createdDir: boolean;
};

/**
 * Writes private-key.pem (0600) and cert.pem (0644) into `dir` after prepareOutputDir's checks and after checking
 * that the certificate belongs to the key. All or nothing: if the certificate can't be written, the key file this
 * call wrote (and the directory it created) are removed again.
 */
export const writeKeyFiles = async (
  dir: string,
  files: { privateKeyPem: string; certificatePem: string },
  options: WriteKeyFilesOptions = {}
): Promise<WrittenKeyFiles> => {
  if (!keyMatchesCertificate(files.privateKeyPem, files.certificatePem)) throw messages.createError('error.KeyCertificateMismatch');
  const prepared = await prepareOutputDir(dir, { privateKeyPem: files.privateKeyPem, privateKeyFileName: options.privateKeyFileName });
  const certificateFile = join(dir, options.certificateFileName ?? CERTIFICATE_FILE);
  let privateKeyWritten = false;
  try {
    if (prepared.existingKey === 'none') {
      try {
        await writeAtomic(prepared.privateKeyFile, files.privateKeyPem, SECRET_FILE_MODE, true);
      } catch (e) {
        // Another process wrote a key between the check and the write: still never replace it.
        if (codeOf(e) === 'EEXIST') throw messages.createError('error.OutputDirHasDifferentKey', [dir]);
        throw writeFailed(prepared.privateKeyFile, e);
      }
      privateKeyWritten = true;
    }
    await writePublicFile(certificateFile, files.certificatePem);
  } catch (e) {
    if (privateKeyWritten) await unlink(prepared.privateKeyFile).catch(() => undefined);
    if (prepared.created) await rmdir(dir).catch(() => undefined); // only if still empty
    throw e;
  }
  return { privateKeyFile: prepared.privateKeyFile, certificateFile, privateKeyWritten, createdDir: prepared.created };
};

const readFileNamed = async (path: string): Promise<Buffer> => {
  try {
    return await readFile(path);
  } catch (e) {
    const code = codeOf(e);
    if (code === 'ENOENT') throw messages.createError('error.FileNotFound', [path]);
    if (code === 'EISDIR') throw messages.createError('error.FileIsDirectory', [path], [path]);
    throw messages.createError('error.FileNotReadable', [path, reasonOf(e)]);
  }
};

/**
 * Reads a private key file (PEM, or the one-line base64 of a PEM file) and optionally a certificate file (PEM or
 * DER). Returns PEM text; warns when the key file is readable by other users. Content isn't validated beyond
 * "is PEM": pass the result to validateKeyPair.
 */
export const readKeyFiles = async (privateKeyFile: string, certificateFile?: string): Promise<KeyFiles> => {
  const warnings: CredentialWarning[] = [];
  const privateKeyPem = toPemText((await readFileNamed(privateKeyFile)).toString('utf8'));
  if (!privateKeyPem.includes('-----BEGIN')) throw messages.createError('error.FileNotPem', [privateKeyFile]);
  if (!isWindows) {
    const mode = (await stat(privateKeyFile)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      warnings.push(warning('KeyFilePermissive', [privateKeyFile, `0${mode.toString(8)}`], [privateKeyFile]));
    }
  }
  if (certificateFile === undefined) return { privateKeyPem, warnings };

  const raw = await readFileNamed(certificateFile);
  let certificatePem = toPemText(raw.toString('utf8'));
  if (!certificatePem.includes('-----BEGIN')) {
    if (raw[0] !== 0x30) throw messages.createError('error.FileNotPem', [certificateFile]);
    try {
      certificatePem = certificateDerToPem(raw);
    } catch {
      throw messages.createError('error.FileNotPem', [certificateFile]);
    }
  }
  return { privateKeyPem, certificatePem, warnings };
};

const posixQuote = (s: string): string => (/^[\w./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
const powershellQuote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * The one-line commands that print the base64 of a file (seed 001), for the runbook: the external system is given
 * the private key in this form. Data only; nothing is run or printed here.
 */
export const base64Commands = (file: string = PRIVATE_KEY_FILE): Base64Command[] => [
  { platform: 'macos', label: messages.getMessage('base64.macos'), command: `base64 -i ${posixQuote(file)}` },
  { platform: 'linux', label: messages.getMessage('base64.linux'), command: `base64 -w 0 ${posixQuote(file)}` },
  {
    platform: 'powershell',
    label: messages.getMessage('base64.powershell'),
    command: `[Convert]::ToBase64String([IO.File]::ReadAllBytes((Resolve-Path ${powershellQuote(file)})))`,
  },
];
