/*
 * The plugin as users get it: `npm pack` (its prepack builds lib/ and generates oclif.manifest.json with oclif's
 * own tool; postpack removes the manifest again), then `sf plugins install file:<tarball>` into a throwaway sf
 * HOME. The CLI asks before installing an unsigned plugin unless it is allow-listed in the HOME's
 * .config/sf/unsignedPluginAllowList.json; for a file: install plugin-trust looks up the file: URL, so the list
 * holds that and the package name.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT, type SfHome } from './sf.js';

const exec = promisify(execFile);

export const PLUGIN_NAME = '@integration-kit/plugin-integration';

/** Packs the project into `dir` and returns the tarball's path. */
export const packPlugin = async (dir: string): Promise<string> => {
  await mkdir(dir, { recursive: true });
  const { stdout } = await exec('npm', ['pack', '--pack-destination', dir, '--json', '--no-audit', '--no-fund'], {
    cwd: PROJECT_ROOT,
    maxBuffer: 32 * 1024 * 1024,
    timeout: 300_000,
  });
  // prepack's own output (tsc, oclif) comes before npm's JSON array.
  const packed = JSON.parse(stdout.slice(stdout.search(/^\[/m))) as Array<{ filename: string }>;
  return join(dir, packed[0].filename);
};

/** The paths inside a tarball, without npm's `package/` prefix. */
export const tarballFiles = async (tarball: string): Promise<string[]> => {
  const { stdout } = await exec('tar', ['-tzf', tarball], { maxBuffer: 32 * 1024 * 1024 });
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((p) => p.replace(/^package\//, ''));
};

/**
 * What the CLI's own npm needs to reach the registry from this machine, as it would from a user's: the CA bundle
 * and proxy settings of the environment, and npm's registry and CA configuration (a throwaway HOME has no .npmrc).
 */
const registryEnv = (): NodeJS.ProcessEnv => {
  const keys = /^(?:NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|https?_proxy|no_proxy|npm_config_(?:registry|cafile|ca|proxy|https_proxy|noproxy|strict_ssl))$/i;
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => keys.test(k)));
};

/** Allow-lists the tarball in the HOME and installs it into the sf CLI the way a user does. */
export const installPlugin = async (sf: SfHome, tarball: string): Promise<void> => {
  const url = `file:${tarball}`;
  const configDir = join(sf.home, '.config', 'sf');
  await mkdir(configDir, { recursive: true });
  const listFile = join(configDir, 'unsignedPluginAllowList.json');
  const existing = await readFile(listFile, 'utf8').then((t) => JSON.parse(t) as string[], () => []);
  await writeFile(listFile, JSON.stringify([...new Set([...existing, PLUGIN_NAME, url])]));
  const r = await sf.run(['plugins', 'install', url], registryEnv());
  if (r.code !== 0) throw new Error(`sf plugins install ${url} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
};
