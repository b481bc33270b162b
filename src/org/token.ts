/*
 * The one live token exchange: create's verification, doctor's live checks and (to come) rotate's verification. It
 * posts where the org expects the external system to post (tokenEndpoint), signs the JWT as the external system will
 * (RS256, iss = consumer key, sub = username, aud = login or test host), then makes one REST call with the token.
 * HTTP goes through jsforce, as every other request of the CLI does: its Transport for the token endpoint (keeping
 * Salesforce's error body whatever its shape) and for the REST call, so HTTPS_PROXY / HTTP_PROXY, timeouts and debug logging behave the same. Secrets and
 * tokens stay in memory; the result carries none. Wire format: Salesforce Help "OAuth 2.0 JWT Bearer Flow for
 * Server-to-Server Integration" and "OAuth 2.0 Client Credentials Flow for Server-to-Server Integration".
 */
/* eslint-disable camelcase -- OAuth's wire format: grant_type, access_token, instance_url */
import { createSign, randomUUID } from 'node:crypto';
import { Logger } from '@salesforce/core';
import { OAuth2 } from '@jsforce/jsforce-node';
import { Transport } from '@jsforce/jsforce-node/lib/transport.js';
import { ApiCallError, withRetry } from './transport.js';
import type { Flow, LiveResult, OrgInfo } from './types.js';

export type TokenRequest =
  | { flow: 'jwt'; clientId: string; username: string; privateKeyPem: string }
  | { flow: 'client-credentials'; clientId: string; clientSecret: string };

export type TokenOptions = {
  /** The API version of the REST call made with the token. */
  apiVersion: string;
  /** Minutes to keep asking while a new or changed app propagates (create --wait); 0 asks once. */
  waitMinutes?: number;
  /** Pause between those attempts (tests shorten it). */
  retryIntervalMs?: number;
  /**
   * rotate: "invalid assertion" also means "not propagated yet" while a replaced certificate takes effect (the org
   * keeps verifying with the previous one for the window), so it is asked again too.
   */
  awaitCertificate?: boolean;
};

/** The hosts an exchange needs: where the external system logs in, the org's own host, the JWT audience. */
export type TokenHosts = Pick<OrgInfo, 'loginUrl' | 'instanceUrl' | 'audience'>;

/**
 * Where the org expects a token request, one rule for every caller: JWT bearer at the login URL the external system
 * is given (the My Domain when the org has one, else login.salesforce.com or test.salesforce.com); client credentials
 * at the org's own My Domain host, since "requests to login.salesforce.com and test.salesforce.com aren't supported"
 * for that flow (Salesforce Help, "OAuth 2.0 Client Credentials Flow for Server-to-Server Integration").
 */
export const tokenEndpoint = (org: Pick<OrgInfo, 'loginUrl' | 'instanceUrl'>, flow: Flow): string =>
  flow === 'jwt' ? org.loginUrl.replace(/\/$/, '') : new URL(org.instanceUrl).origin;

const base64url = (input: Buffer | string): string => Buffer.from(input).toString('base64url');

/** An RS256 JWT bearer assertion. `exp` in seconds, within Salesforce's 3-minute guidance, with a `jti`. */
export const jwtAssertion = (args: { clientId: string; username: string; audience: string; privateKeyPem: string; now?: Date; expiresInSeconds?: number }): string => {
  const now = Math.floor((args.now ?? new Date()).getTime() / 1000);
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const claims = base64url(
    JSON.stringify({ iss: args.clientId, sub: args.username, aud: args.audience, exp: now + (args.expiresInSeconds ?? 180), iat: now, jti: randomUUID() })
  );
  const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(args.privateKeyPem);
  return `${header}.${claims}.${base64url(signature)}`;
};

type Issued = { accessToken: string; instanceUrl: string };

/** Debug lines of the token endpoint and the REST call (SF_LOG_LEVEL=debug): method, path, outcome; never a token, assertion or secret. */
const debug = (line: string): void => void Logger.childFromRoot('integration:token').debug(line);
type TokenAnswer = { ok: true; issued: Issued } | { ok: false; error: string; errorDescription: string; status: number };

