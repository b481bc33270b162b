/*
 * The plan of a license migration, pure data decided before the first write, through the one planner
 * (src/plan/plan.ts planChanges) with the desired state of the migrated identity:
 *
 * - new-user: the new Integration user, the Salesforce API Integration permission set license, one least-privilege
 *   permission set with the supported part of the old access and its assignment (the steps create plans), the app's
 *   pre-authorization (and run-as) re-pointed, the live exchange as the new user, then the old user's tokens
 *   revoked and the old user deactivated.
 * - in-place: the replacement permission set, the old user's permission sets unassigned, the profile changed to
 *   "Minimum Access - API Only Integrations" (which moves the user to the Salesforce Integration license), the
 *   permission set license, the compatible sets and the replacement assigned again (all of it one all-or-none
 *   composite request: Salesforce applies all or none), app access re-granted, the live exchange.
 *
 * Both end with the documents: integration.yaml (the spec create reads) and runbook.md with the migration.
 */
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { specToFile, type DesiredAssignment, type DesiredState, type IntegrationSpec } from '../desired/index.js';
import type { HeldToken, OrgSnapshot } from '../org/index.js';
import { documentsStep, textWithRefs, verifyStep } from '../plan/local.js';
import { PlanBlocked, planChanges, step, type PlanProblem } from '../plan/plan.js';
import { planText } from '../plan/render.js';
import type { Change, Operation, Plan, RefName, Step, StepId } from '../plan/types.js';
import { renderRunbook } from '../report/runbook.js';
import { INTEGRATION_LICENSE } from '../salesforce/licenses.js';
import type { MigrationAnalysis, Strategy } from './analyze.js';
import { migrationSection } from './runbook.js';

export const RUNBOOK_FILE = 'runbook.md';
export const SPEC_FILE = 'integration.yaml';

/** User licenses Salesforce moves to the Salesforce Integration license by a profile change (governance-facts.md §5, third-party). */
export const IN_PLACE_LICENSES: readonly string[] = ['Salesforce', 'Salesforce Platform', INTEGRATION_LICENSE];

export type MigratePlanInput = {
  strategy: Strategy;
  analysis: MigrationAnalysis;
  /** The migrated identity: for new-user the new user; in place, the old user's names. */
  spec: IntegrationSpec;
  /** The org around the old user (in place: with the replacement permission set and the app). */
  oldSnap: OrgSnapshot;
  /** new-user: the org around the new user (the new user, its permission set, the app). */
  newSnap?: OrgSnapshot;
  tokens: HeldToken[];
  keepOldUser: boolean;
  outputDir: string;
  documentsWritten: boolean;
  privateKeyFile?: string;
  waitMinutes: number;
  targetOrg: string;
  runningUsername: string;
  now?: Date;
};

const change = (key: string, ...values: Array<string | number>): Change => (values.length ? { key, values } : { key });

const ORDER_IN_PLACE: readonly StepId[] = ['permission-set', 'object-permissions', 'field-permissions', 'old-permission-sets', 'user', 'permission-set-license', 'permission-set-assignment', 'app'];

const checkIntegrationLicense = (snap: OrgSnapshot, problems: PlanProblem[], takesSeat: boolean): void => {
  const lic = snap.integrationLicense;
  if (!snap.integrationProfile) problems.push({ key: 'error.NoIntegrationProfile', tokens: [] });
  if (!lic) problems.push({ key: 'error.NoIntegrationLicense', tokens: [] });
  else if (takesSeat && lic.used >= lic.total) problems.push({ key: 'error.NoFreeLicense', tokens: [lic.total, lic.used] });
};

