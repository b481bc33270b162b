/*
 * POST /services/oauth2/revoke (form `token=`; GET with ?token= too), as Salesforce documents it (Mobile SDK
 * Developer Guide "Revoking OAuth Tokens"; help remoteaccess_revoke_token.htm): "If an access token is included,
 * Salesforce invalidates it and revokes the token. If a refresh token is included, Salesforce revokes it and any
 * associated access tokens." 200 on success; "For all error conditions, Salesforce returns a 400 status code along
 * with one of the following error responses: unsupported_token_type, invalid_token". An admin revokes another
 * user's token by passing that OauthToken row's DeleteToken (Object Reference OauthToken, Usage).
 * A revocation is a change the client asked for: it counts as a write in the request log.
 */
/* eslint-disable camelcase -- OAuth wire names */
import { json, type EmuRequest, type EmuResponse, type Route } from './http.js';
import type { OrgStore } from './store.js';
import { revokeToken } from './tokens.js';

/** Which condition answers which of the two documented codes is not documented; the texts are unconfirmed. */
export const REVOKE_REFUSALS = {
  /** No token, or a token_type_hint other than access_token / refresh_token (RFC 7009 §2.2.1 reading). */
  unsupportedTokenType: { error: 'unsupported_token_type', error_description: 'unsupported token type' },
  /** A token the org does not know, or one already revoked. */
  invalidToken: { error: 'invalid_token', error_description: 'invalid token' },
} as const;

const HINTS = ['access_token', 'refresh_token'];

const revoke = (req: EmuRequest, _m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  const params = new URLSearchParams(req.body.length ? req.body.toString('utf8') : '');
  for (const [k, v] of req.url.searchParams) if (!params.has(k)) params.set(k, v);
  const token = params.get('token') ?? '';
  const hint = params.get('token_type_hint');
  if (token === '' || (hint !== null && !HINTS.includes(hint))) return json(400, REVOKE_REFUSALS.unsupportedTokenType);
  if (!revokeToken(store, token)) return json(400, REVOKE_REFUSALS.invalidToken);
  store.writeCount++;
  return { status: 200, headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: '' };
};

export const revokeRoutes = (): Route[] => [
  { method: 'POST', pattern: /^\/services\/oauth2\/revoke\/?$/, auth: 'none', handler: revoke },
  { method: 'GET', pattern: /^\/services\/oauth2\/revoke\/?$/, auth: 'none', handler: revoke },
];
