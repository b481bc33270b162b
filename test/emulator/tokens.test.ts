/*
 * OAuth tokens as the org keeps them: the web server flow writes OauthToken rows and issues refresh tokens; the
 * refresh grant reuses them; POST /services/oauth2/revoke takes access tokens, refresh tokens and DeleteTokens;
 * UserLogin.IsFrozen stops logins; whether JWT bearer / client credentials leave rows is a fixture setting, tested
 * both ways. A client nobody here wrote (jsforce's OAuth2) runs the same flow.
 */
/* eslint-disable camelcase -- OAuth wire names */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { makeKeyPair, type TestKeyPair } from '../helpers/credentials.js';
import { integrationFixture, type IntegrationFixture } from '../helpers/fixtures.js';
import { advance, call, count, jwtLogin, soql, webServerLogin, type Json } from './governance-support.js';
import { REVOKE_REFUSALS } from './revoke.js';
import { TOKEN_MODEL } from './tokens.js';
import { startEmulator, type Emulator, type Fixture } from './index.js';

const NOW = '2026-11-02T09:00:00.000Z';
const OUTLOOK = { key: `3MVG9${'o'.repeat(30)}OutlookPlugin`, secret: 'A1'.repeat(32), label: 'Outlook Plugin' };
const PAT = 'pat.person@emulated-org.example';

