/*
 * Bench rows of `sf integration audit`, every emulated org served by its own child process (test/emulator/cli.ts), so
 * that what is measured here is the plugin's side alone:
 *  - the whole audit of an org with 50,000 OauthTokens, 5,000 users and 300 apps against paging its 50,000 tokens
 *    alone in the same run (goal ≤ 2×), and its round trips;
 *  - the peak RSS of `sf integration audit --json` (the real CLI process, GNU time's maximum resident set) on that
 *    org, against `sf org display --json` on the same org, the CLI's own footprint (goal < 300 MB);
 *  - ten orgs at once (`-o` ten times) against the slowest of them alone (goal ≈ 1), and the ten one after another
 *    (ten emulators serving at once share this machine's cores with the CLI, so ≈ 1 needs as many cores as orgs);
 *  - the size of the HTML page on the 50,000-token org.
 * `node --loader ts-node/esm --no-warnings bench/audit.ts` prints these rows alone.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { buildAudit } from '../src/audit/findings.js';
import { readInventory } from '../src/org/inventory.js';
import { readOauthTokens } from '../src/org/tokens.js';
import { Transport } from '../src/org/transport.js';
import { generateOrg, type GenerateOptions } from '../test/emulator/fixtures/generate.js';
import type { Fixture } from '../test/emulator/index.js';
import { newSfHome, PROJECT_ROOT, SF_BIN, type SfHome } from '../test/helpers/sf.js';

type Row = { figure: string; value: string; baseline: string; ratio: string; goal: string };

type ChildEmulator = { instanceUrl: string; accessToken: string; close(): Promise<void> };

const MB = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;

/** One emulated org in a child process: the fixture goes through a file, the URL and token come back on stdout. */
const childEmulator = async (dir: string, name: string, fixture: Fixture): Promise<ChildEmulator> => {
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(fixture));
  const child: ChildProcess = spawn(process.execPath, ['--loader', 'ts-node/esm', '--no-warnings', 'test/emulator/cli.ts', '--fixture', file], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { instanceUrl, accessToken } = await new Promise<{ instanceUrl: string; accessToken: string }>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const url = /instance-url: (\S+)/.exec(out)?.[1];
      const token = /access-token: (\S+)/.exec(out)?.[1];
      if (url && token) ok({ instanceUrl: url, accessToken: token });
    });
    child.once('exit', (code) => fail(new Error(`emulator ${name} exited (${String(code)}) before it was ready`)));
  });
  child.removeAllListeners('exit');
  return {
    instanceUrl,
    accessToken,
    close: () =>
      new Promise((ok) => {
        if (child.exitCode !== null) return ok();
        child.once('exit', () => ok());
        child.kill('SIGTERM');
      }),
  };
};

/** A generated org with its own Organization Id and admin username, so that the sf CLI keeps one login per org. */
const orgFixture = (n: number, options: GenerateOptions): Fixture => {
  const { fixture } = generateOrg(options);
  fixture.records!.Organization[0].Id = `00DEm00000000${String(n).padStart(2, '0')}MAA`;
  fixture.records!.User[0].Username = `admin@audit-org${n}.example`;
  return fixture;
};

const login = async (sf: SfHome, emu: ChildEmulator, alias: string): Promise<void> => {
  const r = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', alias], { SF_ACCESS_TOKEN: emu.accessToken });
  if (r.code !== 0) throw new Error(`login ${alias} failed: ${r.stderr}`);
};

