/*
 * `sf integration rotate --strategy new-app` and `--retire` through the real sf CLI against the emulator: after
 * create, a second app with a new key pair, and the real `sf org login jwt` works with both apps (each its own
 * consumer key and key); retiring the old app is refused while its tokens were used recently (exit 1, nothing
 * written); a fault on the destructive deploy after the tokens were revoked gives exit 68 and the re-run converges;
 * then the old app's consumer key is refused ("client identifier invalid") and the new one still works. Also: the
 * Connected App refusal of a client-credentials rotation, and a real --wait inside the propagation window.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import type { CreateResult } from '../../src/create/run.js';
import type { RotateResult } from '../../src/rotate/run.js';
import { agePropagation } from '../emulator/apps.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { defaultFixture } from '../helpers/fixtures.js';
import { newSfHome, PROJECT_ROOT, type SfHome } from '../helpers/sf.js';

type Envelope<T> = { status: number; result?: T; name?: string; message?: string; actions?: string[] };

const NEW = 'HubSpot_Integration_2';

describe('sf integration rotate --strategy new-app and --retire (real CLI, emulator)', function () {
  this.timeout(600_000);
  let emu: Emulator;
  let sf: SfHome;
  let created: CreateResult;
  let dir: string;
  let newConsumerKey: string;
  const env = { SF_INTEGRATION_RETRY_BASE_MS: '5' };

  const rotate = (args: string[]): Promise<{ code: number; stdout: string; stderr: string; body: Envelope<RotateResult> }> =>
    sf.json<Envelope<RotateResult>>(['integration', 'rotate', '--target-org', 'emu', ...args], env);
  const jwtLogin = (clientId: string, keyFile: string): Promise<{ code: number; stdout: string; body: Envelope<{ username: string }> }> =>
    sf.json<Envelope<{ username: string }>>(['org', 'login', 'jwt', '--client-id', clientId, '--jwt-key-file', keyFile, '--username', created.username, '--instance-url', emu.instanceUrl]);
  const tokensOf = (label: string): number => emu.store.all('OauthToken').filter((t) => t.AppName === label).length;
  const appLabel = (): string => String(emu.store.all('ExternalClientApplication').find((a) => a.DeveloperName === created.appName)?.MasterLabel);
  /** Moves rows 60 days into the past (the org's clock stays where it is). */
  const backdate = (type: string, which: (r: Record<string, unknown>) => boolean, fields: string[]): void => {
    const past = new Date(Date.now() - 60 * 86_400_000).toISOString().replace('Z', '+0000');
    for (const r of emu.store.all(type).filter(which)) emu.store.update(type, String(r.Id), Object.fromEntries(fields.map((f) => [f, past])), { system: true });
  };

  before(async () => {
    emu = await startEmulator({ fixture: defaultFixture() });
    emu.store.settings.serverToServerOauthTokens = true;
    sf = await newSfHome();
    expect((await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install'])).code).to.equal(0);
    const login = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', 'emu'], { SF_ACCESS_TOKEN: emu.accessToken });
    expect(login.code, login.stderr).to.equal(0);
    dir = join(sf.home, 'HubSpot-integration');
    const r = await sf.json<Envelope<CreateResult>>(['integration', 'create', '--target-org', 'emu', '--name', 'HubSpot', '--object', 'Account=read', '--output-dir', dir], env);
    expect(r.code, r.stdout).to.equal(0);
    created = r.body.result!;
    agePropagation(emu.store);
  });

  after(async () => {
    await emu?.close();
    await sf?.dispose();
  });

  it('--dry-run plans the new app and writes nothing; the run makes a second app and both apps log in', async () => {
    emu.clearLog();
    const dry = await rotate(['--name', created.appName, '--strategy', 'new-app', '--new-name', NEW, '--output-dir', dir, '--dry-run']);
    expect(dry.code, dry.stdout).to.equal(0);
    expect(dry.body.result!.steps.map((s) => `${s.name}:${s.status}`)).to.include.members(['certificate:created', 'app:created', 'documents:updated']);
    expect(emu.log().writes).to.equal(0);

    const oldCert = await readFile(join(dir, 'cert.pem'), 'utf8');
    const run = await rotate(['--name', created.appName, '--strategy', 'new-app', '--new-name', NEW, '--output-dir', dir, '--no-prompt']);
    expect(run.code, run.stdout).to.equal(0);
    const result = run.body.result!;
    expect(result).to.include({ strategy: 'new-app', newAppName: NEW, verified: true, appName: created.appName });
    newConsumerKey = result.newConsumerKey!;
    expect(newConsumerKey).to.match(/^3MVG9/).and.to.not.equal(created.consumerKey);
    expect(result.privateKeyFile).to.equal(join(dir, NEW, 'private-key.pem'));
    expect((await stat(result.privateKeyFile!)).mode & 0o777).to.equal(0o600);
    expect(run.stdout).to.not.match(/PRIVATE KEY/);
    // The old app is untouched: its certificate is the one create wrote.
    const oldGlobal = emu.store.listMetadata('ExtlClntAppGlobalOauthSettings').find((c) => c.externalClientApplication === created.appName);
    expect(String(oldGlobal?.certificate).replace(/\s+/g, '')).to.equal(oldCert.replace(/\s+/g, ''));
    // The same permission set is pre-authorized on both.
    const appId = (name: string): string => String(emu.store.all('ExternalClientApplication').find((a) => a.DeveloperName === name)?.Id);
    const selected = (name: string): string[] => emu.store.all('SetupEntityAccess').filter((s) => s.SetupEntityId === appId(name)).map((s) => String(s.ParentId));
    expect(selected(NEW)).to.deep.equal(selected(created.appName)).and.to.have.length(1);
    expect(await readFile(join(dir, 'runbook.md'), 'utf8')).to.match(new RegExp(`new app ${NEW}`));

    const old = await jwtLogin(created.consumerKey!, join(dir, 'private-key.pem'));
    expect(old.code, JSON.stringify(old.body)).to.equal(0);
    const fresh = await jwtLogin(newConsumerKey, result.privateKeyFile!);
    expect(fresh.code, JSON.stringify(fresh.body)).to.equal(0);
    // Each key belongs to its own app only.
    expect((await jwtLogin(newConsumerKey, join(dir, 'private-key.pem'))).code).to.not.equal(0);

    // The same command again changes nothing in the org.
    emu.clearLog();
    const again = await rotate(['--name', created.appName, '--strategy', 'new-app', '--new-name', NEW, '--output-dir', dir, '--no-prompt']);
    expect(again.code, again.stdout).to.equal(0);
    expect(Object.fromEntries(again.body.result!.steps.map((s) => [s.name, s.status]))).to.include({ certificate: 'unchanged', app: 'unchanged' });
    expect(again.body.result!.newConsumerKey).to.equal(newConsumerKey);
    expect(emu.log().writes).to.equal(0);
  });

  it('--retire of an app used recently is refused (exit 1) without writing, and says how to check', async () => {
    expect(tokensOf(created.appName) + tokensOf('HubSpot Integration')).to.be.greaterThan(0);
    emu.clearLog();
    const refused = await rotate(['--name', NEW, '--retire', created.appName, '--output-dir', dir, '--no-prompt']);
    expect(refused.code, refused.stdout).to.equal(1);
    expect(refused.body.name).to.equal('RetireInUseError');
    expect(JSON.stringify(refused.body)).to.include('sf integration audit');
    expect(emu.log().writes).to.equal(0);
    // Tokens unused for 60 days, but logins through the app (LoginHistory) are recent: still in use, still refused.
    backdate('OauthToken', (t) => t.AppName === appLabel(), ['LastUsedDate', 'CreatedDate']);
    const byLogins = await rotate(['--name', NEW, '--retire', created.appName, '--output-dir', dir, '--no-prompt']);
    expect(byLogins.code, byLogins.stdout).to.equal(1);
    expect(byLogins.body.name).to.equal('RetireInUseError');
    expect(byLogins.body.message).to.match(/tokens, last used 20\d\d-\d\d-\d\d; last login through it 20/);
    expect(emu.log().writes).to.equal(0);
    const missingSuccessor = await rotate(['--name', 'Nobody_Integration', '--retire', created.appName, '--output-dir', dir, '--no-prompt']);
    expect(missingSuccessor.code).to.equal(1);
    expect(missingSuccessor.body.name).to.equal('SuccessorNotFoundError');
    expect(emu.log().writes).to.equal(0);
  });

  it('a fault on the destructive deploy after the revocations gives exit 68; the re-run retires the app; the old consumer key is refused, the new one works', async () => {
    // The old app's tokens and logins are 60 days old: outside the --unused-days window.
    const label = appLabel();
    expect(emu.store.all('OauthToken').filter((t) => t.AppName === label).length).to.be.greaterThan(0);
    backdate('LoginHistory', (l) => l.Application === label, ['LoginTime']);

    emu.injectFault({ soapOperation: 'deploy', status: 503, times: 6 });
    const first = await rotate(['--name', NEW, '--retire', created.appName, '--output-dir', dir, '--no-prompt']);
    emu.clearFaults();
    expect(first.code, first.stdout).to.equal(68);
    const steps = Object.fromEntries(first.body.result!.steps.map((s) => [s.name, s.status]));
    expect(steps).to.include({ 'revoke-tokens': 'deleted', 'retire-app': 'failed' });
    expect(tokensOf(label)).to.equal(0);
    expect(emu.store.getMetadata('ExternalClientApplication', created.appName)).to.not.equal(undefined);

    const second = await rotate(['--name', NEW, '--retire', created.appName, '--output-dir', dir, '--no-prompt']);
    expect(second.code, second.stdout).to.equal(0);
    expect(second.body.result).to.include({ retired: true, retiredApp: created.appName });
    expect(Object.fromEntries(second.body.result!.steps.map((s) => [s.name, s.status]))).to.include({ 'retire-app': 'deleted' });
    expect(emu.store.getMetadata('ExternalClientApplication', created.appName)).to.equal(undefined);
    expect(emu.store.listMetadata('ExtlClntAppGlobalOauthSettings').some((c) => c.externalClientApplication === created.appName)).to.equal(false);
    expect(tokensOf(label)).to.equal(0);
    expect(await readFile(join(dir, 'runbook.md'), 'utf8')).to.match(new RegExp(`app ${created.appName} retired`));

    const old = await jwtLogin(created.consumerKey!, join(dir, 'private-key.pem'));
    expect(old.code).to.not.equal(0);
    expect(JSON.stringify(old.body)).to.match(/client identifier invalid/);
    const fresh = await jwtLogin(newConsumerKey, join(dir, NEW, 'private-key.pem'));
    expect(fresh.code, JSON.stringify(fresh.body)).to.equal(0);

    // Retiring what is gone is done already: exit 0, nothing written.
    emu.clearLog();
    const gone = await rotate(['--retire', created.appName, '--output-dir', dir, '--no-prompt']);
    expect(gone.code, gone.stdout).to.equal(0);
    expect(emu.log().writes).to.equal(0);
  });

  it('--wait inside the propagation window waits for the new certificate, then verifies (exit 0)', async () => {
    emu.store.settings.propagationSeconds = 8;
    const started = Date.now();
    const r = await rotate(['--name', NEW, '--output-dir', join(dir, NEW), '--username', created.username, '--wait', '1', '--no-prompt']);
    emu.store.settings.propagationSeconds = 0;
    expect(r.code, r.stdout).to.equal(0);
    expect(r.body.result).to.include({ verified: true, previousRefused: true });
    expect(Date.now() - started, 'it waited for the window').to.be.greaterThan(8000);
    expect((await jwtLogin(newConsumerKey, join(dir, NEW, 'private-key.pem'))).code).to.equal(0);
  });

  it('a Connected App: the new app is a Connected App too, both log in; --retire --force deletes the old one (ConnectedApp by destructive deploy)', async () => {
    // An org that still allows new Connected Apps (created before Spring '26).
    emu.store.settings.allowConnectedAppCreation = true;
    const legacyDir = join(sf.home, 'Legacy-integration');
    const c = await sf.json<Envelope<CreateResult>>(['integration', 'create', '--target-org', 'emu', '--name', 'Legacy', '--app-type', 'connected-app', '--object', 'Account=read', '--output-dir', legacyDir], env);
    expect(c.code, c.stdout).to.equal(0);
    const legacy = c.body.result!;
    agePropagation(emu.store);
    const login = (clientId: string, keyFile: string): Promise<{ code: number; body: Envelope<unknown> }> =>
      sf.json<Envelope<unknown>>(['org', 'login', 'jwt', '--client-id', clientId, '--jwt-key-file', keyFile, '--username', legacy.username, '--instance-url', emu.instanceUrl]);
    const r = await rotate(['--name', legacy.appName, '--strategy', 'new-app', '--output-dir', legacyDir, '--no-prompt']);
    expect(r.code, r.stdout).to.equal(0);
    const result = r.body.result!;
    expect(result.newAppName).to.match(/^Legacy_Integration_20\d{6}$/);
    expect(emu.store.getMetadata('ConnectedApp', result.newAppName!)).to.not.equal(undefined);
    expect((await login(legacy.consumerKey!, join(legacyDir, 'private-key.pem'))).code).to.equal(0);
    expect((await login(result.newConsumerKey!, result.privateKeyFile!)).code).to.equal(0);

    const retired = await rotate(['--name', result.newAppName!, '--retire', legacy.appName, '--output-dir', legacyDir, '--force', '--no-prompt']);
    expect(retired.code, retired.stdout).to.equal(0);
    expect(retired.body.result!.revokedTokens).to.be.greaterThan(0);
    expect(emu.store.getMetadata('ConnectedApp', legacy.appName)).to.equal(undefined);
    const old = await login(legacy.consumerKey!, join(legacyDir, 'private-key.pem'));
    expect(old.code).to.not.equal(0);
    expect(JSON.stringify(old.body)).to.match(/client identifier invalid/);
    expect((await login(result.newConsumerKey!, result.privateKeyFile!)).code).to.equal(0);
  });

  it('an org that cannot be reached: exit 69 for --strategy new-app and for --retire', async () => {
    const fx = defaultFixture();
    fx.records!.Organization[0].Id = '00DEm0000000004MAA';
    fx.records!.User[0].Username = 'admin@gone-rotate.example';
    const gone = await startEmulator({ fixture: fx });
    const login = await sf.run(['org', 'login', 'access-token', '--instance-url', gone.instanceUrl, '--no-prompt', '--alias', 'gone'], { SF_ACCESS_TOKEN: gone.accessToken });
    expect(login.code, login.stderr).to.equal(0);
    await gone.close();
    for (const args of [['--name', created.appName, '--strategy', 'new-app'], ['--retire', created.appName]]) {
      // eslint-disable-next-line no-await-in-loop
      const r = await sf.json<Envelope<RotateResult>>(['integration', 'rotate', '--target-org', 'gone', ...args, '--output-dir', dir, '--no-prompt'], env);
      expect(r.code, `${args.join(' ')}: ${r.stdout}`).to.equal(69);
      expect(r.body.name).to.equal('OrgUnreachableError');
    }
  });

  it('bad input is refused before anything is read (exit 2)', async () => {
    emu.clearLog();
    for (const args of [['--retire', created.appName, '--strategy', 'new-app', '--name', NEW], ['--name', NEW, '--new-name', 'X_1'], ['--name', NEW, '--strategy', 'new-app', '--rollback'], ['--name', NEW, '--force'], []]) {
      // eslint-disable-next-line no-await-in-loop
      const r = await rotate([...args, '--no-prompt']);
      expect(r.code, `${args.join(' ')}: ${r.stdout}`).to.equal(2);
    }
    expect(emu.log().entries.map((e) => e.path), 'nothing read').to.deep.equal([]);
  });

  it('client credentials on a Connected App: refused with the Setup path, nothing written', async () => {
    emu.store.settings.allowConnectedAppCreation = true;
    const ca = await sf.json<Envelope<CreateResult>>(
      ['integration', 'create', '--target-org', 'emu', '--name', 'Ledger', '--app-type', 'connected-app', '--flow', 'client-credentials', '--no-verify', '--object', 'Account=read', '--output-dir', join(sf.home, 'Ledger-integration')],
      env
    );
    expect(ca.code, ca.stdout).to.equal(0);
    emu.clearLog();
    const refused = await rotate(['--name', ca.body.result!.appName, '--output-dir', join(sf.home, 'Ledger-integration'), '--no-prompt']);
    expect(refused.code, refused.stdout).to.equal(1);
    expect(refused.body.name).to.equal('ConnectedAppSecretError');
    expect(JSON.stringify(refused.body)).to.include('App Manager > the app > View > Manage Consumer Details');
    expect(emu.log().writes).to.equal(0);
  });
});
