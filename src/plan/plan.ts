/*
 * The one planner: diff(desired state, snapshot) → the steps that change the org. Pure: the snapshot is what the
 * org holds, the desired state what it should hold; a part the desired state leaves out gets no step. Every record
 * write of the plugin is built here (users, permission set licenses, permission sets and their access,
 * assignments), and the app writes too, whichever the app kind. A plan applied and read again diffs to all
 * unchanged, which is what makes create idempotent and doctor --fix safe to run twice.
 */
import { oauthScopeNames, type AppChange, type AppConfig, type AppPatch, type FieldAccess, type ObjectAccess, type OrgSnapshot } from '../org/index.js';
import type { AppSettingsChange, DesiredApp, DesiredAppCertificate, DesiredAssignment, DesiredPermissionSet, DesiredState, DesiredUser } from '../desired/index.js';
import { API_INTEGRATION_PSL_LABEL, INTEGRATION_LICENSE } from '../salesforce/licenses.js';
import { formatRefreshPolicy } from '../salesforce/policies.js';
import type { Change, FieldValue, Operation, Ref, Step } from './types.js';

export type PlanProblem = { key: string; tokens: Array<string | number> };

/** Conditions that stop a plan before any write; the command turns them into messages. */
export class PlanBlocked extends Error {
  public constructor(public readonly problems: PlanProblem[]) {
    super(problems.map((p) => p.key).join(', '));
  }
}

const USER_REF: Ref = { ref: 'user' };

/**
 * The key of AppPatch.addPermissionSets for the desired permission set when this plan creates it: apply puts the
 * Id the org gave it in its place (the same `{name}` form apply's journal uses for a value not known yet).
 */
export const PENDING_PERMISSION_SET = '{permissionSet}';
const PS_REF: Ref = { ref: 'permissionSet' };

const change = (key: string, ...values: Array<string | number>): Change => (values.length ? { key, values } : { key });

export const step = (partial: Omit<Step, 'changes' | 'ops'> & Partial<Pick<Step, 'changes' | 'ops'>>): Step => ({ changes: [], ops: [], ...partial });

const normalizePem = (pem: string | undefined): string => (pem ?? '').replace(/\s+/g, '');

const objectFields = (o: ObjectAccess): Record<string, boolean> => ({
  PermissionsRead: o.read,
  PermissionsCreate: o.create,
  PermissionsEdit: o.edit,
  PermissionsDelete: o.delete,
  PermissionsViewAllRecords: o.viewAll,
  PermissionsModifyAllRecords: o.modifyAll,
});

const NO_OBJECT_ACCESS = (object: string): ObjectAccess => ({ object, read: false, create: false, edit: false, delete: false, viewAll: false, modifyAll: false });

const describeAccess = (o: ObjectAccess): string =>
  (['read', 'create', 'edit', 'delete', 'viewAll', 'modifyAll'] as const).filter((k) => o[k]).join(',') || 'none';

