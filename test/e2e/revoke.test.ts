/*
 * `sf integration revoke` through the real sf CLI (plugin linked into a throwaway HOME) against the emulated org of
 * the Connected Users example: Outlook Plugin and Slack (sanctioned), Bob's Lead Scoring Tool (12 forgotten
 * connections), beside a JWT integration. Each case compares the emulator's state before and after: nothing outside
 * the selection changes.
 */
import { expect } from 'chai';
import type { RevokeResult } from '../../src/revoke/run.js';
import { agePropagation } from '../emulator/apps.js';
import { seed002Org, SEED_002 } from '../emulator/fixtures/generate.js';
import { startEmulator, type Emulator, type Fixture } from '../emulator/index.js';
import { makeKeyPair } from '../helpers/credentials.js';
import { newSfHome, PROJECT_ROOT, type SfHome } from '../helpers/sf.js';

type Envelope<T> = { status: number; result?: T; name?: string; message?: string };

/** OauthToken rows as a set of "app|user|DeleteToken" (the emulator's own view, not the plugin's). */
const tokenKeys = (state: Fixture): Set<string> => new Set((state.records?.OauthToken ?? []).map((r) => `${String(r.AppName)}|${String(r.UserId)}|${String(r.DeleteToken)}`));

/** Everything in the org but OauthToken rows, for comparing before and after. */
const withoutTokens = (state: Fixture): string => {
  const records = Object.fromEntries(Object.entries(state.records ?? {}).filter(([type]) => type !== 'OauthToken'));
  return JSON.stringify({ ...state, records });
};