/** The old user's tokens revoked (with the DeleteToken of each row), then the old user deactivated. */
const retireSteps = (input: MigratePlanInput): Step[] => {
  const user = input.oldSnap.user;
  const username = input.analysis.username;
  const revocable = input.tokens.filter((t) => t.deleteToken);
  const ops: Operation[] = revocable.map((t, i) => ({ kind: 'revoke-token', token: t.deleteToken ?? '', label: `OauthToken ${i + 1} (${t.appName}) of ${username}` }));
  const tokens = ops.length
    ? step({ id: 'old-tokens', action: 'delete', subject: username, changes: revocable.map((t) => change('old-tokens.revoke', t.appName)), ops })
    : step({ id: 'old-tokens', action: 'unchanged', subject: username });
  let old: Step;
  if (input.keepOldUser) old = step({ id: 'old-user', action: 'skip', subject: planText('subject.old-user-kept', [username]) });
  else if (user?.isActive) {
    old = step({
      id: 'old-user',
      action: 'update',
      subject: username,
      changes: [change('old-user.deactivate', input.analysis.license)],
      ops: [{ kind: 'update', sobject: 'User', id: user.id, fields: { IsActive: false } }],
    });
  } else old = step({ id: 'old-user', action: 'unchanged', subject: username });
  return [tokens, old];
};

const documents = (input: MigratePlanInput, snap: OrgSnapshot, othersChange: boolean): Step => {
  const { spec, analysis } = input;
  const jwt = spec.flow === 'jwt';
  const runbook = textWithRefs((value: (name: RefName) => string) =>
    [
      renderRunbook({
        spec,
        values: {
          consumerKey: value('consumerKey'),
          username: spec.user.username,
          privateKeyFile: jwt ? input.privateKeyFile : undefined,
          subdomain: snap.org.subdomain,
          loginUrl: snap.org.loginUrl,
          audience: snap.org.audience,
          instanceUrl: snap.org.instanceUrl,
        },
        orgId: snap.org.id,
        createdAt: (input.now ?? new Date()).toISOString(),
        targetOrg: input.targetOrg,
      }),
      migrationSection({ analysis, strategy: input.strategy, newUsername: spec.user.username, permissionSetName: spec.permissionSet.name, keepOldUser: input.keepOldUser }),
    ].join('\n')
  );
  return documentsStep({
    files: [
      { path: join(input.outputDir, RUNBOOK_FILE), name: RUNBOOK_FILE, content: runbook },
      { path: join(input.outputDir, SPEC_FILE), name: SPEC_FILE, content: [toYaml(specToFile(spec))] },
    ],
    exist: input.documentsWritten,
    othersChange,
  });
};

const verify = (input: MigratePlanInput, snap: OrgSnapshot): Step => {
  const app = input.analysis.app;
  return verifyStep({
    enabled: Boolean(app),
    flow: input.spec.flow,
    hosts: snap.org,
    app: { kind: app?.kind ?? input.spec.app.kind, name: app?.name ?? input.spec.app.name },
    username: input.spec.user.username,
    waitMinutes: input.waitMinutes,
  });
};

const licenseStep = (snap: OrgSnapshot, takesSeat: boolean): Step => {
  const lic = snap.integrationLicense;
  return step({ id: 'license', action: takesSeat ? 'skip' : 'unchanged', subject: lic ? planText('subject.license', [lic.name, lic.used, lic.total]) : INTEGRATION_LICENSE });
};

const appChange = (input: MigratePlanInput, runAsUsername?: string): DesiredState['app'] =>
  input.analysis.app ? { change: { preAuthorizeDesired: input.spec.permissionSet.name, ...(runAsUsername ? { runAsUsername } : {}) } } : undefined;

const planNewUser = (input: MigratePlanInput): Plan => {
  const snap = input.newSnap;
  if (!snap) throw new Error('internal: the new user was not read');
  const problems: PlanProblem[] = [];
  const takesSeat = !snap.user;
  checkIntegrationLicense(snap, problems, false);
  if (problems.length) throw new PlanBlocked(problems);
  const desired: DesiredState = {
    user: input.spec.user,
    permissionSetLicense: true,
    permissionSet: input.spec.permissionSet,
    assignments: [{ managed: true }],
    app: appChange(input, input.analysis.app?.runAs ? input.spec.user.username : undefined),
  };
  // The planner refuses, before any write, what create refuses: no free license, the username taken by someone else.
  const changes = planChanges(desired, snap);
  const steps = [licenseStep(snap, takesSeat), ...changes, verify(input, snap)];
  const retire = retireSteps(input);
  const othersChange = [...steps, ...retire].some((s) => s.action === 'create' || s.action === 'update' || s.action === 'delete');
  // Documents before the retirement: the runbook is on disk even when revoking the old tokens fails.
  return { steps: [...steps, documents(input, snap, othersChange), ...retire], warnings: [] };
};