const userStep = (desired: DesiredUser, snap: OrgSnapshot, problems: PlanProblem[]): Step => {
  const existing = snap.user;
  const profileId = snap.integrationProfile?.id;
  // The license first: without it the profile is missing too, and the license is what the admin can act on.
  if (!snap.integrationLicense) problems.push({ key: 'error.NoIntegrationLicense', tokens: [] });
  else if (!profileId) problems.push({ key: 'error.NoIntegrationProfile', tokens: [] });
  if (!existing) {
    const lic = snap.integrationLicense;
    if (lic && lic.used >= lic.total) problems.push({ key: 'error.NoFreeLicense', tokens: [lic.total, lic.used] });
    const run = snap.runningUser;
    const fields: Record<string, FieldValue> = {
      Username: desired.username,
      FirstName: desired.firstName,
      LastName: desired.lastName,
      Email: desired.email,
      Alias: desired.alias,
      ProfileId: profileId ?? null,
      TimeZoneSidKey: run?.timeZoneSidKey ?? 'America/Los_Angeles',
      LocaleSidKey: run?.localeSidKey ?? 'en_US',
      LanguageLocaleKey: run?.languageLocaleKey ?? 'en_US',
      EmailEncodingKey: run?.emailEncodingKey ?? 'UTF-8',
    };
    return step({ id: 'user', action: 'create', subject: desired.username, changes: [change('user.new')], ops: [{ kind: 'create', sobject: 'User', fields, saveAs: 'user' }] });
  }
  // A user who is not on the Salesforce Integration license is someone else's account (a person, or an
  // integration still on a standard license): create never converts it. Migrating one is its own decision.
  if (existing.userLicenseName !== INTEGRATION_LICENSE) {
    problems.push({ key: 'error.UsernameTaken', tokens: [existing.username, existing.profileName, existing.userLicenseName] });
  }
  const updates: Record<string, FieldValue> = {};
  const changes: Change[] = [];
  // Email addresses compare case-insensitively (the org may store them lower-cased).
  if (existing.email.toLowerCase() !== desired.email.toLowerCase()) {
    updates.Email = desired.email;
    changes.push(change('field', 'Email', existing.email, desired.email));
  }
  if (!existing.isActive) {
    updates.IsActive = true;
    changes.push(change('field', 'IsActive', String(existing.isActive), 'true'));
    const lic = snap.integrationLicense;
    if (lic && lic.used >= lic.total) problems.push({ key: 'error.NoFreeLicense', tokens: [lic.total, lic.used] });
  }
  if (profileId && existing.profileId !== profileId) {
    updates.ProfileId = profileId;
    changes.push(change('field', 'Profile', existing.profileName, snap.integrationProfile?.name ?? ''));
  }
  return changes.length
    ? step({ id: 'user', action: 'update', subject: existing.username, changes, ops: [{ kind: 'update', sobject: 'User', id: existing.id, fields: updates }] })
    : step({ id: 'user', action: 'unchanged', subject: existing.username });
};

/** The user holds the Salesforce API Integration permission set license (the user may be created in the same plan). */
const permissionSetLicenseStep = (snap: OrgSnapshot, username: string, problems: PlanProblem[]): Step => {
  const psl = snap.apiIntegrationPsl;
  if (!psl) {
    problems.push({ key: 'error.NoApiIntegrationPsl', tokens: [] });
    return step({ id: 'permission-set-license', action: 'skip', subject: API_INTEGRATION_PSL_LABEL });
  }
  if (snap.user?.permissionSetLicenses.includes(psl.developerName)) {
    return step({ id: 'permission-set-license', action: 'unchanged', subject: psl.name });
  }
  if (psl.used >= psl.total) problems.push({ key: 'error.NoFreePsl', tokens: [psl.name, psl.total, psl.used] });
  return step({
    id: 'permission-set-license',
    action: 'create',
    subject: psl.name,
    changes: [change('permission-set-license.assign', psl.name, username)],
    ops: [{ kind: 'create', sobject: 'PermissionSetLicenseAssign', fields: { AssigneeId: snap.user?.id ?? USER_REF, PermissionSetLicenseId: psl.id } }],
  });
};

