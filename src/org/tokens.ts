/*
 * Every OauthToken row of an org (the Connected Apps OAuth Usage data), paged past the row cap.
 *
 * Object Reference, OauthToken: "In API version 34.0 and later … A query() call returns up to 500 rows. A queryMore()
 * call returns 500 more, up to 2500 total. No more records are returned after 2500." Id is "Reserved for future use.
 * Currently always null", so it cannot order or split the rows. The read is keyset paging on (CreatedDate, UserId):
 * each query asks for the rows at or after the last row seen, ordered the same way; rows seen twice (the ones sharing
 * the boundary key) are recognised by their DeleteToken, which is unique per row. Splitting ties by UserId keeps a
 * boundary that thousands of tokens share one CreatedDate from losing or doubling any of them: one user holds at most
 * five approvals per app ("Each connected app allows five unique approvals per user", packagingGuide
 * connected_app_monitor.htm), so a (CreatedDate, UserId) key is shared by a handful of rows, never by 2,500.
 *
 * Filters (app labels, user Ids) are sent in IN lists cut to a size a query URL carries; the first query of every
 * chunk goes in one composite batch (25 at a time), continuations follow per chunk.
 *
 * DeleteToken is a credential (an admin passes it to /services/oauth2/revoke to delete another user's token): it is
 * read because revocation needs it and paging uses it to recognise rows, and it is never written to output or logs.
 */
import type { Connection } from '@salesforce/core';
import { ApiCallError, soqlString, Transport, type QueryResult } from './transport.js';

/** One OauthToken row: a user's approval of an app. */
export type OauthToken = {
  /** Secret: pass to POST /services/oauth2/revoke to delete this token. Never output. */
  deleteToken: string;
  userId: string;
  /** OauthToken.AppName: the app's label. */
  appName: string;
  /** Null when the app is not installed in the org, and often for External Client Apps. */
  appMenuItemId?: string;
  /** AppMenuItem.ApplicationId: the ConnectedApplication (0H4) or External Client App Id of a linked row. */
  applicationId?: string;
  createdDate: string;
  lastUsedDate?: string;
  useCount?: number;
};

export type OauthTokenFilter = { appNames?: string[]; userIds?: string[] };

/** Rows one query answers at most (Object Reference, OauthToken, API 34.0 and later). */
export const OAUTH_TOKEN_ROW_CAP = 2500;

/** Characters of IN-list literals per query: keeps a continuation's GET URL well under the REST URI limit. */
const IN_LIST_BUDGET = 4000;

const COLUMNS = 'AppMenuItemId, AppMenuItem.ApplicationId, AppName, CreatedDate, DeleteToken, LastUsedDate, UseCount, UserId';
const ORDER = 'ORDER BY CreatedDate ASC, UserId ASC';

type Row = Record<string, unknown>;

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));

const toToken = (row: Row): OauthToken => {
  const menu = row.AppMenuItem as Row | null | undefined;
  const useCount = row.UseCount === null || row.UseCount === undefined ? undefined : Number(row.UseCount);
  return {
    deleteToken: String(row.DeleteToken ?? ''),
    userId: String(row.UserId ?? ''),
    appName: String(row.AppName ?? ''),
    appMenuItemId: str(row.AppMenuItemId),
    applicationId: str(menu?.ApplicationId),
    createdDate: String(row.CreatedDate ?? ''),
    lastUsedDate: str(row.LastUsedDate),
    useCount: Number.isFinite(useCount) ? useCount : undefined,
  };
};

/**
 * A SOQL dateTime literal for a value as the API answers it (2026-01-01T10:00:00.000+0000). Audit fields are kept
 * to the second; milliseconds are written only when present.
 */
