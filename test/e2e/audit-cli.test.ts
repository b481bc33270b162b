/*
 * `sf integration audit` through the real sf CLI against the seed 002 org in the emulator: JSON keys, Bob's Lead
 * Scoring Tool with 12 connected users flagged unused, human tables, CSV files, --fail-on, --baseline, zero writes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import type { AuditResult } from '../../src/audit/types.js';
import { generateOrg, seed002Org, SEED_002 } from '../emulator/fixtures/generate.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { newSfHome, PROJECT_ROOT, type SfHome } from '../helpers/sf.js';

type Envelope<T> = { status: number; result?: T; name?: string; message?: string };

describe('sf integration audit (real CLI, emulator)', function () {
  this.timeout(600_000);
  let emu: Emulator;
  let sf: SfHome;

  before(async () => {
    emu = await startEmulator({ fixture: seed002Org({ scale: 0.25 }).fixture });
    sf = await newSfHome();
    expect((await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install'])).code).to.equal(0);
    const login = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', 'emu'], { SF_ACCESS_TOKEN: emu.accessToken });
    expect(login.code, login.stderr).to.equal(0);
    emu.clearLog();
  });

  after(async () => {
    await emu?.close();
    await sf?.dispose();
  });

  it("--json lists Bob's Lead Scoring Tool with 12 connected users and flags it unused; nothing written, no DeleteToken", async () => {
    const r = await sf.json<Envelope<AuditResult>>(['integration', 'audit', '--target-org', 'emu']);
    expect(r.code, r.stdout).to.equal(0);
    const result = r.body.result!;
    for (const key of ['apps', 'identities', 'connectedUsers', 'findings']) expect(result).to.have.property(key);
    const bob = result.apps.find((a) => a.label === SEED_002.bob.label);
    expect(bob?.connectedUsers).to.equal(12);
    expect(result.findings.some((f) => f.id === 'AUD-APP-UNUSED' && f.subject === SEED_002.bob.label && f.nhi.includes('NHI1'))).to.equal(true);
    for (const f of result.findings) expect(f).to.include.keys('id', 'severity', 'nhi', 'subject', 'fix');
    for (const row of emu.store.all('OauthToken').slice(0, 50)) expect(r.stdout).to.not.include(String(row.DeleteToken));
    expect(emu.log().writes).to.equal(0);
    await writeFile(join(sf.home, 'baseline.json'), r.stdout);
  });

  it('human output: summary, findings with fixes, apps; CSV files; --fail-on and --baseline', async () => {
    const human = await sf.run(['integration', 'audit', '--target-org', 'emu']);
    expect(human.code, human.stderr).to.equal(0);
    expect(human.stdout).to.match(/Findings: \d+ high/);
    expect(human.stdout).to.include(SEED_002.bob.label);
    expect(human.stdout).to.include('sf integration revoke --app');

    const dir = join(sf.home, 'csv');
    const csv = await sf.run(['integration', 'audit', '--target-org', 'emu', '--result-format', 'csv', '--output-dir', dir]);
    expect(csv.code, csv.stderr).to.equal(0);
    const apps = await readFile(join(dir, 'apps.csv'), 'utf8');
    expect(apps.split('\r\n')[0]).to.match(/^org,label,name,kind/);
    expect(apps).to.include(SEED_002.bob.label);
    expect(await readFile(join(dir, 'connected-users.csv'), 'utf8')).to.include(SEED_002.bob.label);

    expect((await sf.run(['integration', 'audit', '--target-org', 'emu', '--fail-on', 'high'])).code).to.equal(1);
    const same = await sf.json<Envelope<AuditResult>>(['integration', 'audit', '--target-org', 'emu', '--baseline', join(sf.home, 'baseline.json'), '--fail-on', 'new']);
    expect(same.code, same.stdout).to.equal(0);
    expect(same.body.result!.findings.some((f) => f.isNew)).to.equal(false);
    const bad = await sf.run(['integration', 'audit', '--target-org', 'emu', '--fail-on', 'new']);
    expect(bad.code).to.equal(2);
    expect(emu.log().writes).to.equal(0);
  });
});

describe('sf integration audit on 6,000 tokens (real CLI, emulator)', function () {
  this.timeout(600_000);
  let emu: Emulator;
  let sf: SfHome;

  after(async () => {
    await emu?.close();
    await sf?.dispose();
  });

  it('an org with 6,000 tokens, 3,000 of them sharing one CreatedDate across the 2,500-row cap, reports 6,000 tokens', async () => {
    const org = generateOrg({ tokens: 6000, users: 500, connectedApps: 10, externalClientApps: 5, phantomApps: 2, sharedCreatedDate: { tokens: 3000 } });
    emu = await startEmulator({ fixture: org.fixture });
    sf = await newSfHome();
    expect((await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install'])).code).to.equal(0);
    const login = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', 'big'], { SF_ACCESS_TOKEN: emu.accessToken });
    expect(login.code, login.stderr).to.equal(0);
    emu.clearLog();
    const r = await sf.json<Envelope<AuditResult>>(['integration', 'audit', '--target-org', 'big']);
    expect(r.code, r.stdout).to.equal(0);
    const result = r.body.result!;
    expect(result.orgs[0].summary.tokens).to.equal(6000);
    expect(result.apps.reduce((n, a) => n + a.tokens, 0)).to.equal(6000);
    // Per app, exactly the tokens the org holds: none lost or counted twice at the shared CreatedDate.
    const byLabel = Object.fromEntries(result.apps.map((a) => [a.label, a.tokens]));
    expect(byLabel).to.deep.equal(Object.fromEntries(org.apps.map((a) => [a.label, a.tokens])));
    expect(result.connectedUsers.reduce((n, c) => n + c.tokens, 0)).to.equal(6000);
    const keyset = emu.log().entries.filter((e) => (e.soql ?? '').includes('FROM OauthToken') && (e.soql ?? '').includes('CreatedDate ='));
    expect(keyset.length, 'the token read went past the row cap by keyset queries').to.be.at.least(2);
    expect(emu.log().writes).to.equal(0);
  });
});
