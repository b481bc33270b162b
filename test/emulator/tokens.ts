/*
 * The org's OAuth tokens as Salesforce keeps them: one OauthToken row per approval (Object Reference OauthToken:
 * AccessToken, AppMenuItemId, AppName, CreatedDate, DeleteToken, Id (always null), LastUsedDate, RequestToken,
 * UseCount, UserId), the refresh token behind it, and the access tokens issued from it. oauth.ts writes rows when it
 * issues tokens; revoke.ts and usage.ts remove them. Rows are Salesforce's bookkeeping ({ system: true }): issuing is
 * not a client write, revoking is (the caller counts it).
 *
 * Lookups by refresh token and DeleteToken go through an index (50,000-token orgs revoke in O(1) per token); rows
 * written straight into the store (fixtures, tests) are picked up when the row count no longer matches the index.
 *
 * Also here: authorization codes for the web server flow, minted by the emulator-only POST /__emulator/authorize
 * (the user's "Allow" in a browser, which no test here can click), and exchanged at the token endpoint.
 * Sources: ../shared/reference/governance-facts.md §1 and §3; Object Reference OauthToken; packagingGuide
 * connected_app_monitor.htm (five approvals per user and app). Choices no source settles are in TOKEN_MODEL.
 */
import { createHash, randomBytes } from 'node:crypto';
import { appViews, bool, findAppByConsumerKey, type EmuApp } from './apps.js';
import { json, readJson, type EmuRequest, type EmuResponse, type Route } from './http.js';
import { perStore, type OrgStore, type SRecord } from './store.js';

export const TOKEN_MODEL = {
  /** "Each connected app allows five unique approvals per user; a sixth revokes the oldest" (packagingGuide). */
  approvalsPerUserAndApp: 5,
  /**
   * OauthToken.AccessToken is documented as "The refresh token for authorization". What real orgs answer there is
   * unconfirmed; the emulator answers an opaque handle that is not the refresh token, so SOQL never yields a secret.
   */
  accessTokenFieldIsOpaqueHandle: true,
  /** RequestToken ("the authorization code used to request the AccessToken"): null on emulator rows (unconfirmed). */
  requestToken: null,
  /** Authorization codes are valid for 15 minutes and once (REST API Developer Guide, web server flow). */
  codeLifetimeSeconds: 15 * 60,
  /** Rows a fixture gives without an AppMenuItemId get the app's AppMenuItem when AppName names an installed app
   * (Connected Apps; External Client Apps only with emulator.ecaTokenAppMenuItem = 'linked'); an explicit null stays. */
  linkFixtureRowsByAppName: true,
} as const;

type Book = {
  byRefresh: Map<string, string>;
  byDelete: Map<string, string>;
  refreshOf: Map<string, string>;
  /** Access tokens issued from a row (revoking the row revokes them). */
  sessionsOf: Map<string, Set<string>>;
  rowOfSession: Map<string, string>;
  /** The app a row belongs to, for rows the emulator wrote. */
  appOf: Map<string, string>;
  /** OauthToken rows seen when the index was last built or kept. */
  indexed: number;
};

const books = new WeakMap<OrgStore, Book>();

const rebuildIndex = (store: OrgStore, b: Book): void => {
  b.byDelete.clear();
  for (const row of store.all('OauthToken')) if (typeof row.DeleteToken === 'string') b.byDelete.set(row.DeleteToken, row.Id);
  for (const [token, rowId] of [...b.byRefresh]) if (!store.get(rowId)) b.byRefresh.delete(token);
  b.indexed = store.count('OauthToken');
};

const book = (store: OrgStore): Book => {
  let b = books.get(store);
  if (!b) {
    b = { byRefresh: new Map(), byDelete: new Map(), refreshOf: new Map(), sessionsOf: new Map(), rowOfSession: new Map(), appOf: new Map(), indexed: -1 };
    books.set(store, b);
  }
  if (b.indexed !== store.count('OauthToken')) rebuildIndex(store, b);
  return b;
};

const opaque = (prefix: string, bytes: number): string => `${prefix}${randomBytes(bytes).toString('base64url')}`;
const iso = (d: Date): string => d.toISOString().replace('Z', '+0000');

/** The AppMenuItem a new row of this app points to (null for External Client Apps unless the setting links them). */
const menuItemFor = (store: OrgStore, app: EmuApp): string | null => {
  if (app.kind === 'ExternalClientApplication' && store.settings.ecaTokenAppMenuItem !== 'linked') return null;
  return store.all('AppMenuItem').find((m) => m.ApplicationId === app.id)?.Id ?? null;
};