/** jsforce's OAuth2 raises Salesforce's `error` as the Error's name and `error_description` as its message. */
const tokenError = (e: unknown): { error: string; errorDescription: string } => {
  const err = e as { name?: unknown; message?: unknown; cause?: { code?: unknown } };
  const name = typeof err?.name === 'string' ? err.name : '';
  const message = typeof err?.message === 'string' ? err.message : String(e);
  // A TypeError from fetch (refused, reset, DNS) never reached Salesforce.
  if (!name || name === 'TypeError' || name === 'Error' || name === 'FetchError') {
    return { error: 'connection_failed', errorDescription: [message, err?.cause?.code].filter(Boolean).join(' ') };
  }
  // jsforce reads the revoke endpoint's error body as a query string: a JSON body arrives whole as the message.
  if (name.startsWith('ERROR_HTTP_')) {
    try {
      const parsed = JSON.parse(message) as { error?: unknown; error_description?: unknown } | Array<{ errorCode?: unknown; message?: unknown }>;
      // The REST error form ([{errorCode, message}]) of a request limit or an outage in front of the endpoint.
      const rest = Array.isArray(parsed) ? parsed[0] : undefined;
      if (rest && typeof rest.errorCode === 'string') return { error: rest.errorCode, errorDescription: String(rest.message ?? '').slice(0, 200) };
      const body = parsed as { error?: unknown; error_description?: unknown };
      if (typeof body.error === 'string') return { error: body.error, errorDescription: String(body.error_description ?? '').slice(0, 200) };
    } catch {
      // not JSON: keep jsforce's ERROR_HTTP_<status> and the body's start
    }
  }
  return { error: name, errorDescription: message.slice(0, 200) };
};

/**
 * Salesforce's answer to a failed token request, whatever its shape: the OAuth pair ({error, error_description}),
 * a REST-style error list ([{errorCode, message}], as a gateway or a 503 answers), or the body's start. jsforce's
 * OAuth2 drops the last two (its Error has no name then), so the request is made with jsforce's Transport here.
 */
const failedAnswer = (status: number, body: string): { error: string; errorDescription: string; status: number } => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const pair = parsed as { error?: unknown; error_description?: unknown } | undefined;
  if (pair && typeof pair.error === 'string') return { error: pair.error, errorDescription: String(pair.error_description ?? '').slice(0, 500), status };
  const first = Array.isArray(parsed) ? (parsed[0] as { errorCode?: unknown; message?: unknown } | undefined) : undefined;
  if (first && typeof first.errorCode === 'string') return { error: first.errorCode, errorDescription: String(first.message ?? '').slice(0, 500), status };
  return { error: `ERROR_HTTP_${status}`, errorDescription: body.slice(0, 500), status };
};

const requestToken = async (tokenUrl: string, request: TokenRequest, audience: string): Promise<TokenAnswer> => {
  // A JWT names its client inside the assertion: no client_id is sent (as sf org login jwt).
  const params: Record<string, string> =
    request.flow === 'jwt'
      ? { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwtAssertion({ ...request, audience }) }
      : { grant_type: 'client_credentials', client_id: request.clientId, client_secret: request.clientSecret };
  const label = `POST ${new URL(tokenUrl).origin}/services/oauth2/token (${request.flow === 'jwt' ? 'jwt-bearer' : 'client_credentials'})`;
  let response: { statusCode: number; body: string };
  try {
    response = await new Transport().httpRequest({
      method: 'POST',
      url: `${tokenUrl}/services/oauth2/token`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(params).toString(),
    });
  } catch (e) {
    const failure = tokenError(e);
    debug(`${label} failed: ${failure.error}`);
    return { ok: false, ...failure, status: 0 };
  }
  if (response.statusCode >= 400) {
    const failure = failedAnswer(response.statusCode, String(response.body ?? ''));
    debug(`${label} failed: ${failure.status} ${failure.error}`);
    return { ok: false, ...failure };
  }
  let body: { access_token?: unknown; instance_url?: unknown } | undefined;
  try {
    body = JSON.parse(response.body) as typeof body;
  } catch {
    body = undefined;
  }
  if (typeof body?.access_token !== 'string') {
    debug(`${label} answered without an access token`);
    return { ok: false, error: 'invalid_response', errorDescription: 'The token endpoint answered without an access token.', status: response.statusCode };
  }
  debug(`${label} ok`);
  return { ok: true, issued: { accessToken: body.access_token, instanceUrl: String(body.instance_url ?? tokenUrl) } };
};

