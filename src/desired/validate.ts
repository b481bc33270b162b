/*
 * Every check of a desired state that needs no org (validateSpec), and the ones that need the org's object
 * catalogue (validateAgainstOrg). Both collect every problem and throw them together.
 */
import { editDistance } from '../salesforce/names.js';
import { INTEGRATION_BASELINE, dangerousPermission } from '../salesforce/permissions.js';
import type { FieldAccess, ObjectAccess } from '../org/index.js';
import { KEY_SIZES, LIMITS } from './defaults.js';
import { isAllowedOnIntegrationLicense, INTEGRATION_LICENSE_OBJECTS } from './license.js';
import { problem, text, throwIfProblems, warning, type SpecProblem, type SpecWarning } from './messages.js';
import { objectWords } from './parse.js';
import type { IntegrationSpec } from './types.js';

/** The part of an org that existence checks need: objects with their field names, and optionally more. */
export type OrgCatalogue = {
  /** Object API name → its field API names (with or without the `Object.` prefix). */
  objects: Record<string, { fields: string[] }>;
  /** Objects the org's Salesforce Integration license allows; replaces the built-in list when given. */
  integrationLicenseObjects?: string[];
  /** System permission names the org knows (PermissionSet fields without `Permissions`); checked when given. */
  systemPermissions?: string[];
};

// ---------------------------------------------------------------------------------------------------------
// Names

/** "Hub Spot" → "Hub_Spot", "3PL" → "X3PL": the closest valid API name, offered in the fix. */
export const suggestApiName = (value: string, max: number): string => {
  const cleaned = value
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
  const started = /^[A-Za-z]/.test(cleaned) ? cleaned : `X${cleaned}`;
  return started.slice(0, max).replace(/_+$/, '');
};

/** Salesforce's API name rules: a letter first, then letters, digits and single underscores, no `_` at the end. */
export const apiNameProblems = (what: string, value: string, max: number): SpecProblem[] => {
  if (value.trim().length === 0) return [problem('NameEmpty', [what])];
  const fix = suggestApiName(value, max);
  const rules: Array<[boolean, string]> = [
    [!/^[A-Za-z]/.test(value), 'ApiNameStart'],
    [/[^A-Za-z0-9_]/.test(value), 'ApiNameCharacters'],
    [value.includes('__'), 'ApiNameDoubleUnderscore'],
    [value.endsWith('_'), 'ApiNameTrailingUnderscore'],
    [value.length > max, 'ApiNameTooLong'],
  ];
  return rules.filter(([broken]) => broken).map(([, code]) => problem(code, [what, value, max], [fix]));
};

const EMAIL_LOCAL = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*";
const DOMAIN_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
const EMAIL = new RegExp(`^${EMAIL_LOCAL}@${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})+$`);

export const isEmailForm = (value: string): boolean => EMAIL.test(value);

const usernameProblems = (username: string): SpecProblem[] => [
  ...(isEmailForm(username) ? [] : [problem('InvalidUsername', [username])]),
  ...(username.length > LIMITS.username ? [problem('UsernameTooLong', [username, username.length, LIMITS.username])] : []),
];

const emailProblems = (what: string, email: string): SpecProblem[] =>
  isEmailForm(email) && email.length <= LIMITS.email ? [] : [problem('InvalidEmail', [what, email, LIMITS.email])];

const aliasProblems = (alias: string): SpecProblem[] =>
  alias.length >= 1 && alias.length <= LIMITS.alias && !/\s/.test(alias) ? [] : [problem('InvalidAlias', [alias, LIMITS.alias])];

// ---------------------------------------------------------------------------------------------------------
// Permissions

const tierText = (tier: number): string => text(`tier.${tier}`);

/** Requested system permissions on the dangerous-tier list, with why (ApiEnabled and ApiUserOnly are the baseline). */
export const privilegedSystemPermissions = (spec: IntegrationSpec): string[] =>
  spec.permissionSet.systemPermissions
    .filter((p) => !INTEGRATION_BASELINE.includes(p))
    .flatMap((p) => {
      const danger = dangerousPermission(p);
      return danger ? [`${p} (${tierText(danger.tier)})`] : [];
    });

/** Objects with View All or Modify All: they bypass the sharing model (tier 2). */
export const privilegedObjectAccess = (spec: IntegrationSpec): string[] =>
  spec.permissionSet.objects
    .filter((o) => o.viewAll || o.modifyAll)
    .map((o) => `${o.object}: ${o.modifyAll ? 'modifyAll' : 'viewAll'}`);

