/*
 * The audit's read of an org at scale: every app of both kinds, every user, who is pre-authorized for which app, the
 * dangerous permissions held, login types, and every OauthToken (tokens.ts pages past the 2,500-row cap). One
 * composite batch of SOQL, one Tooling query for Connected App API names, Connected App metadata read ten at a time
 * (contact email, scopes, certificate, flows live only there), one retrieve of every External Client App, then the
 * token pages. A query the org refuses is recorded (readFailures), never read as "no rows".
 */
import type { Connection } from '@salesforce/core';
import { INTEGRATION_LICENSE } from '../salesforce/licenses.js';
import { connectedAppToAppConfig, ecaToAppConfig, type Component } from './app-metadata.js';
import { retrieveEcaGroups } from './snapshot.js';
import { inLists, readOauthTokens } from './tokens.js';
import { ApiCallError, Transport } from './transport.js';
import type { DangerousGrant, Inventory, InventoryApp, InventoryUser, LoginSummary } from './types.js';

type Row = Record<string, unknown>;

/** System permissions the audit calls dangerous on an integration identity (OWASP NHI5 Overprivileged NHI). */
export const DANGEROUS_PERMISSIONS = ['ModifyAllData', 'ViewAllData', 'ModifyMetadata', 'CustomizeApplication', 'ManageUsers', 'AuthorApex'] as const;

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));
const rel = (row: Row, path: string): unknown =>
  path.split('.').reduce<unknown>((acc, k) => (acc && typeof acc === 'object' ? (acc as Row)[k] : undefined), row);

const APP_ACCESS = "SetupEntityType IN ('ConnectedApplication', 'ExternalClientApplication')";

const inventoryQueries = (): Record<string, string> => ({
  org: 'SELECT Id FROM Organization',
  users: 'SELECT Id, Username, Name, Email, IsActive, UserType, Profile.Name, Profile.UserLicense.Name, LastLoginDate FROM User',
  frozen: 'SELECT UserId FROM UserLogin WHERE IsFrozen = true',
  ecas: 'SELECT Id, DeveloperName, MasterLabel, ContactEmail, DistributionState, CreatedDate, CreatedById, LastModifiedDate FROM ExternalClientApplication',
  access: `SELECT ParentId, SetupEntityId, Parent.IsOwnedByProfile, Parent.Profile.Name FROM SetupEntityAccess WHERE ${APP_ACCESS}`,
  assignments: `SELECT AssigneeId, PermissionSetId FROM PermissionSetAssignment WHERE PermissionSetId IN (SELECT ParentId FROM SetupEntityAccess WHERE ${APP_ACCESS})`,
  grants: `SELECT AssigneeId, PermissionSet.Name, PermissionSet.IsOwnedByProfile, PermissionSet.Profile.Name, ${DANGEROUS_PERMISSIONS.map((p) => `PermissionSet.Permissions${p}`).join(', ')} FROM PermissionSetAssignment WHERE ${DANGEROUS_PERMISSIONS.map((p) => `PermissionSet.Permissions${p} = true`).join(' OR ')}`,
});

/**
 * Logins of the given users, by login type and application (LoginHistory, successful ones). Asked only for the users
 * who can be integration identities: grouped over every user, a 5,000-user org answers a row per person and app.
 */
const loginQuery = (userIdList: string): string =>
  `SELECT UserId, LoginType, Application, COUNT(Id) n, MAX(LoginTime) lastLogin FROM LoginHistory WHERE Status = 'Success' AND UserId IN (${userIdList}) GROUP BY UserId, LoginType, Application`;

/** Login summaries of these users: IN lists cut to a query URL's size, 25 queries to a composite batch. */
const readLogins = async (transport: Transport, userIds: string[], failures: Inventory['readFailures']): Promise<Row[]> => {
  const lists = inLists(userIds);
  const rows: Row[] = [];
  for (let i = 0; i < lists.length; i += 25) {
    const queries = Object.fromEntries(lists.slice(i, i + 25).map((l, j) => [`logins${j}`, loginQuery(l)]));
    // eslint-disable-next-line no-await-in-loop
    const batch = await transport.queryBatch(queries);
    for (const [key, v] of Object.entries(batch)) {
      const got = rowsOf(v, key === 'logins0' ? 'logins' : key, failures);
      for (const r of got) rows.push(r);
    }
  }
  return rows;
};

