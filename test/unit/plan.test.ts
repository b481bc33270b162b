/*
 * The planner and doctor's fix planner as pure functions: desired state + snapshot → steps.
 */
import { expect } from 'chai';
import { runChecks } from '../../src/checks/index.js';
import { planFixes, repairState } from '../../src/doctor/fix.js';
import { planIntegration, type LocalCredentials } from '../../src/create/plan.js';
import { isNoop, planChanges, PlanBlocked } from '../../src/plan/plan.js';
import { changeTexts, planLines, plannedResults, renderSteps, stepRows } from '../../src/plan/render.js';
import type { Operation, Step } from '../../src/plan/types.js';
import { buildSpec } from '../../src/desired/index.js';
import type { IntegrationSpec } from '../../src/desired/types.js';
import type { OrgSnapshot } from '../../src/org/types.js';
import { healthyContext, healthySnapshot, IDS, jwtApp, NOW, USERNAME } from './snapshot-fixtures.js';

const spec = (args: Parameters<typeof buildSpec>[0] = {}): IntegrationSpec =>
  buildSpec(
    { name: 'HubSpot', username: USERNAME, email: 'integration-owner@acme.com', objects: ['Account=read,create,edit', 'Contact=read'], fields: ['Account.Industry=edit'], ...args },
    { adminUsername: 'admin@acme.com', adminEmail: 'admin@acme.com', isSandbox: false }
  ).spec;

const existing = (snap: OrgSnapshot): LocalCredentials => ({ source: 'existing', certificatePem: snap.app?.certificate, documentsWritten: true });

const texts = (s: Step | undefined): string[] => changeTexts(s?.changes ?? []);

/** An org where nothing of the integration exists yet. */
const emptyOrg = (): OrgSnapshot => {
  const snap = healthySnapshot({ app: null, user: null });
  snap.permissionSets = {};
  snap.targetPermissionSetId = undefined;
  snap.integrationLicense = { id: '100Tt0000000002AAA', name: 'Salesforce Integration', total: 5, used: 0 };
  return snap;
};

/** The healthy org, with the permission set known to create by name and its access as the spec asks. */
const configuredOrg = (): OrgSnapshot => {
  const snap = healthySnapshot();
  snap.targetPermissionSetId = IDS.permissionSet;
  const ps = snap.permissionSets[IDS.permissionSet];
  ps.objects = [
    { id: '110Tt0000000001AAA', object: 'Account', read: true, create: true, edit: true, delete: false, viewAll: false, modifyAll: false },
    { id: '110Tt0000000002AAA', object: 'Contact', read: true, create: false, edit: false, delete: false, viewAll: false, modifyAll: false },
  ];
  ps.fields = [{ id: '01kTt0000000001AAA', field: 'Account.Industry', read: true, edit: true }];
  ps.systemPermissions = { ApiEnabled: true };
  return snap;
};

const opsOf = (plan: ReturnType<typeof planIntegration>, id: string): Operation[] => plan.steps.find((s) => s.id === id)?.ops ?? [];

