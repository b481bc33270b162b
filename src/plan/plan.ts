/*
 * diff(desired, actual) → steps. Pure: the snapshot is what the org holds, the spec what it should hold, and
 * `local` what the output directory holds. A plan applied and read again diffs to all-unchanged, which is
 * what makes create idempotent.
 */
import { oauthScopeNames } from '../org/app-metadata.js';
import { formatRefreshPolicy } from '../salesforce/policies.js';
import type { AppConfig, FieldAccess, ObjectAccess, OrgSnapshot } from '../org/types.js';
import type { IntegrationSpec } from '../desired/types.js';
import type { FieldValue, Operation, Plan, Ref, Step } from './types.js';

export type LocalCredentials = {
  /** The certificate the app should carry (existing in the output dir, brought by the user, or to be generated). */
  certificatePem?: string;
  source: 'existing' | 'provided' | 'generate' | 'none';
};

export type PlanProblem = { key: string; tokens: Array<string | number> };

/** Conditions that stop a plan before any write; the command turns them into messages. */
export class PlanBlocked extends Error {
  public constructor(public readonly problems: PlanProblem[]) {
    super(problems.map((p) => p.key).join(', '));
  }
}

const USER_REF: Ref = { ref: 'user' };
const PS_REF: Ref = { ref: 'permissionSet' };

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

const step = (partial: Omit<Step, 'changes' | 'ops'> & Partial<Pick<Step, 'changes' | 'ops'>>): Step => ({ changes: [], ops: [], ...partial });

const userStep = (spec: IntegrationSpec, snap: OrgSnapshot, problems: PlanProblem[]): Step => {
  const desired = spec.user;
  const existing = snap.user;
  const profileId = snap.integrationProfile?.id;
  if (!profileId) problems.push({ key: 'error.NoIntegrationProfile', tokens: [] });
  if (!existing) {
    const lic = snap.integrationLicense;
    if (!lic) problems.push({ key: 'error.NoIntegrationLicense', tokens: [] });
    else if (lic.used >= lic.total) problems.push({ key: 'error.NoFreeLicense', tokens: [lic.total, lic.used] });
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
    return step({ id: 'user', action: 'create', subject: desired.username, changes: ['new user'], ops: [{ kind: 'create', sobject: 'User', fields, saveAs: 'user' }] });
  }
  // A user who is not on the Salesforce Integration license is someone else's account (a person, or an
  // integration still on a standard license): create never converts it. Migrating one is its own decision.
  if (existing.userLicenseName !== 'Salesforce Integration') {
    problems.push({ key: 'error.UsernameTaken', tokens: [existing.username, existing.profileName, existing.userLicenseName] });
  }
  const updates: Record<string, FieldValue> = {};
  const changes: string[] = [];
  const compare = (field: string, actual: unknown, want: string | boolean): void => {
    if (actual !== want) {
      updates[field] = want;
      changes.push(`${field}: ${String(actual)} → ${String(want)}`);
    }
  };
  // Email addresses compare case-insensitively (the org may store them lower-cased).
  if (existing.email.toLowerCase() !== desired.email.toLowerCase()) {
    updates.Email = desired.email;
    changes.push(`Email: ${existing.email} → ${desired.email}`);
  }
  compare('IsActive', existing.isActive, true);
  if (profileId && existing.profileId !== profileId) {
    updates.ProfileId = profileId;
    changes.push(`Profile: ${existing.profileName} → ${snap.integrationProfile?.name ?? ''}`);
  }
  if (!existing.isActive) {
    const lic = snap.integrationLicense;
    if (lic && lic.used >= lic.total) problems.push({ key: 'error.NoFreeLicense', tokens: [lic.total, lic.used] });
  }
  return changes.length
    ? step({ id: 'user', action: 'update', subject: existing.username, changes, ops: [{ kind: 'update', sobject: 'User', id: existing.id, fields: updates }] })
    : step({ id: 'user', action: 'unchanged', subject: existing.username });
};

