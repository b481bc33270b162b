/*
 * A write whose answer is lost is never sent twice: through the real sf CLI, create meets a connection that drops
 * after the org committed (the emulator's `afterCommit` fault) on the composite record write and on the deploy of
 * the External Client App. It reads the org back, continues from what the org holds, says so, and leaves exactly
 * one user, permission set, assignment and app.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import { startEmulator, type Emulator } from '../emulator/index.js';
import type { CreateResult } from '../../src/create/run.js';
import { defaultFixture } from '../helpers/fixtures.js';
import { newSfHome, PROJECT_ROOT, type SfHome } from '../helpers/sf.js';

type Envelope<T> = { status: number; result?: T; name?: string; message?: string; warnings?: string[] };

describe('writes whose answer is lost (real CLI, emulator)', function () {
  this.timeout(600_000);
  let emu: Emulator;
  let sf: SfHome;

  const create = (name: string): Promise<{ code: number; stdout: string; stderr: string; body: Envelope<CreateResult> }> =>
    sf.json<Envelope<CreateResult>>(
      ['integration', 'create', '--target-org', 'emu', '--name', name, '--object', 'Account=read', '--field', 'Account.Industry=read', '--output-dir', join(sf.home, name)],
      { SF_INTEGRATION_RETRY_BASE_MS: '5' }
    );

  /** What the org holds for the integration `name`: each must be exactly one. */
  const held = (name: string): Record<string, number> => {
    const users = emu.store.all('User').filter((u) => String(u.Username).startsWith(`${name.toLowerCase()}.integration@`));
    const sets = emu.store.all('PermissionSet').filter((p) => p.Name === `${name}_Integration`);
    const userId = users[0]?.Id;
    const psId = sets[0]?.Id;
    return {
      users: users.length,
      permissionSets: sets.length,
      assignments: emu.store.all('PermissionSetAssignment').filter((a) => a.AssigneeId === userId && a.PermissionSetId === psId).length,
      licenseAssignments: emu.store.all('PermissionSetLicenseAssign').filter((a) => a.AssigneeId === userId).length,
      objectPermissions: emu.store.all('ObjectPermissions').filter((o) => o.ParentId === psId && o.SobjectType === 'Account').length,
      fieldPermissions: emu.store.all('FieldPermissions').filter((f) => f.ParentId === psId && f.Field === 'Account.Industry').length,
      apps: emu.store.all('ExternalClientApplication').filter((a) => a.DeveloperName === `${name}_Integration`).length,
    };
  };
  const ONE_OF_EACH = { users: 1, permissionSets: 1, assignments: 1, licenseAssignments: 1, objectPermissions: 1, fieldPermissions: 1, apps: 1 };

  const requests = (pred: (e: ReturnType<Emulator['log']>['entries'][number]) => boolean): number => emu.log().entries.filter(pred).length;
  const composites = (): number => requests((e) => e.method === 'POST' && e.path.endsWith('/composite'));
  const deploys = (): number => requests((e) => e.soapOperation === 'deploy');

  before(async () => {
    const fx = defaultFixture();
    fx.records!.UserLicense.find((l) => l.Name === 'Salesforce Integration')!.TotalLicenses = 20;
    fx.records!.PermissionSetLicense[0].TotalLicenses = 20;
    emu = await startEmulator({ fixture: fx });
    sf = await newSfHome();
    const link = await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install']);
    expect(link.code, link.stderr).to.equal(0);
    const login = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', 'emu'], { SF_ACCESS_TOKEN: emu.accessToken });
    expect(login.code, login.stderr).to.equal(0);
  });

  after(async () => {
    await emu?.close();
    await sf?.dispose();
  });

  afterEach(() => emu.clearFaults());

  it('the emulator commits an afterCommit request, then drops the connection', async () => {
    emu.injectFault({ method: 'POST', path: '/sobjects/Account$', afterCommit: true });
    emu.clearLog();
    const before = emu.store.all('Account').length;
    const sent = await fetch(`${emu.instanceUrl}/services/data/v66.0/sobjects/Account`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emu.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ Name: 'Committed Then Dropped' }),
    }).then(
      () => 'answered',
      () => 'dropped'
    );
    expect(sent).to.equal('dropped');
    expect(emu.store.all('Account').length).to.equal(before + 1);
    expect(emu.log().writes).to.equal(1);
  });

  it('composite write committed, answer lost: reads the records back, sends nothing twice, says so', async () => {
    emu.injectFault({ method: 'POST', path: '/composite$', afterCommit: true });
    emu.clearLog();
    const r = await create('Lost');
    expect(r.code, r.stdout).to.equal(0);
    expect(r.body.result!.verified).to.be.true;
    expect(held('Lost')).to.deep.equal(ONE_OF_EACH);
    // One composite request: the one whose answer was lost. The read-back is a batch of queries.
    expect(composites()).to.equal(1);
    expect(requests((e) => e.method === 'POST' && e.path.endsWith('/composite/batch'))).to.be.at.least(2);
    const note = r.body.result!.warnings.find((w) => w.includes('POST /composite'));
    expect(note, JSON.stringify(r.body.result!.warnings)).to.match(/not sent twice: User Username=lost\.integration@/);
    expect(note).to.include('PermissionSet Name=Lost_Integration');
    expect(note).to.match(/Sent again, because the org did not hold it: nothing\./);
    expect(r.body.warnings ?? []).to.include(note);
    // The steps read as written: the records are the lost request's.
    const statuses = Object.fromEntries(r.body.result!.steps.map((s) => [s.name, s.status]));
    expect(statuses).to.include({ user: 'created', 'permission-set': 'created', 'permission-set-assignment': 'created', app: 'created' });
    expect(r.body.result!.userId).to.equal(emu.store.all('User').find((u) => String(u.Username).startsWith('lost.integration@'))!.Id);
  });

  it('composite write dropped before the org read it: finds nothing, sends it again once', async () => {
    emu.injectFault({ method: 'POST', path: '/composite$', drop: true });
    emu.clearLog();
    const r = await create('Unsent');
    expect(r.code, r.stdout).to.equal(0);
    expect(held('Unsent')).to.deep.equal(ONE_OF_EACH);
    expect(composites()).to.equal(2);
    const note = r.body.result!.warnings.find((w) => w.includes('POST /composite'));
    expect(note).to.match(/not sent twice: nothing\./);
    expect(note).to.match(/Sent again, because the org did not hold it: User Username=unsent\.integration@/);
    expect(note).to.include('PermissionSetAssignment AssigneeId=(new user), PermissionSetId=(new permissionSet)');
  });

  it('deploy committed, answer lost: retrieves the app, finds it as written, deploys nothing twice', async () => {
    emu.injectFault({ soapOperation: 'deploy', afterCommit: true });
    emu.clearLog();
    const r = await create('Deployed');
    expect(r.code, r.stdout).to.equal(0);
    expect(r.body.result!.verified).to.be.true;
    expect(r.body.result!.consumerKey).to.match(/^3MVG9/);
    expect(held('Deployed')).to.deep.equal(ONE_OF_EACH);
    expect(deploys()).to.equal(1);
    expect(requests((e) => e.soapOperation === 'retrieve')).to.be.at.least(1);
    const note = r.body.result!.warnings.find((w) => w.includes('deploy'));
    expect(note, JSON.stringify(r.body.result!.warnings)).to.match(/not sent twice: ExternalClientApplication Deployed_Integration; /);
    expect(note).to.match(/Sent again, because the org did not hold it: nothing\./);
  });

  it('deploy dropped before the org read it: the app is not there, so it is deployed again once', async () => {
    emu.injectFault({ soapOperation: 'deploy', drop: true });
    emu.clearLog();
    const r = await create('Redeployed');
    expect(r.code, r.stdout).to.equal(0);
    expect(held('Redeployed')).to.deep.equal(ONE_OF_EACH);
    expect(deploys()).to.equal(2);
    expect(r.body.result!.warnings.find((w) => w.includes('deploy'))).to.match(/Sent again, because the org did not hold it: ExternalClientApplication Redeployed_Integration/);
  });

  it('a re-run after both faults changes nothing', async () => {
    emu.clearLog();
    const r = await create('Lost');
    expect(r.code, r.stdout).to.equal(0);
    expect(new Set(r.body.result!.steps.filter((s) => s.name !== 'field-permissions' && s.name !== 'verify').map((s) => s.status))).to.deep.equal(new Set(['unchanged']));
    expect(emu.log().writes).to.equal(0);
    expect(held('Lost')).to.deep.equal(ONE_OF_EACH);
  });
});