const privilegedProblems = (spec: IntegrationSpec): SpecProblem[] => {
  if (spec.allowPrivileged) return [];
  const perms = privilegedSystemPermissions(spec);
  const objects = privilegedObjectAccess(spec);
  return [
    ...(perms.length ? [problem('PrivilegedPermissions', [perms.join(', ')])] : []),
    ...(objects.length ? [problem('PrivilegedObjectAccess', [objects.join(', ')])] : []),
  ];
};

const privilegedWarnings = (spec: IntegrationSpec): SpecWarning[] => {
  if (!spec.allowPrivileged) return [];
  const granted = [...privilegedSystemPermissions(spec), ...privilegedObjectAccess(spec)];
  return granted.length ? [warning('PrivilegedAllowed', [granted.join(', ')])] : [];
};

const lower = (s: string): string => s.toLowerCase();
const objectOf = (field: string): string => field.slice(0, field.indexOf('.'));

const duplicates = <T>(items: T[], key: (t: T) => string): string[] => {
  const seen = new Map<string, number>();
  for (const item of items) seen.set(lower(key(item)), (seen.get(lower(key(item))) ?? 0) + 1);
  return items.map(key).filter((k, i, all) => (seen.get(lower(k)) ?? 0) > 1 && all.findIndex((x) => lower(x) === lower(k)) === i);
};

const accessProblems = (objects: ObjectAccess[], fields: FieldAccess[]): SpecProblem[] => {
  const byObject = new Map(objects.map((o) => [lower(o.object), o]));
  const fieldProblems = fields.flatMap((f): SpecProblem[] => {
    const parent = byObject.get(lower(objectOf(f.field)));
    if (!parent) return [problem('FieldWithoutObject', [f.field, objectOf(f.field)], [objectOf(f.field)])];
    if (f.edit && !parent.edit && !parent.create) return [problem('FieldEditWithoutObjectEdit', [f.field, parent.object])];
    return [];
  });
  return [
    ...duplicates(objects, (o) => o.object).map((o) => problem('ConflictingObject', [o])),
    ...duplicates(fields, (f) => f.field).map((f) => problem('ConflictingField', [f])),
    ...objects.filter((o) => objectWords(o).length === 0).map((o) => problem('UnknownObjectWordMissing', [o.object])),
    ...fieldProblems,
  ];
};

// ---------------------------------------------------------------------------------------------------------
// The whole spec

const certificateProblems = (spec: IntegrationSpec): SpecProblem[] => {
  const { validityDays, keySize, privateKeyFile, certificateFile } = spec.certificate;
  const { min, max } = LIMITS.validityDays;
  const out: SpecProblem[] = [];
  if (!Number.isInteger(validityDays) || validityDays < min || validityDays > max) out.push(problem('InvalidValidity', [validityDays, min, max]));
  if (!KEY_SIZES.includes(keySize)) out.push(problem('InvalidKeySize', [keySize]));
  const given = [privateKeyFile, certificateFile].filter((f) => f !== undefined).length;
  if (spec.flow === 'client-credentials' && given > 0) out.push(problem('KeyFilesNeedJwt'));
  else if (given === 1) out.push(problem('KeyPairIncomplete', [privateKeyFile ? '--private-key-file' : '--certificate-file']));
  return out;
};

const ownerEmailProblems = (spec: IntegrationSpec): SpecProblem[] => [
  ...emailProblems('--email', spec.ownerEmail),
  ...(lower(spec.user.email) === lower(spec.ownerEmail) ? [] : emailProblems('user.email', spec.user.email)),
];

const descriptionProblems = (spec: IntegrationSpec): SpecProblem[] => {
  const length = spec.permissionSet.description.length;
  return length > LIMITS.description ? [problem('DescriptionTooLong', [length, LIMITS.description])] : [];
};

/** The problems the owner's email decides: its form, and the length of the default description that names it. */
export const ownerProblems = (spec: IntegrationSpec): SpecProblem[] => [...ownerEmailProblems(spec), ...descriptionProblems(spec)];

/**
 * Every problem of a desired state that can be found without an org. `ownerKnown: false` (the owner is filled in
 * later, withOwner in build.ts) leaves out the checks of the owner's email; withOwner makes them.
 */