const pslStep = (snap: OrgSnapshot, problems: PlanProblem[]): Step => {
  const psl = snap.apiIntegrationPsl;
  if (!psl) {
    problems.push({ key: 'error.NoApiIntegrationPsl', tokens: [] });
    return step({ id: 'permission-set-license', action: 'skip', subject: 'Salesforce API Integration' });
  }
  if (snap.user?.permissionSetLicenses.includes(psl.developerName)) {
    return step({ id: 'permission-set-license', action: 'unchanged', subject: psl.name });
  }
  if (psl.used >= psl.total) problems.push({ key: 'error.NoFreePsl', tokens: [psl.name, psl.total, psl.used] });
  return step({
    id: 'permission-set-license',
    action: 'create',
    subject: psl.name,
    changes: [`assign ${psl.name} to the user`],
    ops: [{ kind: 'create', sobject: 'PermissionSetLicenseAssign', fields: { AssigneeId: snap.user?.id ?? USER_REF, PermissionSetLicenseId: psl.id } }],
  });
};

const permissionSetStep = (spec: IntegrationSpec, snap: OrgSnapshot, problems: PlanProblem[]): Step => {
  const desired = spec.permissionSet;
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
      changes: [`new permission set on ${snap.apiIntegrationPsl?.name ?? 'Salesforce API Integration'} with ${[...wantPerms].join(', ')}`],
      ops: [{ kind: 'create', sobject: 'PermissionSet', fields, saveAs: 'permissionSet' }],
    });
  }
  if (existing.licenseName && snap.apiIntegrationPsl && existing.licenseName !== snap.apiIntegrationPsl.developerName && existing.licenseName !== snap.apiIntegrationPsl.name) {
    problems.push({ key: 'error.PermissionSetOtherLicense', tokens: [existing.name, existing.licenseName] });
  }
  const updates: Record<string, FieldValue> = {};
  const changes: string[] = [];
  if (existing.label !== desired.label) {
    updates.Label = desired.label;
    changes.push(`Label: ${existing.label} → ${desired.label}`);
  }
  for (const [perm, held] of Object.entries(existing.systemPermissions)) {
    if (held && !wantPerms.has(perm)) {
      updates[`Permissions${perm}`] = false;
      changes.push(`remove ${perm}`);
    }
  }
  for (const perm of wantPerms) {
    if (!existing.systemPermissions[perm]) {
      updates[`Permissions${perm}`] = true;
      changes.push(`add ${perm}`);
    }
  }
  return changes.length
    ? step({ id: 'permission-set', action: 'update', subject: existing.name, changes, ops: [{ kind: 'update', sobject: 'PermissionSet', id: existing.id, fields: updates }] })
    : step({ id: 'permission-set', action: 'unchanged', subject: existing.name });
};

/** Exactly the requested object access: rows created, changed, or emptied (no privilege creep). */
const objectPermissionsStep = (spec: IntegrationSpec, snap: OrgSnapshot): Step => {
  const existing = snap.targetPermissionSetId ? snap.permissionSets[snap.targetPermissionSetId]?.objects ?? [] : [];
  const parent: string | Ref = snap.targetPermissionSetId ?? PS_REF;
  const ops: Operation[] = [];
  const changes: string[] = [];
  const wanted = new Map(spec.permissionSet.objects.map((o) => [o.object.toLowerCase(), o]));
  for (const want of spec.permissionSet.objects) {
    const have = existing.find((o) => o.object.toLowerCase() === want.object.toLowerCase());
    if (!have) {
      ops.push({ kind: 'create', sobject: 'ObjectPermissions', fields: { ParentId: parent, SobjectType: want.object, ...objectFields(want) } });
      changes.push(`${want.object}: ${describeAccess(want)}`);
    } else if (describeAccess(have) !== describeAccess(want) && have.id) {
      ops.push({ kind: 'update', sobject: 'ObjectPermissions', id: have.id, fields: objectFields(want) });
      changes.push(`${want.object}: ${describeAccess(have)} → ${describeAccess(want)}`);
    }
  }
  for (const have of existing) {
    if (!wanted.has(have.object.toLowerCase()) && have.id && describeAccess(have) !== 'none') {
      ops.push({ kind: 'update', sobject: 'ObjectPermissions', id: have.id, fields: objectFields(NO_OBJECT_ACCESS(have.object)) });
      changes.push(`${have.object}: ${describeAccess(have)} → none`);
    }
  }
  const subject = spec.permissionSet.objects.map((o) => o.object).join(', ') || 'none';
  if (!ops.length) return step({ id: 'object-permissions', action: spec.permissionSet.objects.length ? 'unchanged' : 'skip', subject });
  return step({ id: 'object-permissions', action: existing.length || snap.targetPermissionSetId ? 'update' : 'create', subject, changes, ops });
};

