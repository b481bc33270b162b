/*
 * Small helpers of the governance emulator tests (tokens, usage, staged credentials, propagation, fixtures): HTTP
 * calls to an in-process emulator, SOQL, and RS256 assertions signed with a test key.
 */
import { sign } from 'node:crypto';
import type { Emulator } from './index.js';

export type Answer = { status: number; body: unknown; text: string };
export type Json = Record<string, unknown>;

/** A request with a bearer token (default: the admin's), a form body or a JSON body. */
export const call = async (
  emu: Emulator,
  method: string,
  path: string,
  opts: { form?: Record<string, string>; json?: unknown; token?: string | null } = {}
): Promise<Answer> => {
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? emu.accessToken : opts.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  } else if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  const res = await fetch(`${emu.instanceUrl}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, text };
};

/** Every row of a SOQL query (following nextRecordsUrl), as the admin. */
export const soql = async (emu: Emulator, q: string, version = '66.0'): Promise<Json[]> => {
  const rows: Json[] = [];
  let next: string | undefined = `/services/data/v${version}/query?q=${encodeURIComponent(q)}`;
  while (next) {
    // eslint-disable-next-line no-await-in-loop -- pages follow one another
    const res = await call(emu, 'GET', next);
    if (res.status !== 200) throw new Error(`SOQL failed (${res.status}): ${res.text}`);
    const page = res.body as { records: Json[]; nextRecordsUrl?: string };
    rows.push(...page.records);
    next = page.nextRecordsUrl;
  }
  return rows;
};

export const count = async (emu: Emulator, q: string): Promise<number> => {
  const res = await call(emu, 'GET', `/services/data/v66.0/query?q=${encodeURIComponent(q)}`);
  return (res.body as { totalSize: number }).totalSize;
};

/** An RS256 JWT bearer assertion. */
export const assertion = (privateKeyPem: string, claims: Record<string, unknown>): string => {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${b64({ alg: 'RS256' })}.${b64(claims)}`;
  return `${body}.${sign('sha256', Buffer.from(body), privateKeyPem).toString('base64url')}`;
};

export const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** A JWT bearer login for `username` with the app's consumer key, `exp` five minutes after the org's now. */
export const jwtLogin = (emu: Emulator, privateKeyPem: string, consumerKey: string, username: string): Promise<Answer> =>
  call(emu, 'POST', '/services/oauth2/token', {
    token: null,
    form: {
      grant_type: JWT_GRANT,
      assertion: assertion(privateKeyPem, {
        iss: consumerKey,
        sub: username,
        aud: 'https://login.salesforce.com',
        exp: Math.floor(emu.store.now().getTime() / 1000) + 300,
      }),
    },
  });

/** The web server flow as a test can run it: the user's consent (POST /__emulator/authorize), then the code exchange. */
export const webServerLogin = async (
  emu: Emulator,
  client: { key: string; secret?: string },
  username: string,
  extra: Record<string, string> = {}
): Promise<Answer> => {
  const consent = await call(emu, 'POST', '/__emulator/authorize', { token: null, json: { client_id: client.key, username, redirect_uri: 'https://app.example/cb', ...extra } });
  if (consent.status !== 200) return consent;
  const { code } = consent.body as { code: string };
  return call(emu, 'POST', '/services/oauth2/token', {
    token: null,
    form: {
      grant_type: 'authorization_code',
      code,
      client_id: client.key,
      ...(client.secret ? { client_secret: client.secret } : {}),
      redirect_uri: 'https://app.example/cb',
      ...(extra.code_verifier ? { code_verifier: extra.code_verifier } : {}),
    },
  });
};

/** Moves the org's clock (emulator.now) by some seconds. */
export const advance = (emu: Emulator, seconds: number): void => {
  emu.store.settings.now = new Date(emu.store.now().getTime() + seconds * 1000).toISOString();
};
