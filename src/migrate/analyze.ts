/*
 * The analysis of a license migration, a pure function of the snapshot: what the user holds today (license, profile,
 * effective access through the profile and every permission set assigned), which of it the Salesforce Integration
 * license allows (objects of the Salesforce API Integration permission set license, least-privilege system
 * permissions) and what would be dropped, named; the app the user is pre-authorized for (and through which profile
 * or permission set), run-as for, the tokens it holds; and the seat a migration frees.
 */
import type { AppConfig, FieldAccess, HeldToken, LicenseInfo, ObjectAccess, OrgSnapshot, PermissionSetInfo } from '../org/index.js';
import { dangerousPermission } from '../salesforce/permissions.js';
import { API_INTEGRATION_PSL, API_INTEGRATION_PSL_LABEL, INTEGRATION_LICENSE, integrationLicenseAllows } from '../salesforce/licenses.js';

export type Strategy = 'new-user' | 'in-place';

/** Where access comes from: the user's profile or one permission set assigned to it. */
export type AccessSource = { kind: 'profile' | 'permission-set'; id: string; name: string; license?: string };

export type ObjectGrant = ObjectAccess & { via: string[] };
export type FieldGrant = FieldAccess & { via: string[] };

/** Something the user holds that the migrated identity will not: why, and where it came from. */
export type Dropped = {
  kind: 'object' | 'field' | 'object-permission' | 'system-permission';
  /** Campaign, Campaign.Name, Account: View All Records, ModifyAllData. */
  name: string;
  /** `license`: the Integration license does not allow it; `privileged`: not carried (least privilege). */
  reason: 'license' | 'privileged';
  via: string[];
};

/** A permission set the user holds, and whether it fits the Integration license as it is (in-place moves those). */
export type HeldPermissionSet = { id: string; name: string; license?: string; compatible: boolean; reasons: string[] };

export type AppAccess = {
  name: string;
  kind: AppConfig['kind'];
  /** The profile or permission sets of the user that pre-authorize it. */
  preAuthorizedVia: string[];
  /** The app runs as this user (client credentials). */
  runAs: boolean;
  flow: 'jwt' | 'client-credentials';
};

export type SeatChange = { license: string; used: number; total: number; after: number };

export type MigrationAnalysis = {
  username: string;
  userId: string;
  isActive: boolean;
  license: string;
  profile: string;
  /** The user is on the Salesforce Integration license already (a migration ran, or nothing to move). */
  onIntegrationLicense: boolean;
  sources: AccessSource[];
  objects: ObjectGrant[];
  fields: FieldGrant[];
  systemPermissions: Array<{ name: string; via: string[] }>;
  /** The supported part: what the new least-privilege permission set holds. */
  carried: { objects: ObjectAccess[]; fields: FieldAccess[]; systemPermissions: string[] };
  dropped: Dropped[];
  permissionSets: HeldPermissionSet[];
  app?: AppAccess;
  tokens: Array<{ appName: string; useCount?: number; lastUsedDate?: string }>;
  /** The standard seat the migration frees (none when the old user is kept active or is inactive already). */
  seatFreed?: SeatChange;
  /** The Integration seat the migration takes. */
  integrationSeat?: SeatChange;
};

export type AnalyzeOptions = {
  strategy: Strategy;
  keepOldUser: boolean;
  /** The user's license as UserLicense reads it (used/total), when read. */
  userLicense?: LicenseInfo;
  tokens: HeldToken[];
  /** The new permission set: a replacement assigned in place is part of the access it replaces (a re-run). */
  targetPermissionSetName?: string;
  /** The new-user strategy: the new user exists already (a re-run), so no seat is taken. */
  newUserExists?: boolean;
};

const OBJECT_FLAGS = ['read', 'create', 'edit', 'delete', 'viewAll', 'modifyAll'] as const;

const isPslLicense = (license: string | undefined): boolean => license === API_INTEGRATION_PSL || license === API_INTEGRATION_PSL_LABEL;

/** The flags that grant something. */
const granted = (o: ObjectAccess): boolean => OBJECT_FLAGS.some((f) => o[f]);

/** Why a permission set does not fit the Integration license as it is (empty: it fits). */
const misfits = (ps: PermissionSetInfo): string[] => {
  const reasons: string[] = [];
  if (ps.licenseName && !isPslLicense(ps.licenseName)) reasons.push(`license ${ps.licenseName}`);
  for (const o of ps.objects.filter(granted)) if (!integrationLicenseAllows(o.object)) reasons.push(o.object);
  for (const o of ps.objects) if (o.viewAll || o.modifyAll) reasons.push(`${o.object} ${o.modifyAll ? 'Modify All' : 'View All'}`);
  for (const [perm, held] of Object.entries(ps.systemPermissions)) if (held && perm !== 'ApiEnabled' && dangerousPermission(perm)) reasons.push(perm);
  return reasons;
};

