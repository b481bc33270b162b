/*
 * The emulator's HTTP plumbing: requests, responses, routes, the request log and Salesforce's auth errors.
 * Modules (rest.ts, soql.ts, metadata.ts, oauth.ts) contribute routes; server.ts runs them.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError, type OrgStore, type Session } from './store.js';

export type EmuRequest = {
  method: string;
  url: URL;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The session behind the request (set for routes that need auth). */
  session?: Session;
  /** Filled in by handlers for the request log. */
  log: LogEntry;
  /** Runs a sub-request through the same routes with the same Authorization header (composite resources). */
  dispatch(method: string, pathWithQuery: string, body?: unknown): Promise<EmuResponse>;
};

export type EmuResponse = {
  status: number;
  headers?: Record<string, string>;
  /** JSON-serialisable value (sent as application/json), a string, or a Buffer. */
  body?: unknown;
  /** Close the socket without an answer (fault injection). */
  drop?: boolean;
};

export type Handler = (req: EmuRequest, match: RegExpMatchArray, store: OrgStore) => EmuResponse | Promise<EmuResponse>;

export type Route = {
  /** An HTTP method, or '*' for any. */
  method: string;
  pattern: RegExp;
  /** 'bearer': REST auth; 'soap': the handler reads the SessionHeader itself; 'none': public. */
  auth: 'bearer' | 'soap' | 'none';
  handler: Handler;
};

export type LogEntry = {
  method: string;
  path: string;
  status?: number;
  soql?: string;
  soapOperation?: string;
  /** True when the request changed org state on the client's behalf. */
  write?: boolean;
  fault?: string;
  /** Sub-requests of a composite request. */
  sub?: LogEntry[];
  time: string;
};

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): EmuResponse => ({
  status,
  body,
  headers: { 'content-type': 'application/json;charset=UTF-8', ...headers },
});

/** REST error body: `[{"message","errorCode"[,"fields"]}]`. */
export const restError = (err: ApiError): EmuResponse =>
  json(err.status, [{ message: err.message, errorCode: err.errorCode, ...(err.fields.length ? { fields: err.fields } : {}) }]);

/** Salesforce answers a missing/garbled Authorization header with INVALID_AUTH_HEADER (wire/rest-error-invalid-auth-header-401.json). */
export const invalidAuthHeader = (): EmuResponse =>
  json(401, [{ message: 'INVALID_AUTH_HEADER', errorCode: 'INVALID_AUTH_HEADER' }], { 'www-authenticate': 'Token' });

/** Unknown or revoked token (wire/rest-error-invalid-session-id-401.json). */
export const invalidSession = (): EmuResponse =>
  json(401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);

export const bearerToken = (headers: IncomingHttpHeaders): string | undefined => {
  const h = headers.authorization;
  if (!h) return undefined;
  const m = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(h);
  return m ? m[1] : undefined;
};

/**
 * Resolves a session token to a live session of an active user. A session of a user who has since been
 * deactivated is invalid, as in a real org.
 */
export const resolveSession = (store: OrgStore, token: string | undefined): Session | undefined => {
  if (!token) return undefined;
  const session = store.sessions.get(token);
  if (!session) return undefined;
  const user = store.get(session.userId);
  if (!user || user.IsActive === false) return undefined;
  return session;
};

/** `/services/data/vNN.N/...` → the version string, or undefined. */
export const apiVersionOf = (path: string): string | undefined => /^\/services\/(?:data|Soap\/m)\/v?(\d+\.\d)/.exec(path)?.[1];

export const toApiError = (e: unknown): ApiError =>
  e instanceof ApiError ? e : new ApiError('UNKNOWN_EXCEPTION', e instanceof Error ? e.message : String(e), 500);

/** Salesforce's answer for an unknown resource, an unknown sObject type or an unserved API version. */
export const notFoundError = (): ApiError => new ApiError('NOT_FOUND', 'The requested resource does not exist', 404);

/** The version of a `/services/data/vNN.N/...` path when the org serves it; otherwise NOT_FOUND, as real orgs answer. */
export const requireApiVersion = (store: OrgStore, path: string): string => {
  const v = apiVersionOf(path);
  if (!v || !(store.settings.apiVersions ?? []).includes(v)) throw notFoundError();
  return v;
};

/** The JSON body of a request; a body that is not JSON is refused with JSON_PARSER_ERROR (400). */
export const readJson = (req: EmuRequest): unknown => {
  const text = req.body.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ApiError('JSON_PARSER_ERROR', `Unexpected character in request body: ${e instanceof Error ? e.message : String(e)}`);
  }
};