/** Runs the real sf CLI under GNU time: exit code, wall time, and the maximum resident set of the CLI process (KB). */
const sfMeasured = (sf: SfHome, args: string[]): Promise<{ code: number; ms: number; maxRssKb: number; stdout: string }> =>
  new Promise((ok) => {
    const rssFile = join(sf.home, `rss-${process.hrtime.bigint()}.txt`);
    const t0 = performance.now();
    execFile('/usr/bin/time', ['-f', '%M', '-o', rssFile, SF_BIN, ...args], { env: sf.env, cwd: sf.home, maxBuffer: 1024 * 1024 * 1024 }, (error, stdout) => {
      const ms = performance.now() - t0;
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      void readFile(rssFile, 'utf8')
        .then((t) => Number(/(\d+)\s*$/.exec(t.trim())?.[1] ?? Number.NaN))
        .catch(() => Number.NaN)
        .then((maxRssKb) => ok({ code, ms, maxRssKb, stdout }));
    });
  });

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The 50,000-token org: timings and round trips in this process, RSS and page size of the real CLI. */
const bigOrgRows = async (dir: string, sf: SfHome): Promise<Row[]> => {
  const emu = await childEmulator(dir, 'big', orgFixture(1, { tokens: 50_000, users: 5000, connectedApps: 200, externalClientApps: 90, phantomApps: 10, sharedCreatedDate: { tokens: 3000 } }));
  try {
    const { AuthInfo, Connection } = await import('@salesforce/core');
    const authInfo = await AuthInfo.create({ accessTokenOptions: { accessToken: emu.accessToken, instanceUrl: emu.instanceUrl, loginUrl: emu.instanceUrl } });
    const conn = await Connection.create({ authInfo, connectionOptions: { version: '66.0' } });
    const pagingT = new Transport(conn);
    let t0 = performance.now();
    const tokens = await readOauthTokens(pagingT);
    const paging = performance.now() - t0;
    const auditT = new Transport(conn);
    t0 = performance.now();
    const audit = buildAudit('bench', await readInventory(auditT), { unusedDays: 90, maxCredentialAgeDays: 365, now: new Date() });
    const whole = performance.now() - t0;

    await login(sf, emu, 'big');
    const display = await sfMeasured(sf, ['org', 'display', '--target-org', 'big', '--json']);
    const cli = await sfMeasured(sf, ['integration', 'audit', '--target-org', 'big', '--json']);
    if (cli.code !== 0) throw new Error(`audit of the big org exited ${cli.code}: ${cli.stdout.slice(0, 500)}`);
    const reported = (JSON.parse(cli.stdout) as { result: { orgs: Array<{ summary: { tokens: number } }> } }).result.orgs[0].summary.tokens;
    const page = join(dir, 'audit.html');
    const html = await sfMeasured(sf, ['integration', 'audit', '--target-org', 'big', '--result-format', 'html', '--output-file', page]);
    if (html.code !== 0) throw new Error(`html audit exited ${html.code}`);
    const pageBytes = (await stat(page)).size;
    const jsonBytes = Buffer.byteLength(cli.stdout);
    return [
      {
        figure: `audit: 50,000 tokens, 5,000 users, 300 apps (${audit.summary.tokens} tokens, ${audit.findings.length} findings)`,
        value: `${whole.toFixed(0)} ms, ${auditT.roundTrips} round trips`,
        baseline: `paging ${tokens.length} tokens alone ${paging.toFixed(0)} ms, ${pagingT.roundTrips} round trips`,
        ratio: (whole / paging).toFixed(2),
        goal: '≤ 2×',
      },
      {
        figure: `audit: peak RSS of sf integration audit --json, 50,000-token org (${reported} tokens reported, ${(cli.ms / 1000).toFixed(1)} s)`,
        value: MB(cli.maxRssKb),
        baseline: `sf org display --json ${MB(display.maxRssKb)}`,
        ratio: (cli.maxRssKb / display.maxRssKb).toFixed(2),
        goal: '< 300 MB',
      },
      {
        figure: 'audit: HTML page, 50,000-token org',
        value: `${(pageBytes / 1_048_576).toFixed(2)} MB (peak RSS ${MB(html.maxRssKb)})`,
        baseline: `--json output ${(jsonBytes / 1_048_576).toFixed(2)} MB`,
        ratio: (pageBytes / jsonBytes).toFixed(2),
        goal: 'a page a browser opens (a few MB)',
      },
    ];
  } finally {
    await emu.close();
  }
};

/** Ten orgs of different sizes at once (-o ten times) against the slowest of them alone; medians of three runs. */
const tenOrgsRow = async (dir: string, sf: SfHome): Promise<Row> => {
  const emus = await Promise.all(
    Array.from({ length: 10 }, (_, i) => childEmulator(dir, `org${i + 2}`, orgFixture(i + 2, { seed: i + 2, tokens: 1000 + i * 400, users: 400, connectedApps: 12, externalClientApps: 6, phantomApps: 1 })))
  );
  try {
    const aliases = emus.map((_, i) => `org${i + 2}`);
    for (const [i, emu] of emus.entries()) await login(sf, emu, aliases[i]); // eslint-disable-line no-await-in-loop
    const args = (list: string[]): string[] => ['integration', 'audit', ...list.flatMap((a) => ['--target-org', a]), '--json'];
    const singles: number[] = [];
    for (const alias of aliases) singles.push((await sfMeasured(sf, args([alias]))).ms); // eslint-disable-line no-await-in-loop
    const slowestAlias = aliases[singles.indexOf(Math.max(...singles))];
    const slowestRuns = [Math.max(...singles)];
    for (let i = 0; i < 2; i++) slowestRuns.push((await sfMeasured(sf, args([slowestAlias]))).ms); // eslint-disable-line no-await-in-loop
    const allRuns: number[] = [];
    let orgsSeen = 0;
    for (let i = 0; i < 3; i++) {
      const r = await sfMeasured(sf, args(aliases)); // eslint-disable-line no-await-in-loop
      if (r.code !== 0) throw new Error(`ten-org audit exited ${r.code}`);
      orgsSeen = (JSON.parse(r.stdout) as { result: { orgs: unknown[] } }).result.orgs.length;
      allRuns.push(r.ms);
    }
    const slowest = median(slowestRuns);
    const all = median(allRuns);
    return {
      figure: `audit: ${orgsSeen} orgs at once (1,000 to 4,600 tokens each, real CLI)`,
      value: `${all.toFixed(0)} ms`,
      baseline: `slowest single org (${slowestAlias}) ${slowest.toFixed(0)} ms; the ten one after another ${singles.reduce((a, b) => a + b, 0).toFixed(0)} ms`,
      ratio: (all / slowest).toFixed(2),
      goal: '≈ 1 (≤ 2×)',
    };
  } finally {
    await Promise.all(emus.map((e) => e.close()));
  }
};

export const auditRows = async (): Promise<Row[]> => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-audit-'));
  const sf = await newSfHome();
  try {
    const link = await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install']);
    if (link.code !== 0) throw new Error(`plugins link failed: ${link.stderr}`);
    return [...(await bigOrgRows(dir, sf)), await tenOrgsRow(dir, sf)];
  } finally {
    await sf.dispose();
    await rm(dir, { recursive: true, force: true });
  }
};

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1]);
if (isMain) {
  for (const r of await auditRows()) process.stdout.write(`${r.figure} | ${r.value} | ${r.baseline} | ${r.ratio} | ${r.goal}\n`);
}