const merge = (into: ObjectGrant[], o: ObjectAccess, via: string): void => {
  const have = into.find((x) => x.object.toLowerCase() === o.object.toLowerCase());
  if (!have) {
    into.push({ object: o.object, read: o.read, create: o.create, edit: o.edit, delete: o.delete, viewAll: o.viewAll, modifyAll: o.modifyAll, via: [via] });
    return;
  }
  for (const f of OBJECT_FLAGS) have[f] = have[f] || o[f];
  if (!have.via.includes(via)) have.via.push(via);
};

const appAccess = (snap: OrgSnapshot, sources: AccessSource[], username: string): AppAccess | undefined => {
  const app = snap.app;
  if (!app) return undefined;
  const user = snap.user;
  const via = sources
    .filter((s) => (s.kind === 'profile' ? app.profileIds.includes(user?.profileId ?? '') : app.permissionSetIds.includes(s.id)))
    .map((s) => (s.kind === 'profile' ? `profile ${s.name}` : s.name));
  const runAs = app.clientCredentialsEnabled && app.runAsUsername?.toLowerCase() === username.toLowerCase();
  return { name: app.name, kind: app.kind, preAuthorizedVia: [...new Set(via)], runAs, flow: runAs ? 'client-credentials' : 'jwt' };
};

type Access = {
  objects: ObjectGrant[];
  fields: FieldGrant[];
  perms: Map<string, string[]>;
  carriedObjects: ObjectGrant[];
  carriedFields: FieldAccess[];
  dropped: Dropped[];
};

const addDropped = (dropped: Dropped[], d: Dropped): void => {
  const have = dropped.find((x) => x.kind === d.kind && x.name === d.name);
  if (!have) {
    dropped.push(d);
    return;
  }
  for (const v of d.via) if (!have.via.includes(v)) have.via.push(v);
};

const mergeField = (into: Array<FieldAccess & { via?: string[] }>, f: FieldAccess, via?: string): void => {
  const have = into.find((x) => x.field.toLowerCase() === f.field.toLowerCase());
  if (!have) {
    into.push({ field: f.field, read: f.read || f.edit, edit: f.edit, ...(via ? { via: [via] } : {}) });
    return;
  }
  have.read ||= f.read || f.edit;
  have.edit ||= f.edit;
  if (via && have.via && !have.via.includes(via)) have.via.push(via);
};

/** One source's objects: all of them in the effective access; the carried part, with what is dropped named. */
const addObjects = (acc: Access, ps: PermissionSetInfo, via: string, carry: boolean): void => {
  for (const o of ps.objects.filter(granted)) {
    merge(acc.objects, o, via);
    if (!carry) continue;
    if (!integrationLicenseAllows(o.object)) {
      addDropped(acc.dropped, { kind: 'object', name: o.object, reason: 'license', via: [via] });
      continue;
    }
    if (o.viewAll) addDropped(acc.dropped, { kind: 'object-permission', name: `${o.object}: View All Records`, reason: 'privileged', via: [via] });
    if (o.modifyAll) addDropped(acc.dropped, { kind: 'object-permission', name: `${o.object}: Modify All Records`, reason: 'privileged', via: [via] });
    merge(acc.carriedObjects, { ...o, viewAll: false, modifyAll: false }, via);
  }
};

const addFields = (acc: Access, ps: PermissionSetInfo, via: string, carry: boolean): void => {
  for (const f of ps.fields.filter((x) => x.read || x.edit)) {
    mergeField(acc.fields as Array<FieldAccess & { via?: string[] }>, f, via);
    if (!carry) continue;
    if (integrationLicenseAllows(f.field.split('.')[0])) mergeField(acc.carriedFields, f);
    else addDropped(acc.dropped, { kind: 'field', name: f.field, reason: 'license', via: [via] });
  }
};

const addPermissions = (acc: Access, ps: PermissionSetInfo, via: string, carry: boolean): void => {
  for (const [perm, on] of Object.entries(ps.systemPermissions)) {
    if (!on) continue;
    acc.perms.set(perm, [...(acc.perms.get(perm) ?? []), via]);
    // API Enabled is what the integration needs; API Only User comes with the Integration profile; any other
    // permission the product reads is on the dangerous-tier list: named, not carried.
    if (carry && perm !== 'ApiEnabled' && perm !== 'ApiUserOnly' && dangerousPermission(perm)) addDropped(acc.dropped, { kind: 'system-permission', name: perm, reason: 'privileged', via: [via] });
  }
};