const planInPlace = (input: MigratePlanInput): Plan => {
  const snap = input.oldSnap;
  const user = snap.user;
  if (!user) throw new Error('internal: the user was not read');
  const a = input.analysis;
  const problems: PlanProblem[] = [];
  if (!IN_PLACE_LICENSES.includes(a.license)) problems.push({ key: 'error.InPlaceLicense', tokens: [a.username, a.license] });
  if (a.username.toLowerCase() === input.runningUsername.toLowerCase()) problems.push({ key: 'error.InPlaceSelf', tokens: [a.username] });
  checkIntegrationLicense(snap, problems, !a.onIntegrationLicense && user.isActive);
  if (problems.length) throw new PlanBlocked(problems);
  const target = input.spec.permissionSet.name;
  // Off the standard license, every permission set the user holds is unassigned before the profile changes (Salesforce
  // refuses the change while one does not fit), and the compatible ones assigned again after the license is there.
  const held = a.onIntegrationLicense ? [] : a.permissionSets.filter((p) => p.name !== target);
  const unassigned = new Set(held.map((p) => p.id));
  const removed = user.assignments.filter((x) => unassigned.has(x.permissionSetId));
  const kept: DesiredAssignment[] = a.permissionSets.filter((p) => p.compatible && p.name !== target).map((p) => ({ permissionSetId: p.id, name: p.name }));
  const after: OrgSnapshot = { ...snap, user: { ...user, assignments: user.assignments.filter((x) => !unassigned.has(x.permissionSetId)) } };
  const desired: DesiredState = {
    permissionSetLicense: true,
    permissionSet: input.spec.permissionSet,
    assignments: [{ managed: true }, ...kept],
    app: appChange(input),
  };
  const changes = planChanges(desired, after);
  const oldSets = removed.length
    ? step({
        id: 'old-permission-sets',
        action: 'delete',
        subject: held.map((p) => p.name).join(', '),
        changes: held.map((p) => (p.compatible ? change('old-permission-sets.move', p.name) : change('old-permission-sets.replace', p.name, target, p.reasons.join(', ')))),
        ops: removed.map((x) => ({ kind: 'delete', sobject: 'PermissionSetAssignment', id: x.id })),
      })
    : step({ id: 'old-permission-sets', action: a.permissionSets.length ? 'unchanged' : 'skip', subject: a.permissionSets.map((p) => p.name).join(', ') || '-' });
  const profile = snap.integrationProfile;
  const userStep =
    profile && user.profileId !== profile.id
      ? step({
          id: 'user',
          action: 'update',
          subject: user.username,
          changes: [change('field', 'Profile', user.profileName, profile.name), ...(a.onIntegrationLicense ? [] : [change('field', 'User License', a.license, INTEGRATION_LICENSE)])],
          ops: [{ kind: 'update', sobject: 'User', id: user.id, fields: { ProfileId: profile.id } }],
        })
      : step({ id: 'user', action: 'unchanged', subject: user.username });
  const all = [...changes, oldSets, userStep];
  const ordered = ORDER_IN_PLACE.map((id) => all.find((s) => s.id === id)).filter((s): s is Step => Boolean(s));
  const steps = [licenseStep(snap, !a.onIntegrationLicense), ...ordered, verify(input, snap)];
  const othersChange = steps.some((s) => s.action === 'create' || s.action === 'update' || s.action === 'delete');
  return { steps: [...steps, documents(input, snap, othersChange)], warnings: [] };
};

/** The plan of a migration. Throws PlanBlocked when the org cannot take it (no free license, a license that cannot move, ...). */
export const planMigration = (input: MigratePlanInput): Plan => (input.strategy === 'in-place' ? planInPlace(input) : planNewUser(input));