const insertRow = (store: OrgStore, app: EmuApp, user: SRecord): SRecord => {
  const now = iso(store.now());
  const row = store.insert(
    'OauthToken',
    {
      AccessToken: opaque('OT', 18),
      AppMenuItemId: menuItemFor(store, app),
      AppName: app.label,
      DeleteToken: opaque('', 48),
      LastUsedDate: now,
      RequestToken: TOKEN_MODEL.requestToken,
      UseCount: 1,
      UserId: user.Id,
      CreatedDate: now,
    },
    { system: true }
  );
  const b = book(store);
  b.byDelete.set(String(row.DeleteToken), row.Id);
  b.appOf.set(row.Id, app.id);
  b.indexed = store.count('OauthToken');
  return row;
};

/** Removes rows without counting a write; their refresh tokens and access tokens stop working. */
const dropRows = (store: OrgStore, rowIds: string[]): void => {
  const b = book(store);
  for (const id of rowIds) {
    const row = store.get(id);
    if (!row) continue;
    store.remove('OauthToken', id, { system: true });
    b.byDelete.delete(String(row.DeleteToken));
    const refresh = b.refreshOf.get(id);
    if (refresh) b.byRefresh.delete(refresh);
    b.refreshOf.delete(id);
    for (const t of b.sessionsOf.get(id) ?? []) {
      store.sessions.delete(t);
      b.rowOfSession.delete(t);
    }
    b.sessionsOf.delete(id);
    b.appOf.delete(id);
  }
  b.indexed = store.count('OauthToken');
};

/**
 * Resolves rows to apps: the app a row was issued for, else its AppMenuItem's application, else the app whose label
 * or API name is the row's AppName. Built once per call site, O(1) per row.
 */
export const appResolver = (store: OrgStore): ((row: SRecord) => EmuApp | undefined) => {
  const b = book(store);
  const apps = appViews(store);
  const byId = new Map(apps.map((a) => [a.id, a]));
  const byName = new Map<string, EmuApp>();
  for (const a of apps) byName.set(a.fullName, a);
  for (const a of apps) byName.set(a.label, a);
  return (row) => {
    const menu = typeof row.AppMenuItemId === 'string' ? store.get(row.AppMenuItemId) : undefined;
    const appId = b.appOf.get(row.Id) ?? (menu ? String(menu.ApplicationId) : undefined);
    return appId ? byId.get(appId) : byName.get(String(row.AppName));
  };
};

/** The app a row belongs to (see appResolver). */
export const appOfRow = (store: OrgStore, row: SRecord): EmuApp | undefined => appResolver(store)(row);

/** Every row of an app. One pass over the rows. */
export const rowsOfApp = (store: OrgStore, app: EmuApp): SRecord[] => {
  const resolve = appResolver(store);
  return store.all('OauthToken').filter((r) => resolve(r)?.id === app.id);
};

/** Rows grouped by app Id, in one pass (rows of apps that are not installed are left out). */
export const rowsByApp = (store: OrgStore): Map<string, SRecord[]> => {
  const resolve = appResolver(store);
  const out = new Map<string, SRecord[]>();
  for (const row of store.all('OauthToken')) {
    const app = resolve(row);
    if (!app) continue;
    const list = out.get(app.id) ?? [];
    list.push(row);
    out.set(app.id, list);
  }
  return out;
};

/** A web-server (refresh-token issuing) approval: a new row, and the refresh token when the app grants one. The
 * sixth approval of a user for one app removes the oldest. */
export const recordApproval = (store: OrgStore, app: EmuApp, user: SRecord): { row: SRecord; refreshToken?: string } => {
  const mine = rowsOfApp(store, app)
    .filter((r) => r.UserId === user.Id)
    .sort((a, b) => String(a.CreatedDate).localeCompare(String(b.CreatedDate)));
  const excess = mine.length + 1 - TOKEN_MODEL.approvalsPerUserAndApp;
  if (excess > 0) dropRows(store, mine.slice(0, excess).map((r) => r.Id));
  const row = insertRow(store, app, user);
  if (!app.scopes.some((s) => s === 'RefreshToken' || s === 'OfflineAccess')) return { row };
  const refreshToken = opaque('5Aep861', 66);
  const b = book(store);
  b.byRefresh.set(refreshToken, row.Id);
  b.refreshOf.set(row.Id, refreshToken);
  return { row, refreshToken };
};

/** JWT bearer / client credentials logins: one row per app and user, when emulator.serverToServerOauthTokens is on. */
export const recordServerToServerLogin = (store: OrgStore, app: EmuApp, user: SRecord): SRecord | undefined => {
  if (store.settings.serverToServerOauthTokens !== true) return undefined;
  const existing = rowsOfApp(store, app).find((r) => r.UserId === user.Id);
  if (!existing) return insertRow(store, app, user);
  return touchRow(store, existing);
};