const permissionSetStep = (desired: DesiredPermissionSet, snap: OrgSnapshot, problems: PlanProblem[]): Step => {
  const existing = snap.targetPermissionSetId ? snap.permissionSets[snap.targetPermissionSetId] : undefined;
  const wantPerms = new Set(desired.systemPermissions);
  if (!existing) {
    const fields: Record<string, FieldValue> = {
      Name: desired.name,
      Label: desired.label,
      Description: desired.description,
      LicenseId: snap.apiIntegrationPsl?.id ?? null,
    };
    for (const p of wantPerms) fields[`Permissions${p}`] = true;
    return step({
      id: 'permission-set',
      action: 'create',
      subject: desired.name,
      changes: [change('permission-set.new', snap.apiIntegrationPsl?.name ?? API_INTEGRATION_PSL_LABEL, [...wantPerms].join(', '))],
      ops: [{ kind: 'create', sobject: 'PermissionSet', fields, saveAs: 'permissionSet' }],
    });
  }
  if (existing.licenseName && snap.apiIntegrationPsl && existing.licenseName !== snap.apiIntegrationPsl.developerName && existing.licenseName !== snap.apiIntegrationPsl.name) {
    problems.push({ key: 'error.PermissionSetOtherLicense', tokens: [existing.name, existing.licenseName] });
  }
  const updates: Record<string, FieldValue> = {};
  const changes: Change[] = [];
  if (existing.label !== desired.label) {
    updates.Label = desired.label;
    changes.push(change('field', 'Label', existing.label, desired.label));
  }
  for (const [perm, held] of Object.entries(existing.systemPermissions)) {
    if (held && !wantPerms.has(perm)) {
      updates[`Permissions${perm}`] = false;
      changes.push(change('permission.remove', perm));
    }
  }
  for (const perm of wantPerms) {
    if (!existing.systemPermissions[perm]) {
      updates[`Permissions${perm}`] = true;
      changes.push(change('permission.add', perm));
    }
  }
  return changes.length
    ? step({ id: 'permission-set', action: 'update', subject: existing.name, changes, ops: [{ kind: 'update', sobject: 'PermissionSet', id: existing.id, fields: updates }] })
    : step({ id: 'permission-set', action: 'unchanged', subject: existing.name });
};

/** Exactly the requested object access: rows created, changed, or emptied (no privilege creep). */
const objectPermissionsStep = (desired: DesiredPermissionSet, snap: OrgSnapshot): Step => {
  const existing = snap.targetPermissionSetId ? snap.permissionSets[snap.targetPermissionSetId]?.objects ?? [] : [];
  const parent: string | Ref = snap.targetPermissionSetId ?? PS_REF;
  const ops: Operation[] = [];
  const changes: Change[] = [];
  const wanted = new Map(desired.objects.map((o) => [o.object.toLowerCase(), o]));
  for (const want of desired.objects) {
    const have = existing.find((o) => o.object.toLowerCase() === want.object.toLowerCase());
    if (!have) {
      ops.push({ kind: 'create', sobject: 'ObjectPermissions', fields: { ParentId: parent, SobjectType: want.object, ...objectFields(want) } });
      changes.push(change('access', want.object, describeAccess(want)));
    } else if (describeAccess(have) !== describeAccess(want) && have.id) {
      ops.push({ kind: 'update', sobject: 'ObjectPermissions', id: have.id, fields: objectFields(want) });
      changes.push(change('field', want.object, describeAccess(have), describeAccess(want)));
    }
  }
  for (const have of existing) {
    if (!wanted.has(have.object.toLowerCase()) && have.id && describeAccess(have) !== 'none') {
      ops.push({ kind: 'update', sobject: 'ObjectPermissions', id: have.id, fields: objectFields(NO_OBJECT_ACCESS(have.object)) });
      changes.push(change('field', have.object, describeAccess(have), 'none'));
    }
  }
  const subject = desired.objects.map((o) => o.object).join(', ') || 'none';
  if (!ops.length) return step({ id: 'object-permissions', action: desired.objects.length ? 'unchanged' : 'skip', subject });
  return step({ id: 'object-permissions', action: existing.length || snap.targetPermissionSetId ? 'update' : 'create', subject, changes, ops });
};

