/*
 * Connect REST "OAuth Usage" resources (v59.0; Connect REST API Developer Guide connect_resources_usage*.htm; help
 * meta_external_client_app_oauth_usage.htm), for External Client Apps only ("The Usage resources in the Connect REST
 * API only work for external client apps. These resources aren't available for connected apps."):
 *   GET    /apps/oauth/usage?page&pageSize                       App OAuth Usage Collection
 *   GET    /apps/oauth/usage/{appId}/users?page&pageSize         App OAuth Usage User Collection
 *   GET    /apps/oauth/usage/{appId}/{userId}/tokens             the user's refresh tokens for the app
 *   DELETE /apps/oauth/usage/{appId}/{userId}/tokens             revokes them (204)
 *   DELETE /apps/oauth/usage/{appId}/tokens                      revokes every token of the app (204)
 *   DELETE /apps/oauth/usage/tokens/{tokenId}                    revokes one token (204)
 * page starts at 0, pageSize defaults to 100; "nextPageUrl ... is returned with every page, even the last page of
 * items. If you enter nextPageUrl that comes with the last page of items, an empty array is returned."
 * Token properties (App OAuth Usage Token): accessTokenFormat, appDeveloperName, appIdentifier, initialConnectionAt,
 * lastUsedAt, revocationUrl, useCount, userIdentifier, username. The rest is in USAGE_MODEL, unconfirmed.
 * Every DELETE that removes a token is a client write.
 */
import { appViews, userHasPermission, type EmuApp } from './apps.js';
import { json, type EmuRequest, type EmuResponse, type Route } from './http.js';
import { ApiError, type OrgStore, type SRecord } from './store.js';
import { appOfRow, revokeRows, rowsByApp, rowsOfApp } from './tokens.js';

export const USAGE_MODEL = {
  minVersion: 59,
  defaultPageSize: 100,
  /**
   * App entries carry developerName, identifier, label (as a third-party client reads them). Which apps are listed:
   * the guide says "external client apps that have OAuth usage data", the help page "all the external client apps for
   * the current org": emulator.oauthUsageApps = 'withTokens' (default) | 'all'.
   */
  appFields: ['developerName', 'identifier', 'label'],
  /**
   * App OAuth Usage User: the guide lists accessTokenFormat, appDeveloperName, appIdentifier (the rest of the page could
   * not be read); the emulator adds the token properties that describe a user (userIdentifier, username,
   * initialConnectionAt = first token, lastUsedAt = latest use, useCount = sum), unconfirmed.
   */
  userFields: ['accessTokenFormat', 'appDeveloperName', 'appIdentifier', 'userIdentifier', 'username', 'initialConnectionAt', 'lastUsedAt', 'useCount'],
  /** Token identifiers are the emulator's own row Ids (OauthToken.Id itself is always null in SOQL). */
  tokenIdentifier: 'internal row Id',
  /** Reading usage: External Client App Admin ("View all External Client Apps, view their settings, and edit their
   * policies", the permission the help names for revoking) or External Client App Viewer (unconfirmed); revoking: Admin. */
  readPermissions: ['ExternalClientAppAdmin', 'ExternalClientAppViewer'],
  revokePermissions: ['ExternalClientAppAdmin'],
  refusal: { status: 403, errorCode: 'INSUFFICIENT_ACCESS', message: "You don't have permission to view or revoke OAuth usage of external client apps." },
} as const;

const notFound = (): ApiError => new ApiError('NOT_FOUND', 'The requested resource does not exist', 404);
const ID = /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/;

const gate = (req: EmuRequest, store: OrgStore, version: string, perms: readonly string[]): void => {
  if (Number(version) < USAGE_MODEL.minVersion) throw notFound();
  const userId = req.session?.userId ?? '';
  if (!perms.some((p) => userHasPermission(store, userId, p))) {
    const r = USAGE_MODEL.refusal;
    throw new ApiError(r.errorCode, r.message, r.status);
  }
};

const ecaById = (store: OrgStore, raw: string): EmuApp => {
  const id = ID.test(raw) ? store.normalizeId(raw) : undefined;
  const app = appViews(store).find((a) => a.kind === 'ExternalClientApplication' && a.id === id);
  if (!app) throw notFound();
  return app;
};

const userById = (store: OrgStore, raw: string): SRecord => {
  const user = ID.test(raw) ? store.get(raw) : undefined;
  if (!user || store.typeOf(user.Id) !== 'User') throw notFound();
  return user;
};