/** One more access token issued from a row: UseCount and LastUsedDate move. */
export const touchRow = (store: OrgStore, row: SRecord): SRecord =>
  store.update('OauthToken', row.Id, { UseCount: Number(row.UseCount ?? 0) + 1, LastUsedDate: iso(store.now()) }, { system: true });

export const linkSession = (store: OrgStore, row: SRecord, accessToken: string): void => {
  const b = book(store);
  const set = b.sessionsOf.get(row.Id) ?? new Set<string>();
  set.add(accessToken);
  b.sessionsOf.set(row.Id, set);
  b.rowOfSession.set(accessToken, row.Id);
};

export const rowOfRefreshToken = (store: OrgStore, refreshToken: string): SRecord | undefined => {
  const id = book(store).byRefresh.get(refreshToken);
  return id ? store.get(id) : undefined;
};

/**
 * Revokes what a token names: an access token (that session), a refresh token or a row's DeleteToken (the row, its
 * refresh token and every access token issued from it). Answers what was revoked, or undefined for an unknown token.
 */
export const revokeToken = (store: OrgStore, token: string): 'access' | 'row' | undefined => {
  const b = book(store);
  const rowId = b.byRefresh.get(token) ?? b.byDelete.get(token);
  const row = rowId ? store.get(rowId) : undefined;
  if (row && (b.refreshOf.get(row.Id) === token || row.DeleteToken === token)) {
    dropRows(store, [row.Id]);
    return 'row';
  }
  if (!store.sessions.has(token)) return undefined;
  store.sessions.delete(token);
  const parent = b.rowOfSession.get(token);
  if (parent) b.sessionsOf.get(parent)?.delete(token);
  b.rowOfSession.delete(token);
  return 'access';
};

/** Revokes rows (usage.ts); answers how many were removed. */
export const revokeRows = (store: OrgStore, rows: SRecord[]): number => {
  const ids = rows.map((r) => r.Id).filter((id) => store.get(id));
  dropRows(store, ids);
  return ids.length;
};

/**
 * Rows a fixture gives are completed the way Salesforce would have written them: a DeleteToken when missing, and the
 * AppMenuItem of the installed app named by AppName when AppMenuItemId is absent (TOKEN_MODEL.linkFixtureRowsByAppName).
 * Rows of apps not installed keep a null AppMenuItemId: the "phantom" apps of governance-facts §1.
 */
export const completeFixtureTokens = (store: OrgStore): void => {
  const apps = appViews(store);
  const menuByApp = new Map(store.all('AppMenuItem').map((m) => [String(m.ApplicationId), m.Id]));
  const byName = new Map<string, EmuApp>();
  for (const a of apps) {
    byName.set(a.fullName, a);
    byName.set(a.label, a);
  }
  for (const row of store.all('OauthToken')) {
    const fields: Record<string, unknown> = {};
    if (typeof row.DeleteToken !== 'string' || row.DeleteToken === '') fields.DeleteToken = opaque('', 48);
    const dangling = typeof row.AppMenuItemId === 'string' && !store.get(row.AppMenuItemId);
    if (row.AppMenuItemId === undefined || dangling) {
      const app = byName.get(String(row.AppName));
      const linked = app && (app.kind === 'ConnectedApp' || store.settings.ecaTokenAppMenuItem === 'linked');
      fields.AppMenuItemId = linked ? menuByApp.get(app.id) ?? null : null;
    }
    if (Object.keys(fields).length) store.update('OauthToken', row.Id, fields, { system: true });
  }
  rebuildIndex(store, book(store));
};

// ---- authorization codes (web server flow) ------------------------------------------------------------------------

type Code = { appId: string; userId: string; redirectUri?: string; challenge?: string; method?: string; issuedAt: number };
const codesOf = perStore(() => new Map<string, Code>());

export type CodeProblem = 'unknownClient' | 'unknownUser' | 'inactiveUser' | 'frozenUser' | 'notAdminApproved' | 'pkceRequired';

/** Whether the user is pre-authorized for an admin-approved app: a held permission set or the profile selected. */
const preAuthorized = (store: OrgStore, app: EmuApp, user: SRecord): boolean => {
  if (app.profileIds.includes(String(user.ProfileId))) return true;
  const now = store.now().getTime();
  return store
    .all('PermissionSetAssignment')
    .some(
      (a) =>
        a.AssigneeId === user.Id &&
        app.permissionSetIds.includes(String(a.PermissionSetId)) &&
        (a.ExpirationDate === null || a.ExpirationDate === undefined || Date.parse(String(a.ExpirationDate).replace(/(\d\d)(\d\d)$/, '$1:$2')) > now)
    );
};