const fieldPermissionsStep = (desired: DesiredPermissionSet, snap: OrgSnapshot): Step => {
  const existing: FieldAccess[] = snap.targetPermissionSetId ? snap.permissionSets[snap.targetPermissionSetId]?.fields ?? [] : [];
  const parent: string | Ref = snap.targetPermissionSetId ?? PS_REF;
  const ops: Operation[] = [];
  const changes: Change[] = [];
  const key = (f: FieldAccess): string => `${f.read ? 'read' : ''}${f.edit ? ',edit' : ''}` || 'none';
  for (const want of desired.fields) {
    const have = existing.find((f) => f.field.toLowerCase() === want.field.toLowerCase());
    if (!have) {
      ops.push({
        kind: 'create',
        sobject: 'FieldPermissions',
        fields: { ParentId: parent, SobjectType: want.field.split('.')[0], Field: want.field, PermissionsRead: want.read, PermissionsEdit: want.edit },
      });
      changes.push(change('access', want.field, key(want)));
    } else if (key(have) !== key(want) && have.id) {
      ops.push({ kind: 'update', sobject: 'FieldPermissions', id: have.id, fields: { PermissionsRead: want.read, PermissionsEdit: want.edit } });
      changes.push(change('field', want.field, key(have), key(want)));
    }
  }
  for (const have of existing) {
    const wanted = desired.fields.some((f) => f.field.toLowerCase() === have.field.toLowerCase());
    if (!wanted && have.id && (have.read || have.edit)) {
      ops.push({ kind: 'delete', sobject: 'FieldPermissions', id: have.id });
      changes.push(change('field', have.field, key(have), 'none'));
    }
  }
  const subject = desired.fields.map((f) => f.field).join(', ') || 'none';
  if (!ops.length) return step({ id: 'field-permissions', action: desired.fields.length ? 'unchanged' : 'skip', subject });
  return step({ id: 'field-permissions', action: existing.length ? 'update' : 'create', subject, changes, ops });
};

/** Each wanted permission set assigned to the user without expiry: a new assignment, or the expiry cleared. */
const assignmentsStep = (wanted: DesiredAssignment[], managedName: string | undefined, snap: OrgSnapshot): Step => {
  const ops: Operation[] = [];
  const changes: Change[] = [];
  const names: string[] = [];
  for (const w of wanted) {
    const psId = 'managed' in w ? snap.targetPermissionSetId : w.permissionSetId;
    const name = 'managed' in w ? managedName ?? '' : w.name;
    names.push(name);
    const assignment = psId ? snap.user?.assignments.find((a) => a.permissionSetId === psId) : undefined;
    if (!assignment) {
      ops.push({ kind: 'create', sobject: 'PermissionSetAssignment', fields: { AssigneeId: snap.user?.id ?? USER_REF, PermissionSetId: psId ?? PS_REF } });
      changes.push(change('permission-set-assignment.new', name));
    } else if (assignment.expirationDate) {
      ops.push({ kind: 'update', sobject: 'PermissionSetAssignment', id: assignment.id, fields: { ExpirationDate: null } });
      changes.push(change('permission-set-assignment.expiry', name, assignment.expirationDate));
    }
  }
  const subject = names.join(', ');
  if (!ops.length) return step({ id: 'permission-set-assignment', action: 'unchanged', subject });
  const creates = ops.some((op) => op.kind === 'create');
  return step({ id: 'permission-set-assignment', action: creates ? 'create' : 'update', subject, changes, ops });
};

