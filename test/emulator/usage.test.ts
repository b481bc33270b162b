/*
 * Connect REST OAuth Usage of External Client Apps on the seed 002 org (scaled to a tenth: Outlook Plugin 24 users,
 * Slack 18, Bob's Lead Scoring Tool 12): listing apps, users and tokens with page/pageSize and nextPageUrl,
 * revoking per token, per user and per app (204, client writes), and the permission gates.
 */
import { expect } from 'chai';
import { seed002Org, SEED_002, type GeneratedOrg } from './fixtures/generate.js';
import { call, count, soql, type Json } from './governance-support.js';
import { USAGE_MODEL } from './usage.js';
import { startEmulator, type Emulator, type Fixture } from './index.js';

const V = '/services/data/v66.0';

/** Sets permissions on the System Administrator profile and the permission set it owns (one thing in a real org). */
const adminPermissions = (fx: Fixture, perms: Record<string, boolean>): void => {
  const admin = fx.records!.Profile.find((p) => p.Name === 'System Administrator')!;
  Object.assign(admin, perms);
  for (const ps of fx.records!.PermissionSet.filter((p) => p.ProfileId === admin.Id)) Object.assign(ps, perms);
};
const USAGE = `${V}/apps/oauth/usage`;

describe('emulator Connect REST OAuth Usage (External Client Apps)', () => {
  let org: GeneratedOrg;
  let emu: Emulator;

  const start = async (edit?: (fx: Fixture) => void): Promise<Emulator> => {
    const fx = structuredClone(org.fixture);
    edit?.(fx);
    emu = await startEmulator({ fixture: fx });
    return emu;
  };
  const slackId = (): string => String(emu.store.all('ExternalClientApplication').find((a) => a.DeveloperName === SEED_002.slack.fullName)!.Id);
  const tokensOf = (label: string): Promise<number> => count(emu, `SELECT COUNT() FROM OauthToken WHERE AppName = '${label.replace(/'/g, "\\'")}'`);

  before(() => {
    org = seed002Org({ scale: 0.1, now: '2026-11-02T09:00:00.000Z' });
  });
  afterEach(async () => emu?.close());

  it('lists the External Client Apps that hold tokens, with currentPageUrl and nextPageUrl', async () => {
    await start();
    const res = await call(emu, 'GET', USAGE);
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({
      currentPageUrl: `${USAGE}?page=0&pageSize=100`,
      nextPageUrl: `${USAGE}?page=1&pageSize=100`,
      apps: [{ developerName: 'Slack', identifier: slackId(), label: 'Slack' }],
    });
    // The next page of the last page is empty, as the guide says.
    expect(((await call(emu, 'GET', `${USAGE}?page=1&pageSize=100`)).body as Json).apps).to.deep.equal([]);
    expect((await call(emu, 'GET', `${V.replace('66.0', '58.0')}/apps/oauth/usage`)).status).to.equal(404);
    expect(emu.log().writes).to.equal(0);
  });

  it("with oauthUsageApps = 'all' lists every External Client App, tokens or not", async () => {
    await start((fx) => void (fx.emulator = { ...fx.emulator, oauthUsageApps: 'all' }));
    const apps = ((await call(emu, 'GET', USAGE)).body as { apps: Json[] }).apps.map((a) => a.developerName);
    expect(apps).to.deep.equal(['HubSpot_Integration', 'Slack']);
  });

  it('lists the users of an app page by page; the last nextPageUrl answers an empty page', async () => {
    await start();
    const users: Json[] = [];
    let url: string | undefined = `${USAGE}/${slackId()}/users?pageSize=5`;
    let pages = 0;
    for (;;) {
      // eslint-disable-next-line no-await-in-loop -- pages follow one another
      const page = (await call(emu, 'GET', url)).body as { users: Json[]; nextPageUrl: string; currentPageUrl: string };
      pages++;
      expect(page.nextPageUrl, 'returned with every page').to.be.a('string');
      if (page.users.length === 0) break;
      users.push(...page.users);
      url = page.nextPageUrl;
    }
    expect(pages).to.equal(Math.ceil(18 / 5) + 1);
    expect(users).to.have.length(18);
    expect(new Set(users.map((u) => u.userIdentifier)).size).to.equal(18);
    const slack = org.apps.find((a) => a.label === 'Slack')!;
    expect(users.map((u) => u.userIdentifier).sort()).to.deep.equal([...slack.userIds].sort());
    expect(Object.keys(users[0])).to.deep.equal(USAGE_MODEL.userFields);
    expect(users[0]).to.include({ accessTokenFormat: 'Opaque', appDeveloperName: 'Slack', appIdentifier: slackId() });
    expect(String(users[0].initialConnectionAt)).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect((await call(emu, 'GET', `${USAGE}/${slackId()}/users?pageSize=0`)).status).to.equal(400);
  });

  it('answers NOT_FOUND for Connected Apps and unknown apps: the usage resources serve External Client Apps only', async () => {
    await start();
    const outlook = String(emu.store.all('ConnectedApplication')[0].Id);
    expect((await call(emu, 'GET', `${USAGE}/${outlook}/users`)).status).to.equal(404);
    expect((await call(emu, 'DELETE', `${USAGE}/${outlook}/tokens`)).status).to.equal(404);
    expect((await call(emu, 'GET', `${USAGE}/Slack/users`)).status, 'the app is named by its Id').to.equal(404);
    expect(await tokensOf(SEED_002.outlook.label)).to.equal(24);
  });

  it("lists a user's tokens and revokes one through its revocationUrl (204, a write)", async () => {
    await start();
    const userId = org.apps.find((a) => a.label === 'Slack')!.userIds[0];
    const list = await call(emu, 'GET', `${USAGE}/${slackId()}/${userId}/tokens`);
    expect(list.status).to.equal(200);
    const [token, ...rest] = (list.body as { tokens: Json[] }).tokens;
    expect(rest).to.have.length(0);
    expect(Object.keys(token).sort()).to.deep.equal(
      ['accessTokenFormat', 'appDeveloperName', 'appIdentifier', 'initialConnectionAt', 'lastUsedAt', 'revocationUrl', 'useCount', 'userIdentifier', 'username'].sort()
    );
    expect(token).to.include({ appIdentifier: slackId(), userIdentifier: userId, username: 'user61@connected.example' });
    expect(String(token.revocationUrl)).to.match(new RegExp(`^${V}/apps/oauth/usage/tokens/0CQ`));
    emu.clearLog();
    const del = await call(emu, 'DELETE', String(token.revocationUrl));
    expect(del.status).to.equal(204);
    expect(emu.log().writes).to.equal(1);
    expect(await tokensOf('Slack')).to.equal(17);
    expect((await call(emu, 'DELETE', String(token.revocationUrl))).status).to.equal(404);
  });

  it("revokes one user's tokens, then all of the app's, and nothing of the other apps", async () => {
    await start();
    const [first, second] = org.apps.find((a) => a.label === 'Slack')!.userIds;
    emu.clearLog();
    expect((await call(emu, 'DELETE', `${USAGE}/${slackId()}/${first}/tokens`)).status).to.equal(204);
    expect(await soql(emu, `SELECT Id FROM OauthToken WHERE AppName = 'Slack' AND UserId = '${first}'`)).to.have.length(0);
    expect(await soql(emu, `SELECT Id FROM OauthToken WHERE AppName = 'Slack' AND UserId = '${second}'`)).to.have.length(1);
    expect((await call(emu, 'DELETE', `${USAGE}/${slackId()}/tokens`)).status).to.equal(204);
    expect(await tokensOf('Slack')).to.equal(0);
    expect(emu.log().writes).to.equal(2);
    // Nothing left to revoke: still 204, no write.
    expect((await call(emu, 'DELETE', `${USAGE}/${slackId()}/tokens`)).status).to.equal(204);
    expect(emu.log().writes).to.equal(2);
    expect(await tokensOf(SEED_002.outlook.label)).to.equal(24);
    expect(await tokensOf(SEED_002.bob.label)).to.equal(12);
    expect(((await call(emu, 'GET', USAGE)).body as Json).apps, 'no usage left').to.deep.equal([]);
  });

  it('needs External Client App Admin to revoke; Viewer may read; others get INSUFFICIENT_ACCESS', async () => {
    await start((fx) => adminPermissions(fx, { PermissionsExternalClientAppAdmin: false, PermissionsExternalClientAppViewer: true }));
    expect((await call(emu, 'GET', `${USAGE}/${slackId()}/users`)).status).to.equal(200);
    const del = await call(emu, 'DELETE', `${USAGE}/${slackId()}/tokens`);
    expect(del.status).to.equal(403);
    expect((del.body as Json[])[0].errorCode).to.equal('INSUFFICIENT_ACCESS');
    await emu.close();
    await start((fx) => adminPermissions(fx, { PermissionsExternalClientAppAdmin: false }));
    expect((await call(emu, 'GET', USAGE)).status).to.equal(403);
    expect(await tokensOf('Slack')).to.equal(18);
  });
});
