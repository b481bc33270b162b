/*
 * Bench rows of `sf integration audit`: the whole audit of an org with 50,000 OauthTokens, 5,000 users and 300 apps
 * against paging its 50,000 tokens alone in the same run (goal ≤ 2×), its round trips, and the peak RSS of this
 * process (emulator included, so an upper bound; goal < 300 MB).
 */
import { performance } from 'node:perf_hooks';
import { buildAudit } from '../src/audit/findings.js';
import { readInventory } from '../src/org/inventory.js';
import { readOauthTokens } from '../src/org/tokens.js';
import { Transport } from '../src/org/transport.js';
import { generateOrg } from '../test/emulator/fixtures/generate.js';
import { startEmulator } from '../test/emulator/index.js';

type Row = { figure: string; value: string; baseline: string; ratio: string; goal: string };

export const auditRows = async (): Promise<Row[]> => {
  const org = generateOrg({ tokens: 50_000, users: 5000, connectedApps: 200, externalClientApps: 90, phantomApps: 10, sharedCreatedDate: { tokens: 3000 } });
  const emu = await startEmulator({ fixture: org.fixture });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
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
    return [
      {
        figure: `audit: 50,000 tokens, 5,000 users, 300 apps (${audit.summary.tokens} tokens, ${audit.findings.length} findings)`,
        value: `${whole.toFixed(0)} ms, ${auditT.roundTrips} round trips`,
        baseline: `paging ${tokens.length} tokens alone ${paging.toFixed(0)} ms, ${pagingT.roundTrips} round trips`,
        ratio: (whole / paging).toFixed(2),
        goal: '≤ 2×',
      },
      { figure: 'audit: peak RSS (this process, emulator included)', value: `${(peak / 1048576).toFixed(0)} MB`, baseline: '-', ratio: '-', goal: '< 300 MB' },
    ];
  } finally {
    clearInterval(sampler);
    await emu.close();
  }
};