describe('emulator OAuth tokens: OauthToken rows, refresh tokens, revoke, frozen users', () => {
  let keys: TestKeyPair;
  let integ: IntegrationFixture;
  let emu: Emulator;

  const fixture = (settings: Record<string, unknown> = {}): Fixture => {
    integ = integrationFixture({ certificatePem: keys.certificatePem, clientCredentials: true });
    const fx = integ.fixture;
    const standard = fx.records!.Profile.find((p) => p.Name === 'Standard User')!;
    fx.records!.User.push({
      Username: PAT,
      FirstName: 'Pat',
      LastName: 'Person',
      Email: PAT,
      Alias: 'pperson',
      TimeZoneSidKey: 'America/Los_Angeles',
      LocaleSidKey: 'en_US',
      EmailEncodingKey: 'UTF-8',
      LanguageLocaleKey: 'en_US',
      ProfileId: standard.Id,
      IsActive: true,
    });
    fx.metadata!.ConnectedApp = [
      {
        fullName: 'Outlook_Plugin',
        label: OUTLOOK.label,
        contactEmail: 'it@emulated-org.example',
        oauthConfig: { callbackUrl: 'https://app.example/cb', consumerKey: OUTLOOK.key, consumerSecret: OUTLOOK.secret, isAdminApproved: 'false', scopes: ['Api', 'RefreshToken'] },
        oauthPolicy: { ipRelaxation: 'BYPASS', refreshTokenPolicy: 'infinite' },
      },
    ];
    fx.emulator = { ...fx.emulator, now: NOW, ...settings };
    return fx;
  };

  const start = async (settings: Record<string, unknown> = {}): Promise<Emulator> => {
    emu = await startEmulator({ fixture: fixture(settings) });
    return emu;
  };

  const approve = async (username = PAT): Promise<{ access: string; refresh: string }> => {
    const res = await webServerLogin(emu, OUTLOOK, username);
    expect(res.status, res.text).to.equal(200);
    const body = res.body as Json;
    return { access: String(body.access_token), refresh: String(body.refresh_token) };
  };

  const refresh = (token: string): ReturnType<typeof call> =>
    call(emu, 'POST', '/services/oauth2/token', { token: null, form: { grant_type: 'refresh_token', refresh_token: token, client_id: OUTLOOK.key, client_secret: OUTLOOK.secret } });

  const revoke = (token: string, extra: Record<string, string> = {}): ReturnType<typeof call> =>
    call(emu, 'POST', '/services/oauth2/revoke', { token: null, form: { token, ...extra } });

  const restAs = (token: string): ReturnType<typeof call> => call(emu, 'GET', '/services/data/v66.0/sobjects/Account/describe', { token });

  const outlookRows = (): Promise<Json[]> =>
    soql(emu, `SELECT Id, AppName, AppMenuItemId, AppMenuItem.ApplicationId, AppMenuItem.Name, User.Username, UseCount, CreatedDate, LastUsedDate, DeleteToken, AccessToken FROM OauthToken WHERE AppName = '${OUTLOOK.label}'`);

  before(() => {
    keys = makeKeyPair('tokens-test');
  });
  afterEach(async () => emu?.close());

  it('the web server flow issues a refresh token and writes the OauthToken row Salesforce keeps', async () => {
    await start();
    const res = await webServerLogin(emu, OUTLOOK, PAT);
    expect(res.status, res.text).to.equal(200);
    const body = res.body as Json;
    expect(Object.keys(body)).to.deep.equal(['access_token', 'refresh_token', 'signature', 'scope', 'instance_url', 'id', 'token_type', 'issued_at']);
    expect(String(body.refresh_token)).to.match(/^5Aep861/);
    expect(body.scope).to.equal('api refresh_token');

    const [row, ...more] = await outlookRows();
    expect(more).to.have.length(0);
    // The org's only Connected App (its Name is the label; which the fidelity work settles elsewhere).
    const [app] = await soql(emu, 'SELECT Id FROM ConnectedApplication');
    expect(row).to.include({ Id: null, AppName: OUTLOOK.label, UseCount: 1, CreatedDate: '2026-11-02T09:00:00.000+0000', LastUsedDate: '2026-11-02T09:00:00.000+0000' });
    expect((row.AppMenuItem as Json).ApplicationId).to.equal(app.Id);
    expect((row.User as Json).Username).to.equal(PAT);
    expect(String(row.DeleteToken)).to.have.length.greaterThan(20);
    expect(row.AccessToken, 'SOQL never yields the refresh token').to.not.equal(body.refresh_token);
    expect(row.AccessToken).to.not.equal(body.access_token);

    const [login] = await soql(emu, `SELECT LoginType, LoginSubType, Status, Application, UserId FROM LoginHistory WHERE Application = '${OUTLOOK.label}'`);
    expect(login).to.include({ LoginType: 'Remote Access 2.0', Status: 'Success', Application: OUTLOOK.label, LoginSubType: null });
    expect((await restAs(String(body.access_token))).status).to.equal(200);
    expect(emu.log().writes, 'issuing tokens is Salesforce bookkeeping, not a client write').to.equal(0);
  });

  it('the refresh grant issues access tokens from the row: UseCount and LastUsedDate move', async () => {
    await start();
    const first = await approve();
    advance(emu, 3600);
    const res = await refresh(first.refresh);
    expect(res.status, res.text).to.equal(200);
    const second = String((res.body as Json).access_token);
    expect(res.body).to.not.have.property('refresh_token');
    const [row] = await outlookRows();
    expect(row).to.include({ UseCount: 2, LastUsedDate: '2026-11-02T10:00:00.000+0000', CreatedDate: '2026-11-02T09:00:00.000+0000' });
    expect((await restAs(first.access)).status).to.equal(200);
    expect((await restAs(second)).status).to.equal(200);
  });

  it('codes are single-use, short-lived and bound to their client, redirect URI and PKCE verifier', async () => {
    await start();
    const code = async (extra: Json = {}): Promise<string> =>
      ((await call(emu, 'POST', '/__emulator/authorize', { token: null, json: { client_id: OUTLOOK.key, username: PAT, redirect_uri: 'https://app.example/cb', ...extra } })).body as Json).code as string;
    const exchange = (c: string, extra: Record<string, string> = {}): ReturnType<typeof call> =>
      call(emu, 'POST', '/services/oauth2/token', { token: null, form: { grant_type: 'authorization_code', code: c, client_id: OUTLOOK.key, client_secret: OUTLOOK.secret, redirect_uri: 'https://app.example/cb', ...extra } });
    const refused = { error: 'invalid_grant', error_description: 'invalid authorization code' };

    const once = await code();
    expect((await exchange(once)).status).to.equal(200);
    expect((await exchange(once)).body).to.deep.equal(refused);
    const late = await code();
    advance(emu, TOKEN_MODEL.codeLifetimeSeconds + 1);
    expect((await exchange(late)).body).to.deep.equal(refused);
    expect((await exchange(await code(), { redirect_uri: 'https://elsewhere.example/cb' })).body).to.deep.equal(refused);
    const other = await exchange(await code(), { client_id: integ.consumerKey, client_secret: integ.consumerSecret });
    expect(other.body).to.deep.equal(refused);
    expect((await exchange(await code(), { client_secret: 'wrong' })).body).to.deep.equal({ error: 'invalid_client', error_description: 'invalid client credentials' });

    const verifier = 'v'.repeat(50);
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const pkce = await code({ code_challenge: challenge, code_challenge_method: 'S256' });
    expect((await exchange(pkce, { code_verifier: 'x'.repeat(50) })).body).to.deep.equal(refused);
    const pkce2 = await code({ code_challenge: challenge, code_challenge_method: 'S256' });
    expect((await exchange(pkce2, { code_verifier: verifier })).status).to.equal(200);
  });

  it('consent is refused where a real org refuses it: admin-approved apps need pre-authorization, ECAs PKCE by default', async () => {
    await start();
    const consent = (username: string, clientId = integ.consumerKey, extra: Json = {}): Promise<Json> =>
      call(emu, 'POST', '/__emulator/authorize', { token: null, json: { client_id: clientId, username, ...extra } }).then((r) => r.body as Json);
    expect(await consent(PAT)).to.deep.equal({ error: 'invalid_app_access', error_description: 'user is not admin approved to access this app' });
    expect(await consent(integ.username)).to.have.property('code');
    expect(await consent(PAT, '3MVG9nobody')).to.deep.equal({ error: 'invalid_client_id', error_description: 'client identifier invalid' });
    const global = emu.store.listMetadata('ExtlClntAppGlobalOauthSettings')[0];
    emu.store.putMetadata('ExtlClntAppGlobalOauthSettings', { ...global, isPkceRequired: 'true' }, { system: true });
    expect(await consent(integ.username)).to.deep.equal({ error: 'invalid_request', error_description: 'missing required code challenge' });
    expect(await consent(integ.username, integ.consumerKey, { code_challenge: 'abc', code_challenge_method: 'plain' })).to.have.property('code');
  });

  it('revoking a refresh token revokes it and its access tokens; a later refresh answers invalid_grant', async () => {
    await start();
    const first = await approve();
    const second = String(((await refresh(first.refresh)).body as Json).access_token);
    emu.clearLog();
    const res = await revoke(first.refresh);
    expect(res.status).to.equal(200);
    expect(emu.log().writes, 'a revocation is a client write').to.equal(1);
    for (const access of [first.access, second]) {
      const rest = await restAs(access);
      expect(rest.status).to.equal(401);
      expect(rest.body).to.deep.equal([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    }
    expect((await refresh(first.refresh)).body).to.deep.equal({ error: 'invalid_grant', error_description: 'expired access/refresh token' });
    expect(await outlookRows()).to.have.length(0);
    expect(await revoke(first.refresh)).to.deep.include({ status: 400, body: REVOKE_REFUSALS.invalidToken });
    expect(emu.log().writes, 'a failed revocation writes nothing').to.equal(1);
  });

  it("an admin revokes another user's token with the row's DeleteToken", async () => {
    await start();
    const pat = await approve();
    const [row] = await outlookRows();
    const res = await call(emu, 'GET', `/services/oauth2/revoke?token=${encodeURIComponent(String(row.DeleteToken))}`, { token: null });
    expect(res.status).to.equal(200);
    expect((await restAs(pat.access)).status).to.equal(401);
    expect((await refresh(pat.refresh)).body).to.have.property('error', 'invalid_grant');
    expect(await count(emu, 'SELECT COUNT() FROM OauthToken')).to.equal(0);
  });

  it('revoking an access token ends that session only; the refresh token still works', async () => {
    await start();
    const pat = await approve();
    expect((await revoke(pat.access)).status).to.equal(200);
    expect((await restAs(pat.access)).status).to.equal(401);
    expect(await outlookRows()).to.have.length(1);
    expect((await refresh(pat.refresh)).status).to.equal(200);
  });

  it('refuses what it cannot revoke with the two documented codes', async () => {
    await start();
    expect(await revoke('')).to.deep.include({ status: 400, body: REVOKE_REFUSALS.unsupportedTokenType });
    expect(await revoke('00Dnope!xyz')).to.deep.include({ status: 400, body: REVOKE_REFUSALS.invalidToken });
    const pat = await approve();
    expect(await revoke(pat.refresh, { token_type_hint: 'id_token' })).to.deep.include({ status: 400, body: REVOKE_REFUSALS.unsupportedTokenType });
    expect((await revoke(pat.refresh, { token_type_hint: 'refresh_token' })).status).to.equal(200);
    expect(emu.log().writes).to.equal(1);
  });

  it('keeps five approvals per user and app: a sixth removes the oldest', async () => {
    await start();
    const approvals: Array<{ access: string; refresh: string }> = [];
    for (let i = 0; i < 6; i++) {
      // eslint-disable-next-line no-await-in-loop -- one approval after another, a minute apart
      approvals.push(await approve());
      advance(emu, 60);
    }
    const rows = await outlookRows();
    expect(rows).to.have.length(TOKEN_MODEL.approvalsPerUserAndApp);
    expect(rows.map((r) => r.CreatedDate)).to.not.include('2026-11-02T09:00:00.000+0000');
    expect((await refresh(approvals[0].refresh)).body).to.have.property('error', 'invalid_grant');
    expect((await restAs(approvals[0].access)).status).to.equal(401);
    expect((await refresh(approvals[5].refresh)).status).to.equal(200);
  });

  it('the refresh token policy ages the approval out: a refresh after the lifetime answers invalid_grant', async () => {
    await start();
    const ca = emu.store.getMetadata('ConnectedApp', 'Outlook_Plugin')!;
    emu.store.putMetadata('ConnectedApp', { ...ca, oauthPolicy: { ipRelaxation: 'BYPASS', refreshTokenPolicy: 'specific_lifetime:1:DAYS' } }, { system: true });
    const pat = await approve();
    advance(emu, 23 * 3600);
    expect((await refresh(pat.refresh)).status).to.equal(200);
    advance(emu, 2 * 3600);
    expect((await refresh(pat.refresh)).body).to.deep.equal({ error: 'invalid_grant', error_description: 'expired access/refresh token' });
  });

  it('External Client App tokens carry no AppMenuItemId by default, and the AppMenuItem with ecaTokenAppMenuItem = linked', async () => {
    for (const [setting, linked] of [[undefined, false], ['linked', true]] as const) {
      // eslint-disable-next-line no-await-in-loop -- one org per setting
      await start(setting ? { ecaTokenAppMenuItem: setting } : {});
      // eslint-disable-next-line no-await-in-loop
      const res = await webServerLogin(emu, { key: integ.consumerKey, secret: integ.consumerSecret }, integ.username);
      expect(res.status, res.text).to.equal(200);
      // eslint-disable-next-line no-await-in-loop
      const [row] = await soql(emu, 'SELECT AppName, AppMenuItemId, AppMenuItem.Type FROM OauthToken');
      expect(row.AppName).to.equal('HubSpot Integration');
      if (linked) expect((row.AppMenuItem as Json).Type).to.equal('ExternalClientApplication');
      else expect(row).to.include({ AppMenuItemId: null, AppMenuItem: null });
      // eslint-disable-next-line no-await-in-loop
      await emu.close();
    }
    await start();
  });

  it('JWT bearer and client credentials leave no OauthToken row by default (serverToServerOauthTokens = false)', async () => {
    await start();
    expect((await jwtLogin(emu, keys.privateKeyPem, integ.consumerKey, integ.username)).status).to.equal(200);
    const cc = await call(emu, 'POST', '/services/oauth2/token', { token: null, form: { grant_type: 'client_credentials', client_id: integ.consumerKey, client_secret: integ.consumerSecret } });
    expect(cc.status, cc.text).to.equal(200);
    expect(await count(emu, 'SELECT COUNT() FROM OauthToken')).to.equal(0);
    expect(await count(emu, "SELECT COUNT() FROM LoginHistory WHERE LoginType = 'Remote Access 2.0' AND Application = 'HubSpot Integration'")).to.equal(2);
  });

  it('with serverToServerOauthTokens = true they do: one row per app and user; its DeleteToken ends their sessions, not the flow', async () => {
    await start({ serverToServerOauthTokens: true });
    const login = async (): Promise<string> => {
      const res = await jwtLogin(emu, keys.privateKeyPem, integ.consumerKey, integ.username);
      expect(res.status, res.text).to.equal(200);
      return String((res.body as Json).access_token);
    };
    const a = await login();
    advance(emu, 60);
    const b = await login();
    const rows = await soql(emu, 'SELECT AppName, UserId, UseCount, DeleteToken, LastUsedDate FROM OauthToken');
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ AppName: 'HubSpot Integration', UserId: integ.userId, UseCount: 2, LastUsedDate: '2026-11-02T09:01:00.000+0000' });
    expect((await revoke(String(rows[0].DeleteToken))).status).to.equal(200);
    expect((await restAs(a)).status).to.equal(401);
    expect((await restAs(b)).status).to.equal(401);
    // Revoking does not stop JWT bearer from minting new tokens (governance-facts §3).
    await login();
    expect(await count(emu, 'SELECT COUNT() FROM OauthToken')).to.equal(1);
  });

  it('UserLogin: one row per user, IsFrozen updatable through REST; a frozen user cannot log in', async () => {
    await start();
    const pat = await approve();
    const [login] = await soql(emu, `SELECT Id, UserId, IsFrozen, IsPasswordLocked FROM UserLogin WHERE UserId = '${integ.userId}'`);
    expect(login).to.include({ UserId: integ.userId, IsFrozen: false, IsPasswordLocked: false });
    expect(await count(emu, 'SELECT COUNT() FROM UserLogin')).to.equal(await count(emu, 'SELECT COUNT() FROM User'));

    emu.clearLog();
    const freeze = await call(emu, 'PATCH', `/services/data/v66.0/sobjects/UserLogin/${String(login.Id)}`, { json: { IsFrozen: true } });
    expect(freeze.status, freeze.text).to.equal(204);
    expect(emu.log().writes).to.equal(1);
    const jwt = await jwtLogin(emu, keys.privateKeyPem, integ.consumerKey, integ.username);
    expect(jwt.body).to.deep.equal({ error: 'invalid_grant', error_description: 'authentication failure' });
    const [last] = await soql(emu, `SELECT Status FROM LoginHistory WHERE UserId = '${integ.userId}' ORDER BY LoginTime DESC LIMIT 1`);
    expect(last.Status).to.equal('User Is Frozen');
    expect((await jwtLogin(emu, keys.privateKeyPem, integ.consumerKey, integ.username)).status).to.equal(400);

    const patLogin = emu.store.userLoginOf(String(emu.store.all('User').find((u) => u.Username === PAT)!.Id))!;
    await call(emu, 'PATCH', `/services/data/v66.0/sobjects/UserLogin/${patLogin.Id}`, { json: { IsFrozen: true } });
    expect((await refresh(pat.refresh)).body).to.deep.equal({ error: 'invalid_grant', error_description: 'authentication failure' });
    // Existing sessions are kept (whether freezing ends them is undocumented).
    expect((await restAs(pat.access)).status).to.equal(200);

    const lock = await call(emu, 'PATCH', `/services/data/v66.0/sobjects/UserLogin/${String(login.Id)}`, { json: { IsPasswordLocked: true } });
    expect(lock.status).to.equal(400);
    expect((lock.body as Json[])[0].errorCode).to.equal('FIELD_INTEGRITY_EXCEPTION');
    const create = await call(emu, 'POST', '/services/data/v66.0/sobjects/UserLogin', { json: { UserId: integ.userId } });
    expect((create.body as Json[])[0].errorCode).to.equal('INVALID_TYPE_FOR_OPERATION');
  });

  it('completes fixture rows as Salesforce wrote them: DeleteToken, the installed app linked, phantom apps at null', async () => {
    const fx = fixture();
    fx.records!.OauthToken = [
      { AppName: OUTLOOK.label, UserId: integ.userId, UseCount: 3, CreatedDate: '2026-01-01T00:00:00.000+0000', LastUsedDate: '2026-02-01T00:00:00.000+0000' },
      { AppName: 'Old Reporting Tool', UserId: integ.userId, UseCount: 1, CreatedDate: '2025-01-01T00:00:00.000+0000', LastUsedDate: '2025-01-02T00:00:00.000+0000' },
      { AppName: OUTLOOK.label, AppMenuItemId: null, UserId: integ.userId, UseCount: 1, CreatedDate: '2026-01-01T00:00:00.000+0000' },
    ];
    emu = await startEmulator({ fixture: fx });
    const rows = await soql(emu, 'SELECT AppName, AppMenuItemId, AppMenuItem.Name, DeleteToken FROM OauthToken ORDER BY CreatedDate');
    expect(rows.map((r) => [r.AppName, (r.AppMenuItem as Json | null)?.Name ?? null])).to.deep.equal([
      ['Old Reporting Tool', null],
      [OUTLOOK.label, 'Outlook_Plugin'],
      [OUTLOOK.label, null],
    ]);
    expect(rows.every((r) => typeof r.DeleteToken === 'string' && r.DeleteToken !== '')).to.equal(true);
    expect((await revoke(String(rows[0].DeleteToken))).status).to.equal(200);
    expect(await count(emu, 'SELECT COUNT() FROM OauthToken')).to.equal(2);
  });

  it("jsforce's OAuth2 client exchanges the code, refreshes and revokes against the emulator", async () => {
    await start();
    const consent = await call(emu, 'POST', '/__emulator/authorize', { token: null, json: { client_id: OUTLOOK.key, username: PAT, redirect_uri: 'https://app.example/cb' } });
    const { Connection } = await import('@salesforce/core');
    type OAuth2 = Awaited<ReturnType<typeof Connection.create>>['oauth2'];
    const probe = await Connection.create({ authInfo: await (await import('@salesforce/core')).AuthInfo.create({ accessTokenOptions: { accessToken: emu.accessToken, instanceUrl: emu.instanceUrl, loginUrl: emu.instanceUrl } }) });
    const OAuth2Class = probe.oauth2.constructor as new (config: Record<string, string>) => OAuth2;
    const oauth2 = new OAuth2Class({ loginUrl: emu.instanceUrl, clientId: OUTLOOK.key, clientSecret: OUTLOOK.secret, redirectUri: 'https://app.example/cb' });
    const tokens = await oauth2.requestToken(String((consent.body as Json).code));
    expect(tokens.refresh_token).to.match(/^5Aep861/);
    const refreshed = await oauth2.refreshToken(String(tokens.refresh_token));
    expect(refreshed.access_token).to.be.a('string');
    await oauth2.revokeToken(String(tokens.refresh_token));
    const again = await oauth2.refreshToken(String(tokens.refresh_token)).catch((e: Error) => e);
    expect(again).to.be.instanceOf(Error);
    expect((again as Error).name).to.equal('invalid_grant');
    expect((again as Error).message).to.equal('expired access/refresh token');
  });
});
