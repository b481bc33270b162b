/*
 * The audit's read and findings on the seed 002 org (Outlook Plugin, Slack, Bob's Lead Scoring Tool with 12 users
 * last used over a year ago) in the emulator, without the CLI: counts, Bob's tool flagged unused, no DeleteToken in
 * the result, nothing written.
 */
import { expect } from 'chai';
import { buildAudit } from '../../src/audit/findings.js';
import { readInventory } from '../../src/org/inventory.js';
import { Transport } from '../../src/org/transport.js';
import { generateOrg, seed002Org, SEED_002 } from '../emulator/fixtures/generate.js';
import { startEmulator, type Emulator } from '../emulator/index.js';

const NOW = '2026-11-02T09:00:00.000Z';

describe('audit read and findings (emulator)', function () {
  this.timeout(300_000);
  let emu: Emulator | undefined;
  after(async () => emu?.close());

  it("lists seed 002's apps with their connected users and flags Bob's Lead Scoring Tool", async () => {
    const org = seed002Org({ now: NOW, scale: 0.25 });
    emu = await startEmulator({ fixture: org.fixture });
    const { AuthInfo, Connection } = await import('@salesforce/core');
    const authInfo = await AuthInfo.create({ accessTokenOptions: { accessToken: emu.accessToken, instanceUrl: emu.instanceUrl, loginUrl: emu.instanceUrl } });
    const transport = new Transport(await Connection.create({ authInfo, connectionOptions: { version: '66.0' } }));
    const inv = await readInventory(transport);
    expect(inv.readFailures).to.deep.equal([]);
    const audit = buildAudit('emu', inv, { unusedDays: 90, maxCredentialAgeDays: 365, now: new Date(NOW) });
    const bob = audit.apps.find((a) => a.label === SEED_002.bob.label);
    expect(bob).to.include({ connectedUsers: 12, tokens: 12, installed: true, kind: 'connected-app' });
    expect(audit.apps.find((a) => a.label === 'Slack')).to.include({ kind: 'external-client-app', connectedUsers: 45 });
    expect(audit.apps.find((a) => a.label === SEED_002.outlook.label)?.connectedUsers).to.equal(60);
    const unused = audit.findings.filter((f) => f.id === 'AUD-APP-UNUSED').map((f) => f.subject);
    expect(unused).to.deep.equal([SEED_002.bob.label]);
    expect(audit.connectedUsers.filter((c) => c.app === SEED_002.bob.label)).to.have.length(12);
    expect(audit.identities.map((i) => i.username)).to.include(org.integration!.username);
    expect(audit.summary.tokens).to.equal(org.tokens);
    expect(transport.roundTrips, 'one batch, Connected App reads, one retrieve, token pages').to.be.at.most(12);
    const text = JSON.stringify(audit);
    for (const row of emu.store.all('OauthToken').slice(0, 100)) expect(text).to.not.include(String(row.DeleteToken));
    expect(emu.log().writes).to.equal(0);
  });

  it('an org with 6,000 tokens (3,000 sharing one CreatedDate) reports 6,000 tokens', async () => {
    await emu?.close();
    const org = generateOrg({ now: NOW, tokens: 6000, users: 500, connectedApps: 10, externalClientApps: 5, phantomApps: 2, sharedCreatedDate: { tokens: 3000 } });
    emu = await startEmulator({ fixture: org.fixture });
    const { AuthInfo, Connection } = await import('@salesforce/core');
    const authInfo = await AuthInfo.create({ accessTokenOptions: { accessToken: emu.accessToken, instanceUrl: emu.instanceUrl, loginUrl: emu.instanceUrl } });
    const transport = new Transport(await Connection.create({ authInfo, connectionOptions: { version: '66.0' } }));
    const audit = buildAudit('emu', await readInventory(transport), { unusedDays: 90, maxCredentialAgeDays: 365, now: new Date(NOW) });
    expect(audit.summary.tokens).to.equal(6000);
    expect(audit.apps.reduce((n, a) => n + a.tokens, 0)).to.equal(6000);
    expect(audit.apps.filter((a) => !a.installed)).to.have.length(2);
    expect(emu.log().writes).to.equal(0);
  });
});