describe('planIntegration', () => {
  it('plans every step as create in an empty org, wiring new records by reference', () => {
    const plan = planIntegration(spec(), emptyOrg(), { source: 'generate' }, { verify: true });
    const actions = Object.fromEntries(plan.steps.map((s) => [s.id, s.action]));
    expect(actions).to.include({ certificate: 'create', user: 'create', 'permission-set-license': 'create', 'permission-set': 'create', 'object-permissions': 'create', 'field-permissions': 'create', 'permission-set-assignment': 'create', app: 'create' });
    const assign = opsOf(plan, 'permission-set-assignment')[0];
    expect(assign).to.deep.include({ kind: 'create', sobject: 'PermissionSetAssignment' });
    expect((assign as Extract<Operation, { kind: 'create' }>).fields).to.deep.equal({ AssigneeId: { ref: 'user' }, PermissionSetId: { ref: 'permissionSet' } });
    const user = opsOf(plan, 'user')[0] as Extract<Operation, { kind: 'create' }>;
    expect(user.fields).to.include({ Username: USERNAME, ProfileId: IDS.profile, Email: 'integration-owner@acme.com' });
    expect(plan.steps.map((s) => s.id).indexOf('certificate')).to.be.below(plan.steps.map((s) => s.id).indexOf('user'));
  });

  it('plans nothing to write when the org already matches (idempotence)', () => {
    const snap = configuredOrg();
    const plan = planIntegration(spec(), snap, existing(snap), { verify: true });
    expect(isNoop(plan), JSON.stringify(plan.steps.filter((s) => s.action !== 'unchanged'))).to.be.true;
  });

  it('updates access in place and removes access no longer asked for', () => {
    const snap = configuredOrg();
    const plan = planIntegration(spec({ objects: ['Contact=read,edit'], fields: [] }), snap, existing(snap), { verify: false });
    const objects = plan.steps.find((s) => s.id === 'object-permissions')!;
    expect(objects.action).to.equal('update');
    expect(texts(objects)).to.include.members(['Contact: read → read,edit', 'Account: read,create,edit → none']);
    const fields = plan.steps.find((s) => s.id === 'field-permissions')!;
    expect(fields.ops).to.deep.equal([{ kind: 'delete', sobject: 'FieldPermissions', id: '01kTt0000000001AAA' }]);
  });

  it('clears an assignment expiry and names the app policies it will change', () => {
    const snap = configuredOrg();
    snap.user!.assignments[0].expirationDate = '2027-04-01T00:00:00.000Z';
    snap.app = jwtApp({ refreshTokenPolicy: { type: 'specific_lifetime', value: 1, unit: 'DAYS' }, pkceRequired: true });
    const plan = planIntegration(spec(), snap, existing(snap), { verify: false });
    expect(plan.steps.find((s) => s.id === 'permission-set-assignment')?.ops).to.deep.equal([
      { kind: 'update', sobject: 'PermissionSetAssignment', id: IDS.assignment, fields: { ExpirationDate: null } },
    ]);
    const app = plan.steps.find((s) => s.id === 'app')!;
    expect(app.action).to.equal('update');
    expect(texts(app)).to.include.members(['PKCE required → not required', 'refresh token policy: specific_lifetime:1:DAYS → infinite']);
  });

  it('updates the app when a new key pair replaces the certificate', () => {
    const snap = configuredOrg();
    const plan = planIntegration(spec(), snap, { source: 'provided', certificatePem: 'another certificate' }, { verify: false });
    expect(texts(plan.steps.find((s) => s.id === 'app'))).to.include('certificate');
  });

  it('stops before any write when no Integration license is free', () => {
    const snap = emptyOrg();
    snap.integrationLicense = { id: '100Tt0000000002AAA', name: 'Salesforce Integration', total: 5, used: 5 };
    try {
      planIntegration(spec(), snap, { source: 'generate' }, { verify: true });
      expect.fail('expected PlanBlocked');
    } catch (e) {
      expect(e).to.be.instanceOf(PlanBlocked);
      expect((e as PlanBlocked).problems[0]).to.deep.equal({ key: 'error.NoFreeLicense', tokens: [5, 5] });
    }
  });

  it('never takes over a user on another license: the username belongs to someone else', () => {
    const snap = configuredOrg();
    snap.user = { ...snap.user!, profileName: 'Standard User', userLicenseName: 'Salesforce' };
    try {
      planIntegration(spec(), snap, existing(snap), { verify: false });
      expect.fail('expected PlanBlocked');
    } catch (e) {
      expect((e as PlanBlocked).problems.map((p) => p.key)).to.include('error.UsernameTaken');
    }
  });

  it('refuses to replace an app of the other kind', () => {
    const snap = configuredOrg();
    snap.app = jwtApp({ kind: 'connected-app' });
    expect(() => planIntegration(spec(), snap, existing(snap), { verify: false })).to.throw(PlanBlocked);
  });

  it('skips the certificate for client credentials and sets the run-as user on the app', () => {
    const plan = planIntegration(spec({ flow: 'client-credentials' }), emptyOrg(), { source: 'none' }, { verify: true });
    expect(plan.steps.find((s) => s.id === 'certificate')?.action).to.equal('skip');
    const deploy = opsOf(plan, 'app')[0] as Extract<Operation, { kind: 'deploy-app' }>;
    expect(deploy.runAsUsername).to.equal(USERNAME);
    expect(deploy.flow).to.equal('client-credentials');
  });
});