const accessOf = (snap: OrgSnapshot, sources: AccessSource[], carriedFrom: Set<string>): Access => {
  const acc: Access = { objects: [], fields: [], perms: new Map(), carriedObjects: [], carriedFields: [], dropped: [] };
  for (const s of sources) {
    const ps = snap.permissionSets[s.id];
    if (!ps) continue;
    const via = s.kind === 'profile' ? `profile ${s.name}` : s.name;
    const carry = carriedFrom.has(s.id);
    addObjects(acc, ps, via, carry);
    addFields(acc, ps, via, carry);
    addPermissions(acc, ps, via, carry);
  }
  // Field access on an object the permission set carries no read of is not granted by Salesforce: carry read too.
  for (const f of acc.carriedFields) {
    const object = f.field.split('.')[0];
    if (!acc.carriedObjects.some((o) => o.object.toLowerCase() === object.toLowerCase())) {
      acc.carriedObjects.push({ object, read: true, create: false, edit: false, delete: false, viewAll: false, modifyAll: false, via: [] });
    }
  }
  return acc;
};

/** The profile and every permission set assigned (profile-owned sets are the profile). */
const sourcesOf = (snap: OrgSnapshot): { sources: AccessSource[]; held: PermissionSetInfo[] } => {
  const user = snap.user;
  const sources: AccessSource[] = [];
  const profilePs = user?.profilePermissionSetId ? snap.permissionSets[user.profilePermissionSetId] : undefined;
  if (user && profilePs) sources.push({ kind: 'profile', id: profilePs.id, name: user.profileName, license: user.userLicenseName });
  const held = (user?.assignments ?? [])
    .map((a) => snap.permissionSets[a.permissionSetId])
    .filter((ps): ps is PermissionSetInfo => Boolean(ps) && !ps.isOwnedByProfile);
  for (const ps of held) sources.push({ kind: 'permission-set', id: ps.id, name: ps.name, license: ps.licenseName });
  return { sources, held };
};

/**
 * The access a migration has to carry: all of it for a new user; in place, what the profile and the sets that do
 * not fit gave (compatible sets move as they are), plus a replacement assigned by an earlier run.
 */
const carriedSources = (sources: AccessSource[], sets: HeldPermissionSet[], opts: AnalyzeOptions): Set<string> =>
  new Set(
    sources
      .filter((s) => {
        if (opts.strategy === 'new-user' || s.kind === 'profile') return true;
        const ps = sets.find((p) => p.id === s.id);
        return !ps?.compatible || s.name === opts.targetPermissionSetName;
      })
      .map((s) => s.id)
  );

const seats = (snap: OrgSnapshot, opts: AnalyzeOptions, onIntegrationLicense: boolean): Pick<MigrationAnalysis, 'seatFreed' | 'integrationSeat'> => {
  const active = snap.user?.isActive === true;
  const lic = snap.integrationLicense;
  const ul = opts.userLicense;
  const freesSeat = active && !onIntegrationLicense && (opts.strategy === 'in-place' || !opts.keepOldUser);
  const takesSeat = opts.strategy === 'in-place' ? !onIntegrationLicense : !opts.newUserExists;
  return {
    seatFreed: freesSeat && ul ? { license: ul.name, used: ul.used, total: ul.total, after: ul.used - 1 } : undefined,
    integrationSeat: takesSeat && lic ? { license: lic.name, used: lic.used, total: lic.total, after: lic.used + 1 } : undefined,
  };
};

export const analyzeMigration = (snap: OrgSnapshot, opts: AnalyzeOptions): MigrationAnalysis => {
  const user = snap.user;
  if (!user) throw new Error('internal: the user to migrate was not read');
  const onIntegrationLicense = user.userLicenseName === INTEGRATION_LICENSE;
  const { sources, held } = sourcesOf(snap);
  const permissionSets: HeldPermissionSet[] = held.map((ps) => {
    const reasons = misfits(ps);
    return { id: ps.id, name: ps.name, license: ps.licenseName, compatible: reasons.length === 0, reasons };
  });
  const acc = accessOf(snap, sources, carriedSources(sources, permissionSets, opts));
  return {
    username: user.username,
    userId: user.id,
    isActive: user.isActive,
    license: user.userLicenseName,
    profile: user.profileName,
    onIntegrationLicense,
    sources,
    objects: acc.objects,
    fields: acc.fields,
    systemPermissions: [...acc.perms].map(([name, via]) => ({ name, via })),
    carried: {
      objects: acc.carriedObjects.map((o) => ({ object: o.object, read: o.read || o.create || o.edit || o.delete, create: o.create, edit: o.edit, delete: o.delete, viewAll: false, modifyAll: false })),
      fields: acc.carriedFields,
      systemPermissions: ['ApiEnabled'],
    },
    dropped: acc.dropped,
    permissionSets,
    app: appAccess(snap, sources, user.username),
    tokens: opts.tokens.map((t) => ({ appName: t.appName, useCount: t.useCount, lastUsedDate: t.lastUsedDate })),
    ...seats(snap, opts, onIntegrationLicense),
  };
};
