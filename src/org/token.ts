/*
 * The one live token exchange: create's verification, doctor's live checks and (to come) rotate's verification. It
 * posts where the org expects the external system to post (tokenEndpoint), signs the JWT as the external system will
 * (RS256, iss = consumer key, sub = username, aud = login or test host), then makes one REST call with the token.
 * HTTP goes through jsforce, as every other request of the CLI does: jsforce's OAuth2 for the token endpoint and its
 * Transport for the REST call, so HTTPS_PROXY / HTTP_PROXY, timeouts and debug logging behave the same. Secrets and
 * tokens stay in memory; the result carries none. Wire format: Salesforce Help "OAuth 2.0 JWT Bearer Flow for
 * Server-to-Server Integration" and "OAuth 2.0 Client Credentials Flow for Server-to-Server Integration".
 */
/* eslint-disable camelcase -- OAuth's wire format: grant_type, access_token, instance_url */
import { createSign, randomUUID } from 'node:crypto';
import { Logger } from '@salesforce/core';
import { OAuth2 } from '@jsforce/jsforce-node';
import { Transport } from '@jsforce/jsforce-node/lib/transport.js';
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
type TokenAnswer = { ok: true; issued: Issued } | { ok: false; error: string; errorDescription: string };

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
      const body = JSON.parse(message) as { error?: unknown; error_description?: unknown };
      if (typeof body.error === 'string') return { error: body.error, errorDescription: String(body.error_description ?? '').slice(0, 200) };
    } catch {
      // not JSON: keep jsforce's ERROR_HTTP_<status> and the body's start
    }
  }
  return { error: name, errorDescription: message.slice(0, 200) };
};

const requestToken = async (tokenUrl: string, request: TokenRequest, audience: string): Promise<TokenAnswer> => {
  // A JWT names its client inside the assertion: the OAuth2 client carries no id, so no client_id is sent (as sf org login jwt).
  const oauth2 =
    request.flow === 'jwt'
      ? new OAuth2({ loginUrl: tokenUrl })
      : new OAuth2({ loginUrl: tokenUrl, clientId: request.clientId, clientSecret: request.clientSecret });
  const params: Exclude<Parameters<OAuth2['requestToken']>[0], string> =
    request.flow === 'jwt'
      ? { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwtAssertion({ ...request, audience }) }
      : { grant_type: 'client_credentials' };
  const label = `POST ${new URL(tokenUrl).origin}/services/oauth2/token (${request.flow === 'jwt' ? 'jwt-bearer' : 'client_credentials'})`;
  try {
    const body = (await oauth2.requestToken(params)) as unknown as { access_token?: unknown; instance_url?: unknown };
    if (typeof body?.access_token !== 'string') {
      debug(`${label} answered without an access token`);
      return { ok: false, error: 'invalid_response', errorDescription: 'The token endpoint answered without an access token.' };
    }
    debug(`${label} ok`);
    return { ok: true, issued: { accessToken: body.access_token, instanceUrl: String(body.instance_url ?? tokenUrl) } };
  } catch (e) {
    const failure = tokenError(e);
    debug(`${label} failed: ${failure.error}`);
    return { ok: false, ...failure };
  }
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
  for (;;) {
    // eslint-disable-next-line no-await-in-loop
    const answer = await requestToken(tokenUrl, request, org.audience);
    if (answer.ok) {
      // eslint-disable-next-line no-await-in-loop
      return { tokenExchange: { ok: true, loginUrl: tokenUrl, audience }, apiCall: await restCall(answer.issued, opts.apiVersion) };
    }
    const transient = PROPAGATION_ERRORS.test(`${answer.error} ${answer.errorDescription}`);
    if (!transient || Date.now() >= deadline) {
      return { tokenExchange: { ok: false, error: answer.error, errorDescription: answer.errorDescription, loginUrl: tokenUrl, audience } };
    }
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
export const revokeToken = async (instanceUrl: string, token: string): Promise<{ ok: boolean; gone?: boolean; error?: string }> => {
  try {
    await new OAuth2({ loginUrl: new URL(instanceUrl).origin }).revokeToken(token);
    debug('POST /services/oauth2/revoke ok');
    return { ok: true };
  } catch (e) {
    const { error, errorDescription } = tokenError(e);
    debug(`POST /services/oauth2/revoke: ${error}`);
    return error === 'invalid_token' ? { ok: true, gone: true } : { ok: false, error: `${error}: ${errorDescription}` };
  }
};