export const soqlDateTime = (value: string): string => {
  const ms = Date.parse(value.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
  if (!Number.isFinite(ms)) throw new ApiCallError('INVALID_FIELD', `OauthToken.CreatedDate ${JSON.stringify(value)} is not a date-time.`);
  return new Date(ms).toISOString().replace('.000Z', 'Z');
};

/** Splits values into IN lists whose literals fit the budget (at least one value per list). */
export const inLists = (values: readonly string[], budget = IN_LIST_BUDGET): string[] => {
  const lists: string[] = [];
  let current: string[] = [];
  let size = 0;
  for (const v of [...new Set(values)]) {
    const literal = soqlString(v);
    if (current.length && size + literal.length + 2 > budget) {
      lists.push(current.join(', '));
      current = [];
      size = 0;
    }
    current.push(literal);
    size += literal.length + 2;
  }
  if (current.length) lists.push(current.join(', '));
  return lists;
};

/** The filter clauses, one per query chunk ('' = no filter); none when a filter list is empty (nothing matches). */
const filterChunks = (filter: OauthTokenFilter): string[] => {
  const apps = filter.appNames === undefined ? [''] : inLists(filter.appNames).map((l) => `AppName IN (${l})`);
  const users = filter.userIds === undefined ? [''] : inLists(filter.userIds).map((l) => `UserId IN (${l})`);
  return apps.flatMap((a) => users.map((u) => [a, u].filter(Boolean).join(' AND ')));
};

/** Rows at or after the key of the last row seen. */
const after = (last: OauthToken): string => {
  const at = soqlDateTime(last.createdDate);
  return `(CreatedDate > ${at} OR (CreatedDate = ${at} AND UserId >= ${soqlString(last.userId)}))`;
};

export const oauthTokenQuery = (filterClause: string, last?: OauthToken): string => {
  const where = [filterClause, last ? after(last) : ''].filter(Boolean).join(' AND ');
  return `SELECT ${COLUMNS} FROM OauthToken${where ? ` WHERE ${where}` : ''} ${ORDER}`;
};

/** A query's rows with every page followed (at most OAUTH_TOKEN_ROW_CAP), and whether the org held more. */
const runQuery = async (transport: Transport, soql: string): Promise<{ rows: Row[]; more: boolean }> => {
  let page = await transport.rest<QueryResult<Row>>('GET', `/query?q=${encodeURIComponent(soql)}`);
  const rows = [...page.records];
  while (!page.done && page.nextRecordsUrl) {
    // eslint-disable-next-line no-await-in-loop
    page = await transport.rest<QueryResult<Row>>('GET', page.nextRecordsUrl);
    rows.push(...page.records);
  }
  return { rows, more: rows.length >= OAUTH_TOKEN_ROW_CAP || page.totalSize > rows.length };
};

/** Adds the rows not seen yet; answers how many were new. */
const take = (rows: Row[], seen: Set<string>, out: OauthToken[]): number => {
  let added = 0;
  for (const row of rows) {
    const token = toToken(row);
    if (seen.has(token.deleteToken)) continue;
    seen.add(token.deleteToken);
    out.push(token);
    added++;
  }
  return added;
};

/** Follows one chunk past the cap, starting from its first result. */
const continueChunk = async (transport: Transport, clause: string, first: { rows: Row[]; more: boolean }, seen: Set<string>, out: OauthToken[]): Promise<void> => {
  let result = first;
  let added = take(result.rows, seen, out);
  while (result.more) {
    const lastRow = result.rows.at(-1);
    if (!lastRow) return;
    if (added === 0) {
      // A full page of rows all seen before: one (CreatedDate, UserId) key holds more rows than a query returns.
      const last = toToken(lastRow);
      throw new ApiCallError(
        'OAUTH_TOKEN_PAGING',
        `More than ${OAUTH_TOKEN_ROW_CAP} OauthToken rows share CreatedDate ${last.createdDate} and UserId ${last.userId}; they cannot be read past the row cap.`
      );
    }
    // eslint-disable-next-line no-await-in-loop
    result = await runQuery(transport, oauthTokenQuery(clause, toToken(lastRow)));
    added = take(result.rows, seen, out);
  }
};

/**
 * Every OauthToken row matching the filter (app labels and/or user Ids; an empty list matches nothing), each once,
 * in CreatedDate order per filter chunk. Costs about one round trip per 500 rows, plus one batch for the first pages.
 */
export const readOauthTokens = async (conn: Transport | Connection, filter: OauthTokenFilter = {}): Promise<OauthToken[]> => {
  const transport = conn instanceof Transport ? conn : new Transport(conn);
  const clauses = filterChunks(filter);
  const seen = new Set<string>();
  const out: OauthToken[] = [];
  for (let i = 0; i < clauses.length; i += 25) {
    const group = clauses.slice(i, i + 25);
    const queries = Object.fromEntries(group.map((c, j) => [`t${j}`, oauthTokenQuery(c)]));
    // eslint-disable-next-line no-await-in-loop
    const { rows } = await transport.readBatch(queries);
    for (const [j, clause] of group.entries()) {
      const r = rows[`t${j}`];
      if (r instanceof ApiCallError) throw r;
      // readBatch follows the pages; `more` is judged on the rows (the batch does not pass totalSize on).
      // eslint-disable-next-line no-await-in-loop
      await continueChunk(transport, clause, { rows: r, more: r.length >= OAUTH_TOKEN_ROW_CAP }, seen, out);
    }
  }
  return out;
};
