/*
 * `npm run bench`: figures measured in one run, each as a ratio to a baseline measured in the same run, so
 * that a slower or faster machine does not change the verdict. A benchmark, not a test: nothing here fails
 * a build. Rows:
 *  - installed-plugin tax: the CPU of `sf org list --help` with the plugin installed from its tarball (as users
 *    install it, with its generated oclif.manifest.json) vs the same CLI without it, median of paired runs;
 *  - plugin start-up: `sf integration --help` through the linked plugin vs `sf org display --help`;
 *  - emulator paging: every page a query on 50,000 OauthToken rows answers (500 rows a page, none after 2,500:
 *    Object Reference, OauthToken) vs the same number of no-op requests;
 *  - emulator revoking: 2,000 DeleteTokens of a generated 50,000-token org, one request each, vs 2,000 no-op requests;
 *  - key + certificate generation vs `openssl req -x509 -newkey rsa:2048 -nodes` (bench/credentials.ts);
 *  - round trips of a fresh JWT create with verification, and of a no-op re-run (writes);
 *  - round trips of doctor without live checks, with the number of checks it ran;
 *  - doctor over 5 orgs at once vs the slowest of the 5 alone;
 *  - sf integration revoke of 10,000 tokens vs 10,000 no-op requests at the same concurrency (bench/revoke.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { generateOrg } from '../test/emulator/fixtures/generate.js';
import { startEmulator, type Fixture } from '../test/emulator/index.js';
import { defaultFixture } from '../test/helpers/fixtures.js';
import { installPlugin, packPlugin } from '../test/helpers/pack.js';
import { newSfHome, PROJECT_ROOT, SF_BIN, type SfHome } from '../test/helpers/sf.js';
import { credentialsRow } from './credentials.js';
import { revokeCommandRow } from './revoke.js';
import { auditRows } from './audit.js';

const exec = promisify(execFile);

type Row = { figure: string; value: string; baseline: string; ratio: string; goal: string };

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const timeRuns = async (runs: number, fn: () => Promise<unknown>): Promise<number> => {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    // eslint-disable-next-line no-await-in-loop
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
};

const ms = (n: number): string => `${n.toFixed(1)} ms`;

/**
 * CPU (user + system) of the children this process has waited for, in ms: Linux adds a reaped child's times to
 * the parent's cutime and cstime (/proc/self/stat fields 16 and 17, in clock ticks).
 */
