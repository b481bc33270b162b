/*
 * One read of everything checks and the planner need: a composite batch of SOQL queries (with the PermissionSet
 * describe when the caller has not read it: only the Permissions* fields this org has are selected), then one
 * metadata read of the app, then at most one more batch (the app's user, the permission fields). A query that
 * fails is recorded with Salesforce's error (OrgSnapshot.readFailures), never read as "no rows"; only an
 * unreachable org throws.
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
import { ApiCallError, soqlString, type SObjectDescribe, type Transport } from './transport.js';
import type {
  AppConfig,
  AppKind,
  LicenseInfo,
  ObjectAccess,
  OrgInfo,
  OrgSnapshot,
  PermissionSetInfo,
  ReadAspect,
  ReadFailure,
  SystemPermissions,
  UserInfo,
} from './types.js';

/**
 * System permissions the plugin reads on profiles and permission sets: API access and every permission on the
 * dangerous-tier list (src/salesforce/permissions.ts, one list for the checks and this read).
 */
export const READ_PERMISSIONS: readonly string[] = [...new Set([...INTEGRATION_BASELINE, ...PERMISSION_TIERS.flat()])];

export type SnapshotTarget = {
  /**
   * The system permission names the org's PermissionSet describe has (without `Permissions`), when the caller read
   * the describe already (create). Without it the snapshot reads the describe in its first batch.
   */
  systemPermissions?: string[];
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

/** Permissions* fields to select: the ones the product reads (and create asked for) that this org has. */
const permissionFieldsFor = (known: readonly string[], extra: readonly string[] = []): string[] => {
  const has = new Set(known.map((p) => p.toLowerCase()));
  return [...new Set([...READ_PERMISSIONS, ...extra])].filter((p) => has.has(p.toLowerCase())).map((p) => `Permissions${p}`);
};

/** `, PermissionsA, PermissionsB` for a SELECT list (nothing when no field is known yet). */
const withFields = (fields: readonly string[] | undefined): string => (fields?.length ? `, ${fields.join(', ')}` : '');

/** The permission-set columns every read selects; Permissions* fields come on top when known. */
const PS_COLUMNS = 'Id, Name, Label, IsOwnedByProfile, ProfileId, Profile.Name, LicenseId';

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

/** Rows of a query; a failed one reads as none here, and is recorded in OrgSnapshot.readFailures (readSnapshot). */
const rowsOr = (v: Row[] | ApiCallError): Row[] => (v instanceof ApiCallError ? [] : v);

/** The permissions create's writes need of the running user (Salesforce Help, "User Permissions and Access"). */
export const RUNNING_USER_PERMISSIONS = [
  'ManageUsers',
  'ManageInternalUsers',
  'AssignPermissionSets',
  'ManageProfilesPermissionsets',
  'CustomizeApplication',
  'ModifyMetadata',
  'ExternalClientAppDeveloper',
  'ExternalClientAppAdmin',
] as const;

/** The queries of the batched read. Semi-joins keep it to rows that matter; SOQL allows one level. */
const snapshotQueries = (t: SnapshotTarget, fields: readonly string[] | undefined): Record<string, string> => {
  const q: Record<string, string> = {
    org: 'SELECT Id, Name, OrganizationType, IsSandbox, TrialExpirationDate, InstanceName FROM Organization',
    license: `SELECT Id, Name, TotalLicenses, UsedLicenses FROM UserLicense WHERE Name = ${soqlString(INTEGRATION_LICENSE)}`,
    psl: `SELECT Id, DeveloperName, MasterLabel, TotalLicenses, UsedLicenses FROM PermissionSetLicense WHERE DeveloperName = ${soqlString(API_INTEGRATION_PSL)}`,
    profile: `SELECT Id, Name FROM Profile WHERE Name = ${soqlString(INTEGRATION_PROFILE)}`,
    ecas: 'SELECT Id, DeveloperName, MasterLabel, CreatedDate, LastModifiedDate FROM ExternalClientApplication',
    appAccess:
      "SELECT Id, ParentId, SetupEntityId, SetupEntityType FROM SetupEntityAccess WHERE SetupEntityType IN ('ConnectedApplication', 'ExternalClientApplication')",
    appPermissionSets: `SELECT ${PS_COLUMNS}${withFields(fields)} FROM PermissionSet WHERE Id IN (SELECT ParentId FROM SetupEntityAccess WHERE SetupEntityType IN ('ConnectedApplication', 'ExternalClientApplication'))`,
  };
  if (t.permissionSetName) {
    const n = soqlString(t.permissionSetName);
    q.targetPermissionSet = `SELECT ${PS_COLUMNS}${withFields(fields)} FROM PermissionSet WHERE Name = ${n} AND IsOwnedByProfile = false`;
    q.targetObjectPerms = `SELECT Id, ParentId, SobjectType, PermissionsRead, PermissionsCreate, PermissionsEdit, PermissionsDelete, PermissionsViewAllRecords, PermissionsModifyAllRecords FROM ObjectPermissions WHERE Parent.Name = ${n}`;
    q.targetFieldPerms = `SELECT Id, ParentId, Field, PermissionsRead, PermissionsEdit FROM FieldPermissions WHERE Parent.Name = ${n}`;
  }
  if (t.runningUsername) {
    q.runningUser = `SELECT Id, Username, Email, TimeZoneSidKey, LocaleSidKey, LanguageLocaleKey, EmailEncodingKey FROM User WHERE Username = ${soqlString(t.runningUsername)}`;
    // What the running user may do, over every set it holds (its profile's own set included), for create's
    // preconditions; only the permissions this org's PermissionSet describe has.
    const perms = RUNNING_USER_PERMISSIONS.filter((p) => !t.systemPermissions || t.systemPermissions.includes(p));
    if (perms.length) {
      q.runningUserPermissions = `SELECT ${perms.map((p) => `PermissionSet.Permissions${p}`).join(', ')} FROM PermissionSetAssignment WHERE Assignee.Username = ${soqlString(t.runningUsername)}`;
    }
  }
  if (!t.username) {
    // Who is pre-authorized for any app: lets doctor --name find the app's user without a second query.
    q.preauthorized =
      "SELECT AssigneeId, Assignee.Username, PermissionSetId FROM PermissionSetAssignment WHERE PermissionSetId IN (SELECT ParentId FROM SetupEntityAccess WHERE SetupEntityType IN ('ConnectedApplication', 'ExternalClientApplication'))";
  }
  return q;
};

const userQueries = (username: string, fields: readonly string[] | undefined): Record<string, string> => {
  const u = soqlString(username);
  const assigned = `SELECT PermissionSetId FROM PermissionSetAssignment WHERE Assignee.Username = ${u}`;
  return {
    user: `SELECT Id, Username, Name, Email, IsActive, ProfileId, Profile.Name, Profile.UserLicense.Name, TimeZoneSidKey, LocaleSidKey, LanguageLocaleKey, EmailEncodingKey, LastLoginDate FROM User WHERE Username = ${u}`,
    assignments: `SELECT Id, PermissionSetId, ExpirationDate FROM PermissionSetAssignment WHERE Assignee.Username = ${u}`,
    pslAssignments: `SELECT Id, PermissionSetLicense.DeveloperName FROM PermissionSetLicenseAssign WHERE Assignee.Username = ${u}`,
    userPermissionSets: `SELECT ${PS_COLUMNS}${withFields(fields)} FROM PermissionSet WHERE Id IN (${assigned})`,
    profilePermissionSet: `SELECT ${PS_COLUMNS}${withFields(fields)} FROM PermissionSet WHERE IsOwnedByProfile = true AND ProfileId IN (SELECT ProfileId FROM User WHERE Username = ${u})`,
    objectPerms: `SELECT Id, ParentId, SobjectType, PermissionsRead, PermissionsCreate, PermissionsEdit, PermissionsDelete, PermissionsViewAllRecords, PermissionsModifyAllRecords FROM ObjectPermissions WHERE ParentId IN (${assigned})`,
    fieldPerms: `SELECT Id, ParentId, Field, PermissionsRead, PermissionsEdit FROM FieldPermissions WHERE ParentId IN (${assigned})`,
    logins: `SELECT LoginTime, Status, Application, LoginType FROM LoginHistory WHERE UserId IN (SELECT Id FROM User WHERE Username = ${u}) ORDER BY LoginTime DESC LIMIT 20`,
  };
};

const licenseNames = (rows: Row[]): Map<string, string> => new Map(rows.map((r) => [String(r.Id), String(r.Name ?? r.DeveloperName)]));

/**
 * Finds the app by API name among both kinds; `kind` narrows when the user said which. Connected Apps are matched on
 * the Tooling API's DeveloperName: the data API's ConnectedApplication.Name is the label (published-vocabulary.md).
 */
const findAppRecord = (
  name: string,
  ecas: Row[],
  cas: Row[],
  kind?: AppKind
): { kind: AppKind; row: Row } | undefined => {
  const lower = name.toLowerCase();
  const eca = ecas.find((r) => String(r.DeveloperName).toLowerCase() === lower);
  const ca = cas.find((r) => String(r.DeveloperName).toLowerCase() === lower);
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
export const retrieveEca = async (transport: Transport, name: string): Promise<Record<string, Component>> =>
  (await retrieveEcaGroups(transport, name))[name] ?? {};

/** Every External Client App's components with one retrieve (`*`), grouped by app API name; or one app's. */
export const retrieveEcaGroups = async (transport: Transport, name: string): Promise<Record<string, Record<string, Component>>> => {
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
    async (m) => (await m.retrieve(request as unknown as Parameters<typeof m.retrieve>[0])) as unknown as { id: string },
    'retrieve'
  );
  for (let attempt = 0; ; attempt++) {
    // eslint-disable-next-line no-await-in-loop
    const status = await transport.metadataCall((m) => m.checkRetrieveStatus(started.id), 'checkRetrieveStatus');
    if (String(status.done) === 'true') {
      // eslint-disable-next-line no-await-in-loop
      return status.zipFile ? groupEcaFiles(await unzip(status.zipFile)) : {};
    }
    if (attempt > 60) throw new ApiCallError('RETRIEVE_TIMEOUT', `Retrieving External Client App ${name} did not finish.`);
    // eslint-disable-next-line no-await-in-loop
    await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
  }
};

/** Reads a Connected App with readMetadata (CRUD is allowed for ConnectedApp). */
export const readConnectedApp = async (transport: Transport, name: string): Promise<Component | undefined> => {
  const result = (await transport.metadataCall((m) => m.read('ConnectedApp', name), 'readMetadata')) as unknown as Component | Component[];
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
  const permissionSetIdByName = (n: string): string | undefined =>
    str(psRows.find((r) => String(r.Name).toLowerCase() === n.toLowerCase() && r.IsOwnedByProfile !== true)?.Id);
  if (found.kind === 'external-client-app') {
    const name = String(found.row.DeveloperName);
    // commaSeparatedPermissionSet holds API names or Ids (eca-deploy.md §5): names resolve through the sets the
    // org's SetupEntityAccess rows select, which are read in the same batch.
    app = ecaToAppConfig(name, await retrieveEca(transport, name), facts(found.row), { permissionSetIdByName });
  } else {
    const component = await readConnectedApp(transport, String(found.row.DeveloperName));
    if (!component) return undefined;
    app = connectedAppToAppConfig(component, facts(found.row), {
      permissionSetIdByName,
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
const appIdsOfUser = (first: Batch): string[] => {
  const held = new Set([...rowsOr(first.assignments ?? []).map((a) => String(a.PermissionSetId)), ...rowsOr(first.profilePermissionSet ?? []).map((p) => String(p.Id))]);
  return [...new Set(rowsOr(first.appAccess).filter((a) => held.has(String(a.ParentId))).map((a) => String(a.SetupEntityId)))];
};

const appsOfUser = (ids: string[], ecas: Row[], cas: Row[]): Array<{ kind: AppKind; row: Row }> => {
  const appIds = new Set(ids);
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

/** The permissions held through any of the running user's sets; undefined when they could not be read. */
const runningUserPermissions = (rows: Row[] | ApiCallError | undefined): string[] | undefined => {
  if (!rows || rows instanceof ApiCallError) return undefined;
  const held = new Set<string>();
  for (const row of rows) for (const p of RUNNING_USER_PERMISSIONS) if (rel(row, `PermissionSet.Permissions${p}`) === true) held.add(p);
  return [...held];
};

const runningUser = (row: Row | undefined, permissions?: string[]): OrgSnapshot['runningUser'] =>
  row
    ? {
        ...(permissions ? { permissions } : {}),
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

/** Which parts of the snapshot a failed query leaves unknown (the checks that need them skip). */
const PERMISSION_QUERIES = new Set(['assignments', 'pslAssignments', 'userPermissionSets', 'profilePermissionSet', 'objectPerms', 'fieldPerms', 'appPermissionSets', 'appAccess', 'describePermissionSet']);

const objectOf = (soql: string): string => /\bFROM\s+(\w+)/i.exec(soql)?.[1] ?? '';

/** Salesforce frames SOQL errors with the query and a caret; the last line is the reason. */
const reasonOf = (e: ApiCallError): string => e.message.trim().split('\n').pop() ?? e.message;

const readFailure = (query: string, object: string, e: ApiCallError, affects: ReadAspect[]): ReadFailure => ({
  query,
  object,
  errorCode: e.errorCode,
  message: reasonOf(e),
  affects,
});

/** Queries of Ids in chunks short enough for a query URL (SOQL statements are limited to 100,000 characters). */
const ID_CHUNK = 200;
const permissionQueries = (ids: string[], fields: readonly string[]): Record<string, string> => {
  const out: Record<string, string> = {};
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    out[`permissions${i / ID_CHUNK}`] = `SELECT Id${withFields(fields)} FROM PermissionSet WHERE Id IN (${ids.slice(i, i + ID_CHUNK).map(soqlString).join(', ')})`;
  }
  return out;
};

/** Runs queries in composite batches of at most 25. */
const queryAll = async (transport: Transport, queries: Record<string, string>): Promise<Batch> => {
  const keys = Object.keys(queries);
  const out: Batch = {};
  for (let i = 0; i < keys.length; i += 25) {
    const chunk = Object.fromEntries(keys.slice(i, i + 25).map((k) => [k, queries[k]]));
    // eslint-disable-next-line no-await-in-loop
    Object.assign(out, await transport.queryBatch(chunk));
  }
  return out;
};

/** Connected Apps with their API names: the Tooling API's ConnectedApplication (DeveloperName; Name is the label). */
const CONNECTED_APPS = 'SELECT Id, DeveloperName, Name, CreatedDate, LastModifiedDate FROM ConnectedApplication';

/** The permission fields of the org's PermissionSet describe, read in the first batch; or why they are unknown. */
const describedFields = (described: SObjectDescribe | ApiCallError | undefined, extra: readonly string[] | undefined): string[] | ApiCallError => {
  if (described instanceof ApiCallError) return described;
  const names = (described?.fields ?? []).filter((f) => f.name.startsWith('Permissions')).map((f) => f.name.slice('Permissions'.length));
  return permissionFieldsFor(names, extra);
};

type Found = { kind: AppKind; row: Row };

/** Connected Apps are looked up (Tooling API) only when an External Client App did not answer. */
const lookUpConnectedApps = async (
  transport: Transport,
  target: SnapshotTarget,
  opts: ReadOptions,
  ecaFound: Found | undefined,
  ecas: Row[],
  userAppIds: string[]
): Promise<{ cas: Row[]; error?: ApiCallError }> => {
  if (opts.appKind === 'external-client-app') return { cas: [] };
  const byUser = !target.appName && Boolean(target.username) && (userAppIds.length === 0 || userAppIds.some((id) => !ecas.some((e) => e.Id === id)));
  if (!(target.appName ? !ecaFound : byUser)) return { cas: [] };
  try {
    return { cas: await transport.toolingQuery<Row>(CONNECTED_APPS) };
  } catch (e) {
    if (e instanceof ApiCallError) return { cas: [], error: e };
    throw e;
  }
};

/** Which parts of the snapshot one failed query leaves unknown. */
const affectsOf = (key: string, target: SnapshotTarget, app: AppConfig | undefined, user: UserInfo | undefined): ReadAspect[] => {
  const affects: ReadAspect[] = [];
  if ((key === 'ecas' || (key === 'appAccess' && !target.appName)) && !app) affects.push('app');
  if ((key === 'user' || (key === 'preauthorized' && !target.username)) && !user) affects.push('user');
  if (PERMISSION_QUERIES.has(key) || key.startsWith('permissions')) affects.push('permissions');
  return affects;
};

/** Copies the permission fields read by Id (the second batch) onto the permission-set rows of the first. */
const mergePermissionRows = (setRows: Row[], more: Batch): void => {
  const byId = new Map(
    Object.entries(more)
      .filter(([k]) => k.startsWith('permissions'))
      .flatMap(([, v]) => rowsOr(v))
      .map((r) => [String(r.Id), r])
  );
  for (const row of setRows) Object.assign(row, byId.get(String(row.Id)) ?? {});
};

type FirstRead = { queries: Record<string, string>; first: Batch; orgRow: Row; fields?: string[]; deferred?: string[]; failures: ReadFailure[] };

/** The first batch: every query whose inputs are known, and the PermissionSet describe when the caller has none. */
const readFirst = async (transport: Transport, target: SnapshotTarget): Promise<FirstRead> => {
  const known = target.systemPermissions;
  const fields = known ? permissionFieldsFor(known, target.extraPermissions) : undefined;
  const queries: Record<string, string> = { ...snapshotQueries(target, fields), ...(target.username ? userQueries(target.username, fields) : {}) };
  const read = await transport.readBatch(queries, known ? [] : ['PermissionSet']);
  const orgRow = rowsOr(read.rows.org)[0];
  if (!orgRow) throw read.rows.org instanceof ApiCallError ? read.rows.org : new ApiCallError('NOT_FOUND', 'Organization not readable');
  const failures: ReadFailure[] = [];
  // Without the caller's describe: the permission fields this org has, from the describe read in the same batch.
  const described = known ? undefined : describedFields(read.describes.PermissionSet, target.extraPermissions);
  if (described instanceof ApiCallError) failures.push(readFailure('describePermissionSet', 'PermissionSet', described, ['permissions']));
  return { queries, first: read.rows, orgRow, fields, deferred: Array.isArray(described) ? described : undefined, failures };
};

type AppRead = { app?: AppConfig; found?: Found; candidates: Found[]; cas: Row[]; casError?: ApiCallError };

/** The app: by API name (External Client Apps first, then Connected Apps), or the one that pre-authorizes the user. */
const readTargetApp = async (transport: Transport, target: SnapshotTarget, opts: ReadOptions, first: Batch): Promise<AppRead> => {
  const ecas = rowsOr(first.ecas);
  const ecaFound = target.appName ? findAppRecord(target.appName, ecas, [], opts.appKind) : undefined;
  const userAppIds = (target.appName ?? !target.username) ? [] : appIdsOfUser(first);
  const { cas, error } = await lookUpConnectedApps(transport, target, opts, ecaFound, ecas, userAppIds);
  const candidates = !target.appName && target.username ? appsOfUser(userAppIds, ecas, cas) : [];
  const byName = (name: string): Found | undefined => ecaFound ?? findAppRecord(name, ecas, cas, opts.appKind);
  const found = target.appName ? byName(target.appName) : candidates.length === 1 ? candidates[0] : undefined;
  return { app: found ? await readApp(transport, found, first) : undefined, found, candidates, cas, casError: error };
};

/** The second batch: the user found through the app, and the permission fields of every set read so far. */
const readSecond = async (transport: Transport, target: SnapshotTarget, r: FirstRead, app: AppConfig | undefined): Promise<{ batch: Batch; queries: Record<string, string> }> => {
  const { first } = r;
  const username = target.username ?? (app ? userOfApp(app, first) : undefined);
  const queries: Record<string, string> = {};
  if (username && !target.username) Object.assign(queries, userQueries(username, r.fields ?? r.deferred));
  const setRows = [...rowsOr(first.appPermissionSets), ...rowsOr(first.userPermissionSets ?? []), ...rowsOr(first.profilePermissionSet ?? []), ...rowsOr(first.targetPermissionSet ?? [])];
  if (r.deferred?.length) Object.assign(queries, permissionQueries([...new Set(setRows.map((row) => String(row.Id)))], r.deferred));
  const more = Object.keys(queries).length ? await queryAll(transport, queries) : {};
  mergePermissionRows(setRows, more);
  return { batch: { ...first, ...more }, queries };
};

/** Names to suggest (API names): the user's own apps when there were several, else every app of the org. */
const suggestions = (a: AppRead, ecas: Row[]): string[] => {
  if (a.found) return [];
  if (a.candidates.length > 1) return a.candidates.map((c) => String(c.row.DeveloperName));
  return [...ecas, ...a.cas].map((r) => String(r.DeveloperName));
};

/** The org as the checks and the planner see it. */
export const readSnapshot = async (transport: Transport, target: SnapshotTarget, opts: ReadOptions = {}): Promise<OrgSnapshot> => {
  const r = await readFirst(transport, target);
  const { first } = r;
  const a = await readTargetApp(transport, target, opts, first);
  const { batch, queries: second } = await readSecond(transport, target, r, a.app);

  const user = buildUser(batch);
  const failures = [...r.failures];
  for (const [key, value] of Object.entries(batch)) {
    if (value instanceof ApiCallError) failures.push(readFailure(key, objectOf(r.queries[key] ?? second[key] ?? ''), value, affectsOf(key, target, a.app, user)));
  }
  if (a.casError) failures.push(readFailure('connectedApps', 'ConnectedApplication', a.casError, a.app ? [] : ['app']));

  const pslRow = rowsOr(first.psl)[0];
  const psl = license(pslRow);
  return {
    takenAt: new Date().toISOString(),
    org: orgInfo(r.orgRow, transport.instanceUrl),
    integrationLicense: license(rowsOr(first.license)[0]),
    apiIntegrationPsl: psl && pslRow ? { ...psl, developerName: String(pslRow.DeveloperName) } : undefined,
    integrationProfile: rowsOr(first.profile).map((p) => ({ id: String(p.Id), name: String(p.Name) }))[0],
    app: a.app,
    otherAppNames: suggestions(a, rowsOr(first.ecas)),
    user,
    permissionSets: buildPermissionSets(first, batch),
    recentLogins: rowsOr(batch.logins ?? []).map((l) => ({ time: String(l.LoginTime), status: String(l.Status), application: str(l.Application), loginType: str(l.LoginType) })),
    targetPermissionSetId: str(rowsOr(first.targetPermissionSet ?? [])[0]?.Id),
    runningUser: runningUser(rowsOr(first.runningUser ?? [])[0], runningUserPermissions(first.runningUserPermissions)),
    readFailures: failures,
  };
};
