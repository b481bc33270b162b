/*
 * The fixture generator: the seed 002 org at full size (Outlook Plugin 240 connected users, Slack 180, Bob's Lead
 * Scoring Tool 12 last used long ago, the integration beside them), reproducible orgs, and a 50,000-token org with
 * 5,000 users and 300 apps of both kinds (phantom apps and a block of tokens sharing one CreatedDate included) that the
 * emulator loads, queries, lists and revokes in.
 */
import { expect } from 'chai';
import { generateOrg, seed002Org, SEED_002 } from './fixtures/generate.js';
import { call, count, soql, type Json } from './governance-support.js';
import { startEmulator, type Emulator } from './index.js';

const NOW = '2026-11-02T09:00:00.000Z';
const DAY = 86_400_000;

describe('emulator fixture generator', () => {
  let emu: Emulator | undefined;
  afterEach(async () => {
    await emu?.close();
    emu = undefined;
  });

  it("builds seed 002's org: 240 users on Outlook Plugin, 180 on Slack, 12 on Bob's Lead Scoring Tool, and the integration", async () => {
    const org = seed002Org({ now: NOW });
    emu = await startEmulator({ fixture: org.fixture });
    const perApp = await soql(emu, 'SELECT AppName, COUNT_DISTINCT(UserId) users, MAX(LastUsedDate) lastUsed FROM OauthToken GROUP BY AppName ORDER BY AppName');
    expect(perApp.map((r) => [r.AppName, r.users])).to.deep.equal([
      [SEED_002.bob.label, 12],
      [SEED_002.outlook.label, 240],
      [SEED_002.slack.label, 180],
    ]);
    const bobLastUsed = Date.parse(String(perApp[0].lastUsed).replace('+0000', 'Z'));
    expect(Date.parse(NOW) - bobLastUsed, "Bob's tool: last used over a year ago").to.be.greaterThan(365 * DAY);
    for (const row of perApp.slice(1)) expect(Date.parse(NOW) - Date.parse(String(row.lastUsed).replace('+0000', 'Z'))).to.be.lessThan(15 * DAY);

    // Connected App tokens point at the app's AppMenuItem; the Slack External Client App's do not.
    const outlook = await soql(emu, `SELECT AppMenuItem.ApplicationId, AppMenuItem.IsUsingAdminAuthorization, AppMenuItem.IsVisible FROM OauthToken WHERE AppName = '${SEED_002.outlook.label}' LIMIT 1`);
    const ca = await soql(emu, 'SELECT Id FROM ConnectedApplication');
    expect(ca.map((r) => r.Id)).to.include((outlook[0].AppMenuItem as Json).ApplicationId);
    expect(outlook[0].AppMenuItem).to.include({ IsUsingAdminAuthorization: false, IsVisible: true });
    expect(await count(emu, "SELECT COUNT() FROM OauthToken WHERE AppName = 'Slack' AND AppMenuItemId = null")).to.equal(180);

    // Bob owns his tool and has left; the integration set up beside them is there.
    const [bob] = await soql(emu, "SELECT IsActive FROM User WHERE Username = 'bob.builder@emulated-org.example'");
    expect(bob.IsActive).to.equal(false);
    expect(emu.store.getMetadata('ConnectedApp', SEED_002.bob.fullName)?.contactEmail).to.equal('bob.builder@emulated-org.example');
    expect(await count(emu, `SELECT COUNT() FROM User WHERE Username = '${org.integration!.username}'`)).to.equal(1);
    expect(await count(emu, "SELECT COUNT() FROM LoginHistory WHERE LoginType = 'Remote Access 2.0'")).to.equal(432);
    expect(await count(emu, 'SELECT COUNT() FROM UserLogin WHERE IsFrozen = true')).to.be.greaterThan(0);
    expect(emu.log().writes).to.equal(0);
  });

  it('scales Outlook and Slack down and keeps Bob at 12; the same seed and now give the same org', () => {
    const small = seed002Org({ scale: 0.1, now: NOW });
    expect(small.apps.map((a) => [a.label, a.userIds.length])).to.deep.equal([
      [SEED_002.outlook.label, 24],
      [SEED_002.slack.label, 18],
      [SEED_002.bob.label, 12],
    ]);
    expect(seed002Org({ scale: 0.1, now: NOW }).fixture).to.deep.equal(small.fixture);
    expect(generateOrg({ seed: 3, now: NOW, tokens: 200 }).fixture.records!.OauthToken).to.not.deep.equal(generateOrg({ seed: 4, now: NOW, tokens: 200 }).fixture.records!.OauthToken);
  });

  it('serves a 50,000-token org with 5,000 users and 300 apps: counts, shared CreatedDate, phantom apps, usage and revoke', async () => {
    const org = generateOrg({
      now: NOW,
      users: 5000,
      tokens: 50_000,
      connectedApps: 150,
      externalClientApps: 140,
      phantomApps: 10,
      sharedCreatedDate: { tokens: 1200, at: '2026-05-01T00:00:00.000+0000' },
      loginHistory: false,
    });
    expect(org.tokens).to.equal(50_000);
    expect(org.apps).to.have.length(300);
    emu = await startEmulator({ fixture: org.fixture });
    expect(await count(emu, 'SELECT COUNT() FROM OauthToken')).to.equal(50_000);
    expect(await count(emu, 'SELECT COUNT() FROM OauthToken WHERE CreatedDate = 2026-05-01T00:00:00.000Z')).to.equal(1200);
    const phantom = org.apps.filter((a) => a.kind === 'phantom').reduce((n, a) => n + a.tokens, 0);
    expect(await count(emu, "SELECT COUNT() FROM OauthToken WHERE AppMenuItemId = null AND AppName LIKE 'Uninstalled App%'")).to.equal(phantom);
    expect(await count(emu, "SELECT COUNT() FROM OauthToken WHERE AppMenuItemId != null AND AppName LIKE 'Connected App%'")).to.equal(
      org.apps.filter((a) => a.kind === 'ConnectedApp').reduce((n, a) => n + a.tokens, 0)
    );

    const eca = org.apps.find((a) => a.kind === 'ExternalClientApplication')!;
    const ecaId = String(emu.store.all('ExternalClientApplication').find((r) => r.DeveloperName === eca.fullName)!.Id);
    const users = (await call(emu, 'GET', `/services/data/v66.0/apps/oauth/usage/${ecaId}/users?pageSize=2000`)).body as { users: Json[] };
    expect(users.users).to.have.length(new Set(eca.userIds).size);
    expect(((await call(emu, 'GET', '/services/data/v66.0/apps/oauth/usage?pageSize=200')).body as { apps: Json[] }).apps).to.have.length(140);

    const deleteTokens = (await soql(emu, "SELECT DeleteToken FROM OauthToken WHERE AppName = 'Connected App 0'")).map((r) => String(r.DeleteToken));
    expect(deleteTokens.length).to.be.greaterThan(100);
    emu.clearLog();
    for (const t of deleteTokens) {
      // eslint-disable-next-line no-await-in-loop -- one revocation per token, as a client revokes them
      const res = await call(emu, 'POST', '/services/oauth2/revoke', { token: null, form: { token: t } });
      expect(res.status).to.equal(200);
    }
    expect(emu.log().writes).to.equal(deleteTokens.length);
    expect(await count(emu, 'SELECT COUNT() FROM OauthToken')).to.equal(50_000 - deleteTokens.length);
    expect(await count(emu, "SELECT COUNT() FROM OauthToken WHERE AppName = 'Connected App 0'")).to.equal(0);
  });
});