const childCpuMs = async (tick: number): Promise<number> => {
  const stat = await readFile('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / tick;
};

const installTaxRow = async (): Promise<Row> => {
  const work = await mkdtemp(join(tmpdir(), 'bench-pack-'));
  const withPlugin = await newSfHome();
  const without = await newSfHome();
  try {
    await installPlugin(withPlugin, await packPlugin(work));
    const tick = Number((await exec('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
    const cpuOf = async (sf: SfHome): Promise<number> => {
      const before = await childCpuMs(tick);
      await exec(SF_BIN, ['org', 'list', '--help'], { env: sf.env, cwd: sf.home });
      return (await childCpuMs(tick)) - before;
    };
    await cpuOf(withPlugin); // first runs fill each HOME's caches
    await cpuOf(without);
    const pairs: Array<{ with: number; without: number }> = [];
    for (let i = 0; i < 11; i++) {
      // Alternate which side goes first so that drift in the machine's load cancels out.
      /* eslint-disable no-await-in-loop */
      const first = i % 2 === 0 ? await cpuOf(withPlugin) : await cpuOf(without);
      const second = i % 2 === 0 ? await cpuOf(without) : await cpuOf(withPlugin);
      /* eslint-enable no-await-in-loop */
      pairs.push(i % 2 === 0 ? { with: first, without: second } : { with: second, without: first });
    }
    return {
      figure: 'installed-plugin tax: `sf org list --help` with vs without the plugin installed from its tarball, CPU median',
      value: `${ms(median(pairs.map((p) => p.with)))} CPU`,
      baseline: `without the plugin ${ms(median(pairs.map((p) => p.without)))} CPU`,
      ratio: median(pairs.map((p) => p.with / p.without)).toFixed(2),
      goal: '≤ 1.05',
    };
  } finally {
    await Promise.all([withPlugin.dispose(), without.dispose(), rm(work, { recursive: true, force: true })]);
  }
};

const startupRow = async (): Promise<Row> => {
  const sf = await newSfHome();
  try {
    const link = await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install']);
    if (link.code !== 0) throw new Error(`sf plugins link failed: ${link.stderr}`);
    const run = (args: string[]) => () => exec(SF_BIN, args, { env: sf.env, cwd: sf.home });
    await run(['integration', '--help'])(); // warm the manifest cache once for both
    const plugin = await timeRuns(5, run(['integration', '--help']));
    const baseline = await timeRuns(5, run(['org', 'display', '--help']));
    return {
      figure: 'start-up: sf integration --help',
      value: ms(plugin),
      baseline: `sf org display --help ${ms(baseline)}`,
      ratio: (plugin / baseline).toFixed(2),
      goal: '≈ 1',
    };
  } finally {
    await sf.dispose();
  }
};

const oauthTokenFixture = (tokens: number, users: number): Fixture => {
  const fx = defaultFixture();
  const profileId = String(fx.records!.Profile.find((p) => p.Name === 'Standard User')!.Id);
  const userRows = Array.from({ length: users }, (_, i) => ({
    Username: `user${i}@scale.example`,
    LastName: `User ${i}`,
    Email: `user${i}@scale.example`,
    Alias: `u${i}`.slice(0, 8),
    TimeZoneSidKey: 'America/Los_Angeles',
    LocaleSidKey: 'en_US',
    EmailEncodingKey: 'UTF-8',
    LanguageLocaleKey: 'en_US',
    ProfileId: profileId,
    IsActive: false,
  }));
  fx.records!.User.push(...userRows);
  fx.records!.OauthToken = Array.from({ length: tokens }, (_, i) => ({
    AppName: `App ${i % 40}`,
    UseCount: i % 97,
    LastUsedDate: '2026-11-01T00:00:00.000+0000',
    CreatedDate: '2026-01-01T00:00:00.000+0000',
    DeleteToken: `del${i}`,
  }));
  return fx;
};

const pagingRow = async (): Promise<Row> => {
  const emu = await startEmulator({ fixture: oauthTokenFixture(50_000, 5000) });
  const headers = { authorization: `Bearer ${emu.accessToken}` };
  try {
    const pageAll = async (): Promise<number> => {
      let url = `${emu.instanceUrl}/services/data/v66.0/query?q=${encodeURIComponent('SELECT AppName, UseCount, LastUsedDate, DeleteToken FROM OauthToken')}`;
      let pages = 0;
      for (;;) {
        // eslint-disable-next-line no-await-in-loop
        const body = (await (await fetch(url, { headers })).json()) as { done: boolean; nextRecordsUrl?: string; records: unknown[] };
        pages++;
        if (body.done || !body.nextRecordsUrl) return pages;
        url = `${emu.instanceUrl}${body.nextRecordsUrl}`;
      }
    };
    const pages = await pageAll();
    const paging = await timeRuns(3, pageAll);
    const noop = await timeRuns(3, async () => {
      for (let i = 0; i < pages; i++) {
        // eslint-disable-next-line no-await-in-loop
        await (await fetch(`${emu.instanceUrl}/services/data`)).arrayBuffer();
      }
    });
    return {
      figure: `emulator: query 50,000 OauthToken rows (${pages} pages, capped at 2,500)`,
      value: `${ms(paging)} (${ms(paging / pages)}/page)`,
      baseline: `${pages} no-op requests ${ms(noop)}`,
      ratio: (paging / noop).toFixed(2),
      goal: 'each page well under 1 s',
    };
  } finally {
    await emu.close();
  }
};

/** Revocation must cost the same in a 50,000-token org as a request that does nothing (the tokens are indexed). */
const revokeRow = async (): Promise<Row> => {
  const org = generateOrg({ users: 5000, tokens: 50_000, connectedApps: 150, externalClientApps: 140, phantomApps: 10, loginHistory: false });
  const emu = await startEmulator({ fixture: org.fixture });
  const n = 2000;
  try {
    const tokens = org.fixture.records!.OauthToken.slice(0, n).map((t) => String(t.DeleteToken));
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    const t0 = performance.now();
    for (const token of tokens) {
      // eslint-disable-next-line no-await-in-loop -- one revocation after another, as a client sends them
      const res = await fetch(`${emu.instanceUrl}/services/oauth2/revoke`, { method: 'POST', headers, body: new URLSearchParams({ token }).toString() });
      if (res.status !== 200) throw new Error(`revoke answered ${res.status}`);
    }
    const revoke = performance.now() - t0;
    const noop = await timeRuns(1, async () => {
      for (let i = 0; i < n; i++) {
        // eslint-disable-next-line no-await-in-loop
        await (await fetch(`${emu.instanceUrl}/services/data`)).arrayBuffer();
      }
    });
    return {
      figure: `emulator: revoke ${n.toLocaleString('en-US')} of 50,000 tokens by DeleteToken`,
      value: ms(revoke),
      baseline: `${n} no-op requests ${ms(noop)}`,
      ratio: (revoke / noop).toFixed(2),
      goal: '≈ 1 (constant cost per token)',
    };
  } finally {
    await emu.close();
  }
};

/** An emulated org with its own org Id and admin (the CLI keys logins by username), logged in as `alias`. */
const orgFor = async (sf: SfHome, n: number): Promise<{ emu: Awaited<ReturnType<typeof startEmulator>>; alias: string }> => {
  const fx = defaultFixture();
  fx.records!.Organization[0].Id = `00DEm000000000${n}MAA`;
  fx.records!.User[0].Username = `admin@org${n}.example`;
  const emu = await startEmulator({ fixture: fx });
  const alias = `org${n}`;
  const login = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', alias], { SF_ACCESS_TOKEN: emu.accessToken });
  if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
  return { emu, alias };
};

const createArgs = (alias: string, dir: string): string[] => ['integration', 'create', '--target-org', alias, '--name', 'HubSpot', '--object', 'Account=read,edit', '--output-dir', dir];

/** Round trips of create and doctor, and doctor over 5 orgs against the slowest single org. */
const orgRows = async (): Promise<Row[]> => {
  const sf = await newSfHome();
  const orgs: Array<Awaited<ReturnType<typeof orgFor>>> = [];
  try {
    await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install']);
    for (let n = 1; n <= 5; n++) orgs.push(await orgFor(sf, n)); // eslint-disable-line no-await-in-loop
    const [first] = orgs;
    first.emu.clearLog();
    const created = await sf.run(createArgs(first.alias, `${sf.home}/org1`));
    if (created.code !== 0) throw new Error(`create failed: ${created.stdout}`);
    const fresh = first.emu.log();
    first.emu.clearLog();
    await sf.run(createArgs(first.alias, `${sf.home}/org1`));
    const rerun = first.emu.log();
    for (const o of orgs.slice(1)) await sf.run(createArgs(o.alias, `${sf.home}/${o.alias}`)); // eslint-disable-line no-await-in-loop

    first.emu.clearLog();
    const one = await sf.json<{ result: { reports: Array<{ checks: unknown[] }> } }>(['integration', 'doctor', '--target-org', first.alias, '--name', 'HubSpot_Integration']);
    const doctorTrips = first.emu.log().entries.length;
    const checks = one.body.result.reports[0].checks.length;

    const doctorArgs = (aliases: string[]): string[] => ['integration', 'doctor', ...aliases.flatMap((a) => ['--target-org', a]), '--name', 'HubSpot_Integration', '--json'];
    const singles: number[] = [];
    for (const o of orgs) singles.push(await timeRuns(3, () => sf.run(doctorArgs([o.alias])))); // eslint-disable-line no-await-in-loop
    const slowest = Math.max(...singles);
    const all = await timeRuns(3, () => sf.run(doctorArgs(orgs.map((o) => o.alias))));
    return [
      {
        figure: 'create: round trips, fresh JWT create + verification',
        value: `${fresh.entries.length} requests (${fresh.writes} writes)`,
        baseline: '10 requests',
        ratio: (fresh.entries.length / 10).toFixed(2),
        goal: '≤ 1 (≤ 10 round trips)',
      },
      {
        figure: 'create: round trips, no-op re-run',
        value: `${rerun.entries.length} requests (${rerun.writes} writes)`,
        baseline: `fresh create ${fresh.entries.length} requests`,
        ratio: (rerun.entries.length / fresh.entries.length).toFixed(2),
        goal: 'reads only (0 writes)',
      },
      {
        figure: `doctor: round trips without live checks (${checks} checks)`,
        value: `${doctorTrips} requests`,
        baseline: '4 requests',
        ratio: (doctorTrips / 4).toFixed(2),
        goal: '≤ 1 (≤ 4 round trips)',
      },
      {
        figure: 'doctor: 5 orgs at once',
        value: ms(all),
        baseline: `slowest single org ${ms(slowest)}`,
        ratio: (all / slowest).toFixed(2),
        goal: '≈ 1',
      },
    ];
  } finally {
    await Promise.all(orgs.map((o) => o.emu.close()));
    await sf.dispose();
  }
};

const main = async (): Promise<void> => {
  const rows: Row[] = [await installTaxRow(), await startupRow(), await pagingRow(), await revokeRow(), await credentialsRow(), ...(await orgRows()), await revokeCommandRow(), ...(await auditRows())];
  const cols: Array<keyof Row> = ['figure', 'value', 'baseline', 'ratio', 'goal'];
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join(' | ');
  process.stdout.write(`${line(cols)}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}\n`);
  for (const r of rows) process.stdout.write(`${line(cols.map((c) => r[c]))}\n`);
};

await main();