/** Differences between the app in the org and the one create owns, in words an admin recognises from Setup. */
export const appDifferences = (owned: Extract<DesiredState['app'], { owned: DesiredApp }>, actual: AppConfig, certificatePem: string | undefined, permissionSetId: string | undefined): Change[] => {
  const d: Change[] = [];
  const want = owned.owned;
  if (owned.flow === 'jwt' && normalizePem(actual.certificate) !== normalizePem(certificatePem)) d.push(change('app.certificate'));
  const wantScopes = oauthScopeNames(want.scopes);
  if (wantScopes.some((s) => !actual.scopes.includes(s)) || actual.scopes.some((s) => !wantScopes.includes(s))) {
    d.push(change('app.scopes', actual.scopes.join(' ') || 'none', wantScopes.join(' ')));
  }
  if (actual.pkceRequired) d.push(change('app.pkce'));
  if (actual.namedUserJwt) d.push(change('app.named-user-jwt'));
  if (actual.permittedUsers !== 'AdminApprovedPreAuthorized') d.push(change('app.permitted-users', actual.permittedUsers));
  if (!permissionSetId || !actual.permissionSetIds.includes(permissionSetId)) d.push(change('app.select', owned.permissionSetName));
  const policy = formatRefreshPolicy(want.refreshTokenPolicy);
  if (formatRefreshPolicy(actual.refreshTokenPolicy) !== policy) d.push(change('app.refresh-token-policy', formatRefreshPolicy(actual.refreshTokenPolicy), policy));
  if (actual.ipRelaxation !== want.ipRelaxation) d.push(change('app.ip-relaxation', actual.ipRelaxation, want.ipRelaxation));
  const cc = owned.flow === 'client-credentials';
  if (actual.clientCredentialsEnabled !== cc) d.push(change('app.client-credentials', String(actual.clientCredentialsEnabled), String(cc)));
  if (cc && actual.runAsUsername?.toLowerCase() !== owned.runAsUsername?.toLowerCase()) d.push(change('app.run-as', actual.runAsUsername ?? 'none', owned.runAsUsername ?? ''));
  if (actual.contactEmail && actual.contactEmail !== want.contactEmail) d.push(change('app.contact-email', actual.contactEmail, want.contactEmail));
  return d;
};

const certificateValue = (c: DesiredAppCertificate | undefined): string | Ref | undefined =>
  c === undefined ? undefined : 'pem' in c ? c.pem : { ref: 'certificate' };

/** create owns the app: written whole (deploy or upsert), with the flow's settings. */
const ownedAppStep = (owned: Extract<DesiredState['app'], { owned: DesiredApp }>, snap: OrgSnapshot, problems: PlanProblem[]): Step => {
  const actual = snap.app;
  const want = owned.owned;
  if (actual && actual.kind !== want.kind) problems.push({ key: 'error.AppKindMismatch', tokens: [want.name, actual.kind, want.kind] });
  const op: AppChange<string | Ref> = {
    kind: 'deploy-app',
    app: want,
    flow: owned.flow,
    permissionSet: snap.targetPermissionSetId ?? PS_REF,
    permissionSetName: owned.permissionSetName,
    runAsUsername: owned.runAsUsername,
    certificate: certificateValue(owned.certificate),
  };
  if (!actual) return step({ id: 'app', action: 'create', subject: want.name, changes: [change('app.new', want.kind, owned.flow)], ops: [{ ...op, createOnly: true }] });
  const pem = owned.certificate && 'pem' in owned.certificate ? owned.certificate.pem : undefined;
  const changes = appDifferences(owned, actual, pem, snap.targetPermissionSetId);
  return changes.length ? step({ id: 'app', action: 'update', subject: actual.name, changes, ops: [op] }) : step({ id: 'app', action: 'unchanged', subject: actual.name });
};

/** Permission sets to select on the app that it does not select yet: Id → name. */
const permissionSetsToSelect = (wanted: AppSettingsChange, actual: AppConfig, desiredId: string | undefined): Record<string, string> => {
  const out = Object.fromEntries(Object.entries(wanted.preAuthorize ?? {}).filter(([id]) => !actual.permissionSetIds.includes(id)));
  // The desired permission set may be created by this plan: its Id is filled in by apply (PENDING_PERMISSION_SET).
  if (wanted.preAuthorizeDesired && !(desiredId && actual.permissionSetIds.includes(desiredId))) out[desiredId ?? PENDING_PERMISSION_SET] = wanted.preAuthorizeDesired;
  return out;
};

/** The run-as user to set, when it is asked for and differs. */
const runAsChange = (wanted: AppSettingsChange, actual: AppConfig): string | undefined =>
  wanted.runAsUsername && actual.runAsUsername?.toLowerCase() !== wanted.runAsUsername.toLowerCase() ? wanted.runAsUsername : undefined;

