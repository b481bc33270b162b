/*
 * Drives the real `sf` CLI (the @salesforce/cli devDependency) in a throwaway HOME, as DEVELOPERS.md asks:
 * telemetry off, no DNS check of instance URLs, a file keychain, no update checks.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SF_BIN = join(PROJECT_ROOT, 'node_modules', '.bin', 'sf');

export type SfResult = { code: number; stdout: string; stderr: string };

export type SfHome = {
  home: string;
  env: NodeJS.ProcessEnv;
  run(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<SfResult>;
  /** Runs with --json and parses the envelope ({status, result} or {status, name, message}). */
  json<T = Record<string, unknown>>(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<SfResult & { body: T }>;
  dispose(): Promise<void>;
};

export const cliEnv = (home: string): NodeJS.ProcessEnv => ({
  // The CLI spawns `sf` for some of its own checks: put the project's copy first on PATH.
  PATH: `${join(PROJECT_ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
  HOME: home,
  USERPROFILE: home,
  XDG_DATA_HOME: join(home, '.local', 'share'),
  XDG_CONFIG_HOME: join(home, '.config'),
  XDG_CACHE_HOME: join(home, '.cache'),
  SF_DISABLE_TELEMETRY: 'true',
  SFDX_DISABLE_TELEMETRY: 'true',
  SF_DISABLE_DNS_CHECK: 'true',
  SF_USE_GENERIC_UNIX_KEYCHAIN: 'true',
  SF_AUTOUPDATE_DISABLE: 'true',
  SF_SKIP_NEW_VERSION_CHECK: 'true',
  SF_DISABLE_AUTOUPDATE: 'true',
  SF_HIDE_RELEASE_NOTES: 'true',
  SF_CONTAINER_MODE: 'true',
  NODE_OPTIONS: '--no-warnings',
});

export const newSfHome = async (): Promise<SfHome> => {
  const home = await mkdtemp(join(tmpdir(), 'sf-home-'));
  const env = cliEnv(home);
  const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<SfResult> =>
    new Promise((resolve) => {
      execFile(
        SF_BIN,
        args,
        { env: { ...env, ...extraEnv }, cwd: home, maxBuffer: 32 * 1024 * 1024, timeout: 180_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        }
      );
    });
  return {
    home,
    env,
    run,
    json: async <T>(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<SfResult & { body: T }> => {
      const r = await run([...args, '--json'], extraEnv);
      let body: T;
      try {
        body = JSON.parse(r.stdout) as T;
      } catch {
        throw new Error(`sf ${args.join(' ')} printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
      }
      return { ...r, body };
    },
    dispose: () => rm(home, { recursive: true, force: true }),
  };
};