/** One REST call with the new token: the resource list of the API version, which any API-enabled user may read. */
const restCall = async (issued: Issued, apiVersion: string): Promise<NonNullable<LiveResult['apiCall']>> => {
  try {
    const response = await new Transport().httpRequest({
      method: 'GET',
      url: `${issued.instanceUrl.replace(/\/$/, '')}/services/data/v${apiVersion}/`,
      headers: { authorization: `Bearer ${issued.accessToken}`, accept: 'application/json' },
    });
    debug(`GET /services/data/v${apiVersion}/ with the new token: ${response.statusCode}`);
    if (response.statusCode < 400) return { ok: true, status: response.statusCode };
    let first: { errorCode?: string; message?: string } | undefined;
    try {
      first = (JSON.parse(response.body) as Array<{ errorCode?: string; message?: string }>)[0];
    } catch {
      first = undefined;
    }
    return { ok: false, status: response.statusCode, error: first ? `${first.errorCode ?? ''}: ${first.message ?? ''}` : `HTTP ${response.statusCode}` };
  } catch (e) {
    debug(`GET /services/data/v${apiVersion}/ with the new token failed: ${e instanceof Error ? e.message : String(e)}`);
    return { ok: false, status: 0, error: e instanceof Error ? e.message : String(e) };
  }
};

/**
 * Answers that say "try again", retried like every other call of the plugin (src/org/transport.ts): a 5xx from the
 * token endpoint or Salesforce's OAuth `temporarily_unavailable`, a request limit, a connection that dropped.
 */
const TRANSIENT_TOKEN = /^(ERROR_HTTP_5\d\d|connection_failed|temporarily_unavailable|server_error)$/;
const TRANSIENT_TEXT = /REQUEST_LIMIT_EXCEEDED|SERVER_UNAVAILABLE|UNABLE_TO_LOCK_ROW|ECONNRESET|socket hang up|ETIMEDOUT/;
const TRANSIENT_ATTEMPTS = 4;
const isTransientToken = (a: { error: string; errorDescription: string; status: number }): boolean =>
  a.status >= 500 || TRANSIENT_TOKEN.test(a.error) || TRANSIENT_TEXT.test(`${a.error} ${a.errorDescription}`);
const isTransientRest = (r: NonNullable<LiveResult['apiCall']>): boolean =>
  !r.ok && (r.status === 0 || (r.status !== undefined && r.status >= 500) || TRANSIENT_TEXT.test(r.error ?? ''));
const backoff = (attempt: number): Promise<void> =>
  new Promise((r) => setTimeout(r, Number(process.env.SF_INTEGRATION_RETRY_BASE_MS ?? 400) * 2 ** attempt));

/** The REST call, asked again on transient answers. */
const restCallRetried = async (issued: Issued, apiVersion: string): Promise<NonNullable<LiveResult['apiCall']>> => {
  for (let attempt = 1; ; attempt++) {
    // eslint-disable-next-line no-await-in-loop
    const answer = await restCall(issued, apiVersion);
    if (!isTransientRest(answer)) return attempt > 1 ? { ...answer, attempts: attempt } : answer;
    if (attempt >= TRANSIENT_ATTEMPTS) return { ...answer, transient: true, attempts: attempt };
    // eslint-disable-next-line no-await-in-loop
    await backoff(attempt - 1);
  }
};

/** What a new or changed app answers until it has propagated (Salesforce Help: "changes can take up to 10 minutes"). */
const PROPAGATION_ERRORS = /client identifier invalid|not installed in this org|user hasn't approved this consumer|app_not_found/i;