const rowsOf = (v: Row[] | ApiCallError | undefined, key: string, failures: Inventory['readFailures']): Row[] => {
  if (v instanceof ApiCallError) {
    failures.push({ query: key, errorCode: v.errorCode, message: v.message });
    return [];
  }
  return v ?? [];
};

/** Connected Apps by API name (Tooling), then their metadata ten at a time (readMetadata's limit). */
const readConnectedApps = async (transport: Transport, failures: Inventory['readFailures']): Promise<Array<{ row: Row; component: Component }>> => {
  let rows: Row[];
  try {
    rows = await transport.toolingQuery<Row>('SELECT Id, DeveloperName, Name, CreatedDate, CreatedById, LastModifiedDate FROM ConnectedApplication');
  } catch (e) {
    if (!(e instanceof ApiCallError)) throw e;
    failures.push({ query: 'connectedApps', errorCode: e.errorCode, message: e.message });
    return [];
  }
  const chunks: Row[][] = [];
  for (let i = 0; i < rows.length; i += 10) chunks.push(rows.slice(i, i + 10));
  const read = await Promise.all(
    chunks.map(async (chunk) => {
      const names = chunk.map((r) => String(r.DeveloperName));
      const result = (await transport.metadataCall((m) => m.read('ConnectedApp', names))) as unknown as Component | Component[];
      const list = Array.isArray(result) ? result : [result];
      return chunk.flatMap((row) => {
        const component = list.find((c) => str(c?.fullName)?.toLowerCase() === String(row.DeveloperName).toLowerCase());
        return component ? [{ row, component }] : [];
      });
    })
  );
  return read.flat();
};

const toUser = (row: Row, frozen: Set<string>): InventoryUser => ({
  id: String(row.Id),
  username: String(row.Username),
  name: String(row.Name ?? ''),
  email: str(row.Email),
  isActive: row.IsActive !== false,
  isFrozen: frozen.has(String(row.Id)),
  userType: str(row.UserType),
  profileName: str(rel(row, 'Profile.Name')),
  licenseName: str(rel(row, 'Profile.UserLicense.Name')),
  lastLoginDate: str(row.LastLoginDate),
});

const toGrant = (row: Row): DangerousGrant => ({
  userId: String(row.AssigneeId),
  permissionSet: String(rel(row, 'PermissionSet.IsOwnedByProfile') === true ? rel(row, 'PermissionSet.Profile.Name') ?? rel(row, 'PermissionSet.Name') : rel(row, 'PermissionSet.Name')),
  viaProfile: rel(row, 'PermissionSet.IsOwnedByProfile') === true,
  permissions: DANGEROUS_PERMISSIONS.filter((p) => rel(row, `PermissionSet.Permissions${p}`) === true),
});

