/*
 * The pure parts of `rotate --strategy new-app` and `--retire`: the successor's name and settings, its plan (create's
 * key pair step and the one planner's app step: the app deployed whole with the old app's permission sets, then the
 * live check and the log; a resumed run plans nothing new), and the retirement's plan (revoke's token steps, the
 * destructive delete, the log; an app already gone plans nothing). No I/O: plans are data.
 */
import { expect } from 'chai';
import { defaultNewAppName, planNewApp, planRetire, successorSettings, type NewAppPlanInput } from '../../src/rotate/new-app.js';
import type { SelectedToken } from '../../src/revoke/select.js';
import { healthySnapshot } from './snapshot-fixtures.js';

const entry = { date: '2027-03-01T12:00:00.000Z', change: 'new app', before: 'AA:BB', by: 'admin@acme.example' };

const input = (patch: Partial<NewAppPlanInput> = {}): NewAppPlanInput => {
  const snap = healthySnapshot();
  const old = snap.app!;
  return {
    old,
    settings: successorSettings(old, 'HubSpot_Integration_20270301', 'HubSpot 20270301', 'admin@acme.example'),
    snap: { ...snap, app: undefined },
    permissionSets: [{ id: '0PS000000000001AAA', name: 'HubSpot_Integration' }],
    local: { source: 'generate' },
    dir: '/tmp/hs',
    keyDir: '/tmp/hs/HubSpot_Integration_20270301',
    keySize: 2048,
    validityDays: 365,
    commonName: 'HubSpot integration',
    username: 'hs@acme.example',
    waitMinutes: 0,
    runbook: '# HubSpot\n',
    entry,
    ...patch,
  };
};

const shape = (steps: Array<{ id: string; action: string; ops: Array<{ kind: string }> }>): string[] => steps.map((s) => `${s.id}:${s.action}:${s.ops.map((o) => o.kind).join('+')}`);

const token = (n: number, lastUsedDate?: string): SelectedToken => ({
  deleteToken: `DT${n}`,
  userId: '005000000000001AAA',
  appName: 'HubSpot Integration',
  createdDate: '2026-01-01T00:00:00.000+0000',
  lastUsedDate,
  app: { kind: 'external-client-app', id: '0xI000000000001AAA', name: 'HubSpot_Integration', label: 'HubSpot Integration' },
  username: 'hs@acme.example',
});

describe('rotate --strategy new-app and --retire (plans)', () => {
  it('names the new app APP_yyyymmdd, within the app name limit', () => {
    const now = new Date('2027-03-01T10:00:00Z');
    expect(defaultNewAppName('HubSpot_Integration', now)).to.equal('HubSpot_Integration_20270301');
    const long = defaultNewAppName('A_Very_Long_Integration_Name_Of_Forty_Ch', now);
    expect(long.length).to.be.at.most(40);
    expect(long).to.match(/_20270301$/).and.not.match(/__/);
  });

  it('the successor keeps the old app kind, scopes and policies', () => {
    const old = healthySnapshot().app!;
    const s = successorSettings(old, 'New_App', 'New', 'x@y.example');
    expect(s).to.include({ kind: old.kind, name: 'New_App', ipRelaxation: old.ipRelaxation });
    expect(s.scopes).to.deep.equal(old.metadataScopes);
    expect(s.refreshTokenPolicy).to.deep.equal(old.refreshTokenPolicy);
  });

  it('plans a new key pair, the app deployed whole with the generated certificate and the permission set, the live check, the log', () => {
    const plan = planNewApp(input());
    expect(shape(plan.steps)).to.deep.equal(['certificate:create:generate-key-pair', 'app:create:deploy-app', 'verify:unchanged:read-credentials+verify', 'documents:update:write-file']);
    const gen = plan.steps[0].ops[0];
    expect(gen).to.include({ kind: 'generate-key-pair', dir: '/tmp/hs/HubSpot_Integration_20270301' });
    expect(gen).to.not.have.property('keepPrevious');
    const deploy = plan.steps[1].ops[0];
    expect(deploy).to.deep.include({ kind: 'deploy-app', flow: 'jwt', permissionSet: '0PS000000000001AAA', permissionSetName: 'HubSpot_Integration', certificate: { ref: 'certificate' } });
    expect(plan.steps[1].changes).to.deep.include({ key: 'app.select', values: ['HubSpot_Integration'] });
    expect(plan.warnings).to.deep.equal([]);
    const withProfile = planNewApp(input({ old: { ...healthySnapshot().app!, profileIds: ['00e000000000001AAA'] } }));
    expect(withProfile.warnings[0]).to.match(/^1 profiles pre-authorized on HubSpot_Integration are not carried over/);
    const verify = plan.steps[2].ops[1];
    expect(verify).to.include({ kind: 'verify', appName: 'HubSpot_Integration_20270301', username: 'hs@acme.example' });
  });

  it('selects every permission set the old app pre-authorizes; a resumed run whose app exists plans no write', () => {
    const two = planNewApp(input({ permissionSets: [{ id: '0PS000000000001AAA', name: 'HubSpot_Integration' }, { id: '0PS000000000002AAA', name: 'Extra' }] }));
    expect(shape(two.steps)[1]).to.equal('app:create:deploy-app+patch-app');
    const patch = two.steps[1].ops[1];
    expect(patch.kind === 'patch-app' && patch.patch.addPermissionSets).to.deep.equal({ '0PS000000000002AAA': 'Extra' });

    const snap = healthySnapshot();
    const pem = snap.app!.certificate!;
    const existing = { ...snap.app!, name: 'HubSpot_Integration_20270301', permissionSetIds: ['0PS000000000001AAA'] };
    const resumed = planNewApp(input({ snap: { ...snap, app: existing }, local: { source: 'existing', certificatePem: pem }, settings: { ...successorSettings(snap.app!, existing.name, existing.label, 'x'), contactEmail: existing.contactEmail ?? 'x' } }));
    const [certificate, app] = resumed.steps;
    expect(certificate.action).to.equal('unchanged');
    expect(app.ops.filter((o) => o.kind === 'patch-app')).to.have.length(0);
  });

  it('retires: the tokens revoked (revoke plan), then the app deleted by a destructive deploy, then the log', () => {
    const app = healthySnapshot().app!;
    const plan = planRetire({ app, name: app.name, tokens: [token(1, '2026-02-01T00:00:00.000+0000'), token(2)], dir: '/tmp/hs', log: true, runbook: '# HubSpot\n', entry });
    expect(shape(plan.steps)).to.deep.equal(['revoke-tokens:delete:revoke-token+revoke-token', 'retire-app:delete:delete-app', 'documents:update:write-file']);
    expect(plan.steps[1].ops[0]).to.deep.equal({ kind: 'delete-app', app: { kind: app.kind, name: app.name } });
    expect(JSON.stringify(plan.steps[0].ops.map((o) => (o.kind === 'revoke-token' ? o.label : '')))).to.not.include('DT1');
  });

  it('an app already gone, with no tokens left, plans nothing to write (the re-run of a finished retirement)', () => {
    const plan = planRetire({ app: undefined, name: 'HubSpot_Integration', tokens: [], dir: '/tmp/hs', log: true, entry });
    expect(plan.steps.every((s) => s.ops.length === 0)).to.equal(true);
    expect(plan.steps.map((s) => `${s.id}:${s.action}`)).to.deep.equal(['revoke-tokens:unchanged', 'retire-app:unchanged']);
  });
});
