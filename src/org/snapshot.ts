/*
 * One read of everything checks and the planner need: a composite batch of SOQL queries (one round trip,
 * two when the user must be found through the app), then one metadata read of the app. Missing things are
 * left undefined for the checks to report; only an unreachable org throws.
 */
import JSZip from 'jszip';
import { API_INTEGRATION_PSL, INTEGRATION_LICENSE, INTEGRATION_PROFILE } from '../salesforce/licenses.js';
import { INTEGRATION_BASELINE, PERMISSION_TIERS } from '../salesforce/permissions.js';
import {
  ECA_PARTS,
  connectedAppToAppConfig,
  ecaToAppConfig,
  groupEcaFiles,
  type AppRecordFacts,
  type Component,
} from './app-metadata.js';
import { ApiCallError, soqlString, type Transport } from './transport.js';
import type { AppConfig, AppKind, LicenseInfo, ObjectAccess, OrgInfo, OrgSnapshot, PermissionSetInfo, SystemPermissions, UserInfo } from './types.js';

/**
 * System permissions the plugin reads on profiles and permission sets: API access and every permission on the
 * dangerous-tier list (src/salesforce/permissions.ts, one list for the checks and this read).
 */
export const READ_PERMISSIONS: readonly string[] = [...new Set([...INTEGRATION_BASELINE, ...PERMISSION_TIERS.flat()])];

export type SnapshotTarget = {
  appName?: string;
  username?: string;
  /** create: the permission set it manages, read with its object and field permissions. */
  permissionSetName?: string;
  /** create: the running user, for defaults. */
  runningUsername?: string;
  /** create: system permissions the desired state asks for beyond READ_PERMISSIONS (canonical API names). */
  extraPermissions?: string[];
};

type Row = Record<string, unknown>;

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));
const rel = (row: Row, path: string): unknown =>
  path.split('.').reduce<unknown>((acc, k) => (acc && typeof acc === 'object' ? (acc as Row)[k] : undefined), row);

const SALESFORCE_HOSTS = /\.(my\.salesforce\.com|salesforce\.com|force\.com|sfcrmproducts\.cn)$/i;

/**
 * Login host, JWT audience and My Domain subdomain for an org (seed 001 step 7; sfdx-core SfdcUrl). A
 * non-Salesforce host (a local emulator, a proxy) is its own login host.
 */
export const orgLoginFacts = (instanceUrl: string, isSandbox: boolean): Pick<OrgInfo, 'loginUrl' | 'audience' | 'subdomain'> => {
  const host = new URL(instanceUrl).hostname;
  const audience = isSandbox ? 'https://test.salesforce.com' : 'https://login.salesforce.com';
  if (!SALESFORCE_HOSTS.test(host)) return { loginUrl: new URL(instanceUrl).origin, audience };
  // With My Domain the external system logs in at the org's own host (client credentials must: seed 004); the
  // JWT audience stays login/test (seed 001 step 7, Salesforce Help "OAuth 2.0 JWT Bearer Flow").
  const m = /^(.+?)\.my\.salesforce\.com$/i.exec(host);
  return m ? { loginUrl: new URL(instanceUrl).origin, audience, subdomain: m[1] } : { loginUrl: audience, audience };
};

const permissionFields = READ_PERMISSIONS.map((p) => `Permissions${p}`).join(', ');

/** Every Permissions<Name> field the row carries (the read list, plus what create asked for). */
const systemPermissions = (row: Row): SystemPermissions =>
  Object.fromEntries(
    Object.keys(row)
      .filter((k) => k.startsWith('Permissions'))
      .map((k) => [k.slice('Permissions'.length), row[k] === true])
  );

const permissionSetInfo = (row: Row): PermissionSetInfo => ({
  id: String(row.Id),
  name: String(row.Name),
  label: String(row.Label ?? row.Name),
  licenseName: undefined,
  isOwnedByProfile: row.IsOwnedByProfile === true,
  profileId: str(row.ProfileId),
  profileName: str(rel(row, 'Profile.Name')),
  systemPermissions: systemPermissions(row),
  objects: [],
  fields: [],
});

const rowsOr = (v: Row[] | ApiCallError): Row[] => (v instanceof ApiCallError ? [] : v);

