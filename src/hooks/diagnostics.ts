/*
 * The `sf doctor` hook (package.json oclif.hooks "sf-doctor-@integration-kit/plugin-integration", as plugin-auth
 * registers "sf-doctor-@salesforce/plugin-auth"). @salesforce/plugin-info runs it with `{ doctor: SfDoctor }`.
 *
 * Offline findings only, from local files and the environment (no org calls): private key files in the working
 * directory (and its `*-integration/` subdirectories, where `sf integration create` writes) that other users can
 * read, certificates expired or expiring within 30 days, and SF_AUDIENCE_URL overriding every JWT audience. Then a
 * suggestion to run `sf integration doctor` for the live check. Paths, modes and dates only: never key material.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Lifecycle } from '@salesforce/core';
import { inspectCertificate, inspectPrivateKey } from '../credentials/index.js';
import { pemBlocks } from '../credentials/pem.js';
import { reportMessages } from '../report/doctor-human.js';

export const PLUGIN_NAME = '@integration-kit/plugin-integration';
/** Certificates expiring within this many days are reported. */
export const EXPIRY_WARNING_DAYS = 30;
/** The variables that override the JWT audience of every `sf org login jwt` (the legacy name too). */
export const AUDIENCE_VARIABLES: readonly string[] = ['SF_AUDIENCE_URL', 'SFDX_AUDIENCE_URL'];

const PEM_FILE = /\.(pem|key|crt|cer|cert)$/i;
const MAX_FILE_BYTES = 1024 * 1024;
const DAY_MS = 86_400_000;

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** The part of plugin-info's SfDoctor this hook uses (structurally compatible with it). */
export type DoctorSink = {
  addSuggestion(suggestion: string): void;
  addPluginData(pluginName: string, data: Json): void;
};

export type KeyFileFinding = {
  /** Relative to the working directory. */
  file: string;
  /** Octal permission bits, e.g. "0644"; undefined on Windows. */
  mode?: string;
  /** Group or other users may read or write it. */
  permissive: boolean;
  keyType?: string;
  keyBits?: number;
  /** The key couldn't be read without a passphrase (or at all). */
  unreadable?: boolean;
};

export type CertificateFinding = {
  file: string;
  subjectCommonName?: string;
  /** ISO 8601. */
  notAfter: string;
  /** Whole days until notAfter; negative once expired. */
  daysLeft: number;
  status: 'ok' | 'expiring' | 'expired';
};

export type OfflineFindings = {
  /** The directories scanned, relative to the working directory ("." first). */
  scannedDirs: string[];
  keyFiles: KeyFileFinding[];
  certificates: CertificateFinding[];
  /** Audience override variables that are set, with their values (URLs, not secrets). */
  audienceOverrides: Array<{ variable: string; value: string }>;
  /** PEM-looking files that couldn't be read (relative paths). */
  unreadableFiles: string[];
};

export type CollectOptions = {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  now?: Date;
  /** Whether to check permission bits; defaults to false on Windows, where they mean nothing. */
  checkModes?: boolean;
};

const isDirectory = async (path: string): Promise<boolean> =>
  stat(path).then(
    (s) => s.isDirectory(),
    () => false
  );

/** The working directory and its `*-integration/` subdirectories. */
const dirsToScan = async (cwd: string): Promise<string[]> => {
  const entries = await readdir(cwd).catch(() => [] as string[]);
  const subdirs: string[] = [];
  for (const name of entries.filter((e) => e.endsWith('-integration')).sort()) {
    // eslint-disable-next-line no-await-in-loop
    if (await isDirectory(join(cwd, name))) subdirs.push(join(cwd, name));
  }
  return [cwd, ...subdirs];
};

const pemFilesIn = async (dir: string): Promise<string[]> => {
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries
    .filter((name) => PEM_FILE.test(name))
    .sort()
    .map((name) => join(dir, name));
};

const octal = (mode: number): string => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

const inspectKey = (pem: string): Pick<KeyFileFinding, 'keyType' | 'keyBits' | 'unreadable'> => {
  try {
    const info = inspectPrivateKey(pem);
    return { keyType: info.keyType, ...(info.keyBits === undefined ? {} : { keyBits: info.keyBits }) };
  } catch {
    return { unreadable: true };
  }
};

const inspectCert = (pem: string, file: string, now: Date): CertificateFinding | undefined => {
  try {
    const info = inspectCertificate(pem);
    const msLeft = new Date(info.notAfter).getTime() - now.getTime();
    const daysLeft = Math.floor(msLeft / DAY_MS);
    const status = msLeft <= 0 ? 'expired' : msLeft <= EXPIRY_WARNING_DAYS * DAY_MS ? 'expiring' : 'ok';
    return {
      file,
      ...(info.subjectCommonName === undefined ? {} : { subjectCommonName: info.subjectCommonName }),
      notAfter: info.notAfter,
      daysLeft,
      status,
    };
  } catch {
    return undefined;
  }
};

