/*
 * The migration's analysis and plans as pure functions of plain snapshots: what is carried, what is dropped and why,
 * the seats, the order of the in-place writes, and the refusals before any write.
 */
import { expect } from 'chai';
import { buildSpec } from '../../src/desired/index.js';
import { analyzeMigration } from '../../src/migrate/analyze.js';
import { planMigration, type MigratePlanInput } from '../../src/migrate/plan.js';
import { PlanBlocked } from '../../src/plan/plan.js';
import type { OrgSnapshot } from '../../src/org/types.js';
import { healthySnapshot, IDS, permissionSet, profileSet } from './snapshot-fixtures.js';

const STANDARD_PROFILE_SET = '0PSTt0000000007AAA';
const PRIVILEGED_SET = '0PSTt0000000008AAA';

/** A user on the standard Salesforce license: profile access to Account (View All), Contact and Campaign, plus a privileged set. */
const legacySnapshot = (): OrgSnapshot =>
  healthySnapshot({
    user: {
      username: 'legacy@acme.com',
      profileId: '00eTt0000000009AAA',
      profileName: 'Standard User',
      userLicenseName: 'Salesforce',
      profilePermissionSetId: STANDARD_PROFILE_SET,
      assignments: [
        { id: '0PaTt0000000007AAA', permissionSetId: STANDARD_PROFILE_SET },
        { id: '0PaTt0000000008AAA', permissionSetId: PRIVILEGED_SET },
      ],
      permissionSetLicenses: [],
    },
    app: { permissionSetIds: [], profileIds: ['00eTt0000000009AAA'] },
    permissionSets: [
      profileSet({
        id: STANDARD_PROFILE_SET,
        profileId: '00eTt0000000009AAA',
        profileName: 'Standard User',
        licenseName: 'Salesforce',
        systemPermissions: { ApiEnabled: true, ExportReport: true },
        objects: [
          { object: 'Account', read: true, create: false, edit: true, delete: false, viewAll: true, modifyAll: false },
          { object: 'Contact', read: true, create: false, edit: false, delete: false, viewAll: false, modifyAll: false },
          { object: 'Campaign', read: true, create: false, edit: false, delete: false, viewAll: false, modifyAll: false },
        ],
        fields: [{ field: 'Campaign.Name', read: true, edit: false }],
      }),
      permissionSet({ id: PRIVILEGED_SET, name: 'Legacy_Admin', licenseName: undefined, systemPermissions: { ApiEnabled: true, ModifyAllData: true }, objects: [], fields: [] }),
    ],
  });

const specFor = (username: string): MigratePlanInput['spec'] =>
  buildSpec(
    { name: 'Legacy', username, email: 'owner@acme.com', objects: ['Account=read,edit', 'Contact=read'] },
    { adminUsername: 'admin@acme.com', isSandbox: false }
  ).spec;

describe('migrate: analysis', () => {
  it('carries what the Integration license allows and names what it drops, with where it came from', () => {
    const a = analyzeMigration(legacySnapshot(), { strategy: 'new-user', keepOldUser: false, tokens: [], userLicense: { id: '100', name: 'Salesforce', total: 10, used: 4 } });
    expect(a.carried.objects.map((o) => `${o.object}:${o.read}:${o.edit}:${o.viewAll}`)).to.deep.equal(['Account:true:true:false', 'Contact:true:false:false']);
    expect(a.dropped.map((d) => `${d.name}/${d.reason}`).sort()).to.deep.equal(
      ['Account: View All Records/privileged', 'Campaign.Name/license', 'Campaign/license', 'ExportReport/privileged', 'ModifyAllData/privileged'].sort()
    );
    expect(a.dropped.find((d) => d.name === 'Campaign')!.via).to.deep.equal(['profile Standard User']);
    expect(a.permissionSets).to.deep.equal([{ id: PRIVILEGED_SET, name: 'Legacy_Admin', license: undefined, compatible: false, reasons: ['ModifyAllData'] }]);
    expect(a.app?.preAuthorizedVia).to.deep.equal(['profile Standard User']);
    expect(a.seatFreed).to.deep.equal({ license: 'Salesforce', used: 4, total: 10, after: 3 });
    expect(a.integrationSeat?.after).to.equal(2);
  });

  it('frees no seat when the old user is kept', () => {
    const a = analyzeMigration(legacySnapshot(), { strategy: 'new-user', keepOldUser: true, tokens: [], userLicense: { id: '100', name: 'Salesforce', total: 10, used: 4 } });
    expect(a.seatFreed).to.equal(undefined);
  });
});