/** The queries of the batched read. Semi-joins keep it to rows that matter; SOQL allows one level. */
const snapshotQueries = (t: SnapshotTarget): Record<string, string> => {
  const q: Record<string, string> = {
    org: 'SELECT Id, Name, OrganizationType, IsSandbox, TrialExpirationDate, InstanceName FROM Organization',
    license: `SELECT Id, Name, TotalLicenses, UsedLicenses FROM UserLicense WHERE Name = ${soqlString(INTEGRATION_LICENSE)}`,
    psl: `SELECT Id, DeveloperName, MasterLabel, TotalLicenses, UsedLicenses FROM PermissionSetLicense WHERE DeveloperName = ${soqlString(API_INTEGRATION_PSL)}`,
    profile: `SELECT Id, Name FROM Profile WHERE Name = ${soqlString(INTEGRATION_PROFILE)}`,
    ecas: 'SELECT Id, DeveloperName, MasterLabel, CreatedDate, LastModifiedDate FROM ExternalClientApplication',
    connectedApps: 'SELECT Id, Name, CreatedDate, LastModifiedDate FROM ConnectedApplication',
    appAccess:
      "SELECT Id, ParentId, SetupEntityId FROM SetupEntityAccess WHERE SetupEntityType IN ('ConnectedApplication', 'ExternalClientApplication')",
    appPermissionSets: `SELECT Id, Name, Label, IsOwnedByProfile, ProfileId, Profile.Name, LicenseId, ${permissionFields} FROM PermissionSet WHERE Id IN (SELECT ParentId FROM SetupEntityAccess WHERE SetupEntityType IN ('ConnectedApplication', 'ExternalClientApplication'))`,
  };
  if (t.permissionSetName) {
    const n = soqlString(t.permissionSetName);
    const extra = (t.extraPermissions ?? []).filter((p) => !READ_PERMISSIONS.includes(p)).map((p) => `, Permissions${p}`).join('');
    q.targetPermissionSet = `SELECT Id, Name, Label, IsOwnedByProfile, ProfileId, Profile.Name, LicenseId, ${permissionFields}${extra} FROM PermissionSet WHERE Name = ${n} AND IsOwnedByProfile = false`;
    q.targetObjectPerms = `SELECT Id, ParentId, SobjectType, PermissionsRead, PermissionsCreate, PermissionsEdit, PermissionsDelete, PermissionsViewAllRecords, PermissionsModifyAllRecords FROM ObjectPermissions WHERE Parent.Name = ${n}`;
    q.targetFieldPerms = `SELECT Id, ParentId, Field, PermissionsRead, PermissionsEdit FROM FieldPermissions WHERE Parent.Name = ${n}`;
  }
  if (t.runningUsername) {
    q.runningUser = `SELECT Id, Username, Email, TimeZoneSidKey, LocaleSidKey, LanguageLocaleKey, EmailEncodingKey FROM User WHERE Username = ${soqlString(t.runningUsername)}`;
  }
  if (!t.username) {
    // Who is pre-authorized for any app: lets doctor --name find the app's user without a second query.
    q.preauthorized =
      "SELECT AssigneeId, Assignee.Username, PermissionSetId FROM PermissionSetAssignment WHERE PermissionSetId IN (SELECT ParentId FROM SetupEntityAccess WHERE SetupEntityType IN ('ConnectedApplication', 'ExternalClientApplication'))";
  }
  return q;
};

const userQueries = (username: string): Record<string, string> => {
  const u = soqlString(username);
  const assigned = `SELECT PermissionSetId FROM PermissionSetAssignment WHERE Assignee.Username = ${u}`;
  return {
    user: `SELECT Id, Username, Name, Email, IsActive, ProfileId, Profile.Name, Profile.UserLicense.Name, TimeZoneSidKey, LocaleSidKey, LanguageLocaleKey, EmailEncodingKey, LastLoginDate FROM User WHERE Username = ${u}`,
    assignments: `SELECT Id, PermissionSetId, ExpirationDate FROM PermissionSetAssignment WHERE Assignee.Username = ${u}`,
    pslAssignments: `SELECT Id, PermissionSetLicense.DeveloperName FROM PermissionSetLicenseAssign WHERE Assignee.Username = ${u}`,
    userPermissionSets: `SELECT Id, Name, Label, IsOwnedByProfile, ProfileId, Profile.Name, LicenseId, ${permissionFields} FROM PermissionSet WHERE Id IN (${assigned})`,
    profilePermissionSet: `SELECT Id, Name, Label, IsOwnedByProfile, ProfileId, Profile.Name, LicenseId, ${permissionFields} FROM PermissionSet WHERE IsOwnedByProfile = true AND ProfileId IN (SELECT ProfileId FROM User WHERE Username = ${u})`,
    objectPerms: `SELECT Id, ParentId, SobjectType, PermissionsRead, PermissionsCreate, PermissionsEdit, PermissionsDelete, PermissionsViewAllRecords, PermissionsModifyAllRecords FROM ObjectPermissions WHERE ParentId IN (${assigned})`,
    fieldPerms: `SELECT Id, ParentId, Field, PermissionsRead, PermissionsEdit FROM FieldPermissions WHERE ParentId IN (${assigned})`,
    logins: `SELECT LoginTime, Status, Application, LoginType FROM LoginHistory WHERE UserId IN (SELECT Id FROM User WHERE Username = ${u}) ORDER BY LoginTime DESC LIMIT 20`,
  };
};