/** Only the settings named change; everything else the app holds is kept (a patch, not a rewrite). */
const appChangeStep = (wanted: AppSettingsChange, snap: OrgSnapshot): Step => {
  const actual = snap.app;
  if (!actual) return step({ id: 'app', action: 'skip', subject: '-' });
  const preAuthorize = permissionSetsToSelect(wanted, actual, snap.targetPermissionSetId);
  const runAs = runAsChange(wanted, actual);
  const patch: AppPatch = {
    pkceOff: wanted.pkceRequired === false && actual.pkceRequired,
    namedUserJwtOff: wanted.namedUserJwt === false && actual.namedUserJwt,
    // Pre-authorizing a permission set is what "admin approved users are pre-authorized" means: it comes with it.
    adminApproved: (wanted.permittedUsers === 'AdminApprovedPreAuthorized' && actual.permittedUsers !== 'AdminApprovedPreAuthorized') || Object.keys(preAuthorize).length > 0,
    refreshValidUntilRevoked: wanted.refreshTokenPolicy?.type === 'infinite' && actual.refreshTokenPolicy.type !== 'infinite',
    relaxIp: wanted.ipRelaxation === 'BYPASS' && actual.ipRelaxation !== 'BYPASS',
    addPermissionSets: preAuthorize,
    ...(runAs ? { runAsUsername: runAs } : {}),
  };
  const changes: Change[] = [
    ...(patch.pkceOff ? [change('app.pkce')] : []),
    ...(patch.namedUserJwtOff ? [change('app.named-user-jwt')] : []),
    ...(patch.adminApproved && actual.permittedUsers !== 'AdminApprovedPreAuthorized' ? [change('app.permitted-users', actual.permittedUsers)] : []),
    ...Object.values(preAuthorize).map((name) => change('app.select', name)),
    ...(patch.refreshValidUntilRevoked ? [change('app.refresh-token-policy', formatRefreshPolicy(actual.refreshTokenPolicy), 'infinite')] : []),
    ...(patch.relaxIp ? [change('app.ip-relaxation', actual.ipRelaxation, 'BYPASS')] : []),
    ...(runAs ? [change('app.run-as', actual.runAsUsername ?? 'none', runAs)] : []),
  ];
  if (!changes.length) return step({ id: 'app', action: 'unchanged', subject: actual.name });
  return step({ id: 'app', action: 'update', subject: actual.name, changes, ops: [{ kind: 'patch-app', app: { kind: actual.kind, name: actual.name }, patch }] });
};

/**
 * The steps that take the org to the desired state, in the order the writes depend on each other (the user before
 * its licenses and assignments, the permission set before its access and the app that selects it). Throws
 * PlanBlocked, before any write, when the org cannot take it (no license, a username that is someone else's, ...).
 */
export const planChanges = (desired: DesiredState, snap: OrgSnapshot): Step[] => {
  const problems: PlanProblem[] = [];
  const username = desired.user?.username ?? snap.user?.username ?? '';
  const ps = desired.permissionSet;
  const steps: Array<Step | false | undefined> = [
    desired.user && userStep(desired.user, snap, problems),
    desired.permissionSetLicense && permissionSetLicenseStep(snap, username, problems),
    ps && permissionSetStep(ps, snap, problems),
    ps && objectPermissionsStep(ps, snap),
    ps && fieldPermissionsStep(ps, snap),
    desired.assignments !== undefined && desired.assignments.length > 0 && assignmentsStep(desired.assignments, ps?.name, snap),
    desired.app && ('owned' in desired.app ? ownedAppStep(desired.app, snap, problems) : appChangeStep(desired.app.change, snap)),
  ];
  if (problems.length) throw new PlanBlocked(problems);
  return steps.filter((s): s is Step => Boolean(s));
};

/** True when applying would change nothing in the org or on disk (the live check changes nothing). */
export const isNoop = (plan: { steps: Step[] }): boolean => plan.steps.every((s) => s.id === 'verify' || s.action === 'unchanged' || s.action === 'skip');
