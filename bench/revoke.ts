/*
 * Bench row: `sf integration revoke` (the domain call the command makes, in process, so CLI start-up is not in the
 * figure) revoking 10,000 tokens of one app, vs 10,000 no-op requests to the same emulator at the same concurrency,
 * in the same run. Also the requests it took, against the 10,000 a per-token revocation needs at least.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateOrg } from '../test/emulator/fixtures/generate.js';
import { startEmulator } from '../test/emulator/index.js';

type Row = { figure: string; value: string; baseline: string; ratio: string; goal: string };

const ms = (n: number): string => `${n.toFixed(0)} ms`;

export const revokeCommandRow = async (): Promise<Row> => {
  const n = 10_000;
  const concurrency = 8;
  const org = generateOrg({
    users: 5000,
    loginHistory: false,
    frozenEvery: 0,
    inactiveEvery: 0,
    apps: [
      { fullName: 'Bulk_Sync', label: 'Bulk Sync', kind: 'ConnectedApp', users: 5000, tokensPerUser: 2 },
      { fullName: 'Keep_Me', label: 'Keep Me', kind: 'ConnectedApp', users: 500 },
    ],
  });
  const emu = await startEmulator({ fixture: org.fixture });
  const home = process.env.HOME;
  process.env.HOME = await mkdtemp(join(tmpdir(), 'bench-revoke-'));
  try {
    const core = await import('@salesforce/core');
    const authInfo = await core.AuthInfo.create({ accessTokenOptions: { accessToken: emu.accessToken, instanceUrl: emu.instanceUrl, loginUrl: emu.instanceUrl } });
    const sfOrg = await core.Org.create({ connection: await core.Connection.create({ authInfo, connectionOptions: { version: '66.0' } }) });
    const { runRevoke } = await import('../src/revoke/run.js');
    emu.clearLog();
    const t0 = performance.now();
    const { result } = await runRevoke(
      sfOrg,
      {
        selection: { apps: ['Bulk Sync'], users: [], notInstalled: false },
        block: false,
        freezeUser: false,
        deactivateUser: false,
        dryRun: false,
        targetOrg: 'bench',
        concurrency,
        confirm: () => Promise.resolve(true),
      },
      () => []
    );
    const revoke = performance.now() - t0;
    const requests = emu.log().entries.length;
    if (result.summary.revoked !== n) throw new Error(`revoked ${result.summary.revoked} of ${n}`);
    let next = 0;
    const t1 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < n) {
          // eslint-disable-next-line no-await-in-loop
          await (await fetch(`${emu.instanceUrl}/services/data`)).arrayBuffer();
        }
      })
    );
    const noop = performance.now() - t1;
    return {
      figure: `sf integration revoke: ${n.toLocaleString('en-US')} tokens of one app (${concurrency} at once)`,
      value: `${ms(revoke)}, ${requests.toLocaleString('en-US')} requests`,
      baseline: `${n.toLocaleString('en-US')} no-op requests (${concurrency} at once) ${ms(noop)}`,
      ratio: (revoke / noop).toFixed(2),
      goal: `≈ 1-3; requests ≈ ${n.toLocaleString('en-US')} + reads`,
    };
  } finally {
    await rm(String(process.env.HOME), { recursive: true, force: true });
    process.env.HOME = home;
    await emu.close();
  }
};

if (process.argv[1]?.endsWith('bench/revoke.ts')) {
  const row = await revokeCommandRow();
  process.stdout.write(`${JSON.stringify(row)}\n`);
}