const licenseNames = (rows: Row[]): Map<string, string> => new Map(rows.map((r) => [String(r.Id), String(r.Name ?? r.DeveloperName)]));

/** Finds the app by API name among both kinds; `kind` narrows when the user said which. */
const findAppRecord = (
  name: string,
  ecas: Row[],
  cas: Row[],
  kind?: AppKind
): { kind: AppKind; row: Row } | undefined => {
  const lower = name.toLowerCase();
  const eca = ecas.find((r) => String(r.DeveloperName).toLowerCase() === lower);
  const ca = cas.find((r) => String(r.Name).toLowerCase() === lower);
  if (eca && kind !== 'connected-app') return { kind: 'external-client-app', row: eca };
  if (ca && kind !== 'external-client-app') return { kind: 'connected-app', row: ca };
  return undefined;
};

const unzip = async (base64: string): Promise<Record<string, string>> => {
  const zip = await JSZip.loadAsync(base64, { base64: true });
  const files: Record<string, string> = {};
  await Promise.all(
    Object.values(zip.files)
      .filter((f) => !f.dir)
      .map(async (f) => {
        files[f.name] = await f.async('string');
      })
  );
  return files;
};

/** Reads an External Client App's five components with one retrieve (deploy/retrieve is their only API). */
export const retrieveEca = async (transport: Transport, name: string): Promise<Record<string, Component>> => {
  const request = {
    apiVersion: Number(transport.apiVersion),
    singlePackage: true,
    unpackaged: {
      types: ECA_PARTS.map((p) => ({ name: p.type, members: [p.type === 'ExternalClientApplication' ? name : '*'] })),
      version: transport.apiVersion,
    },
  };
  // jsforce's RetrieveRequest type wants every Package field; the Metadata API needs only these.
  // retrieve() answers a locator; awaiting it yields the AsyncResult with the retrieve Id.
  const started = await transport.metadataCall(
    async (m) => (await m.retrieve(request as unknown as Parameters<typeof m.retrieve>[0])) as unknown as { id: string }
  );
  for (let attempt = 0; ; attempt++) {
    // eslint-disable-next-line no-await-in-loop
    const status = await transport.metadataCall((m) => m.checkRetrieveStatus(started.id));
    if (String(status.done) === 'true') {
      // eslint-disable-next-line no-await-in-loop
      return status.zipFile ? groupEcaFiles(await unzip(status.zipFile))[name] ?? {} : {};
    }
    if (attempt > 60) throw new ApiCallError('RETRIEVE_TIMEOUT', `Retrieving External Client App ${name} did not finish.`);
    // eslint-disable-next-line no-await-in-loop
    await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
  }
};

/** Reads a Connected App with readMetadata (CRUD is allowed for ConnectedApp). */
export const readConnectedApp = async (transport: Transport, name: string): Promise<Component | undefined> => {
  const result = (await transport.metadataCall((m) => m.read('ConnectedApp', name))) as unknown as Component | Component[];
  const record = Array.isArray(result) ? result[0] : result;
  return record && str(record.fullName) ? record : undefined;
};

const buildUser = (b: Record<string, Row[] | ApiCallError>): UserInfo | undefined => {
  const row = rowsOr(b.user ?? [])[0];
  if (!row) return undefined;
  return {
    id: String(row.Id),
    username: String(row.Username),
    name: String(row.Name ?? ''),
    email: String(row.Email ?? ''),
    isActive: row.IsActive !== false,
    profileId: String(row.ProfileId),
    profileName: String(rel(row, 'Profile.Name') ?? ''),
    userLicenseName: String(rel(row, 'Profile.UserLicense.Name') ?? ''),
    profilePermissionSetId: str(rowsOr(b.profilePermissionSet ?? [])[0]?.Id),
    assignments: rowsOr(b.assignments ?? []).map((a) => ({
      id: String(a.Id),
      permissionSetId: String(a.PermissionSetId),
      expirationDate: str(a.ExpirationDate),
    })),
    permissionSetLicenses: rowsOr(b.pslAssignments ?? []).map((a) => String(rel(a, 'PermissionSetLicense.DeveloperName'))),
    timeZoneSidKey: str(row.TimeZoneSidKey),
    localeSidKey: str(row.LocaleSidKey),
    languageLocaleKey: str(row.LanguageLocaleKey),
    emailEncodingKey: str(row.EmailEncodingKey),
    lastLoginDate: str(row.LastLoginDate),
  };
};

