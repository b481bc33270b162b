/*
 * `sf integration doctor` through the real sf CLI (plugin linked into a throwaway HOME) against the emulator:
 * output formats, exit codes, several orgs at once, --error without an org, --fix, and zero writes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { XMLParser } from 'fast-xml-parser';
import type { CreateResult } from '../../src/create/run.js';
import type { DoctorResult } from '../../src/doctor/types.js';
import { agePropagation } from '../emulator/apps.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { makeKeyPair } from '../helpers/credentials.js';
import { defaultFixture } from '../helpers/fixtures.js';
import { newSfHome, PROJECT_ROOT, type SfHome } from '../helpers/sf.js';

type Envelope<T> = { status: number; result?: T; name?: string; message?: string };

describe('sf integration doctor (real CLI, emulator)', function () {
  this.timeout(600_000);
  let emu: Emulator;
  let other: Emulator;
  let sf: SfHome;
  let created: CreateResult;
  const env = { SF_INTEGRATION_RETRY_BASE_MS: '5' };

  const doctor = (args: string[]): Promise<{ code: number; stdout: string; stderr: string; body: Envelope<DoctorResult> }> =>
    sf.json<Envelope<DoctorResult>>(['integration', 'doctor', ...args], env);
  const live = (): string[] => ['--name', created.appName, '--username', created.username, '--client-id', created.consumerKey ?? '', '--private-key-file', created.privateKeyFile ?? ''];

  before(async () => {
    emu = await startEmulator();
    // A second org: its own org Id and admin, as the CLI keys its logins by username.
    const fx = defaultFixture();
    fx.records!.Organization[0].Id = '00DEm0000000002MAA';
    fx.records!.User[0].Username = 'admin@other-org.example';
    other = await startEmulator({ fixture: fx });
    sf = await newSfHome();
    expect((await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install'])).code).to.equal(0);
    for (const [e, alias] of [
      [emu, 'emu'],
      [other, 'other'],
    ] as const) {
      // eslint-disable-next-line no-await-in-loop
      const login = await sf.run(['org', 'login', 'access-token', '--instance-url', e.instanceUrl, '--no-prompt', '--alias', alias], { SF_ACCESS_TOKEN: e.accessToken });
      expect(login.code, login.stderr).to.equal(0);
    }
    const r = await sf.json<Envelope<CreateResult>>(['integration', 'create', '--target-org', 'emu', '--name', 'HubSpot', '--object', 'Account=read,edit', '--output-dir', join(sf.home, 'hubspot')]);
    expect(r.code, r.stdout).to.equal(0);
    created = r.body.result!;
    agePropagation(emu.store); // as if created 10 minutes ago
  });

  after(async () => {
    await emu?.close();
    await other?.close();
    await sf?.dispose();
  });

  it('checks a healthy integration read-only: every check passes or skips, grouped output, exit 0', async () => {
    emu.clearLog();
    const r = await sf.run(['integration', 'doctor', '--target-org', 'emu', ...live()], env);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    for (const group of ['Org', 'App', 'User', 'Live']) expect(r.stdout).to.include(group);
    expect(r.stdout).to.match(/28 checks: 26 passed, 0 warnings, 0 failed, 2 skipped/);
    expect(r.stdout).to.not.match(/PRIVATE KEY/);
    expect(emu.log().writes).to.equal(0);
  });

  it('reads the org in at most 4 round trips without live checks', async () => {
    emu.clearLog();
    const r = await doctor(['--target-org', 'emu', '--name', created.appName]);
    expect(r.code, r.stdout).to.equal(0);
    expect(emu.log().entries.length).to.be.at.most(4);
    expect(r.body.result?.reports[0].checks.find((c) => c.id === 'live-token-exchange')?.status).to.equal('skip');
  });

  it('finds the app from the integration user alone (--username), within the same 4 round trips', async () => {
    emu.clearLog();
    const r = await doctor(['--target-org', 'emu', '--username', created.username]);
    expect(r.code, r.stdout).to.equal(0);
    expect(r.body.result?.reports[0].app?.name).to.equal(created.appName);
    expect(emu.log().entries.length).to.be.at.most(4);
  });

  it('explains a pasted error without any org', async () => {
    const r = await doctor(['--error', 'invalid_grant: audience is invalid']);
    expect(r.code, r.stdout).to.equal(0);
    const causes = r.body.result?.explanation?.causes ?? [];
    expect(causes[0].confirmingChecks).to.include('org-login-url');
  });

  it('writes JUnit with one testcase per check, and --fail-on warn fails on a warning', async () => {
    // Enforced IP restrictions are a warning (seed 001 "not authorized").
    const policy = emu.store.listMetadata('ExtlClntAppOauthConfigurablePolicies').find((c) => c.externalClientApplication === created.appName)!;
    emu.store.putMetadata('ExtlClntAppOauthConfigurablePolicies', { ...policy, ipRelaxationPolicyType: 'Enforce' }, { system: true });
    agePropagation(emu.store);
    const file = join(sf.home, 'doctor.xml');
    const r = await sf.run(['integration', 'doctor', '--target-org', 'emu', '--name', created.appName, '--result-format', 'junit', '--output-file', file, '--fail-on', 'warn'], env);
    expect(r.code, r.stdout).to.equal(1);
    const xml = new XMLParser({ ignoreAttributes: false }).parse(await readFile(file, 'utf8')) as {
      testsuites: { testsuite: { testcase: Array<{ '@_name': string; failure?: unknown }> } };
    };
    const cases = xml.testsuites.testsuite.testcase;
    expect(cases).to.have.length(28);
    expect(cases.filter((c) => c.failure !== undefined).map((c) => c['@_name'])).to.deep.equal(['app-ip-relaxation']);
    emu.store.putMetadata('ExtlClntAppOauthConfigurablePolicies', policy, { system: true });
    agePropagation(emu.store);
  });

  it('checks several orgs at once, one report each, and fails when one integration is missing', async () => {
    const r = await doctor(['--target-org', 'emu', '--target-org', 'other', '--name', created.appName]);
    expect(r.code).to.equal(1);
    const reports = r.body.result!.reports;
    expect(reports.map((x) => x.org.targetOrg)).to.deep.equal(['emu', 'other']);
    expect(reports[1].checks.find((c) => c.id === 'app-exists')?.status).to.equal('fail');
    expect(other.log().writes).to.equal(0);
  });

  it('repairs a broken association with --fix --no-prompt, and a second run passes', async () => {
    // Break it as an admin would: remove the permission set from the app's selected permission sets.
    const access = emu.store.all('SetupEntityAccess').find((a) => emu.store.get(String(a.ParentId))?.Name === created.permissionSetName)!;
    emu.store.remove('SetupEntityAccess', access.Id);
    agePropagation(emu.store);
    const broken = await doctor(['--target-org', 'emu', ...live()]);
    expect(broken.code).to.equal(1);
    const failing = broken.body.result!.reports[0].checks.filter((c) => c.status === 'fail').map((c) => c.id);
    expect(failing).to.include.members(['app-permission-set-associated', 'live-token-exchange']);

    // --dry-run: the plan of the repair, in the same words and table as create's plan, and nothing written.
    emu.clearLog();
    const planned = await doctor(['--target-org', 'emu', ...live(), '--fix', '--dry-run']);
    expect(planned.code).to.equal(1);
    expect(emu.log().writes, 'a dry run writes nothing').to.equal(0);
    const plan = planned.body.result!.reports[0].fixPlan ?? [];
    expect(plan.map((s) => `${s.name}:${s.status}`)).to.deep.equal(['app:updated']);
    expect(plan[0].changes).to.deep.equal([`select permission set ${created.permissionSetName}`]);
    expect(planned.body.result!.reports[0].fixes).to.equal(undefined);
    const human = await sf.run(['integration', 'doctor', '--target-org', 'emu', ...live(), '--fix', '--dry-run']);
    expect(human.stdout).to.include('What --fix would change').and.include(`select permission set ${created.permissionSetName}`);
    expect(emu.log().writes).to.equal(0);

    emu.clearLog();
    const fixed = await doctor(['--target-org', 'emu', ...live(), '--fix', '--no-prompt']);
    expect(emu.log().writes).to.be.greaterThan(0);
    expect(fixed.body.result!.reports[0].fixes?.map((f) => f.status)).to.deep.equal(['updated']);
    agePropagation(emu.store);
    const again = await doctor(['--target-org', 'emu', ...live()]);
    expect(again.code, JSON.stringify(again.body.result?.reports[0].checks.filter((c) => c.status !== 'pass' && c.status !== 'skip'))).to.equal(0);
  });

  it('says so, with its own exit code, when an org cannot be reached', async () => {
    const fx = defaultFixture();
    fx.records!.Organization[0].Id = '00DEm0000000003MAA';
    fx.records!.User[0].Username = 'admin@gone-org.example';
    const gone = await startEmulator({ fixture: fx });
    const login = await sf.run(['org', 'login', 'access-token', '--instance-url', gone.instanceUrl, '--no-prompt', '--alias', 'gone'], { SF_ACCESS_TOKEN: gone.accessToken });
    expect(login.code).to.equal(0);
    await gone.close();
    const r = await doctor(['--target-org', 'gone', '--name', 'Anything']);
    expect(r.code).to.equal(69);
    expect(r.body.name).to.equal('OrgUnreachableError');
  });

  it('adds its offline findings to the real sf doctor', async () => {
    await writeFile(join(sf.home, 'loose-key.pem'), makeKeyPair('loose').privateKeyPem, { mode: 0o644 });
    const r = await sf.run(['doctor', '--plugin', '@integration-kit/plugin-integration'], { SF_AUDIENCE_URL: 'https://test.salesforce.com' });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('chmod 600');
    expect(r.stdout).to.include('SF_AUDIENCE_URL is set to "https://test.salesforce.com"');
    expect(r.stdout).to.include('sf integration doctor --target-org');
    expect(r.stdout).to.not.match(/PRIVATE KEY/);
  });

  it('refuses a run with nothing to check as bad input (exit 2)', async () => {
    const r = await doctor(['--target-org', 'emu']);
    expect(r.code).to.equal(2);
    expect(r.body.message).to.match(/--name/);
  });
});