describe('sf integration revoke (real CLI, emulated org)', function () {
  this.timeout(600_000);
  const keys = makeKeyPair('revoke-e2e');
  let emu: Emulator;
  let sf: SfHome;
  let integration: NonNullable<ReturnType<typeof seed002Org>['integration']>;
  const env = { SF_INTEGRATION_RETRY_BASE_MS: '5' };

  const revoke = (args: string[]): Promise<{ code: number; stdout: string; stderr: string; body: Envelope<RevokeResult> }> =>
    sf.json<Envelope<RevokeResult>>(['integration', 'revoke', '--target-org', 'emu', ...args], env);

  before(async () => {
    const org = seed002Org({ scale: 0.5, integration: { certificatePem: keys.certificatePem } });
    integration = org.integration!;
    emu = await startEmulator({ fixture: org.fixture });
    agePropagation(emu.store);
    sf = await newSfHome();
    expect((await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install'])).code).to.equal(0);
    const login = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', 'emu'], { SF_ACCESS_TOKEN: emu.accessToken });
    expect(login.code, login.stderr).to.equal(0);
  });

  after(async () => {
    await emu?.close();
    await sf?.dispose();
  });

  it('--dry-run prints the plan (app, users, token count, last use) and writes nothing', async () => {
    const before = emu.state();
    emu.clearLog();
    const r = await revoke(['--app', SEED_002.bob.label, '--dry-run']);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    const result = r.body.result!;
    expect(result.dryRun).to.be.true;
    expect(result.summary).to.include({ tokens: 12, users: 12, apps: 1, revoked: 0 });
    expect(result.apps[0]).to.include({ app: SEED_002.bob.label, tokens: 12, users: 12 });
    expect(result.apps[0].lastUsed).to.be.a('string');
    expect(result.connections).to.have.length(12);
    expect(emu.log().writes).to.equal(0);
    expect(JSON.stringify(emu.state())).to.equal(JSON.stringify(before));

    const human = await sf.run(['integration', 'revoke', '--target-org', 'emu', '--app', SEED_002.bob.fullName, '--dry-run'], env);
    expect(human.code, human.stderr).to.equal(0);
    expect(human.stdout).to.include('--dry-run').and.include(SEED_002.bob.label).and.include('revoke 12 tokens of 12 users');
  });

  it('refuses to prompt without a terminal (exit 2, says --no-prompt) and says which flags make a selection', async () => {
    const r = await sf.run(['integration', 'revoke', '--target-org', 'emu', '--app', SEED_002.bob.label], env);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('--no-prompt');
    const none = await sf.run(['integration', 'revoke', '--target-org', 'emu', '--no-prompt'], env);
    expect(none.code).to.equal(2);
    expect(none.stderr).to.include('--app');
    const unknown = await revoke(['--app', 'No Such App', '--no-prompt']);
    expect(unknown.code).to.equal(2);
    expect(emu.log().writes).to.equal(0);
  });

  it("--app \"Bob's Lead Scoring Tool\" revokes exactly its 12 users' tokens, keeps Outlook's and Slack's, and a re-run revokes nothing", async () => {
    const before = emu.state();
    const deleteTokens = (before.records?.OauthToken ?? []).map((t) => String(t.DeleteToken));
    emu.clearLog();
    const r = await revoke(['--app', SEED_002.bob.label, '--no-prompt']);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.body.result!.summary).to.include({ tokens: 12, users: 12, revoked: 12, alreadyGone: 0, failed: 0, remaining: 0 });
    // The DeleteTokens are credentials: none reaches the output.
    for (const t of deleteTokens) expect(r.stdout).to.not.include(t);

    const after = emu.state();
    const gone = [...tokenKeys(before)].filter((k) => !tokenKeys(after).has(k));
    expect(gone).to.have.length(12);
    expect(gone.every((k) => k.startsWith(`${SEED_002.bob.label}|`))).to.be.true;
    expect([...tokenKeys(after)].filter((k) => k.startsWith(`${SEED_002.bob.label}|`))).to.deep.equal([]);
    // Every other token, and everything else in the org, is as it was.
    expect(tokenKeys(after).size).to.equal(tokenKeys(before).size - 12);
    expect(withoutTokens(after)).to.equal(withoutTokens(before));
    expect(emu.log().writes).to.equal(12);

    emu.clearLog();
    const again = await revoke(['--app', SEED_002.bob.label, '--no-prompt']);
    expect(again.code, again.stdout).to.equal(0);
    expect(again.body.result!.summary).to.include({ tokens: 0, revoked: 0 });
    expect(emu.log().writes).to.equal(0);
  });

  it('--user removes one person\'s tokens across apps and nobody else\'s', async () => {
    const before = emu.state();
    const users = before.records!.User;
    // A person connected to both Outlook and Slack.
    const rows = before.records!.OauthToken;
    const holder = users.find((u) => rows.some((t) => t.UserId === u.Id && t.AppName === SEED_002.outlook.label) && rows.some((t) => t.UserId === u.Id && t.AppName === SEED_002.slack.label))!;
    const theirs = rows.filter((t) => t.UserId === holder.Id).length;
    expect(theirs).to.be.at.least(2);
    const r = await revoke(['--user', String(holder.Username), '--no-prompt']);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.body.result!.summary).to.include({ tokens: theirs, users: 1, revoked: theirs, remaining: 0 });
    expect(r.body.result!.apps.map((a) => a.app).sort()).to.deep.equal([SEED_002.outlook.label, SEED_002.slack.label]);
    const after = emu.state();
    expect(after.records!.OauthToken.filter((t) => t.UserId === holder.Id)).to.deep.equal([]);
    expect(after.records!.OauthToken.length).to.equal(rows.length - theirs);
    expect(withoutTokens(after)).to.equal(withoutTokens(before));
  });

  it('a fault on the 5th revocation gives exit 68 with Salesforce\'s error; the re-run converges and then revokes nothing', async () => {
    const slack = (): number => emu.state().records!.OauthToken.filter((t) => t.AppName === SEED_002.slack.label).length;
    const count = slack();
    expect(count).to.be.greaterThan(10);
    emu.injectFault({ method: 'POST', path: '^/services/oauth2/revoke', after: 4, status: 500, errorCode: 'UNKNOWN_EXCEPTION', message: 'An unexpected error occurred.' });
    const first = await revoke(['--app', SEED_002.slack.fullName, '--no-prompt']);
    expect(first.code, first.stdout + first.stderr).to.equal(68);
    const s1 = first.body.result!.summary;
    expect(s1).to.include({ tokens: count, revoked: count - 1, failed: 1, remaining: 1 });
    expect(first.body.result!.connections.find((c) => c.failed === 1)?.error).to.include('UNKNOWN_EXCEPTION');
    expect(slack()).to.equal(1);

    const second = await revoke(['--app', SEED_002.slack.fullName, '--no-prompt']);
    expect(second.code, second.stdout).to.equal(0);
    expect(second.body.result!.summary).to.include({ tokens: 1, revoked: 1, failed: 0, remaining: 0 });
    expect(slack()).to.equal(0);

    emu.clearLog();
    const third = await revoke(['--app', SEED_002.slack.fullName, '--no-prompt']);
    expect(third.code).to.equal(0);
    expect(third.body.result!.summary.tokens).to.equal(0);
    expect(emu.log().writes).to.equal(0);
  });

  it('--block on a JWT app makes the next JWT exchange fail with Salesforce\'s text, and changes only that app', async () => {
    const { exchangeToken } = await import('../../src/org/token.js');
    const hosts = { loginUrl: emu.instanceUrl, instanceUrl: emu.instanceUrl, audience: 'https://login.salesforce.com' };
    const jwt = { flow: 'jwt' as const, clientId: integration.consumerKey, username: integration.username, privateKeyPem: keys.privateKeyPem };
    const ok = await exchangeToken(hosts, jwt, { apiVersion: '66.0' });
    expect(ok.tokenExchange?.ok, JSON.stringify(ok)).to.be.true;

    const before = emu.state();
    const dry = await revoke(['--app', integration.appName, '--block', '--dry-run']);
    expect(dry.code, dry.stdout).to.equal(0);
    const blockStep = dry.body.result!.steps.find((s) => s.name === 'block-app')!;
    expect(blockStep.status).to.equal('updated');
    expect(blockStep.changes.join(' ')).to.include(integration.permissionSetName).and.include('OAuth plugin');
    expect(JSON.stringify(emu.state())).to.equal(JSON.stringify(before));

    const r = await revoke(['--app', integration.appName, '--block', '--no-prompt']);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    agePropagation(emu.store); // as if the change had propagated (2 to 10 minutes in a real org)
    const refused = await exchangeToken(hosts, jwt, { apiVersion: '66.0' });
    expect(refused.tokenExchange).to.include({ ok: false, error: 'app_not_found', errorDescription: 'External client app is not installed in this org' });
    const after = emu.state();
    // Outside the app's two policy components nothing changed: the other apps, users, assignments, tokens.
    for (const type of ['User', 'PermissionSet', 'PermissionSetAssignment', 'OauthToken']) {
      expect(JSON.stringify(after.records?.[type]), type).to.equal(JSON.stringify(before.records?.[type]));
    }
    expect(JSON.stringify(after.metadata?.ConnectedApp)).to.equal(JSON.stringify(before.metadata?.ConnectedApp));
    expect(after.metadata?.ExtlClntAppOauthConfigurablePolicies?.find((p) => p.externalClientApplication === integration.appName)?.commaSeparatedPermissionSet ?? '').to.equal('');

    // Blocked already: the re-run plans nothing.
    const again = await revoke(['--app', integration.appName, '--block', '--no-prompt']);
    expect(again.code).to.equal(0);
    expect(again.body.result!.steps.find((s) => s.name === 'block-app')?.status).to.equal('unchanged');
  });

  it('--freeze-user with --user freezes the login (UserLogin.IsFrozen), keeps the user active, and is not planned twice', async () => {
    const r = await revoke(['--user', integration.username, '--freeze-user', '--no-prompt']);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.body.result!.steps.find((s) => s.name === 'freeze-user')?.status).to.equal('updated');
    const login = emu.store.all('UserLogin').find((l) => l.UserId === integration.userId);
    expect(login?.IsFrozen).to.equal(true);
    expect(emu.store.get(integration.userId)?.IsActive).to.not.equal(false);
    const again = await revoke(['--user', integration.username, '--freeze-user', '--no-prompt']);
    expect(again.body.result!.steps.find((s) => s.name === 'freeze-user')?.status).to.equal('unchanged');
  });

  it('--block on a Connected App JWT integration: the next exchange answers invalid_app_access; --deactivate-user deactivates', async () => {
    const { integrationFixture } = await import('../helpers/fixtures.js');
    const ca = integrationFixture({ certificatePem: keys.certificatePem, appKind: 'connected-app', name: 'Legacy_Sync', username: 'legacy.sync@emulated-org.example' });
    const other = await startEmulator({ fixture: ca.fixture });
    try {
      agePropagation(other.store);
      const login = await sf.run(['org', 'login', 'access-token', '--instance-url', other.instanceUrl, '--no-prompt', '--alias', 'ca'], { SF_ACCESS_TOKEN: other.accessToken });
      expect(login.code, login.stderr).to.equal(0);
      const { exchangeToken } = await import('../../src/org/token.js');
      const hosts = { loginUrl: other.instanceUrl, instanceUrl: other.instanceUrl, audience: 'https://login.salesforce.com' };
      const jwt = { flow: 'jwt' as const, clientId: ca.consumerKey, username: ca.username, privateKeyPem: keys.privateKeyPem };
      expect((await exchangeToken(hosts, jwt, { apiVersion: '66.0' })).tokenExchange?.ok).to.be.true;

      const r = await sf.json<Envelope<RevokeResult>>(['integration', 'revoke', '--target-org', 'ca', '--app', ca.appName, '--block', '--no-prompt'], env);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      agePropagation(other.store);
      const refused = await exchangeToken(hosts, jwt, { apiVersion: '66.0' });
      expect(refused.tokenExchange).to.include({ ok: false, error: 'invalid_app_access', errorDescription: 'user is not admin approved to access this app' });
      const app = other.store.listMetadata('ConnectedApp')[0];
      expect([app.permissionSetName ?? []].flat()).to.deep.equal([]);

      const off = await sf.json<Envelope<RevokeResult>>(['integration', 'revoke', '--target-org', 'ca', '--user', ca.username, '--deactivate-user', '--no-prompt'], env);
      expect(off.code, off.stdout + off.stderr).to.equal(0);
      expect(other.store.get(ca.userId)?.IsActive).to.equal(false);
    } finally {
      await other.close();
    }
  });

  it('documents its exit codes in --help', async () => {
    const r = await sf.run(['integration', 'revoke', '--help'], env);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.include('ERROR CODES').and.include('68');
  });
});
