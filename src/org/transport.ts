/*
 * The plugin's only door to Salesforce: REST requests, batched SOQL and Metadata API calls over an
 * authenticated @salesforce/core Connection, with retries for transient failures (503, REQUEST_LIMIT_EXCEEDED,
 * UNABLE_TO_LOCK_ROW, dropped connections) and a count of round trips for the benchmark.
 */
import type { Connection } from '@salesforce/core';

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

export const isTransient = (e: unknown): boolean => {
  if (e instanceof ApiCallError) return TRANSIENT_CODES.has(e.errorCode) || (e.status !== undefined && e.status >= 502 && e.status <= 504);
  const err = e as { errorCode?: string; code?: string; name?: string; message?: string };
  const code = err?.errorCode ?? err?.code ?? err?.name ?? '';
  if (TRANSIENT_CODES.has(code)) return true;
  const message = String(err?.message ?? '');
  return /socket hang up|ECONNRESET|other side closed|fetch failed|Service Unavailable|\b50[234]\b|REQUEST_LIMIT_EXCEEDED|UNABLE_TO_LOCK_ROW/i.test(message);
};

export type RetryOptions = { attempts?: number; baseDelayMs?: number; onRetry?: (attempt: number, error: unknown) => void };

/** Runs `fn`, retrying transient failures with exponential backoff (jittered). */
export const withRetry = async <T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> => {
  const attempts = opts.attempts ?? 4;
  const base = opts.baseDelayMs ?? Number(process.env.SF_INTEGRATION_RETRY_BASE_MS ?? 400);
  for (let attempt = 1; ; attempt++) {
    try {
      // eslint-disable-next-line no-await-in-loop
      return await fn();
    } catch (e) {
      if (attempt >= attempts || !isTransient(e)) throw e;
      opts.onRetry?.(attempt, e);
      const delay = base * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
      // eslint-disable-next-line no-await-in-loop
      await new Promise((r) => setTimeout(r, delay));
    }
  }
};

export type QueryResult<T> = { totalSize: number; done: boolean; records: T[]; nextRecordsUrl?: string };

/** The parts of an sObject describe the plugin reads. */
export type SObjectDescribe = { name: string; fields: Array<{ name: string; permissionable?: boolean }> };

type BatchSubResult = { statusCode: number; result: unknown };

export type CompositeSubrequest = { method: 'POST' | 'PATCH' | 'DELETE'; path: string; referenceId: string; body?: Record<string, unknown> };

export type CompositeResult = { referenceId: string; ok: boolean; id?: string; error?: ApiCallError };

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Escapes a value for a SOQL string literal. */
export const soqlString = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

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

  public constructor(public readonly conn: Connection) {}

  public get apiVersion(): string {
    return this.conn.getApiVersion();
  }

  public get instanceUrl(): string {
    return this.conn.instanceUrl;
  }

  /** A REST call relative to /services/data/vXX.X (or an absolute /services path). */
  public async rest<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const url = path.startsWith('/services/') ? path : `/services/data/v${this.apiVersion}${path}`;
    return withRetry(async () => {
      this.roundTrips++;
      try {
        return await this.conn.request<T>({
          method,
          url,
          body: body === undefined ? undefined : JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        });
      } catch (e) {
        const err = e as { errorCode?: string; message?: string; data?: unknown; statusCode?: number };
        if (err.errorCode) throw new ApiCallError(err.errorCode, err.message ?? err.errorCode, err.statusCode);
        throw e;
      }
    });
  }

  /** A Metadata API call, counted and retried like every other call. */
  public async metadataCall<T>(fn: (metadata: Connection['metadata']) => Promise<T>): Promise<T> {
    return withRetry(() => {
      this.roundTrips++;
      return fn(this.conn.metadata);
    });
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
   * allOrNone the org applies all or none of them, so a failure leaves nothing half-written.
   */
  public async composite(subrequests: CompositeSubrequest[], allOrNone: boolean): Promise<CompositeResult[]> {
    if (subrequests.length > 25) throw new Error('A composite request holds at most 25 subrequests.');
    const response = await this.rest<{ compositeResponse: Array<{ body: unknown; httpStatusCode: number; referenceId: string }> }>(
      'POST',
      '/composite',
      {
        allOrNone,
        compositeRequest: subrequests.map((r) => ({
          method: r.method,
          url: `/services/data/v${this.apiVersion}${r.path}`,
          referenceId: r.referenceId,
          ...(r.body === undefined ? {} : { body: r.body }),
        })),
      }
    );
    return response.compositeResponse.map((r) => ({
      referenceId: r.referenceId,
      ok: r.httpStatusCode < 400,
      id: r.body && typeof r.body === 'object' && !Array.isArray(r.body) ? str((r.body as { id?: unknown }).id) : undefined,
      error: r.httpStatusCode < 400 ? undefined : toApiCallError(r.body, r.httpStatusCode),
    }));
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
