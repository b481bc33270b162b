/*
 * What `sf integration revoke` reads besides the tokens themselves (src/org/tokens.ts): the org's apps of both kinds
 * (to resolve --app by API name or label and to tell installed apps from the ones that are not), the users it names
 * or finds behind tokens (with their UserLogin row, for --freeze-user), in one composite batch plus the Tooling
 * query of Connected Apps. Sources: Object Reference ExternalClientApplication, ConnectedApplication (Tooling API:
 * DeveloperName; the data API's Name is the label), AppMenuItem (ApplicationId), User, UserLogin (IsFrozen).
 */
import { ApiCallError, soqlString, type Transport } from './transport.js';
import type { AppKind } from './types.js';

/** An app as revoke sees it: either kind, with the AppMenuItem that links its Connected App tokens. */
export type OrgApp = { kind: AppKind; id: string; name: string; label: string; appMenuItemIds: string[] };

export type OrgUser = {
  id: string;
  username: string;
  name: string;
  isActive: boolean;
  /** The user's UserLogin row (one per user) and whether it is frozen. */
  userLoginId?: string;
  isFrozen: boolean;
};

type Row = Record<string, unknown>;

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));
const rows = (v: Row[] | ApiCallError | undefined): Row[] => {
  if (v instanceof ApiCallError) throw v;
  return v ?? [];
};

/** Every app of the org, both kinds: one batch (External Client Apps, AppMenuItems) and the Tooling query. */
export const readOrgApps = async (transport: Transport): Promise<OrgApp[]> => {
  const [batch, cas] = await Promise.all([
    transport.queryBatch({
      ecas: 'SELECT Id, DeveloperName, MasterLabel FROM ExternalClientApplication',
      menu: 'SELECT Id, ApplicationId FROM AppMenuItem',
    }),
    transport.toolingQuery<Row>('SELECT Id, DeveloperName, Name FROM ConnectedApplication'),
  ]);
  // An org without External Client Apps (older API versions) refuses the query: it has none.
  const ecas = batch.ecas instanceof ApiCallError ? [] : batch.ecas;
  const menu = batch.menu instanceof ApiCallError ? [] : batch.menu;
  const menuOf = (id: string): string[] => menu.filter((m) => String(m.ApplicationId).slice(0, 15) === id.slice(0, 15)).map((m) => String(m.Id));
  return [
    ...ecas.map((r) => ({ kind: 'external-client-app' as const, id: String(r.Id), name: String(r.DeveloperName), label: String(r.MasterLabel ?? r.DeveloperName), appMenuItemIds: menuOf(String(r.Id)) })),
    ...cas.map((r) => ({ kind: 'connected-app' as const, id: String(r.Id), name: String(r.DeveloperName), label: String(r.Name ?? r.DeveloperName), appMenuItemIds: menuOf(String(r.Id)) })),
  ];
};

const CHUNK = 200;

/**
 * Users by username and by Id, each with its UserLogin row, in composite batches (Ids in chunks short enough for a
 * query URL). Unknown usernames are simply absent: the caller names them.
 */
export const readOrgUsers = async (transport: Transport, by: { usernames?: string[]; ids?: string[] }): Promise<OrgUser[]> => {
  const queries: Record<string, string> = {};
  const fields = 'Id, Username, Name, IsActive';
  const usernames = [...new Set(by.usernames ?? [])];
  for (let i = 0; i < usernames.length; i += CHUNK) {
    const list = usernames.slice(i, i + CHUNK).map(soqlString).join(', ');
    queries[`u${i}`] = `SELECT ${fields} FROM User WHERE Username IN (${list})`;
    queries[`lu${i}`] = `SELECT Id, UserId, IsFrozen FROM UserLogin WHERE UserId IN (SELECT Id FROM User WHERE Username IN (${list}))`;
  }
  const ids = [...new Set(by.ids ?? [])];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const list = ids.slice(i, i + CHUNK).map(soqlString).join(', ');
    queries[`i${i}`] = `SELECT ${fields} FROM User WHERE Id IN (${list})`;
    queries[`li${i}`] = `SELECT Id, UserId, IsFrozen FROM UserLogin WHERE UserId IN (${list})`;
  }
  const keys = Object.keys(queries);
  const answered: Record<string, Row[] | ApiCallError> = {};
  for (let i = 0; i < keys.length; i += 24) {
    const chunk = Object.fromEntries(keys.slice(i, i + 24).map((k) => [k, queries[k]]));
    // eslint-disable-next-line no-await-in-loop
    Object.assign(answered, await transport.queryBatch(chunk));
  }
  const logins = new Map<string, Row>();
  const users = new Map<string, Row>();
  for (const [k, v] of Object.entries(answered)) {
    for (const r of rows(v)) {
      if (k.startsWith('l')) logins.set(String(r.UserId).slice(0, 15), r);
      else users.set(String(r.Id), r);
    }
  }
  return [...users.values()].map((r) => {
    const login = logins.get(String(r.Id).slice(0, 15));
    return {
      id: String(r.Id),
      username: String(r.Username),
      name: String(r.Name ?? ''),
      isActive: r.IsActive !== false,
      userLoginId: str(login?.Id),
      isFrozen: login?.IsFrozen === true,
    };
  });
};