/**
 * The exchange the external system makes, then one REST call with the token. With `waitMinutes`, an answer that
 * means "not propagated yet" is asked again until the time is up.
 */
export const exchangeToken = async (org: TokenHosts, request: TokenRequest, opts: TokenOptions): Promise<LiveResult> => {
  const tokenUrl = tokenEndpoint(org, request.flow);
  const audience = request.flow === 'jwt' ? org.audience : undefined;
  const deadline = Date.now() + (opts.waitMinutes ?? 0) * 60_000;
  let transientTries = 0;
  for (let attempt = 1; ; attempt++) {
    // eslint-disable-next-line no-await-in-loop
    const answer = await requestToken(tokenUrl, request, org.audience);
    if (answer.ok) {
      // eslint-disable-next-line no-await-in-loop
      return { tokenExchange: { ok: true, loginUrl: tokenUrl, audience }, apiCall: await restCallRetried(answer.issued, opts.apiVersion) };
    }
    const failed = { ok: false, error: answer.error, errorDescription: answer.errorDescription, loginUrl: tokenUrl, audience, attempts: attempt };
    if (isTransientToken(answer)) {
      // Retried a few times with backoff, whatever --wait says: a 503 is not an answer about the integration.
      if (++transientTries >= TRANSIENT_ATTEMPTS) return { tokenExchange: { ...failed, transient: true } };
      // eslint-disable-next-line no-await-in-loop
      await backoff(transientTries - 1);
      continue;
    }
    const pair = `${answer.error} ${answer.errorDescription}`;
    // rotate: a replaced certificate refuses the new key with "invalid assertion" until it has propagated.
    const propagating = PROPAGATION_ERRORS.test(pair) || (opts.awaitCertificate === true && /invalid assertion/i.test(pair));
    if (!propagating || Date.now() >= deadline) return { tokenExchange: failed };
    debug(`the app has not propagated yet (${answer.error}): asking the token endpoint again`);
    // eslint-disable-next-line no-await-in-loop
    await new Promise((r) => setTimeout(r, opts.retryIntervalMs ?? 15_000));
  }
};

/**
 * Revokes one OAuth token (an access or refresh token, or an OauthToken's DeleteToken) with `POST /services/oauth2/revoke`
 * at the org's own host (Salesforce Help, "Revoke OAuth Tokens"). Already revoked or unknown tokens answer
 * `invalid_token`, which is reported as gone rather than failed.
 */
const revokeClients = new Map<string, OAuth2>();

export const revokeToken = async (instanceUrl: string, token: string): Promise<{ ok: boolean; gone?: boolean; error?: string }> => {
  const origin = new URL(instanceUrl).origin;
  // One client per org host: a bulk revocation reuses it (and its connections) for every token.
  let oauth2 = revokeClients.get(origin);
  if (!oauth2) revokeClients.set(origin, (oauth2 = new OAuth2({ loginUrl: origin })));
  const client = oauth2;
  try {
    // Transient answers (503, request limits, a dropped connection) are asked again, as every other call is.
    await withRetry(async () => {
      try {
        await client.revokeToken(token);
      } catch (e) {
        const { error, errorDescription } = tokenError(e);
        // A connection that failed keeps its own error, which the retry rule reads (reset, hang up, refused).
        if (error === 'connection_failed') throw e;
        throw new ApiCallError(error, errorDescription, Number(/^ERROR_HTTP_(\d+)$/.exec(error)?.[1] ?? 0) || undefined);
      }
    });
    debug('POST /services/oauth2/revoke ok');
    return { ok: true };
  } catch (e) {
    if (!(e instanceof ApiCallError)) {
      const { error, errorDescription } = tokenError(e);
      return { ok: false, error: `${error}: ${errorDescription}` };
    }
    debug(`POST /services/oauth2/revoke: ${e.errorCode}`);
    return e.errorCode === 'invalid_token' ? { ok: true, gone: true } : { ok: false, error: `${e.errorCode}: ${e.message}` };
  }
};
