/*
 * Benchmark row: a 2048-bit RSA key plus a self-signed certificate made by src/credentials/ vs the openssl
 * command it replaces (seed 001 step 1), both run the same number of times in the same run, interleaved so that
 * a machine getting busier or quieter affects both alike. Key generation dominates both and its time varies with
 * the prime search, hence the median.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { createCertificate, generateKeyPair } from '../src/credentials/index.js';

const exec = promisify(execFile);

export type CredentialsRow = { figure: string; value: string; baseline: string; ratio: string; goal: string };

const RUNS = 5;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const ms = (n: number): string => `${n.toFixed(1)} ms`;

const timed = async (fn: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};

export const credentialsRow = async (): Promise<CredentialsRow> => {
  const figure = 'credentials: RSA-2048 key + self-signed cert';
  const goal = '≤ 1.5';
  const dir = await mkdtemp(join(tmpdir(), 'bench-credentials-'));
  try {
    const plugin: number[] = [];
    const openssl: number[] = [];
    const ours = async (): Promise<void> => {
      const { privateKeyPem } = await generateKeyPair(2048);
      createCertificate({ privateKeyPem, commonName: 'x', validityDays: 365 });
    };
    const theirs = (i: number) => (): Promise<unknown> =>
      exec('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
        '-keyout', join(dir, `key-${i}.pem`), '-out', join(dir, `cert-${i}.pem`),
        '-subj', '/CN=x', '-days', '365',
      ]);
    try {
      await theirs(-1)(); // warm-up: disk cache for the openssl binary and its config
    } catch (e) {
      const reason = (e as { code?: unknown }).code === 'ENOENT' ? 'openssl not found' : 'openssl failed';
      return { figure, value: ms(await timed(ours)), baseline: reason, ratio: 'n/a', goal };
    }
    await ours(); // warm-up: module loading, OpenSSL initialisation in Node
    for (let i = 0; i < RUNS; i++) {
      // eslint-disable-next-line no-await-in-loop
      plugin.push(await timed(ours));
      // eslint-disable-next-line no-await-in-loop
      openssl.push(await timed(theirs(i)));
    }
    const value = median(plugin);
    const baseline = median(openssl);
    return {
      figure,
      value: ms(value),
      baseline: `openssl req -x509 -newkey rsa:2048 ${ms(baseline)}`,
      ratio: (value / baseline).toFixed(2),
      goal,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