export const isFrozen = (store: OrgStore, userId: string): boolean => bool(store.userLoginOf(userId)?.IsFrozen);

/**
 * The user's consent on the authorize page, as a test would click it: checks that a real org makes before it shows
 * "Allow" (the app exists, the user may log in, an admin-approved app has pre-authorized the user, PKCE when the app
 * requires it) and mints a single-use code.
 */
export const mintCode = (
  store: OrgStore,
  input: { clientId: string; username: string; redirectUri?: string; codeChallenge?: string; codeChallengeMethod?: string }
): { code: string } | { problem: CodeProblem } => {
  const app = findAppByConsumerKey(store, input.clientId);
  if (!app) return { problem: 'unknownClient' };
  const user = store.all('User').find((u) => String(u.Username).toLowerCase() === input.username.toLowerCase());
  if (!user) return { problem: 'unknownUser' };
  if (user.IsActive === false) return { problem: 'inactiveUser' };
  if (isFrozen(store, user.Id)) return { problem: 'frozenUser' };
  if (app.permittedUsers === 'AdminApprovedPreAuthorized' && !preAuthorized(store, app, user)) return { problem: 'notAdminApproved' };
  if (app.pkceRequired && !input.codeChallenge) return { problem: 'pkceRequired' };
  const code = opaque('aPrx', 48);
  codesOf(store).set(code, {
    appId: app.id,
    userId: user.Id,
    redirectUri: input.redirectUri,
    challenge: input.codeChallenge,
    method: input.codeChallengeMethod ?? 'plain',
    issuedAt: store.now().getTime(),
  });
  return { code };
};

/** Takes a code once: its app and user when it is live, was minted for this client, and the PKCE verifier fits. */
export const takeCode = (
  store: OrgStore,
  input: { code: string; app: EmuApp; redirectUri?: string; codeVerifier?: string }
): { userId: string } | undefined => {
  const c = codesOf(store).get(input.code);
  codesOf(store).delete(input.code);
  if (!c || c.appId !== input.app.id) return undefined;
  if (store.now().getTime() - c.issuedAt > TOKEN_MODEL.codeLifetimeSeconds * 1000) return undefined;
  if (c.redirectUri !== undefined && input.redirectUri !== c.redirectUri) return undefined;
  if (c.challenge !== undefined) {
    const v = input.codeVerifier ?? '';
    const derived = c.method === 'S256' ? createHash('sha256').update(v).digest('base64url') : v;
    if (derived !== c.challenge) return undefined;
  }
  return { userId: c.userId };
};

/** Answers of POST /__emulator/authorize for a refused consent (pairs as the token endpoint gives them; the authorize
 * page itself redirects with error=... in a real org). */
const CODE_PROBLEMS: Record<CodeProblem, { error: string; error_description: string }> = {
  unknownClient: { error: 'invalid_client_id', error_description: 'client identifier invalid' },
  unknownUser: { error: 'invalid_grant', error_description: 'authentication failure' },
  inactiveUser: { error: 'invalid_grant', error_description: 'inactive user' },
  frozenUser: { error: 'invalid_grant', error_description: 'authentication failure' },
  notAdminApproved: { error: 'invalid_app_access', error_description: 'user is not admin approved to access this app' },
  // Text as public clients report it for ECAs that require PKCE (unconfirmed).
  pkceRequired: { error: 'invalid_request', error_description: 'missing required code challenge' },
};

/**
 * POST /__emulator/authorize {client_id, username, redirect_uri?, code_challenge?, code_challenge_method?} (JSON or
 * form) -> {code}. Not a Salesforce path: it stands for the browser half of the web server flow.
 */
const authorize = (req: EmuRequest, _m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  const type = String(req.headers['content-type'] ?? '');
  const input: Record<string, unknown> = type.includes('json')
    ? (readJson(req) as Record<string, unknown>)
    : Object.fromEntries(new URLSearchParams(req.body.toString('utf8')));
  const str = (k: string): string | undefined => {
    const v = input[k];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const result = mintCode(store, {
    clientId: str('client_id') ?? '',
    username: str('username') ?? '',
    redirectUri: str('redirect_uri'),
    codeChallenge: str('code_challenge'),
    codeChallengeMethod: str('code_challenge_method'),
  });
  if ('problem' in result) return json(400, CODE_PROBLEMS[result.problem]);
  return json(200, result);
};

export const tokenRoutes = (): Route[] => [{ method: 'POST', pattern: /^\/__emulator\/authorize\/?$/, auth: 'none', handler: authorize }];
