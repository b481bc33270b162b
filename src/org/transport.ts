/*
 * The plugin's only door to Salesforce: REST requests, batched SOQL and Metadata API calls over an
 * authenticated @salesforce/core Connection, with retries for transient failures (503, REQUEST_LIMIT_EXCEEDED,
 * UNABLE_TO_LOCK_ROW, dropped connections) and a count of round trips for the benchmark. A read is simply asked
 * again. A write is sent again as it is only when the org refused it before doing anything (REQUEST_LIMIT_EXCEEDED,
 * UNABLE_TO_LOCK_ROW, a refused connection); after a dropped connection or a 5xx its outcome is unknown, so what the
 * org holds is read back first and only what did not land is sent again (composite below, deploys in deploy.ts).
 * Every request, failure and retry is a debug line of the sf log (SF_LOG_LEVEL=debug): method, path without its
 * query, outcome, attempt; never a body, a token, a key or a secret.
 */
import { Logger, type Connection } from '@salesforce/core';
import { readBackComposite } from './readback.js';
import type { CompositeSubrequest } from './types.js';

export type SalesforceError = { errorCode: string; message: string; fields?: string[] };

/** A failed Salesforce call with the API's own error code. */
export class ApiCallError extends Error {
  public constructor(
    public readonly errorCode: string,
    message: string,
    public readonly status?: number,
    public readonly fields: string[] = []
  ) {
    super(message);
    this.name = errorCode;
  }
}

