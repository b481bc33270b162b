/*
 * Live OAuth exchanges, made exactly as the external system will make them: the JWT bearer flow (RS256 signed
 * assertion, iss = consumer key, sub = username, aud = login host) and the client-credentials flow (My Domain
 * only), then one REST call with the token. Secrets stay in memory; results carry no token text.
 * Wire format: ../shared/reference/salesforce-facts.md §3.
 */
/* eslint-disable camelcase -- OAuth's wire format: grant_type, client_id, error_description */
import { createSign, randomUUID } from 'node:crypto';

export type ExchangeResult = {
  ok: boolean;
  /** Salesforce's `error` / `error_description` on failure, or a transport error. */
  error?: string;
  errorDescription?: string;
  httpStatus?: number;
  tokenUrl: string;
  audience?: string;
  /** On success: where API calls go, and the token (kept in memory for the follow-up call only). */
  instanceUrl?: string;
  accessToken?: string;
  scope?: string;
};

const base64url = (input: Buffer | string): string => Buffer.from(input).toString('base64url');

/** An RS256 JWT bearer assertion. `expiresInSeconds` stays within Salesforce's 3-minute guidance. */
export const jwtAssertion = (args: { clientId: string; username: string; audience: string; privateKeyPem: string; now?: Date; expiresInSeconds?: number }): string => {
  const now = Math.floor((args.now ?? new Date()).getTime() / 1000);
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const claims = base64url(
    JSON.stringify({ iss: args.clientId, sub: args.username, aud: args.audience, exp: now + (args.expiresInSeconds ?? 180), iat: now, jti: randomUUID() })
  );
  const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(args.privateKeyPem);
  return `${header}.${claims}.${base64url(signature)}`;
};

const postToken = async (tokenUrl: string, form: Record<string, string>, audience?: string): Promise<ExchangeResult> => {
  const url = `${tokenUrl.replace(/\/$/, '')}/services/oauth2/token`;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
    });
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { error: `http_${response.status}`, error_description: text.slice(0, 200) };
    }
    if (!response.ok || typeof body.access_token !== 'string') {
      return {
        ok: false,
        error: String(body.error ?? `http_${response.status}`),
        errorDescription: String(body.error_description ?? ''),
        httpStatus: response.status,
        tokenUrl,
        audience,
      };
    }
    return {
      ok: true,
      httpStatus: response.status,
      tokenUrl,
      audience,
      instanceUrl: String(body.instance_url),
      accessToken: body.access_token,
      scope: typeof body.scope === 'string' ? body.scope : undefined,
    };
  } catch (e) {
    return { ok: false, error: 'connection_failed', errorDescription: e instanceof Error ? e.message : String(e), tokenUrl, audience };
  }
};

export const jwtExchange = (args: { tokenUrl: string; clientId: string; username: string; audience: string; privateKeyPem: string }): Promise<ExchangeResult> =>
  postToken(
    args.tokenUrl,
    { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwtAssertion(args) },
    args.audience
  );

export const clientCredentialsExchange = (args: { tokenUrl: string; clientId: string; clientSecret: string }): Promise<ExchangeResult> =>
  postToken(args.tokenUrl, { grant_type: 'client_credentials', client_id: args.clientId, client_secret: args.clientSecret });

/** One REST call with the new token: the resource list of the API version, which any API-enabled user may read. */
export const restCall = async (instanceUrl: string, accessToken: string, apiVersion: string): Promise<{ ok: boolean; status: number; error?: string }> => {
  try {
    const response = await fetch(`${instanceUrl.replace(/\/$/, '')}/services/data/v${apiVersion}/`, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
    });
    if (response.ok) return { ok: true, status: response.status };
    const body = (await response.json().catch(() => [])) as Array<{ errorCode?: string; message?: string }>;
    return { ok: false, status: response.status, error: body[0] ? `${body[0].errorCode ?? ''}: ${body[0].message ?? ''}` : `HTTP ${response.status}` };
  } catch (e) {
    return { ok: false, status: 0, error: e instanceof Error ? e.message : String(e) };
  }
};
