/*
 * Which tokens `sf integration revoke` takes: pure functions of the org's apps, users and OauthToken rows.
 * --app (API name or label, either kind of app, or the name a not-installed app's tokens carry), --user (every app),
 * --not-installed (tokens of apps the org does not have installed: governance-facts §1, "AppMenuItemId null in general
 * = the app is known but not installed"), narrowed by --unused-days. Several --app (or --user) values are a union;
 * apps and users together are an intersection (this person's tokens of these apps).
 */
import type { OauthToken, OrgApp, OrgUser } from '../org/index.js';

/** An OauthToken row as the paged reader returns it (src/org/tokens.ts). */
export type TokenRow = OauthToken;

export type Selection = { apps: string[]; users: string[]; unusedDays?: number; notInstalled: boolean };

/** The app a token belongs to: an app of the org, or one that is not installed (known only by the name on its tokens). */
export type TokenApp = { kind: OrgApp['kind'] | 'not-installed'; id?: string; name: string; label: string };

export type SelectedToken = TokenRow & { app: TokenApp; username: string };

const lower = (s: string): string => s.trim().toLowerCase();
const id15 = (id: string): string => id.slice(0, 15);

/** --app values resolved to the org's apps (API name first, then label); the rest may name a not-installed app. */
export const resolveApps = (names: string[], apps: OrgApp[]): { found: OrgApp[]; unresolved: string[] } => {
  const found: OrgApp[] = [];
  const unresolved: string[] = [];
  for (const name of names) {
    const n = lower(name);
    const hits = apps.filter((a) => lower(a.name) === n);
    const byLabel = hits.length ? hits : apps.filter((a) => lower(a.label) === n);
    if (byLabel.length) byLabel.forEach((a) => !found.includes(a) && found.push(a));
    else unresolved.push(name);
  }
  return { found, unresolved };
};

/** The names OauthToken.AppName may hold for the apps asked for: the label (what Salesforce writes), the API name, the value given. */
export const tokenAppNames = (found: OrgApp[], unresolved: string[]): string[] => [...new Set([...found.flatMap((a) => [a.label, a.name]), ...unresolved])];

/**
 * The app of each token: by its AppMenuItem (Connected Apps), else by AppName against labels and API names (External
 * Client Apps' tokens often carry no AppMenuItem: governance-facts §1), else not installed.
 */
export const tokenAppResolver = (apps: OrgApp[]): ((t: TokenRow) => TokenApp) => {
  const byMenu = new Map<string, OrgApp>();
  for (const a of apps) for (const m of a.appMenuItemIds) byMenu.set(id15(m), a);
  const byName = new Map<string, OrgApp>();
  for (const a of apps) if (!byName.has(lower(a.name))) byName.set(lower(a.name), a);
  for (const a of apps) if (!byName.has(lower(a.label))) byName.set(lower(a.label), a);
  const byId = new Map(apps.map((a) => [id15(a.id), a]));
  return (t) => {
    const app = (t.applicationId ? byId.get(id15(t.applicationId)) : undefined) ?? (t.appMenuItemId ? byMenu.get(id15(t.appMenuItemId)) : undefined) ?? (t.appMenuItemId ? undefined : byName.get(lower(t.appName)));
    if (app) return { kind: app.kind, id: app.id, name: app.name, label: app.label };
    // A token pointing to an AppMenuItem that is not one of the apps read: an app of another kind (e.g. a canvas
    // app), installed; it is matched by name only.
    if (t.appMenuItemId) {
      const named = byName.get(lower(t.appName));
      if (named) return { kind: named.kind, id: named.id, name: named.name, label: named.label };
      return { kind: 'connected-app', name: t.appName, label: t.appName };
    }
    return { kind: 'not-installed', name: t.appName, label: t.appName };
  };
};

const DAY = 86_400_000;

/** Salesforce dates (2026-01-02T03:04:05.000+0000) as epoch milliseconds. */
export const parseDate = (v: string | undefined): number | undefined => {
  if (!v) return undefined;
  const t = Date.parse(v.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
  return Number.isNaN(t) ? undefined : t;
};

/** The tokens the selection takes, each with its app and its user's username. */
export const selectTokens = (
  tokens: TokenRow[],
  ctx: { apps: OrgApp[]; users: OrgUser[]; selection: Selection; found: OrgApp[]; unresolved: string[]; userIds: string[]; now: Date }
): SelectedToken[] => {
  const resolve = tokenAppResolver(ctx.apps);
  const { selection } = ctx;
  const appIds = new Set(ctx.found.map((a) => id15(a.id)));
  const phantomNames = new Set(ctx.unresolved.map(lower));
  const byApp = selection.apps.length > 0 || selection.notInstalled;
  const userIds = new Set(ctx.userIds.map(id15));
  const usernames = new Map(ctx.users.map((u) => [id15(u.id), u.username]));
  const cutoff = selection.unusedDays === undefined ? undefined : ctx.now.getTime() - selection.unusedDays * DAY;
  const out: SelectedToken[] = [];
  for (const t of tokens) {
    const app = resolve(t);
    if (byApp) {
      const named = app.id !== undefined ? appIds.has(id15(app.id)) : phantomNames.has(lower(app.name));
      const notInstalled = selection.notInstalled && app.kind === 'not-installed';
      if (!named && !notInstalled) continue;
    }
    if (selection.users.length && !userIds.has(id15(t.userId))) continue;
    if (cutoff !== undefined) {
      const used = parseDate(t.lastUsedDate) ?? parseDate(t.createdDate);
      if (used !== undefined && used >= cutoff) continue;
    }
    out.push({ ...t, app, username: usernames.get(id15(t.userId)) ?? t.userId });
  }
  return out;
};

/** One app and one user: the rows of the plan and of the result. */
export type Connection = {
  app: string;
  appKind: TokenApp['kind'];
  username: string;
  userId: string;
  tokens: number;
  lastUsed?: string;
};

/** Tokens grouped by app and user, the way Setup's OAuth Usage page lists them (app, then user). */
export const connectionsOf = (tokens: SelectedToken[]): Connection[] => {
  const map = new Map<string, Connection>();
  for (const t of tokens) {
    const key = `${t.app.label}\u0000${t.userId}`;
    const c = map.get(key) ?? { app: t.app.label, appKind: t.app.kind, username: t.username, userId: t.userId, tokens: 0 };
    c.tokens++;
    const used = t.lastUsedDate ?? t.createdDate;
    if (used && (!c.lastUsed || (parseDate(used) ?? 0) > (parseDate(c.lastUsed) ?? 0))) c.lastUsed = used;
    map.set(key, c);
  }
  return [...map.values()].sort((a, b) => a.app.localeCompare(b.app) || a.username.localeCompare(b.username));
};
