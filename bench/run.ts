/*
 * `npm run bench`: figures measured in one run, each as a ratio to a baseline measured in the same run, so
 * that a slower or faster machine does not change the verdict. A benchmark, not a test: nothing here fails
 * a build. Rows:
 *  - plugin start-up: `sf integration --help` through the linked plugin vs `sf org display --help`;
 *  - emulator paging: every page of 50,000 OauthToken rows vs the same number of no-op requests.
 */
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { startEmulator, type Fixture } from '../test/emulator/index.js';
import { defaultFixture } from '../test/helpers/fixtures.js';
import { newSfHome, PROJECT_ROOT, SF_BIN } from '../test/helpers/sf.js';

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
      figure: `emulator: page 50,000 OauthToken rows (${pages} pages)`,
      value: `${ms(paging)} (${ms(paging / pages)}/page)`,
      baseline: `${pages} no-op requests ${ms(noop)}`,
      ratio: (paging / noop).toFixed(2),
      goal: 'each page well under 1 s',
    };
  } finally {
    await emu.close();
  }
};

const main = async (): Promise<void> => {
  const rows: Row[] = [await startupRow(), await pagingRow()];
  const cols: Array<keyof Row> = ['figure', 'value', 'baseline', 'ratio', 'goal'];
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join(' | ');
  process.stdout.write(`${line(cols)}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}\n`);
  for (const r of rows) process.stdout.write(`${line(cols.map((c) => r[c]))}\n`);
};

await main();
