/*
 * create and doctor through the real sf CLI on orgs that differ the way real orgs do (issue 7):
 *   - without the optional permission fields (PermissionsBypassMFAForUiLogins, PermissionsManageEncryptionKeys are not
 *     in every org's PermissionSet), under both readings of commaSeparatedPermissionSet (API names, Ids);
 *   - with a query the org refuses: create stops before any write, doctor skips what the query feeds and says so;
 *   - a Connected App whose label is not its API name.
 * The main create and doctor suites run on the default org; this file runs only the cases that exercise the difference.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { CreateResult } from '../../src/create/run.js';
import type { DoctorResult } from '../../src/doctor/types.js';
import { agePropagation } from '../emulator/apps.js';
import { startEmulator, type Emulator, type Fixture } from '../emulator/index.js';
import { makeKeyPair } from '../helpers/credentials.js';
import { defaultFixture, integrationFixture } from '../helpers/fixtures.js';
import { newSfHome, PROJECT_ROOT, type SfHome } from '../helpers/sf.js';

type Envelope<T> = { status: number; result?: T; name?: string; message?: string };

const OPTIONAL_PERMISSIONS = ['PermissionsBypassMFAForUiLogins', 'PermissionsManageEncryptionKeys'];
const env = { SF_INTEGRATION_RETRY_BASE_MS: '5' };

/** The default org without the optional permission fields, answering commaSeparatedPermissionSet in `form`. */
const orgWithout = (form: 'names' | 'ids'): Fixture => {
  const fx = defaultFixture();
  fx.emulator = { ...fx.emulator, permissionSetReferences: form, absentFields: { PermissionSet: OPTIONAL_PERMISSIONS, Profile: OPTIONAL_PERMISSIONS } };
  return fx;
};