const fieldPermissionsStep = (spec: IntegrationSpec, snap: OrgSnapshot): Step => {
  const existing: FieldAccess[] = snap.targetPermissionSetId ? snap.permissionSets[snap.targetPermissionSetId]?.fields ?? [] : [];
  const parent: string | Ref = snap.targetPermissionSetId ?? PS_REF;
  const ops: Operation[] = [];
  const changes: string[] = [];
  const key = (f: FieldAccess): string => `${f.read ? 'read' : ''}${f.edit ? ',edit' : ''}` || 'none';
  for (const want of spec.permissionSet.fields) {
    const have = existing.find((f) => f.field.toLowerCase() === want.field.toLowerCase());
    if (!have) {
      ops.push({
        kind: 'create',
        sobject: 'FieldPermissions',
        fields: { ParentId: parent, SobjectType: want.field.split('.')[0], Field: want.field, PermissionsRead: want.read, PermissionsEdit: want.edit },
      });
      changes.push(`${want.field}: ${key(want)}`);
    } else if (key(have) !== key(want) && have.id) {
      ops.push({ kind: 'update', sobject: 'FieldPermissions', id: have.id, fields: { PermissionsRead: want.read, PermissionsEdit: want.edit } });
      changes.push(`${want.field}: ${key(have)} → ${key(want)}`);
    }
  }
  for (const have of existing) {
    const wanted = spec.permissionSet.fields.some((f) => f.field.toLowerCase() === have.field.toLowerCase());
    if (!wanted && have.id && (have.read || have.edit)) {
      ops.push({ kind: 'delete', sobject: 'FieldPermissions', id: have.id });
      changes.push(`${have.field}: ${key(have)} → none`);
    }
  }
  const subject = spec.permissionSet.fields.map((f) => f.field).join(', ') || 'none';
  if (!ops.length) return step({ id: 'field-permissions', action: spec.permissionSet.fields.length ? 'unchanged' : 'skip', subject });
  return step({ id: 'field-permissions', action: existing.length ? 'update' : 'create', subject, changes, ops });
};

const assignmentStep = (spec: IntegrationSpec, snap: OrgSnapshot): Step => {
  const psId = snap.targetPermissionSetId;
  const assignment = psId ? snap.user?.assignments.find((a) => a.permissionSetId === psId) : undefined;
  if (!assignment) {
    return step({
      id: 'permission-set-assignment',
      action: 'create',
      subject: spec.permissionSet.name,
      changes: ['assign without expiry'],
      ops: [{ kind: 'create', sobject: 'PermissionSetAssignment', fields: { AssigneeId: snap.user?.id ?? USER_REF, PermissionSetId: psId ?? PS_REF } }],
    });
  }
  if (assignment.expirationDate) {
    return step({
      id: 'permission-set-assignment',
      action: 'update',
      subject: spec.permissionSet.name,
      changes: [`expiry ${assignment.expirationDate} → never`],
      ops: [{ kind: 'update', sobject: 'PermissionSetAssignment', id: assignment.id, fields: { ExpirationDate: null } }],
    });
  }
  return step({ id: 'permission-set-assignment', action: 'unchanged', subject: spec.permissionSet.name });
};

const certificateStep = (spec: IntegrationSpec, local: LocalCredentials): Step => {
  if (spec.flow !== 'jwt') return step({ id: 'certificate', action: 'skip', subject: 'client credentials use no certificate' });
  if (local.source === 'existing') return step({ id: 'certificate', action: 'unchanged', subject: 'private-key.pem, cert.pem' });
  // A key the user brought stays where it is: copying a private key only makes a second secret to guard.
  if (local.source === 'provided') return step({ id: 'certificate', action: 'skip', subject: spec.certificate.privateKeyFile ?? 'your key pair' });
  return step({
    id: 'certificate',
    action: 'create',
    subject: `RSA ${spec.certificate.keySize}, ${spec.certificate.validityDays} days`,
    changes: ['generate key pair and self-signed certificate'],
    ops: [{ kind: 'write-credentials' }],
  });
};