/** Reads the PEM files of the working directory and its `*-integration/` subdirectories, and the environment. */
export const collectFindings = async (options: CollectOptions = {}): Promise<OfflineFindings> => {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const now = options.now ?? new Date();
  const checkModes = options.checkModes ?? process.platform !== 'win32';
  const findings: OfflineFindings = { scannedDirs: [], keyFiles: [], certificates: [], audienceOverrides: [], unreadableFiles: [] };
  const rel = (path: string): string => relative(cwd, path) || '.';

  for (const dir of await dirsToScan(cwd)) {
    findings.scannedDirs.push(rel(dir));
    // eslint-disable-next-line no-await-in-loop
    for (const path of await pemFilesIn(dir)) {
      const file = rel(path);
      let content: string;
      let mode: number;
      try {
        // eslint-disable-next-line no-await-in-loop
        const info = await stat(path);
        if (!info.isFile() || info.size > MAX_FILE_BYTES) continue;
        mode = info.mode;
        // eslint-disable-next-line no-await-in-loop
        content = await readFile(path, 'utf8');
      } catch {
        findings.unreadableFiles.push(file);
        continue;
      }
      const blocks = pemBlocks(content);
      const key = blocks.find((b) => b.label.endsWith('PRIVATE KEY'));
      if (key) {
        findings.keyFiles.push({
          file,
          ...(checkModes ? { mode: octal(mode) } : {}),
          permissive: checkModes && (mode & 0o077) !== 0,
          ...inspectKey(key.text),
        });
      }
      for (const block of blocks.filter((b) => b.label === 'CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE')) {
        const cert = inspectCert(block.text, file, now);
        if (cert) findings.certificates.push(cert);
      }
    }
  }

  for (const variable of AUDIENCE_VARIABLES) {
    const value = env[variable]?.trim();
    if (value) findings.audienceOverrides.push({ variable, value });
  }
  return findings;
};

/** A path as a POSIX shell word (quoted when it needs to be). */
const shellWord = (path: string): string => {
  const posix = path.split(sep).join('/');
  return /^[\w./@%+=:,-]+$/.test(posix) ? posix : `'${posix.replace(/'/g, "'\\''")}'`;
};

const day = (iso: string): string => iso.slice(0, 10);

/** The suggestions for `sf doctor`, most urgent first; always ends with the one to run `sf integration doctor`. */
export const suggestionsFor = (findings: OfflineFindings): string[] => [
  ...findings.keyFiles
    .filter((k) => k.permissive)
    .map((k) => reportMessages.getMessage('hook.key-permissions', [k.file, k.mode ?? '', shellWord(k.file)])),
  ...findings.certificates
    .filter((c) => c.status === 'expired')
    .map((c) => reportMessages.getMessage('hook.certificate-expired', [c.file, day(c.notAfter)])),
  ...findings.certificates
    .filter((c) => c.status === 'expiring')
    .map((c) => reportMessages.getMessage('hook.certificate-expiring', [c.file, day(c.notAfter), String(c.daysLeft)])),
  ...findings.audienceOverrides.map((a) => reportMessages.getMessage('hook.audience-url', [a.variable, a.value])),
  reportMessages.getMessage('hook.run-doctor'),
];

type DiagnosticStatus = 'pass' | 'fail' | 'warn' | 'unknown';

/** The pass/warn/fail lines `sf doctor` prints, as plugin-auth emits them. */
const diagnostics = (findings: OfflineFindings): Array<{ testName: string; status: DiagnosticStatus }> => [
  {
    testName: reportMessages.getMessage('hook.test.key-permissions'),
    status: findings.keyFiles.some((k) => k.permissive) ? 'fail' : 'pass',
  },
  {
    testName: reportMessages.getMessage('hook.test.certificate-expiry'),
    status: findings.certificates.some((c) => c.status === 'expired')
      ? 'fail'
      : findings.certificates.some((c) => c.status === 'expiring')
      ? 'warn'
      : 'pass',
  },
  {
    testName: reportMessages.getMessage('hook.test.audience-url'),
    status: findings.audienceOverrides.length > 0 ? 'warn' : 'pass',
  },
];

/** Runs the offline checks and reports them to `sf doctor`. Never throws: a failure only loses the findings. */
export const hook = async (options: { doctor: DoctorSink }): Promise<void> => {
  const { doctor } = options;
  let findings: OfflineFindings | undefined;
  try {
    findings = await collectFindings();
  } catch {
    findings = undefined;
  }
  if (!findings) {
    doctor.addSuggestion(reportMessages.getMessage('hook.run-doctor'));
    return;
  }
  doctor.addPluginData(PLUGIN_NAME, JSON.parse(JSON.stringify(findings)) as Json);
  for (const suggestion of suggestionsFor(findings)) doctor.addSuggestion(suggestion);
  const lifecycle = Lifecycle.getInstance();
  await Promise.all(diagnostics(findings).map((status) => lifecycle.emit('Doctor:diagnostic', status)));
};

export default hook;