/** Connect REST dates are ISO 8601 with a Z (the store keeps Salesforce's +0000 form). */
const isoZ = (v: unknown): string | null => (typeof v === 'string' && v ? new Date(Date.parse(v.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'))).toISOString() : null);

type Paging = { page: number; pageSize: number };

const pagingOf = (req: EmuRequest): Paging => {
  const num = (name: string, fallback: number, min: number): number => {
    const raw = req.url.searchParams.get(name);
    if (raw === null || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
      throw new ApiError('INVALID_PARAMETER_VALUE', `Invalid value for ${name}: ${raw}.`, 400) /* text unconfirmed */;
    }
    return n;
  };
  return { page: num('page', 0, 0), pageSize: num('pageSize', USAGE_MODEL.defaultPageSize, 1) };
};

/** One page of a collection with currentPageUrl and nextPageUrl (always present, per the guide). */
const paged = <T>(req: EmuRequest, key: string, items: T[]): Record<string, unknown> => {
  const { page, pageSize } = pagingOf(req);
  const url = (p: number): string => `${req.path}?page=${p}&pageSize=${pageSize}`;
  return { currentPageUrl: url(page), nextPageUrl: url(page + 1), [key]: items.slice(page * pageSize, (page + 1) * pageSize) };
};

const formatOf = (app: EmuApp): string => (app.namedUserJwt ? 'JWT' : 'Opaque');

const tokenView = (version: string, app: EmuApp, row: SRecord, user: SRecord | undefined): Record<string, unknown> => ({
  accessTokenFormat: formatOf(app),
  appDeveloperName: app.fullName,
  appIdentifier: app.id,
  initialConnectionAt: isoZ(row.CreatedDate),
  lastUsedAt: isoZ(row.LastUsedDate),
  revocationUrl: `/services/data/v${version}/apps/oauth/usage/tokens/${row.Id}`,
  useCount: Number(row.UseCount ?? 0),
  userIdentifier: String(row.UserId ?? ''),
  username: user ? String(user.Username) : null,
});

const byCreated = (a: SRecord, b: SRecord): number => String(a.CreatedDate).localeCompare(String(b.CreatedDate));

const listApps = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  gate(req, store, m[1], USAGE_MODEL.readPermissions);
  const ecas = appViews(store).filter((a) => a.kind === 'ExternalClientApplication');
  const used = store.settings.oauthUsageApps === 'all' ? undefined : rowsByApp(store);
  const shown = used ? ecas.filter((a) => used.has(a.id)) : ecas;
  const apps = shown.sort((a, b) => a.label.localeCompare(b.label)).map((a) => ({ developerName: a.fullName, identifier: a.id, label: a.label }));
  return json(200, paged(req, 'apps', apps));
};

const listUsers = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  gate(req, store, m[1], USAGE_MODEL.readPermissions);
  const app = ecaById(store, decodeURIComponent(m[2]));
  const byUser = new Map<string, SRecord[]>();
  for (const row of rowsOfApp(store, app)) {
    const list = byUser.get(String(row.UserId)) ?? [];
    list.push(row);
    byUser.set(String(row.UserId), list);
  }
  const users = [...byUser.entries()].map(([userId, rows]) => {
    const user = store.get(userId);
    const first = [...rows].sort(byCreated)[0];
    const last = rows.map((r) => String(r.LastUsedDate ?? '')).sort().pop();
    return {
      accessTokenFormat: formatOf(app),
      appDeveloperName: app.fullName,
      appIdentifier: app.id,
      userIdentifier: userId,
      username: user ? String(user.Username) : null,
      initialConnectionAt: isoZ(first.CreatedDate),
      lastUsedAt: isoZ(last),
      useCount: rows.reduce((n, r) => n + Number(r.UseCount ?? 0), 0),
    };
  });
  users.sort((a, b) => String(a.username).localeCompare(String(b.username)));
  return json(200, paged(req, 'users', users));
};

const userTokens = (store: OrgStore, app: EmuApp, user: SRecord): SRecord[] =>
  rowsOfApp(store, app)
    .filter((r) => r.UserId === user.Id)
    .sort(byCreated);

const listUserTokens = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  gate(req, store, m[1], USAGE_MODEL.readPermissions);
  const app = ecaById(store, decodeURIComponent(m[2]));
  const user = userById(store, decodeURIComponent(m[3]));
  return json(200, paged(req, 'tokens', userTokens(store, app, user).map((r) => tokenView(m[1], app, r, user))));
};

const revoked = (store: OrgStore, count: number): EmuResponse => {
  if (count > 0) store.writeCount++;
  return { status: 204 };
};

const deleteUserTokens = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  gate(req, store, m[1], USAGE_MODEL.revokePermissions);
  const app = ecaById(store, decodeURIComponent(m[2]));
  const user = userById(store, decodeURIComponent(m[3]));
  return revoked(store, revokeRows(store, userTokens(store, app, user)));
};

const deleteAppTokens = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  gate(req, store, m[1], USAGE_MODEL.revokePermissions);
  const app = ecaById(store, decodeURIComponent(m[2]));
  return revoked(store, revokeRows(store, rowsOfApp(store, app)));
};

const deleteToken = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  gate(req, store, m[1], USAGE_MODEL.revokePermissions);
  const raw = decodeURIComponent(m[2]);
  const row = ID.test(raw) ? store.get(raw) : undefined;
  if (!row || store.typeOf(row.Id) !== 'OauthToken') throw notFound();
  // Only tokens of External Client Apps are reachable here.
  if (appOfRow(store, row)?.kind !== 'ExternalClientApplication') throw notFound();
  return revoked(store, revokeRows(store, [row]));
};

const U = String.raw`^\/services\/data\/v(\d+\.\d)\/apps\/oauth\/usage`;
const r = (method: string, path: string, handler: Route['handler']): Route => ({ method, pattern: new RegExp(`${U}${path}\\/?$`), auth: 'bearer', handler });

export const usageRoutes = (): Route[] => [
  r('GET', '', listApps),
  r('DELETE', String.raw`\/tokens\/([^/]+)`, deleteToken),
  r('GET', String.raw`\/([^/]+)\/users`, listUsers),
  r('DELETE', String.raw`\/([^/]+)\/tokens`, deleteAppTokens),
  r('GET', String.raw`\/([^/]+)\/([^/]+)\/tokens`, listUserTokens),
  r('DELETE', String.raw`\/([^/]+)\/([^/]+)\/tokens`, deleteUserTokens),
];