export type ReadOptions = { appKind?: AppKind };

type Batch = Record<string, Row[] | ApiCallError>;

const facts = (row: Row): AppRecordFacts => ({ id: String(row.Id), createdDate: str(row.CreatedDate), lastModifiedDate: str(row.LastModifiedDate) });

/** The app behind a found record, with its selected permission sets and profiles as SetupEntityAccess has them. */
const readApp = async (transport: Transport, found: { kind: AppKind; row: Row }, first: Batch): Promise<AppConfig | undefined> => {
  const psRows = rowsOr(first.appPermissionSets);
  let app: AppConfig | undefined;
  if (found.kind === 'external-client-app') {
    const name = String(found.row.DeveloperName);
    app = ecaToAppConfig(name, await retrieveEca(transport, name), facts(found.row));
  } else {
    const component = await readConnectedApp(transport, String(found.row.Name));
    if (!component) return undefined;
    app = connectedAppToAppConfig(component, facts(found.row), {
      permissionSetIdByName: (n) => str(psRows.find((r) => r.Name === n && r.IsOwnedByProfile !== true)?.Id),
      profileIdByName: (n) => str(psRows.find((r) => rel(r, 'Profile.Name') === n)?.ProfileId),
    });
  }
  // Selected permission sets and profiles as SetupEntityAccess sees them are the truth for pre-authorization.
  const ps = new Set(app.permissionSetIds);
  const profiles = new Set(app.profileIds);
  for (const a of rowsOr(first.appAccess).filter((r) => r.SetupEntityId === app?.id)) {
    const parent = psRows.find((r) => r.Id === a.ParentId);
    if (parent?.IsOwnedByProfile === true) profiles.add(String(parent.ProfileId));
    else ps.add(String(a.ParentId));
  }
  return { ...app, permissionSetIds: [...ps], profileIds: [...profiles] };
};

/**
 * With only --username: the app is the one that pre-authorizes a permission set the user is assigned (or the
 * user's profile). Several candidates are left for the caller to name with --name.
 */
const appsOfUser = (first: Batch, ecas: Row[], cas: Row[]): Array<{ kind: AppKind; row: Row }> => {
  const held = new Set([...rowsOr(first.assignments ?? []).map((a) => String(a.PermissionSetId)), ...rowsOr(first.profilePermissionSet ?? []).map((p) => String(p.Id))]);
  const appIds = new Set(rowsOr(first.appAccess).filter((a) => held.has(String(a.ParentId))).map((a) => String(a.SetupEntityId)));
  return [
    ...ecas.filter((r) => appIds.has(String(r.Id))).map((row) => ({ kind: 'external-client-app' as const, row })),
    ...cas.filter((r) => appIds.has(String(r.Id))).map((row) => ({ kind: 'connected-app' as const, row })),
  ];
};

/** With only --name: the user is the app's run-as user, or the one user pre-authorized through its sets. */
const userOfApp = (app: AppConfig, first: Batch): string | undefined => {
  const preauth = rowsOr(first.preauthorized ?? []).filter((r) => app.permissionSetIds.includes(String(r.PermissionSetId)));
  const candidates = [...new Set(preauth.map((r) => String(rel(r, 'Assignee.Username'))))];
  return app.runAsUsername ?? (candidates.length === 1 ? candidates[0] : undefined);
};

const objectAccess = (o: Row): ObjectAccess => ({
  id: str(o.Id),
  object: String(o.SobjectType),
  read: o.PermissionsRead === true,
  create: o.PermissionsCreate === true,
  edit: o.PermissionsEdit === true,
  delete: o.PermissionsDelete === true,
  viewAll: o.PermissionsViewAllRecords === true,
  modifyAll: o.PermissionsModifyAllRecords === true,
});