describe('migrate: plans', () => {
  const input = (snap: OrgSnapshot, patch: Partial<MigratePlanInput> = {}): MigratePlanInput => ({
    strategy: 'in-place',
    analysis: analyzeMigration(snap, { strategy: 'in-place', keepOldUser: false, tokens: [] }),
    spec: specFor('legacy@acme.com'),
    oldSnap: snap,
    tokens: [],
    keepOldUser: false,
    outputDir: '/tmp/legacy-migration',
    documentsWritten: false,
    waitMinutes: 0,
    targetOrg: 'prod',
    runningUsername: 'admin@acme.com',
    ...patch,
  });

  it('in place: unassigns, changes the profile, then assigns the license and the sets, in that order', () => {
    const plan = planMigration(input(legacySnapshot()));
    const ids = plan.steps.map((s) => s.id);
    expect(ids.indexOf('old-permission-sets')).to.be.lessThan(ids.indexOf('user'));
    expect(ids.indexOf('user')).to.be.lessThan(ids.indexOf('permission-set-license'));
    expect(ids.indexOf('permission-set-license')).to.be.lessThan(ids.indexOf('permission-set-assignment'));
    const user = plan.steps.find((s) => s.id === 'user')!;
    expect(user.ops).to.deep.equal([{ kind: 'update', sobject: 'User', id: IDS.user, fields: { ProfileId: IDS.profile } }]);
    // The privileged set does not fit: unassigned and not assigned again.
    const assign = plan.steps.find((s) => s.id === 'permission-set-assignment')!;
    expect(JSON.stringify(assign.ops)).to.not.include(PRIVILEGED_SET);
  });

  it('refuses before any write: no free Integration license, a license Salesforce cannot move, the running user', () => {
    const full = legacySnapshot();
    full.integrationLicense = { id: '100Tt', name: 'Salesforce Integration', total: 5, used: 5 };
    const keys = (fn: () => unknown): string[] => {
      try {
        fn();
      } catch (e) {
        if (e instanceof PlanBlocked) return e.problems.map((p) => p.key);
        throw e;
      }
      return [];
    };
    expect(keys(() => planMigration(input(full)))).to.deep.equal(['error.NoFreeLicense']);
    const chatter = legacySnapshot();
    chatter.user = { ...chatter.user!, userLicenseName: 'Chatter Free' };
    expect(keys(() => planMigration(input(chatter)))).to.include('error.InPlaceLicense');
    expect(keys(() => planMigration(input(legacySnapshot(), { runningUsername: 'legacy@acme.com' })))).to.include('error.InPlaceSelf');
  });

  it('new user: the old user is retired only after the live exchange, and its tokens are revoked', () => {
    const snap = legacySnapshot();
    const newSnap: OrgSnapshot = { ...snap, user: undefined, targetPermissionSetId: undefined };
    const tokens = [{ appName: 'Legacy', deleteToken: 'secret-delete-token' }];
    const plan = planMigration(
      input(snap, { strategy: 'new-user', spec: specFor('legacy.integration@acme.com'), newSnap, tokens, analysis: analyzeMigration(snap, { strategy: 'new-user', keepOldUser: false, tokens }) })
    );
    const ids = plan.steps.map((s) => s.id);
    expect(ids.indexOf('verify')).to.be.lessThan(ids.indexOf('old-tokens'));
    expect(ids.indexOf('old-tokens')).to.be.lessThan(ids.indexOf('old-user'));
    expect(plan.steps.find((s) => s.id === 'user')!.action).to.equal('create');
    expect(plan.steps.find((s) => s.id === 'old-user')!.ops).to.deep.equal([{ kind: 'update', sobject: 'User', id: IDS.user, fields: { IsActive: false } }]);
    // The DeleteToken is in the operation only, never in the words of the plan.
    expect(JSON.stringify(plan.steps.map((s) => [s.subject, s.changes]))).to.not.include('secret-delete-token');
  });
});