describe('create and doctor on orgs that differ (real CLI, emulator)', function () {
  this.timeout(600_000);
  let sf: SfHome;
  const emulators: Emulator[] = [];

  const start = async (fixture: Fixture, alias: string): Promise<Emulator> => {
    const emu = await startEmulator({ fixture });
    emulators.push(emu);
    const login = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', alias], { SF_ACCESS_TOKEN: emu.accessToken });
    expect(login.code, login.stderr).to.equal(0);
    return emu;
  };
  const create = (alias: string, args: string[]): Promise<{ code: number; stdout: string; body: Envelope<CreateResult> }> =>
    sf.json<Envelope<CreateResult>>(['integration', 'create', '--target-org', alias, ...args], env);
  const doctor = (alias: string, args: string[]): Promise<{ code: number; stdout: string; body: Envelope<DoctorResult> }> =>
    sf.json<Envelope<DoctorResult>>(['integration', 'doctor', '--target-org', alias, ...args], env);

  before(async () => {
    sf = await newSfHome();
    const link = await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install']);
    expect(link.code, link.stderr).to.equal(0);
  });
  after(async () => {
    await Promise.all(emulators.map((e) => e.close()));
    await sf?.dispose();
  });

  for (const form of ['names', 'ids'] as const) {
    describe(`without the optional permission fields, commaSeparatedPermissionSet read as ${form}`, () => {
      let emu: Emulator;
      let created: CreateResult;
      const alias = `variant-${form}`;
      // The Ids variant also takes a long name: the app's component names must still fit 40 characters.
      const name = form === 'names' ? 'HubSpot' : 'Customer_Data_Platform_Sync';
      const args = (): string[] => ['--name', name, '--object', 'Account=read,edit', '--field', 'Account.Industry=read', '--output-dir', join(sf.home, alias)];

      before(async () => {
        emu = await start(orgWithout(form), alias);
      });

      it('creates the integration, verified by a live token exchange', async () => {
        const r = await create(alias, args());
        expect(r.code, r.stdout).to.equal(0);
        created = r.body.result!;
        expect(created.verified).to.equal(true);
        expect(created.consumerKey).to.match(/^3MVG9/);
        const ps = emu.store.all('PermissionSet').find((p) => p.Name === `${name}_Integration`)!;
        // Selected on the app: the plugin wrote the set's API name, the org resolved it.
        const eca = emu.store.all('ExternalClientApplication').find((a) => a.DeveloperName === created.appName)!;
        expect(emu.store.all('SetupEntityAccess').filter((a) => a.SetupEntityId === eca.Id).map((a) => a.ParentId)).to.deep.equal([ps.Id]);
      });

      it('a second run with the same inputs writes nothing', async () => {
        emu.clearLog();
        const r = await create(alias, args());
        expect(r.code, r.stdout).to.equal(0);
        expect(new Set(r.body.result!.steps.map((s) => s.status))).to.deep.equal(new Set(['unchanged']));
        expect(emu.log().writes).to.equal(0);
      });

      it('doctor finds nothing failing and writes nothing', async () => {
        agePropagation(emu.store);
        emu.clearLog();
        const r = await doctor(alias, ['--name', created.appName, '--username', created.username, '--client-id', created.consumerKey!, '--private-key-file', created.privateKeyFile!]);
        const report = r.body.result!.reports[0];
        expect(r.code, JSON.stringify(report.checks.filter((c) => c.status !== 'pass'))).to.equal(0);
        expect(report.summary.fail).to.equal(0);
        expect(report.readFailures).to.equal(undefined);
        expect(report.checks.find((c) => c.id === 'user-least-privilege')?.status).to.equal('pass');
        expect(report.checks.find((c) => c.id === 'live-token-exchange')?.status).to.equal('pass');
        expect(emu.log().writes).to.equal(0);
      });
    });
  }

  describe('a query the org refuses', () => {
    let emu: Emulator;
    before(async () => {
      // An org (or a running user) without access to PermissionSetLicenseAssign: the query answers INVALID_TYPE.
      const integ = integrationFixture({ certificatePem: makeKeyPair('variants').certificatePem });
      integ.fixture.emulator = { ...integ.fixture.emulator, absentObjects: ['PermissionSetLicenseAssign'] };
      emu = await start(integ.fixture, 'refusing');
      agePropagation(emu.store);
    });

    it('create stops before any write, names the query and Salesforce\'s error, exit 1', async () => {
      emu.clearLog();
      const r = await create('refusing', ['--name', 'Zendesk', '--object', 'Case=read', '--output-dir', join(sf.home, 'zendesk')]);
      expect(r.code, r.stdout).to.equal(1);
      expect(r.body.name).to.equal('SnapshotReadFailedError');
      expect(r.body.message).to.contain("PermissionSetLicenseAssign (pslAssignments): INVALID_TYPE: sObject type 'PermissionSetLicenseAssign' is not supported");
      expect(emu.log().writes).to.equal(0);
    });

    it('doctor skips the checks that need it, naming the query and the error, and fails the run', async () => {
      emu.clearLog();
      const r = await doctor('refusing', ['--name', 'HubSpot_Integration', '--username', 'hubspot.integration@emulated-org.example']);
      expect(r.code).to.equal(1);
      const report = r.body.result!.reports[0];
      expect(report.readFailures?.map((f) => f.query)).to.deep.equal(['pslAssignments']);
      const license = report.checks.find((c) => c.id === 'user-permission-set-license')!;
      expect(license.status).to.equal('skip');
      expect(license.finding).to.contain('PermissionSetLicenseAssign').and.contain('pslAssignments').and.contain('INVALID_TYPE');
      expect(report.checks.find((c) => c.id === 'app-exists')?.status).to.equal('pass');
      expect(report.summary.fail).to.equal(0);
      expect(emu.log().writes).to.equal(0);
    });
  });

  it('finds a Connected App by its API name when its label differs, and shows the label', async () => {
    const integ = integrationFixture({ appKind: 'connected-app', name: 'Billing_Sync', certificatePem: makeKeyPair('ca-variant').certificatePem });
    Object.assign(integ.fixture.metadata!.ConnectedApp[0], { label: 'Billing Sync (ERP)' });
    const emu = await start(integ.fixture, 'labelled');
    agePropagation(emu.store);
    expect(emu.store.all('ConnectedApplication').map((c) => c.Name)).to.deep.equal(['Billing Sync (ERP)']);
    const r = await doctor('labelled', ['--name', 'Billing_Sync', '--username', integ.username]);
    const report = r.body.result!.reports[0];
    expect(report.app).to.include({ name: 'Billing_Sync', kind: 'connected-app', label: 'Billing Sync (ERP)' });
    expect(report.checks.find((c) => c.id === 'app-exists')?.finding).to.contain("'Billing Sync (ERP)'");
    expect(report.checks.find((c) => c.id === 'app-permission-set-associated')?.status).to.equal('pass');
    const human = await sf.run(['integration', 'doctor', '--target-org', 'labelled', '--name', 'Billing_Sync', '--username', integ.username], env);
    expect(human.stdout).to.contain("App: Billing_Sync (Connected App), shown in Setup as 'Billing Sync (ERP)'");
  });
});