export const collectSpecProblems = (spec: IntegrationSpec, ownerKnown = true): SpecProblem[] => {
  const nameProblems = apiNameProblems('--name', spec.name, LIMITS.name);
  const { permissionSet: ps, app, user } = spec;
  return [
    ...nameProblems,
    // The derived names follow from a valid NAME; check them when NAME is fine, so one mistake is reported once.
    ...(nameProblems.length ? [] : apiNameProblems('permissionSet.name', ps.name, LIMITS.permissionSetName)),
    ...(nameProblems.length ? [] : apiNameProblems('app.name', app.name, LIMITS.appName)),
    ...usernameProblems(user.username),
    ...(ownerKnown ? ownerEmailProblems(spec) : []),
    ...aliasProblems(user.alias),
    ...descriptionProblems(spec),
    ...accessProblems(ps.objects, ps.fields),
    ...privilegedProblems(spec),
    ...certificateProblems(spec),
  ];
};

/** Warnings of a valid spec: privileged access that was allowed, a refresh-token policy that ages out JWT approvals. */
export const specWarnings = (spec: IntegrationSpec): SpecWarning[] => [
  ...privilegedWarnings(spec),
  ...(spec.flow === 'jwt' && spec.app.refreshTokenPolicy.type !== 'infinite' ? [warning('RefreshPolicyAgesOut')] : []),
];

/** Throws one SfError listing every problem; returns the warnings of a valid spec. */
export const validateSpec = (spec: IntegrationSpec): SpecWarning[] => {
  throwIfProblems(collectSpecProblems(spec));
  return specWarnings(spec);
};

// ---------------------------------------------------------------------------------------------------------
// Against the org

/** The candidate closest to `name` (case-insensitive), when it is close enough to be a typo. */
export const nearest = (name: string, candidates: readonly string[]): string | undefined => {
  const limit = Math.max(1, Math.floor(name.length / 3));
  const scored = candidates.map((c) => ({ c, d: editDistance(lower(name), lower(c)) })).filter((s) => s.d <= limit);
  return scored.sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))[0]?.c;
};

const canonical = (name: string, candidates: readonly string[]): string | undefined => candidates.find((c) => lower(c) === lower(name));

/** A missing name, with "did you mean" when a candidate is close. */
const unknown = (code: string, name: string, candidates: readonly string[], tokens: string[] = []): SpecProblem => {
  const near = nearest(name, candidates);
  return near ? problem(`${code}Suggest`, [...tokens, name], [near]) : problem(code, [...tokens, name]);
};

const bareField = (f: string): string => f.slice(f.lastIndexOf('.') + 1);

/**
 * Object, field and (when the catalogue has them) system permission names checked against the org: unknown
 * ones are refused with the nearest name, objects not on the Salesforce Integration license are refused.
 * Returns the spec with Salesforce's spelling of every name (`account.industry` → `Account.Industry`).
 */
export const validateAgainstOrg = (spec: IntegrationSpec, org: OrgCatalogue): IntegrationSpec => {
  const problems: SpecProblem[] = [];
  const objectNames = Object.keys(org.objects);
  const allowed = org.integrationLicenseObjects ?? INTEGRATION_LICENSE_OBJECTS;
  const resolveObject = (name: string): string | undefined => {
    const found = canonical(name, objectNames);
    if (!found) problems.push(unknown('UnknownObject', name, objectNames));
    else if (!isAllowedOnIntegrationLicense(found, allowed)) problems.push(problem('ObjectNotOnLicense', [found]));
    return found;
  };
  const objects = spec.permissionSet.objects.map((o) => ({ ...o, object: resolveObject(o.object) ?? o.object }));
  const resolved = new Map(objects.map((o) => [lower(o.object), o.object]));
  const fields = spec.permissionSet.fields.map((f) => {
    const object = resolved.get(lower(objectOf(f.field))) ?? canonical(objectOf(f.field), objectNames);
    if (!object) return f; // reported with its object (a field needs object access, validateSpec)
    const names = org.objects[object].fields.map(bareField);
    const field = canonical(bareField(f.field), names);
    if (!field) problems.push(unknown('UnknownField', bareField(f.field), names, [object]));
    return { ...f, field: `${object}.${field ?? bareField(f.field)}` };
  });
  const known = org.systemPermissions;
  const systemPermissions = spec.permissionSet.systemPermissions.map((p) => {
    if (!known) return p;
    const found = canonical(p, known);
    if (!found) problems.push(unknown('UnknownSystemPermission', p, known));
    return found ?? p;
  });
  throwIfProblems(problems);
  return { ...spec, permissionSet: { ...spec.permissionSet, objects, fields, systemPermissions } };
};