describe('planFixes (doctor --fix)', () => {
  it('plans nothing for a healthy integration', () => {
    const snap = healthySnapshot();
    expect(planFixes(snap, runChecks(snap, healthyContext()), 'jwt', NOW).steps).to.deep.equal([]);
  });

  it('re-selects the user\'s permission set and repairs the policies as one patch of the app', () => {
    const snap = healthySnapshot({ app: { permissionSetIds: [], refreshTokenPolicy: { type: 'zero' }, pkceRequired: true } });
    const plan = planFixes(snap, runChecks(snap, healthyContext()), 'jwt', NOW);
    expect(plan.steps.map((s) => s.id)).to.deep.equal(['app']);
    const op = plan.steps[0].ops[0] as Extract<Operation, { kind: 'patch-app' }>;
    expect(op.app).to.deep.equal({ kind: 'external-client-app', name: 'HubSpot_Integration' });
    expect(op.patch).to.deep.include({ pkceOff: true, refreshValidUntilRevoked: true, adminApproved: true, relaxIp: false, namedUserJwtOff: false });
    expect(op.patch.addPermissionSets).to.deep.equal({ [IDS.permissionSet]: 'HubSpot_Integration' });
    // The repairs of app-permission-set-associated, app-refresh-token-policy and app-pkce, in create's words.
    expect(plan.steps[0].changes.map((c) => c.key)).to.include.members(['app.select', 'app.refresh-token-policy', 'app.pkce']);
    expect(texts(plan.steps[0])).to.include.members(['select permission set HubSpot_Integration', 'refresh token policy: zero → infinite', 'PKCE required → not required']);
  });

  it('relaxes any IP enforcement the check warns about, not only Enforce', () => {
    const snap = healthySnapshot({ app: { ipRelaxation: 'BYPASS_2FACTOR' } });
    const plan = planFixes(snap, runChecks(snap, healthyContext()), 'jwt', NOW);
    expect((plan.steps[0].ops[0] as Extract<Operation, { kind: 'patch-app' }>).patch.relaxIp).to.equal(true);
  });

  it('clears an expiring assignment and assigns a missing permission set license', () => {
    const snap = healthySnapshot({ user: { permissionSetLicenses: [], assignments: [{ id: IDS.assignment, permissionSetId: IDS.permissionSet, expirationDate: '2027-03-20T00:00:00.000Z' }] } });
    const plan = planFixes(snap, runChecks(snap, healthyContext()), 'jwt', NOW);
    expect(plan.steps.map((s) => s.id)).to.deep.equal(['permission-set-license', 'permission-set-assignment']);
    expect(plan.steps[1].ops).to.deep.equal([{ kind: 'update', sobject: 'PermissionSetAssignment', id: IDS.assignment, fields: { ExpirationDate: null } }]);
  });
});

describe('repairState (doctor --fix): the failed checks as a partial desired state, no writes of its own', () => {
  it('names only the parts the failed checks repair', () => {
    const snap = healthySnapshot({ app: { pkceRequired: true, ipRelaxation: 'ENFORCE' } });
    const results = runChecks(snap, healthyContext());
    expect(repairState(snap, results, 'jwt', NOW)).to.deep.equal({ app: { change: { pkceRequired: false, ipRelaxation: 'BYPASS' } } });
    expect(repairState(healthySnapshot(), runChecks(healthySnapshot(), healthyContext()), 'jwt', NOW)).to.deep.equal({});
  });

  it('reads the repair from the result as data, not from the check id', () => {
    const snap = healthySnapshot();
    const renamed = [{ id: 'some-future-check', group: 'app' as const, status: 'fail' as const, finding: 'x', fix: { setup: 's', command: 'c', autoFixable: true, repair: { part: 'app' as const, setting: 'pkce' as const } } }];
    expect(repairState(snap, renamed, 'jwt', NOW)).to.deep.equal({ app: { change: { pkceRequired: false } } });
  });

  it('plans its writes with the one planner: the same operations create would send', () => {
    const snap = healthySnapshot({ user: { permissionSetLicenses: [] } });
    const fix = planFixes(snap, runChecks(snap, healthyContext()), 'jwt', NOW);
    const create = planChanges({ permissionSetLicense: true }, snap);
    expect(fix.steps).to.deep.equal(create);
    expect(texts(fix.steps[0])).to.deep.equal([`assign Salesforce API Integration to ${USERNAME}`]);
  });
});

describe('the plan renderer', () => {
  it('prints a plan as the results it would have, and the lines of a prompt, in messages/plan.md words', () => {
    const plan = planIntegration(spec(), emptyOrg(), { source: 'generate' }, { verify: true, outputDir: '/tmp/hubspot-integration' });
    const planned = renderSteps(plannedResults(plan.steps));
    expect(planned.find((s) => s.name === 'user')).to.deep.include({ status: 'created', changes: ['new user'] });
    expect(planned.find((s) => s.name === 'documents')).to.deep.include({ status: 'created', changes: ['write runbook.md', 'write integration.yaml'] });
    const rows = stepRows(planned);
    expect(rows.find((r) => r.step === 'permission-set-assignment')?.changes).to.equal('assign HubSpot_Integration without expiry');
    expect(planLines(plan.steps).some((line) => line.startsWith('  app HubSpot_Integration: new external-client-app for the jwt flow'))).to.equal(true);
  });

  it('holds the runbook as text with the values only the run knows, and a re-run that changes nothing writes no document', () => {
    const plan = planIntegration(spec(), emptyOrg(), { source: 'generate' }, { verify: true, outputDir: '/tmp/hubspot-integration' });
    const runbook = plan.steps.find((s) => s.id === 'documents')!.ops[0] as Extract<Operation, { kind: 'write-file' }>;
    expect(runbook.content.filter((part) => typeof part !== 'string')).to.deep.include.members([{ ref: 'consumerKey' }, { ref: 'certificateExpires' }]);
    const snap = configuredOrg();
    expect(planIntegration(spec(), snap, existing(snap), { verify: true }).steps.find((s) => s.id === 'documents')?.action).to.equal('unchanged');
  });
});