/** The inventory of one org. */
export const readInventory = async (conn: Transport | Connection): Promise<Inventory> => {
  const transport = conn instanceof Transport ? conn : new Transport(conn);
  const failures: Inventory['readFailures'] = [];
  const [batch, cas, ecaGroups] = await Promise.all([
    transport.queryBatch(inventoryQueries()),
    readConnectedApps(transport, failures),
    retrieveEcaGroups(transport, '*').catch((e: unknown) => {
      if (!(e instanceof ApiCallError)) throw e;
      failures.push({ query: 'externalClientApps', errorCode: e.errorCode, message: e.message });
      return {} as Record<string, Record<string, Component>>;
    }),
  ]);
  const orgRow = rowsOf(batch.org, 'org', failures)[0];
  if (!orgRow) throw batch.org instanceof ApiCallError ? batch.org : new ApiCallError('NOT_FOUND', 'Organization not readable');
  const frozen = new Set(rowsOf(batch.frozen, 'frozen', failures).map((r) => String(r.UserId)));
  const users = rowsOf(batch.users, 'users', failures).map((r) => toUser(r, frozen));
  const access = rowsOf(batch.access, 'access', failures);
  const assignments = rowsOf(batch.assignments, 'assignments', failures);
  const ecaRows = rowsOf(batch.ecas, 'ecas', failures);

  const facts = (row: Row): { id: string; createdDate?: string; lastModifiedDate?: string } => ({
    id: String(row.Id),
    createdDate: str(row.CreatedDate),
    lastModifiedDate: str(row.LastModifiedDate),
  });
  const none = (): undefined => undefined;
  const apps: InventoryApp[] = [
    ...ecaRows.map((row) => {
      const name = String(row.DeveloperName);
      const app = ecaToAppConfig(name, ecaGroups[name] ?? {}, facts(row), {});
      return { ...app, label: String(row.MasterLabel ?? app.label), contactEmail: str(row.ContactEmail) ?? app.contactEmail, distributionState: str(row.DistributionState), createdById: str(row.CreatedById) };
    }),
    ...cas.map(({ row, component }) => ({
      ...connectedAppToAppConfig(component, facts(row), { permissionSetIdByName: none, profileIdByName: none }),
      createdById: str(row.CreatedById),
    })),
  ];

  const preAuthorizedUserIds: Record<string, string[]> = {};
  const adminProfileApps: Record<string, string[]> = {};
  const holders = new Map<string, string[]>();
  for (const a of assignments) holders.set(String(a.PermissionSetId), [...(holders.get(String(a.PermissionSetId)) ?? []), String(a.AssigneeId)]);
  for (const a of access) {
    const appId = String(a.SetupEntityId);
    const ids = holders.get(String(a.ParentId)) ?? [];
    preAuthorizedUserIds[appId] = [...new Set([...(preAuthorizedUserIds[appId] ?? []), ...ids])];
    if (rel(a, 'Parent.IsOwnedByProfile') === true) {
      const profile = str(rel(a, 'Parent.Profile.Name'));
      if (profile) adminProfileApps[appId] = [...(adminProfileApps[appId] ?? []), profile];
    }
  }
  // Who can be an integration identity (a superset of the audit's: Integration-license users, run-as users, users
  // pre-authorized for any app); only their logins are read.
  const candidates = new Set(users.filter((u) => u.licenseName === INTEGRATION_LICENSE).map((u) => u.id));
  const runAs = new Set(apps.flatMap((a) => (a.runAsUsername ? [a.runAsUsername.toLowerCase()] : [])));
  for (const u of users) if (runAs.has(u.username.toLowerCase())) candidates.add(u.id);
  for (const ids of Object.values(preAuthorizedUserIds)) for (const id of ids) candidates.add(id);
  const [loginRows, read] = await Promise.all([candidates.size ? readLogins(transport, [...candidates], failures) : [], readOauthTokens(transport)]);
  const logins: LoginSummary[] = loginRows.map((r) => ({
    userId: String(r.UserId),
    loginType: String(r.LoginType ?? ''),
    application: str(r.Application),
    count: Number(r.n ?? 0),
    last: str(r.lastLogin),
  }));
  const grants = rowsOf(batch.grants, 'grants', failures).map(toGrant);
  // The DeleteToken stays here: the audit never needs it and never outputs it.
  const tokens = read.map((t) => ({
    userId: t.userId,
    appName: t.appName,
    appMenuItemId: t.appMenuItemId,
    applicationId: t.applicationId,
    createdDate: t.createdDate,
    lastUsedDate: t.lastUsedDate,
    useCount: t.useCount,
  }));
  return {
    orgId: String(orgRow.Id),
    instanceUrl: transport.instanceUrl,
    takenAt: new Date().toISOString(),
    apps,
    users,
    tokens,
    preAuthorizedUserIds,
    adminProfileApps,
    logins,
    grants,
    readFailures: failures,
  };
};