const TRANSIENT_CODES = new Set(['REQUEST_LIMIT_EXCEEDED', 'UNABLE_TO_LOCK_ROW', 'SERVER_UNAVAILABLE', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED']);

/** The error code of a failure: Salesforce's (without SOAP's `sf:` prefix), or the socket's. */
const codeOf = (e: unknown): string => {
  const err = e as { errorCode?: unknown; code?: unknown; name?: unknown; cause?: { code?: unknown } };
  const code = [err?.errorCode, err?.cause?.code, err?.code, err?.name].find((c) => typeof c === 'string' && c !== 'TypeError' && c !== 'Error');
  return String(code ?? '').replace(/^sf:/, '');
};

export const isTransient = (e: unknown): boolean => {
  if (e instanceof ApiCallError) return TRANSIENT_CODES.has(e.errorCode) || (e.status !== undefined && e.status >= 502 && e.status <= 504);
  if (TRANSIENT_CODES.has(codeOf(e))) return true;
  const message = String((e as { message?: unknown })?.message ?? '');
  return /socket hang up|ECONNRESET|other side closed|fetch failed|Service Unavailable|\b50[234]\b|REQUEST_LIMIT_EXCEEDED|UNABLE_TO_LOCK_ROW/i.test(message);
};

/** Refused before the org did anything: the limit was hit, a row was locked (rolled back), no connection was made. */
const NOT_APPLIED = new Set(['REQUEST_LIMIT_EXCEEDED', 'UNABLE_TO_LOCK_ROW', 'ECONNREFUSED']);

/**
 * What a failed write means. `not-applied`: send it again as it is. `unknown`: the request may have been applied
 * (the connection dropped after it was sent, a 5xx such as 502/503/504 or UNKNOWN_EXCEPTION): read back before
 * sending anything again. `final`: the org's answer, not to be retried.
 */
export const writeFailure = (e: unknown): 'not-applied' | 'unknown' | 'final' => {
  const code = codeOf(e);
  if (NOT_APPLIED.has(code)) return 'not-applied';
  if (code === 'UNKNOWN_EXCEPTION' || isTransient(e)) return 'unknown';
  return 'final';
};

/** A write whose answer was lost, what reading the org back found, and what was sent again. */
export type Recovery = {
  /** The write: `POST /composite`, `deploy`. */
  write: string;
  /** Why its outcome was unknown (the error, never a body). */
  cause: string;
  /** What the org already held: applied by the lost request, not sent again. */
  found: string[];
  /** What the org did not hold, and was sent again. */
  resent: string[];
};

/** One line for a failure in the log or a message: its code and message, never a request body. */
export const failureText = (e: unknown): string => {
  const code = codeOf(e);
  const message = String((e as { message?: unknown })?.message ?? e);
  return code && !message.startsWith(code) ? `${code}: ${message}` : message;
};

export type RetryOptions = { attempts?: number; baseDelayMs?: number; onRetry?: (attempt: number, error: unknown, delayMs: number) => void };

const ATTEMPTS = 4;
const baseDelay = (): number => Number(process.env.SF_INTEGRATION_RETRY_BASE_MS ?? 400);
/** Exponential backoff, jittered. */
const backoffMs = (attempt: number, base = baseDelay()): number => base * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` (told its attempt number), retrying transient failures with exponential backoff (jittered). For reads. */
export const withRetry = async <T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> => {
  const attempts = opts.attempts ?? ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    try {
      // eslint-disable-next-line no-await-in-loop
      return await fn(attempt);
    } catch (e) {
      if (attempt >= attempts || !isTransient(e)) throw e;
      const delay = backoffMs(attempt, opts.baseDelayMs);
      opts.onRetry?.(attempt, e, delay);
      // eslint-disable-next-line no-await-in-loop
      await sleep(delay);
    }
  }
};

/** A path for the log: no query string (SOQL may name users), no host. */
const logPath = (url: string): string => url.replace(/^https?:\/\/[^/]+/, '').replace(/\?.*$/, '');

export type QueryResult<T> = { totalSize: number; done: boolean; records: T[]; nextRecordsUrl?: string };

/** The parts of an sObject describe the plugin reads. */
export type SObjectDescribe = { name: string; fields: Array<{ name: string; permissionable?: boolean }> };

type BatchSubResult = { statusCode: number; result: unknown };

export type { CompositeSubrequest };

export type CompositeResult = { referenceId: string; ok: boolean; id?: string; error?: ApiCallError };

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Escapes a value for a SOQL string literal. */
export const soqlString = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** A subrequest with the Ids known so far in place of its `@{ref.id}` references. */
const withIds = (r: CompositeSubrequest, ids: Record<string, string>): CompositeSubrequest => {
  const fill = (v: unknown): unknown => (typeof v === 'string' ? v.replace(/@\{(\w+)\.id\}/g, (whole, ref: string) => ids[ref] ?? whole) : v);
  return {
    ...r,
    path: String(fill(r.path)),
    ...(r.body === undefined ? {} : { body: Object.fromEntries(Object.entries(r.body).map(([k, v]) => [k, fill(v)])) }),
  };
};

const toApiCallError = (body: unknown, status?: number): ApiCallError => {
  const first = Array.isArray(body) ? (body[0] as SalesforceError | undefined) : (body as SalesforceError | undefined);
  return new ApiCallError(first?.errorCode ?? 'UNKNOWN_ERROR', first?.message ?? JSON.stringify(body), status, first?.fields ?? []);
};

/**
 * A thin layer over the Connection that counts round trips. Everything else in src/ talks to Salesforce
 * through an instance of this class.
 */
export class Transport {
  public roundTrips = 0;
  /** Writes whose answer was lost, and what was done about each (the command says so). */
  public readonly recoveries: Recovery[] = [];
  /** How many times a write is tried. */
  public readonly writeAttempts = ATTEMPTS;
  private readonly logger: Logger;

  public constructor(public readonly conn: Connection) {
    this.logger = Logger.childFromRoot('integration:org');
  }

  public get apiVersion(): string {
    return this.conn.getApiVersion();
  }

  public get instanceUrl(): string {
    return this.conn.instanceUrl;
  }

  /** A read: REST relative to /services/data/vXX.X (or an absolute /services path), retried while transient. */
  public async rest<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const url = this.url(path);
    return withRetry((attempt) => this.once(`${method} ${logPath(url)}`, attempt, () => this.request<T>(method, url, body)), { onRetry: this.retrying(`${method} ${logPath(url)}`) });
  }

  /** A Metadata API read (retrieve, checkDeployStatus, readMetadata) or idempotent write (upsertMetadata), retried while transient. */
  public async metadataCall<T>(fn: (metadata: Connection['metadata']) => Promise<T>, label = 'metadata'): Promise<T> {
    return withRetry((attempt) => this.once(`SOAP ${label}`, attempt, () => fn(this.conn.metadata)), { onRetry: this.retrying(`SOAP ${label}`) });
  }

  /**
   * One attempt of a write, counted and logged, never retried here: the caller reads back after an unknown outcome
   * (writeFailure) before it sends anything again.
   */
  public async writeOnce<T>(label: string, attempt: number, fn: (metadata: Connection['metadata']) => Promise<T>): Promise<T> {
    return this.once(label, attempt, () => fn(this.conn.metadata));
  }

  /** The pause before the next try of a write (a debug line says why). */
  public async pauseBeforeRetry(label: string, attempt: number, error: unknown): Promise<void> {
    const delay = backoffMs(attempt);
    this.retrying(label)(attempt, error, delay);
    await sleep(delay);
  }

  /** Records what was done about a write whose answer was lost; a debug line too. */
  public noteRecovery(recovery: Recovery): void {
    this.recoveries.push(recovery);
    this.logger.debug(
      `${recovery.write}: outcome unknown (${recovery.cause}); read back: found ${recovery.found.length ? recovery.found.join('; ') : 'nothing'}; ` +
        `sent again: ${recovery.resent.length ? recovery.resent.join('; ') : 'nothing'}`
    );
  }

  /**
   * Runs up to 25 SOQL queries in one round trip (REST composite batch), then follows nextRecordsUrl for
   * large results. A query that fails answers its ApiCallError in place, so one unavailable object
   * (e.g. an org without External Client Apps) does not sink the others.
   */
  public async queryBatch<K extends string>(queries: Record<K, string>): Promise<Record<K, Array<Record<string, unknown>> | ApiCallError>> {
    return (await this.readBatch(queries)).rows;
  }

  /**
   * Queries and sObject describes in one composite batch (both are batchable resources: REST API Developer Guide,
   * Composite Batch; at most 25 subrequests). Failures answer their ApiCallError in place.
   */
  public async readBatch<K extends string>(
    queries: Record<K, string>,
    describes: string[] = []
  ): Promise<{ rows: Record<K, Array<Record<string, unknown>> | ApiCallError>; describes: Record<string, SObjectDescribe | ApiCallError> }> {
    const keys = Object.keys(queries) as K[];
    if (keys.length + describes.length > 25) throw new Error('A composite batch holds at most 25 subrequests.');
    const response = await this.rest<{ hasErrors: boolean; results: BatchSubResult[] }>('POST', '/composite/batch', {
      haltOnError: false,
      batchRequests: [
        ...keys.map((k) => ({ method: 'GET', url: `v${this.apiVersion}/query?q=${encodeURIComponent(queries[k])}` })),
        ...describes.map((o) => ({ method: 'GET', url: `v${this.apiVersion}/sobjects/${encodeURIComponent(o)}/describe` })),
      ],
    });
    const rows = {} as Record<K, Array<Record<string, unknown>> | ApiCallError>;
    await Promise.all(
      keys.map(async (k, i) => {
        const sub = response.results[i];
        if (!sub || sub.statusCode >= 400) {
          rows[k] = toApiCallError(sub?.result, sub?.statusCode);
          return;
        }
        const page = sub.result as QueryResult<Record<string, unknown>>;
        rows[k] = await this.drain([...page.records], page);
      })
    );
    const described: Record<string, SObjectDescribe | ApiCallError> = {};
    describes.forEach((o, i) => {
      const sub = response.results[keys.length + i];
      described[o] = !sub || sub.statusCode >= 400 ? toApiCallError(sub?.result, sub?.statusCode) : (sub.result as SObjectDescribe);
    });
    return { rows, describes: described };
  }

  /** A Tooling API query (objects such as ConnectedApplication with DeveloperName), all pages. */
  public async toolingQuery<T = Record<string, unknown>>(soql: string): Promise<T[]> {
    const page = await this.rest<QueryResult<T>>('GET', `/tooling/query?q=${encodeURIComponent(soql)}`);
    return this.drain([...page.records], page);
  }

  /**
   * Several record writes in one round trip (REST composite, ≤ 25 subrequests, `@{ref.id}` references). With
   * allOrNone the org applies all or none of them, so a failure leaves nothing half-written. The request is never sent
   * again blindly: after an unknown outcome the records are read back by their unique keys (readback.ts), those the
   * org holds count as written (with their Ids), and only the rest is sent again.
   */
  public async composite(subrequests: CompositeSubrequest[], allOrNone: boolean): Promise<CompositeResult[]> {
    if (subrequests.length > 25) throw new Error('A composite request holds at most 25 subrequests.');
    const results = new Map<string, CompositeResult>();
    const ids: Record<string, string> = {};
    let pending = subrequests;
    const answer = (): CompositeResult[] => subrequests.map((r) => results.get(r.referenceId) ?? { referenceId: r.referenceId, ok: false });
    for (let attempt = 1; ; attempt++) {
      const sent = pending.map((r) => withIds(r, ids));
      try {
        // eslint-disable-next-line no-await-in-loop
        const response = await this.once('POST /composite', attempt, () =>
          this.request<{ compositeResponse: Array<{ body: unknown; httpStatusCode: number; referenceId: string }> }>('POST', this.url('/composite'), {
            allOrNone,
            compositeRequest: sent.map((r) => ({
              method: r.method,
              url: `/services/data/v${this.apiVersion}${r.path}`,
              referenceId: r.referenceId,
              ...(r.body === undefined ? {} : { body: r.body }),
            })),
          })
        );
        for (const r of response.compositeResponse) {
          results.set(r.referenceId, {
            referenceId: r.referenceId,
            ok: r.httpStatusCode < 400,
            id: r.body && typeof r.body === 'object' && !Array.isArray(r.body) ? str((r.body as { id?: unknown }).id) : undefined,
            error: r.httpStatusCode < 400 ? undefined : toApiCallError(r.body, r.httpStatusCode),
          });
        }
        return answer();
      } catch (e) {
        const kind = writeFailure(e);
        if (kind === 'final') throw e;
        if (kind === 'unknown') {
          // eslint-disable-next-line no-await-in-loop
          const back = await readBackComposite((queries) => this.queryBatch(queries), pending, ids, allOrNone);
          if (back.unreadable) {
            throw new ApiCallError('OUTCOME_UNKNOWN', `${failureText(e)}. Whether the org applied the write is unknown: ${back.unreadable}`);
          }
          for (const f of back.found) {
            results.set(f.referenceId, { referenceId: f.referenceId, ok: true, id: f.id });
            if (f.id) ids[f.referenceId] = f.id;
          }
          pending = back.missing;
          const resend = pending.length > 0 && attempt < this.writeAttempts;
          this.noteRecovery({ write: 'POST /composite', cause: failureText(e), found: back.found.map((f) => f.label), resent: resend ? back.missingLabels : [] });
          if (!pending.length) return answer();
        }
        if (attempt >= this.writeAttempts) throw e;
        // eslint-disable-next-line no-await-in-loop
        await this.pauseBeforeRetry('POST /composite', attempt, e);
      }
    }
  }

  /** The URL of a REST path: relative to /services/data/vXX.X unless it is an absolute /services path. */
  private url(path: string): string {
    return path.startsWith('/services/') ? path : `/services/data/v${this.apiVersion}${path}`;
  }

  private async request<T>(method: string, url: string, body?: unknown): Promise<T> {
    try {
      return await this.conn.request<T>({
        method: method as 'GET',
        url,
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    } catch (e) {
      const err = e as { errorCode?: string; message?: string; data?: unknown; statusCode?: number };
      if (err.errorCode) throw new ApiCallError(err.errorCode, err.message ?? err.errorCode, err.statusCode);
      throw e;
    }
  }

  /** One round trip, counted, with a debug line for how it ended. */
  private async once<T>(label: string, attempt: number, fn: () => Promise<T>): Promise<T> {
    this.roundTrips++;
    try {
      const result = await fn();
      this.logger.debug(`${label} ok (attempt ${attempt})`);
      return result;
    } catch (e) {
      this.logger.debug(`${label} failed (attempt ${attempt}): ${failureText(e)}`);
      throw e;
    }
  }

  private retrying(label: string): (attempt: number, error: unknown, delayMs: number) => void {
    return (attempt, error, delayMs) => this.logger.debug(`${label} retry ${attempt + 1} in ${Math.round(delayMs)} ms after ${failureText(error)}`);
  }

  private async drain<T>(rows: T[], page: QueryResult<T> | undefined): Promise<T[]> {
    let current = page;
    while (current && !current.done && current.nextRecordsUrl) {
      // eslint-disable-next-line no-await-in-loop
      current = await this.rest<QueryResult<T>>('GET', current.nextRecordsUrl);
      rows.push(...current.records);
    }
    return rows;
  }
}