/** Every permission set read, by Id, with its object and field access (each row once). */
const buildPermissionSets = (first: Batch, batch: Batch): Record<string, PermissionSetInfo> => {
  const licenses = licenseNames([...rowsOr(first.license), ...rowsOr(first.psl)]);
  const sets: Record<string, PermissionSetInfo> = {};
  const rows = [...rowsOr(first.appPermissionSets), ...rowsOr(batch.userPermissionSets ?? []), ...rowsOr(batch.profilePermissionSet ?? []), ...rowsOr(first.targetPermissionSet ?? [])];
  for (const row of rows) sets[String(row.Id)] = { ...permissionSetInfo(row), licenseName: licenses.get(String(row.LicenseId)) };
  const seen = new Set<string>();
  const once = (r: Row): boolean => !seen.has(String(r.Id)) && Boolean(seen.add(String(r.Id)));
  for (const o of [...rowsOr(batch.objectPerms ?? []), ...rowsOr(first.targetObjectPerms ?? [])].filter(once)) {
    sets[String(o.ParentId)]?.objects.push(objectAccess(o));
  }
  for (const f of [...rowsOr(batch.fieldPerms ?? []), ...rowsOr(first.targetFieldPerms ?? [])].filter(once)) {
    sets[String(f.ParentId)]?.fields.push({ id: str(f.Id), field: String(f.Field), read: f.PermissionsRead === true, edit: f.PermissionsEdit === true });
  }
  return sets;
};

const license = (row: Row | undefined): LicenseInfo | undefined =>
  row ? { id: String(row.Id), name: String(row.Name ?? row.MasterLabel), total: Number(row.TotalLicenses ?? 0), used: Number(row.UsedLicenses ?? 0) } : undefined;

const runningUser = (row: Row | undefined): OrgSnapshot['runningUser'] =>
  row
    ? {
        id: String(row.Id),
        username: String(row.Username),
        email: String(row.Email ?? ''),
        timeZoneSidKey: str(row.TimeZoneSidKey),
        localeSidKey: str(row.LocaleSidKey),
        languageLocaleKey: str(row.LanguageLocaleKey),
        emailEncodingKey: str(row.EmailEncodingKey),
      }
    : undefined;

const orgInfo = (row: Row, instanceUrl: string): OrgInfo => {
  const isSandbox = row.IsSandbox === true;
  return {
    id: String(row.Id),
    name: String(row.Name),
    organizationType: String(row.OrganizationType ?? ''),
    isSandbox: isSandbox && !row.TrialExpirationDate,
    isScratch: isSandbox && Boolean(row.TrialExpirationDate),
    instanceUrl,
    ...orgLoginFacts(instanceUrl, isSandbox),
  };
};

/** The org as the checks and the planner see it. */
export const readSnapshot = async (transport: Transport, target: SnapshotTarget, opts: ReadOptions = {}): Promise<OrgSnapshot> => {
  const first = await transport.queryBatch({ ...snapshotQueries(target), ...(target.username ? userQueries(target.username) : {}) });
  const orgRow = rowsOr(first.org)[0];
  if (!orgRow) throw first.org instanceof ApiCallError ? first.org : new ApiCallError('NOT_FOUND', 'Organization not readable');
  const ecas = rowsOr(first.ecas);
  const cas = rowsOr(first.connectedApps);
  const candidates = target.appName ? [] : target.username ? appsOfUser(first, ecas, cas) : [];
  const found = target.appName ? findAppRecord(target.appName, ecas, cas, opts.appKind) : candidates.length === 1 ? candidates[0] : undefined;
  const app = found ? await readApp(transport, found, first) : undefined;

  let batch: Batch = first;
  const username = target.username ?? (app ? userOfApp(app, first) : undefined);
  if (username && !target.username) batch = { ...first, ...(await transport.queryBatch(userQueries(username))) };

  const pslRow = rowsOr(first.psl)[0];
  const psl = license(pslRow);
  return {
    takenAt: new Date().toISOString(),
    org: orgInfo(orgRow, transport.instanceUrl),
    integrationLicense: license(rowsOr(first.license)[0]),
    apiIntegrationPsl: psl && pslRow ? { ...psl, developerName: String(pslRow.DeveloperName) } : undefined,
    integrationProfile: rowsOr(first.profile).map((p) => ({ id: String(p.Id), name: String(p.Name) }))[0],
    app,
    // Names to suggest: the user's own apps when there were several, else every app of the org.
    otherAppNames: found
      ? []
      : candidates.length > 1
        ? candidates.map((c) => String(c.row.DeveloperName ?? c.row.Name))
        : [...ecas.map((r) => String(r.DeveloperName)), ...cas.map((r) => String(r.Name))],
    user: buildUser(batch),
    permissionSets: buildPermissionSets(first, batch),
    recentLogins: rowsOr(batch.logins ?? []).map((l) => ({ time: String(l.LoginTime), status: String(l.Status), application: str(l.Application), loginType: str(l.LoginType) })),
    targetPermissionSetId: str(rowsOr(first.targetPermissionSet ?? [])[0]?.Id),
    runningUser: runningUser(rowsOr(first.runningUser ?? [])[0]),
  };
};