/** Differences between the app in the org and the desired one, in words an admin recognises from Setup. */
export const appDifferences = (spec: IntegrationSpec, actual: AppConfig, certificatePem: string | undefined, permissionSetId: string | undefined): string[] => {
  const d: string[] = [];
  const want = spec.app;
  if (spec.flow === 'jwt' && normalizePem(actual.certificate) !== normalizePem(certificatePem)) d.push('certificate');
  const wantScopes = oauthScopeNames(want.scopes);
  if (wantScopes.some((s) => !actual.scopes.includes(s)) || actual.scopes.some((s) => !wantScopes.includes(s))) {
    d.push(`scopes: ${actual.scopes.join(' ') || 'none'} → ${wantScopes.join(' ')}`);
  }
  if (actual.pkceRequired) d.push('PKCE required → not required');
  if (actual.namedUserJwt) d.push('JWT-based access tokens for named users → off');
  if (actual.permittedUsers !== 'AdminApprovedPreAuthorized') d.push(`permitted users: ${actual.permittedUsers} → AdminApprovedPreAuthorized`);
  if (!permissionSetId || !actual.permissionSetIds.includes(permissionSetId)) d.push(`select permission set ${spec.permissionSet.name}`);
  const policy = formatRefreshPolicy(want.refreshTokenPolicy);
  if (formatRefreshPolicy(actual.refreshTokenPolicy) !== policy) d.push(`refresh token policy: ${formatRefreshPolicy(actual.refreshTokenPolicy)} → ${policy}`);
  if (actual.ipRelaxation !== want.ipRelaxation) d.push(`IP relaxation: ${actual.ipRelaxation} → ${want.ipRelaxation}`);
  const cc = spec.flow === 'client-credentials';
  if (actual.clientCredentialsEnabled !== cc) d.push(`client credentials flow: ${String(actual.clientCredentialsEnabled)} → ${String(cc)}`);
  if (cc && actual.runAsUsername?.toLowerCase() !== spec.user.username.toLowerCase()) d.push(`run-as user: ${actual.runAsUsername ?? 'none'} → ${spec.user.username}`);
  if (actual.contactEmail && actual.contactEmail !== want.contactEmail) d.push(`contact email: ${actual.contactEmail} → ${want.contactEmail}`);
  return d;
};

const appStep = (spec: IntegrationSpec, snap: OrgSnapshot, local: LocalCredentials, problems: PlanProblem[]): Step => {
  const actual = snap.app;
  if (actual && actual.kind !== spec.app.kind) problems.push({ key: 'error.AppKindMismatch', tokens: [spec.app.name, actual.kind, spec.app.kind] });
  const op: Operation = {
    kind: 'deploy-app',
    app: spec.app,
    flow: spec.flow,
    permissionSet: snap.targetPermissionSetId ?? PS_REF,
    runAsUsername: spec.flow === 'client-credentials' ? spec.user.username : undefined,
  };
  if (!actual) return step({ id: 'app', action: 'create', subject: spec.app.name, changes: [`new ${spec.app.kind} for the ${spec.flow} flow`], ops: [op] });
  const changes = appDifferences(spec, actual, local.certificatePem, snap.targetPermissionSetId);
  return changes.length ? step({ id: 'app', action: 'update', subject: actual.name, changes, ops: [op] }) : step({ id: 'app', action: 'unchanged', subject: actual.name });
};

export type PlanOptions = { verify: boolean };

/** The plan for one integration. Throws PlanBlocked when the org cannot take it (no license, ...). */
export const planIntegration = (spec: IntegrationSpec, snap: OrgSnapshot, local: LocalCredentials, opts: PlanOptions): Plan => {
  const problems: PlanProblem[] = [];
  const lic = snap.integrationLicense;
  const steps: Step[] = [
    step({ id: 'license', action: snap.user ? 'unchanged' : 'skip', subject: lic ? `${lic.name}: ${lic.used} of ${lic.total} used` : 'Salesforce Integration' }),
    // The key pair first (seed 001 step 1): local, cheap, and reused by a re-run if an org write fails later.
    certificateStep(spec, local),
    userStep(spec, snap, problems),
    pslStep(snap, problems),
    permissionSetStep(spec, snap, problems),
    objectPermissionsStep(spec, snap),
    fieldPermissionsStep(spec, snap),
    assignmentStep(spec, snap),
    appStep(spec, snap, local, problems),
    // A passing live check changes nothing: 'unchanged'; it runs on every apply all the same.
    step({ id: 'verify', action: opts.verify ? 'unchanged' : 'skip', subject: opts.verify ? `${spec.flow} token exchange + REST call` : '--no-verify', ops: opts.verify ? [{ kind: 'verify' }] : [] }),
  ];
  if (problems.length) throw new PlanBlocked(problems);
  return { steps, warnings: [] };
};

/** True when applying would change nothing in the org or on disk. */
export const isNoop = (plan: Plan): boolean => plan.steps.every((s) => s.id === 'verify' || s.action === 'unchanged' || s.action === 'skip');
