/*
 * The org's OAuth endpoints: POST /services/oauth2/token (JWT bearer, client credentials, the web server flow's
 * authorization_code and refresh_token grants; every other grant is refused the way the org refuses it),
 * GET /services/oauth2/userinfo and the identity URL GET /id/{orgId}/{userId}. Revocation is in revoke.ts; the
 * OauthToken rows behind refresh tokens in tokens.ts.
 *
 * The token endpoint behaves like Salesforce's: the assertion's RS256 signature is verified against the app's
 * certificate with node:crypto, and every refusal answers HTTP 400 `{"error","error_description"}` with
 * Salesforce's own strings. Every attempt, good or bad, leaves a LoginHistory row (LoginType 'Remote Access 2.0')
 * written as Salesforce's bookkeeping ({ system: true }), so token requests never count as client writes.
 *
 * Sources: ../shared/reference/salesforce-facts.md §3 (wire format, error table), §4 (how `sf org login jwt`
 * signs: exp in MILLISECONDS, aud = the --instance-url first), §1.12 (LoginHistory), wire/oauth-*.json, seed 001
 * (setup + troubleshooting list) and seed 004 (client credentials). Every pair that no reference settles is in
 * OAUTH_REFUSALS below, with its source or "UNCONFIRMED", so it can be corrected in one place.
 */
/* eslint-disable camelcase -- Salesforce wire format (access_token, error_description, user_id, ...) */
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { bool, findAppByConsumerKey, type EmuApp } from './apps.js';
import { json, type EmuRequest, type EmuResponse, type Route } from './http.js';
import { effectiveCertificate, servedSince } from './propagation.js';
import { stagedClient } from './staged-credentials.js';
import { newAccessToken, type OrgStore, type Session, type SRecord } from './store.js';
import { appOfRow, isFrozen, linkSession, recordApproval, recordServerToServerLogin, rowOfRefreshToken, takeCode, touchRow } from './tokens.js';

// =====================================================================================================================
// THE TABLE: every condition -> error pair (+ the LoginHistory.Status written), with its source.
// "UNCONFIRMED" = no captured Salesforce response found; the choice is the emulator's and can be changed here.
// =====================================================================================================================

export type OAuthRefusal = {
  /** `error` of the HTTP 400 body. */
  error: string;
  /** `error_description` of the HTTP 400 body. */
  description: string;
  /** LoginHistory.Status of the failed attempt. */
  loginStatus: string;
  /** Where the pair comes from. */
  source: string;
};

export const OAUTH_REFUSALS = {
  // ---- any grant ------------------------------------------------------------------------------------------------
  unsupportedGrant: {
    error: 'unsupported_grant_type',
    description: 'grant type not supported',
    loginStatus: 'Failed: Grant type not supported',
    source:
      'reference §3.1 table; captured in aaronhuggins/sf-jwt-token#1 and forcedotcom/sfdx-core doctor test fixture. Used for grant types the org does not serve (password: blocked by default in new orgs — pair for that case UNCONFIRMED).',
  },
  unknownClient: {
    error: 'invalid_client_id',
    description: 'client identifier invalid',
    loginStatus: 'Failed: OAuth Client Id is invalid',
    source: 'reference §3.1/§3.2 (arthurimirzian/salesforce-jwt-bearer-token-flow#4, pozil/salesforce-react-integration#15). LoginHistory status UNCONFIRMED.',
  },
  /** A Connected App changed/created less than propagationSeconds ago: the org does not know its key yet. */
  connectedAppNotPropagated: {
    error: 'invalid_client_id',
    description: 'client identifier invalid',
    loginStatus: 'Failed: OAuth Client Id is invalid',
    source:
      'pozil/salesforce-react-integration#15 (maintainer: config changes take 5-10 min, meanwhile "client identifier invalid"). Modelled with emulator.propagationSeconds.',
  },
  /** An External Client App not (yet) propagated, or whose OAuth plugin policy is disabled. */
  ecaNotInstalled: {
    error: 'app_not_found',
    description: 'External client app is not installed in this org',
    loginStatus: 'Failed: External client app is not installed',
    source:
      'forcedotcom/cli#3482 (intermittent on a new ECA, went away later); `app_not_found` code from captured responses in public repos (jsforce OAuth2._postParams stack trace, a Netlify function log). Use for the disabled plugin policy: UNCONFIRMED. LoginHistory status UNCONFIRMED.',
  },

  // ---- JWT bearer -----------------------------------------------------------------------------------------------
  invalidAssertion: {
    error: 'invalid_grant',
    description: 'invalid assertion',
    loginStatus: 'Failed: Invalid assertion',
    source: 'reference §3.1 (frankkessler/salesforce-laravel-oauth2-rest#68); seed 001 troubleshooting "invalid_grant: invalid assertion". Covers malformed JWT, alg other than RS256, bad signature. LoginHistory status UNCONFIRMED.',
  },
  /** The app has no certificate: JWT bearer not enabled on it. */
  jwtNotEnabled: {
    error: 'invalid_grant',
    description: 'invalid assertion',
    loginStatus: 'Failed: Invalid assertion',
    source: 'UNCONFIRMED (no capture for an app without "Use digital signatures"; nothing to verify the signature with, so the assertion is refused).',
  },
  audience: {
    error: 'invalid_grant',
    description: 'audience is invalid',
    loginStatus: 'Failed: Audience is invalid',
    source: 'wire/oauth-token-error-invalid-grant-audience.json (REAL); seed 001 troubleshooting. LoginHistory status UNCONFIRMED.',
  },
  expired: {
    error: 'invalid_grant',
    description: 'expired authorization code',
    loginStatus: 'Failed: Expired assertion',
    source: 'reference §3.1 (salesforce.stackexchange q/282513: JWT exp in the past). Missing exp treated the same: UNCONFIRMED.',
  },
  /** No user with the `sub`/`prn` username in this org (e.g. a sandbox-suffixed username). */
  unknownUser: {
    error: 'invalid_grant',
    description: "user hasn't approved this consumer",
    loginStatus: 'Failed: User not found',
    source: 'UNCONFIRMED (common report that a wrong username also yields "user hasn\'t approved this consumer"; omniphx/forrest#278 comments). No UserId on the LoginHistory row.',
  },
  inactiveUser: {
    error: 'invalid_grant',
    description: 'inactive user',
    loginStatus: 'Failed: User is inactive',
    source: 'restforce/restforce#303 ("invalid_grant: inactive user"); the same text in vendor error catalogues. LoginHistory status UNCONFIRMED.',
  },
  /** UserLogin.IsFrozen: "a frozen user cannot log in; the account stays active" (governance-facts §2). */
  frozenUser: {
    error: 'invalid_grant',
    description: 'authentication failure',
    loginStatus: 'User Is Frozen',
    source:
      'Pair UNCONFIRMED: no capture of a frozen user at the token endpoint; "authentication failure" is Salesforce\'s generic invalid_grant text. LoginHistory status "User Is Frozen" from the salesforce.stackexchange community list of observed values (q/146422) [third-party].',
  },
  /** The user has neither API Enabled on the profile nor on an assigned, unexpired permission set. */
  apiDisabled: {
    error: 'invalid_grant',
    description: 'API is disabled for this User',
    loginStatus: 'Failed: API is disabled for this User',
    source:
      'UNCONFIRMED at the token endpoint. Text is Salesforce\'s for the same condition on the API (API_CURRENTLY_DISABLED "API is disabled for this User"). Seed 001 lists missing API Enabled under "not authorized". NB forcedotcom/salesforcedx-vscode#2387 suggests real orgs may issue the token and refuse the first REST call with API_DISABLED_FOR_ORG instead.',
  },
  /** Permitted Users = Admin approved users are pre-authorized, user holds none of the app's permission sets/profiles. */
  notAdminApproved: {
    error: 'invalid_app_access',
    description: 'user is not admin approved to access this app',
    loginStatus: 'Failed: Not approved for access',
    source: 'seed 001 step 6 + troubleshooting; reference §3.1 (jetstreamapp/jetstream#656; forcedotcom/cli#3260 "invalid_app_access::user is not admin approved to access this app"). LoginHistory status: reference §1.12 [3P].',
  },
  /** No (live) approval: self-authorized app never approved, refresh policy `zero`, or the approval aged out. */
  notApproved: {
    error: 'invalid_grant',
    description: "user hasn't approved this consumer",
    loginStatus: 'Failed: Not approved for access',
    source:
      'reference §3.1 (omniphx/forrest#278, forcedotcom/cli#1028/#2857); seed 001 troubleshooting (refresh token policy ages the approval out). LoginHistory status: reference §1.12 [3P].',
  },
  /** The app lacks the refresh_token/offline_access scope (seed 001: required for JWT bearer exchanges). */
  missingRefreshScope: {
    error: 'invalid_grant',
    description: "user hasn't approved this consumer",
    loginStatus: 'Failed: Not approved for access',
    source: 'seed 001 step 2 says the scope "is required for Salesforce to accept JWT Bearer exchanges"; the pair is UNCONFIRMED.',
  },
  /** Profile Login IP Ranges exclude the source IP and the app's IP relaxation enforces them. */
  ipRestricted: {
    error: 'invalid_grant',
    description: 'ip restricted',
    loginStatus: 'Restricted IP',
    source:
      'Captured {"error":"invalid_grant","error_description":"ip restricted"} (Appfire KB from a HAR capture, SFDO MetaDeploy tests); the KB also gives LoginHistory Status "Restricted IP" with LoginType "Remote Access 2.0". Older clients match "ip restricted or invalid login hours". Seed 001 calls it "not authorized".',
  },

  // ---- client credentials ---------------------------------------------------------------------------------------
  ccWrongDomain: {
    error: 'invalid_grant',
    description: 'request not supported on this domain',
    loginStatus: 'Failed: Request not supported on this domain',
    source: 'reference §3.2 (help text: login/test hosts are not supported for this flow; many captured reports). LoginHistory status UNCONFIRMED.',
  },
  ccBadSecret: {
    error: 'invalid_client',
    description: 'invalid client credentials',
    loginStatus: 'Failed: Invalid client credentials',
    source: 'reference §3.2; forcedotcom/mcp-hosted#7 (invalid_client / invalid client credentials). LoginHistory status UNCONFIRMED.',
  },
  ccNotEnabled: {
    error: 'unsupported_grant_type',
    description: 'grant type not supported',
    loginStatus: 'Failed: Grant type not supported',
    source: 'reference §3.2 ("unsupported_grant_type (flow not enabled)"); public troubleshooting notes quote {"error":"unsupported_grant_type","error_description":"grant type not supported"} for a Connected App without the flow.',
  },
  ccNoUser: {
    error: 'invalid_grant',
    description: 'no client credentials user enabled',
    loginStatus: 'Failed: No client credentials user enabled',
    source: 'reference §3.2 (many independent captures). Also used when the Run As username matches no user: UNCONFIRMED.',
  },
  ccInactiveUser: {
    error: 'invalid_grant',
    description: 'inactive user',
    loginStatus: 'Failed: User is inactive',
    source: 'UNCONFIRMED for this flow (text is the one captured for inactive users on other grants, restforce#303).',
  },
  /** Run As user without API Only User ("This user must have the API Only permission", metadata docs). */
  ccUserNotApiOnly: {
    error: 'invalid_grant',
    description: 'no client credentials user enabled',
    loginStatus: 'Failed: Client credentials user is not API only',
    source: 'UNCONFIRMED. Metadata API docs require the Run As user to have API Only (reference §2.1/§2.2, seed 004); the emulator treats a user without it as no valid Run As user.',
  },

  // ---- other grants -----------------------------------------------------------------------------------------------
  invalidCode: {
    error: 'invalid_grant',
    description: 'invalid authorization code',
    loginStatus: 'Failed: Invalid authorization code',
    source:
      'Captured in a public Salesforce browser-extension test ({"error":"invalid_grant","error_description":"invalid authorization code"} from <mydomain>.my.salesforce.com). Codes come from POST /__emulator/authorize (tokens.ts); an unknown, used, expired or other client\'s code, a redirect_uri or PKCE verifier that does not fit, all answer this (the PKCE case is UNCONFIRMED).',
  },
  invalidRefreshToken: {
    error: 'invalid_grant',
    description: 'expired access/refresh token',
    loginStatus: 'Failed: Expired access/refresh token',
    source:
      'wire/oauth-token-error-invalid-grant-expired-refresh.json (text real). Answered for a revoked or unknown refresh token, one of another client, and one whose approval aged out under the refresh token policy.',
  },
} as const satisfies Record<string, OAuthRefusal>;

export type RefusalKey = keyof typeof OAUTH_REFUSALS;

/**
 * Emulator choices that no public source settles, kept here so they can be corrected in one place.
 */
export const OAUTH_MODEL = {
  /** Requests reach the emulator from this address unless emulator.sourceIp says otherwise. */
  defaultSourceIp: '127.0.0.1',
  /**
   * Login IP ranges live in the emulator settings, by Profile Name, e.g.
   * `"emulator": { "loginIpRanges": { "Minimum Access - API Only Integrations": [{ "start": "10.0.0.0", "end": "10.0.0.255" }] } }`.
   * A profile without an entry has no restriction. The app's IP relaxation decides whether they apply:
   * ENFORCE and ENFORCE_RELAXREFRESH enforce them, BYPASS and BYPASS_2FACTOR relax them (seed 001 step 4).
   */
  ipEnforcingPolicies: ['ENFORCE', 'ENFORCE_RELAXREFRESH'] as readonly string[],
  /**
   * Approval aging (seed 001 step 4: "Salesforce internally checks for a non-expired approval record for the user
   * before issuing an access token, and any other setting causes that approval to age out"):
   * (1) The approval of an admin-approved user starts at the later of the app's last change and the association of
   * the granting permission set / profile with the app (SetupEntityAccess.SystemModstamp). Re-associating the
   * permission set (or changing the app) renews it.
   * (2) The approval of a self-authorizing user is an OauthToken row for the user and the app (AppMenuItemId or
   * AppName = app label / API name); it starts at OauthToken.CreatedDate.
   * (3) Refresh token policy `infinite`: never ages. `zero`: there is never an approval. `specific_lifetime:N:UNIT`:
   * ages out N UNITs after it starts. `specific_inactivity:N:UNIT`: ages out N UNITs after its start or the
   * user's last successful token for this app (OauthToken.LastUsedDate for self-authorized), whichever is later.
   * UNIT is HOURS, DAYS or MONTHS (calendar months). Time is store.now().
   */
  approvalAging: true,
  /**
   * Propagation: an app created or changed less than emulator.propagationSeconds ago refuses like an app the org
   * does not know yet: External Client App -> ecaNotInstalled, Connected App -> connectedAppNotPropagated. An ECA
   * whose plugin policy is disabled (ExtlClntAppConfigurablePolicies.isEnabled / isOauthPluginEnabled false)
   * answers ecaNotInstalled too.
   */
  propagation: true,
  /** JWT bearer needs the app's RefreshToken (refresh_token, offline_access) scope (seed 001 step 2). */
  jwtRequiresRefreshTokenScope: true,
  /** Order of the JWT checks (first failure wins). */
  jwtCheckOrder: [
    'invalidAssertion (parse, alg)',
    'unknownClient',
    'ecaNotInstalled | connectedAppNotPropagated',
    'jwtNotEnabled',
    'invalidAssertion (signature)',
    'audience',
    'expired',
    'unknownUser',
    'inactiveUser',
    'frozenUser',
    'apiDisabled',
    'missingRefreshScope',
    'notAdminApproved',
    'notApproved (self-authorized / zero / aged out)',
    'ipRestricted',
  ] as readonly string[],
} as const;

/** Salesforce scope names (metadata enum) -> the OAuth scope tokens a token response lists. Names as captured in
 * wire/oauth-token-webserver-with-api-instance-url.json (which lists refresh_token without offline_access). */
export const OAUTH_SCOPE_NAMES: Record<string, string> = {
  Api: 'api',
  Basic: 'id',
  Web: 'web',
  Full: 'full',
  RefreshToken: 'refresh_token',
  OfflineAccess: 'offline_access',
  OpenID: 'openid',
  Profile: 'profile',
  Email: 'email',
  Address: 'address',
  Phone: 'phone',
  Chatter: 'chatter_api',
  CustomApplications: 'visualforce',
  CustomPermissions: 'custom_permissions',
  Wave: 'wave_api',
  Eclair: 'eclair_api',
  Pardot: 'pardot_api',
  Lightning: 'lightning',
  Content: 'content',
  CDPIngest: 'cdp_ingest_api',
  CDPProfile: 'cdp_profile_api',
  CDPQuery: 'cdp_query_api',
  CDPSegment: 'cdp_segment_api',
  CDPIdentityResolution: 'cdp_identityresolution_api',
  CDPCalculatedInsight: 'cdp_calculated_insight_api',
  Chatbot: 'chatbot_api',
  ForgotPassword: 'forgot_password',
  UserRegistration: 'user_registration_api',
  PwdlessLogin: 'pwdless_login_api',
  SFApiPlatform: 'sfap_api',
  Interaction: 'interaction_api',
  EinsteinGPT: 'einstein_gpt_api',
  MCP: 'mcp_api',
};

// =====================================================================================================================

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const LOGIN_HOST = 'login.salesforce.com';
const TEST_HOST = 'test.salesforce.com';

/** True when a session may be used on the SOAP APIs (Metadata, Partner) and Bulk API: JWT-format named-user
 * access tokens may not (seed 001). For metadata.ts. */
export const isSoapUsableSession = (session: Session | undefined): boolean => Boolean(session) && session?.namedUserJwt !== true;

/** Scope tokens for an app's metadata scope names. */
export const oauthScopes = (app: EmuApp): string[] => {
  const out: string[] = [];
  for (const s of app.scopes) {
    const name = OAUTH_SCOPE_NAMES[s] ?? s.toLowerCase();
    if (!out.includes(name)) out.push(name);
  }
  return out;
};

class Refusal extends Error {
  public constructor(public readonly key: RefusalKey) {
    super(OAUTH_REFUSALS[key].description);
  }
}

type Attempt = { app?: EmuApp; user?: SRecord };

// ---- helpers ----------------------------------------------------------------------------------------------------

const parseSfDate = (v: unknown): number | undefined => {
  if (typeof v !== 'string' || !v) return undefined;
  const t = Date.parse(v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(t) ? undefined : t;
};

const b64urlJson = (part: string): unknown => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

const formParams = (req: EmuRequest): URLSearchParams => {
  const params = new URLSearchParams(req.body.length ? req.body.toString('utf8') : '');
  for (const [k, v] of req.url.searchParams) if (!params.has(k)) params.set(k, v);
  return params;
};

const hostOf = (req: EmuRequest): string => String(req.headers.host ?? '').toLowerCase();
const hostname = (host: string): string => host.replace(/:\d+$/, '');

const organization = (store: OrgStore): SRecord | undefined => store.all('Organization')[0];
const isSandbox = (store: OrgStore): boolean => organization(store)?.IsSandbox === true;

const normalizeUrl = (u: string): string => u.trim().replace(/\/+$/, '').toLowerCase();

const ipToNumber = (ip: string): number | undefined => {
  const parts = ip.trim().split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d{1,3}$/.test(p) || v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
};

const sourceIp = (store: OrgStore): string => store.settings.sourceIp ?? OAUTH_MODEL.defaultSourceIp;

const userByUsername = (store: OrgStore, username: string): SRecord | undefined =>
  store.all('User').find((u) => String(u.Username).toLowerCase() === username.toLowerCase());

/** Permission sets the user holds now: assignments whose ExpirationDate is empty or in the future. */
const heldPermissionSets = (store: OrgStore, user: SRecord): SRecord[] => {
  const now = store.now().getTime();
  const out: SRecord[] = [];
  for (const a of store.all('PermissionSetAssignment')) {
    if (a.AssigneeId !== user.Id) continue;
    const exp = parseSfDate(a.ExpirationDate);
    if (exp !== undefined && exp <= now) continue;
    const ps = store.get(String(a.PermissionSetId));
    if (ps) out.push(ps);
  }
  return out;
};

const hasPermission = (store: OrgStore, user: SRecord, perm: string): boolean => {
  const profile = store.get(String(user.ProfileId ?? ''));
  if (profile && bool(profile[`Permissions${perm}`])) return true;
  return heldPermissionSets(store, user).some((ps) => bool(ps[`Permissions${perm}`]));
};

const addUnits = (start: number, n: number, unit: string): number => {
  const d = new Date(start);
  switch (unit.toUpperCase()) {
    case 'HOURS':
      return start + n * 3_600_000;
    case 'MONTHS':
      d.setUTCMonth(d.getUTCMonth() + n);
      return d.getTime();
    default:
      return start + n * 86_400_000;
  }
};

/** Last successful token per app:user (for inactivity-based refresh token policies). */
const lastUse = new WeakMap<OrgStore, Map<string, number>>();
const lastUseOf = (store: OrgStore): Map<string, number> => {
  let m = lastUse.get(store);
  if (!m) {
    m = new Map();
    lastUse.set(store, m);
  }
  return m;
};

/** True while an approval that started at `start` (and was last used at `used`) is alive under the app's policy. */
const approvalAlive = (store: OrgStore, app: EmuApp, start: number, used: number | undefined): boolean => {
  const policy = app.refreshTokenPolicy;
  if (policy === 'infinite' || !policy) return true;
  if (policy === 'zero') return false;
  const m = /^specific_(lifetime|inactivity):(\d+):(\w+)$/i.exec(policy);
  if (!m) return true;
  const from = m[1].toLowerCase() === 'inactivity' ? Math.max(start, used ?? start) : start;
  return store.now().getTime() < addUnits(from, Number(m[2]), m[3]);
};

const latest = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.max(a, b);

const appMenuItemId = (store: OrgStore, app: EmuApp): string | undefined =>
  store.all('AppMenuItem').find((i) => i.ApplicationId === app.id)?.Id;

/** Admin-approved app: the permission sets / profile through which the user is pre-authorized, with the time each
 * association with the app was made. */
const adminGrants = (store: OrgStore, app: EmuApp, user: SRecord): number[] => {
  const appChanged = app.lastModifiedDate.getTime();
  const seaTime = (parentId: string | undefined): number => {
    const row = parentId ? store.all('SetupEntityAccess').find((r) => r.ParentId === parentId && r.SetupEntityId === app.id) : undefined;
    return Math.max(appChanged, parseSfDate(row?.SystemModstamp) ?? appChanged);
  };
  const grants: number[] = [];
  for (const ps of heldPermissionSets(store, user)) {
    if (app.permissionSetIds.includes(ps.Id)) grants.push(seaTime(ps.Id));
  }
  const profileId = String(user.ProfileId ?? '');
  if (app.profileIds.includes(profileId)) {
    const owned = store.all('PermissionSet').find((p) => p.IsOwnedByProfile === true && p.ProfileId === profileId);
    grants.push(seaTime(owned?.Id));
  }
  return grants;
};

/** Self-authorizing app: the user's approvals are OauthToken rows for the app. */
const selfApprovals = (store: OrgStore, app: EmuApp, user: SRecord): Array<{ start: number; used?: number }> => {
  const menuId = appMenuItemId(store, app);
  return store
    .all('OauthToken')
    .filter((t) => t.UserId === user.Id && ((menuId !== undefined && t.AppMenuItemId === menuId) || t.AppName === app.label || t.AppName === app.fullName))
    .map((t) => ({ start: parseSfDate(t.CreatedDate) ?? 0, used: parseSfDate(t.LastUsedDate) }));
};

/** Propagation and plugin policy: the refusal for an app the org does not (yet) serve, if any. */
const unavailable = (store: OrgStore, app: EmuApp): RefusalKey | undefined => {
  const seconds = Number(store.settings.propagationSeconds ?? 0);
  const young = seconds > 0 && store.now().getTime() - servedSince(store, app).getTime() < seconds * 1000;
  if (app.kind === 'ExternalClientApplication' && (young || !app.enabled)) return 'ecaNotInstalled';
  if (app.kind === 'ConnectedApp' && young) return 'connectedAppNotPropagated';
  return undefined;
};

const ipAllowed = (store: OrgStore, app: EmuApp, user: SRecord): boolean => {
  if (!OAUTH_MODEL.ipEnforcingPolicies.includes(app.ipRelaxation)) return true;
  const profile = store.get(String(user.ProfileId ?? ''));
  const ranges = profile ? store.settings.loginIpRanges?.[String(profile.Name)] : undefined;
  if (!ranges || ranges.length === 0) return true;
  const ip = ipToNumber(sourceIp(store));
  if (ip === undefined) return false;
  return ranges.some((r) => {
    const lo = ipToNumber(r.start);
    const hi = ipToNumber(r.end);
    return lo !== undefined && hi !== undefined && ip >= lo && ip <= hi;
  });
};

// ---- named-user JWT access tokens -------------------------------------------------------------------------------

const orgKeys = new WeakMap<OrgStore, KeyObject>();
const orgSigningKey = (store: OrgStore): KeyObject => {
  let k = orgKeys.get(store);
  if (!k) {
    k = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    orgKeys.set(store, k);
  }
  return k;
};

/** The public key the org signs named-user JWT access tokens with (for tests that want to check the token). */
export const namedUserJwtPublicKey = (store: OrgStore): KeyObject => createPublicKey(orgSigningKey(store));

const jwtAccessToken = (store: OrgStore, app: EmuApp, user: SRecord, scopes: string[]): string => {
  const now = Math.floor(store.now().getTime() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', kid: 'EMU' };
  const payload = {
    iss: store.instanceUrl,
    sub: `uid:${user.Id}`,
    aud: app.consumerKey,
    scp: scopes,
    mty: 'oauth',
    tty: 'sfdc-core-token',
    orgId: store.orgId,
    iat: now,
    exp: now + 7200,
    jti: randomUUID(),
  };
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${enc(header)}.${enc(payload)}`;
  return `${body}.${sign('sha256', Buffer.from(body), orgSigningKey(store)).toString('base64url')}`;
};

// ---- token issuing ----------------------------------------------------------------------------------------------

/** The identity URL host: the login host the request was addressed to, else the org's own URL. */
const idBase = (store: OrgStore, req: EmuRequest): string => {
  const h = hostname(hostOf(req));
  return h === LOGIN_HOST || h === TEST_HOST ? `https://${h}` : store.instanceUrl;
};

/** The response of a successful grant: the access token (a new session), and the refresh token when one is issued. */
const issue = (store: OrgStore, req: EmuRequest, app: EmuApp, user: SRecord, refreshToken?: string): EmuResponse => {
  const scopes = oauthScopes(app);
  const token = app.namedUserJwt ? jwtAccessToken(store, app, user, scopes) : newAccessToken(store.orgId);
  const issuedAt = String(store.now().getTime());
  store.sessions.set(token, {
    token,
    userId: user.Id,
    appId: app.id,
    scopes,
    issuedAt: Number(issuedAt),
    ...(app.namedUserJwt ? { namedUserJwt: true } : {}),
  });
  lastUseOf(store).set(`${app.id}:${user.Id}`, store.now().getTime());
  const id = `${idBase(store, req)}/id/${store.orgId}/${user.Id}`;
  const signature = createHmac('sha256', app.consumerSecret ?? '').update(id + issuedAt).digest('base64');
  return json(
    200,
    {
      access_token: token,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      signature,
      scope: scopes.join(' '),
      instance_url: store.instanceUrl,
      id,
      token_type: 'Bearer',
      issued_at: issuedAt,
    },
    { 'cache-control': 'no-cache,must-revalidate,max-age=0,no-store,private' }
  );
};

const logAttempt = (store: OrgStore, req: EmuRequest, attempt: Attempt, status: string): void => {
  store.insert(
    'LoginHistory',
    {
      ...(attempt.user ? { UserId: attempt.user.Id } : {}),
      LoginTime: store.timestamp(),
      LoginType: 'Remote Access 2.0',
      Status: status,
      Application: attempt.app?.label ?? 'N/A',
      LoginUrl: hostOf(req),
      SourceIp: sourceIp(store),
      Browser: 'Unknown',
      Platform: 'Unknown',
      ApiType: 'N/A',
      ApiVersion: 'N/A',
    },
    { system: true }
  );
};

const refusalResponse = (key: RefusalKey): EmuResponse => {
  const r = OAUTH_REFUSALS[key];
  return json(400, { error: r.error, error_description: r.description });
};

// ---- the grants -------------------------------------------------------------------------------------------------

type JwtClaims = { iss?: unknown; sub?: unknown; prn?: unknown; aud?: unknown; exp?: unknown };

type ParsedAssertion = { signingInput: string; signature: Buffer; claims: JwtClaims };

/** Splits and decodes the assertion; anything but a well-formed RS256 JWT is an invalid assertion. */
const parseAssertion = (assertion: string): ParsedAssertion => {
  const parts = assertion.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new Refusal('invalidAssertion');
  let header: unknown;
  let claims: unknown;
  try {
    header = b64urlJson(parts[0]);
    claims = b64urlJson(parts[1]);
  } catch {
    throw new Refusal('invalidAssertion');
  }
  const alg = header && typeof header === 'object' ? (header as { alg?: unknown }).alg : undefined;
  if (alg !== 'RS256' || !claims || typeof claims !== 'object') throw new Refusal('invalidAssertion');
  return { signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url'), claims: claims as JwtClaims };
};

/** RS256 verification against the app's certificate (node:crypto). */
const verifySignature = (store: OrgStore, app: EmuApp, parsed: ParsedAssertion): void => {
  // The certificate in effect: during a replacement's propagation window, possibly the previous one (propagation.ts).
  const certificate = effectiveCertificate(store, app);
  if (!certificate) throw new Refusal('jwtNotEnabled');
  let publicKey: KeyObject;
  try {
    publicKey = new X509Certificate(certificate).publicKey;
  } catch {
    throw new Refusal('jwtNotEnabled');
  }
  let good = false;
  try {
    good = verify('sha256', Buffer.from(parsed.signingInput), publicKey, parsed.signature);
  } catch {
    good = false;
  }
  if (!good) throw new Refusal('invalidAssertion');
};

/** aud: login.salesforce.com (production) or test.salesforce.com (sandbox), or the org's own URL / My Domain. */
const checkAudience = (store: OrgStore, claims: JwtClaims): void => {
  const audiences = (Array.isArray(claims.aud) ? (claims.aud as unknown[]) : [claims.aud]).filter((a): a is string => typeof a === 'string');
  const accepted = [isSandbox(store) ? `https://${TEST_HOST}` : `https://${LOGIN_HOST}`, store.instanceUrl, store.settings.myDomainUrl]
    .filter((u): u is string => typeof u === 'string' && u !== '')
    .map(normalizeUrl);
  if (!audiences.some((a) => accepted.includes(normalizeUrl(a)))) throw new Refusal('audience');
};

/** exp is compared as seconds: the sf CLI's millisecond exp is simply far in the future and accepted (reference §4). */
const checkExpiry = (store: OrgStore, claims: JwtClaims): void => {
  let exp = Number.NaN;
  if (typeof claims.exp === 'number') exp = claims.exp;
  else if (typeof claims.exp === 'string' && claims.exp.trim() !== '') exp = Number(claims.exp);
  if (!Number.isFinite(exp) || exp * 1000 <= store.now().getTime()) throw new Refusal('expired');
};

/** prn (legacy) wins over sub when both are present (Salesforce KB 000204593, reference §3.1). */
const subjectOf = (claims: JwtClaims): string | undefined => {
  if (typeof claims.prn === 'string') return claims.prn;
  return typeof claims.sub === 'string' ? claims.sub : undefined;
};

/** Pre-authorization and the approval's age under the refresh token policy. */
const checkApproval = (store: OrgStore, app: EmuApp, user: SRecord): void => {
  const used = lastUseOf(store).get(`${app.id}:${user.Id}`);
  if (app.permittedUsers === 'AdminApprovedPreAuthorized') {
    const grants = adminGrants(store, app, user);
    if (grants.length === 0) throw new Refusal('notAdminApproved');
    if (!grants.some((start) => approvalAlive(store, app, start, used))) throw new Refusal('notApproved');
    return;
  }
  const approvals = selfApprovals(store, app, user);
  if (!approvals.some((a) => approvalAlive(store, app, a.start, latest(a.used, used)))) throw new Refusal('notApproved');
};

/** The app a consumer key names and the secret that goes with that key: the main set, or a live staged set. */
const clientOf = (store: OrgStore, consumerKey: string): { app: EmuApp; secret?: string } | undefined => {
  const app = findAppByConsumerKey(store, consumerKey);
  return app ? { app, secret: app.consumerSecret } : stagedClient(store, consumerKey);
};

/** The JWT bearer checks, in OAUTH_MODEL.jwtCheckOrder. Records the app and user on the attempt as they become known. */
const jwtBearer = (store: OrgStore, params: URLSearchParams, attempt: Attempt): SRecord => {
  const parsed = parseAssertion(params.get('assertion') ?? '');
  const { claims } = parsed;
  const app = typeof claims.iss === 'string' ? clientOf(store, claims.iss)?.app : undefined;
  if (!app) throw new Refusal('unknownClient');
  attempt.app = app;
  const down = unavailable(store, app);
  if (down) throw new Refusal(down);
  verifySignature(store, app, parsed);
  checkAudience(store, claims);
  checkExpiry(store, claims);

  const username = subjectOf(claims);
  const user = username ? userByUsername(store, username) : undefined;
  if (!user) throw new Refusal('unknownUser');
  attempt.user = user;
  if (user.IsActive === false) throw new Refusal('inactiveUser');
  if (isFrozen(store, user.Id)) throw new Refusal('frozenUser');
  if (!hasPermission(store, user, 'ApiEnabled')) throw new Refusal('apiDisabled');
  if (OAUTH_MODEL.jwtRequiresRefreshTokenScope && !app.scopes.some((s) => s === 'RefreshToken' || s === 'OfflineAccess')) {
    throw new Refusal('missingRefreshScope');
  }
  checkApproval(store, app, user);
  if (!ipAllowed(store, app, user)) throw new Refusal('ipRestricted');
  return user;
};

const basicCredentials = (req: EmuRequest): { id?: string; secret?: string } => {
  const h = req.headers.authorization;
  const m = h ? /^Basic\s+(\S+)$/i.exec(h) : null;
  if (!m) return {};
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i < 0) return { id: decodeURIComponent(text) };
  return { id: decodeURIComponent(text.slice(0, i)), secret: decodeURIComponent(text.slice(i + 1)) };
};

const clientCredentials = (store: OrgStore, req: EmuRequest, params: URLSearchParams, attempt: Attempt): SRecord => {
  const h = hostname(hostOf(req));
  if (h === LOGIN_HOST || h === TEST_HOST) throw new Refusal('ccWrongDomain');
  const basic = basicCredentials(req);
  const clientId = params.get('client_id') ?? basic.id;
  const secret = params.get('client_secret') ?? basic.secret;
  const client = clientId ? clientOf(store, clientId) : undefined;
  const app = client?.app;
  if (!client || !app) throw new Refusal('unknownClient');
  attempt.app = app;
  const down = unavailable(store, app);
  if (down) throw new Refusal(down);
  if (!client.secret || secret !== client.secret) throw new Refusal('ccBadSecret');
  if (!app.clientCredentialsEnabled) throw new Refusal('ccNotEnabled');
  const user = app.clientCredentialsUser ? userByUsername(store, app.clientCredentialsUser) : undefined;
  if (!user) throw new Refusal('ccNoUser');
  attempt.user = user;
  if (user.IsActive === false) throw new Refusal('ccInactiveUser');
  if (isFrozen(store, user.Id)) throw new Refusal('frozenUser');
  if (!hasPermission(store, user, 'ApiUserOnly')) throw new Refusal('ccUserNotApiOnly');
  if (!hasPermission(store, user, 'ApiEnabled')) throw new Refusal('apiDisabled');
  // Permitted Users does not apply to the Run As user of this flow; profile IP restrictions still do.
  if (!ipAllowed(store, app, user)) throw new Refusal('ipRestricted');
  return user;
};

/**
 * Client authentication of the web server flow's grants. A secret, when sent, must be the client's; whether an org
 * demands one (ECA isSecretRequiredForRefreshToken, PKCE public clients) is not modelled (UNCONFIRMED).
 */
const webClient = (store: OrgStore, req: EmuRequest, params: URLSearchParams, attempt: Attempt): EmuApp => {
  const basic = basicCredentials(req);
  const clientId = params.get('client_id') ?? basic.id;
  const secret = params.get('client_secret') ?? basic.secret;
  const client = clientId ? clientOf(store, clientId) : undefined;
  if (!client) throw new Refusal('unknownClient');
  attempt.app = client.app;
  const down = unavailable(store, client.app);
  if (down) throw new Refusal(down);
  if (secret !== undefined && secret !== client.secret) throw new Refusal('ccBadSecret');
  return client.app;
};

/** The user behind a code or refresh token must still be able to log in. */
const grantUser = (store: OrgStore, userId: string, attempt: Attempt): SRecord => {
  const user = store.get(userId);
  if (!user) throw new Refusal('unknownUser');
  attempt.user = user;
  if (user.IsActive === false) throw new Refusal('inactiveUser');
  if (isFrozen(store, user.Id)) throw new Refusal('frozenUser');
  if (!hasPermission(store, user, 'ApiEnabled')) throw new Refusal('apiDisabled');
  return user;
};

/** grant_type=authorization_code: a code from POST /__emulator/authorize becomes an approval (an OauthToken row). */
const authorizationCode = (store: OrgStore, req: EmuRequest, params: URLSearchParams, attempt: Attempt): { user: SRecord; row: SRecord; refreshToken?: string } => {
  const app = webClient(store, req, params, attempt);
  const taken = takeCode(store, { code: params.get('code') ?? '', app, redirectUri: params.get('redirect_uri') ?? undefined, codeVerifier: params.get('code_verifier') ?? undefined });
  if (!taken) throw new Refusal('invalidCode');
  const user = grantUser(store, taken.userId, attempt);
  return { user, ...recordApproval(store, app, user) };
};

/** grant_type=refresh_token: a live refresh token of this client, whose approval the refresh token policy keeps. */
const refreshGrant = (store: OrgStore, req: EmuRequest, params: URLSearchParams, attempt: Attempt): { user: SRecord; row: SRecord } => {
  const app = webClient(store, req, params, attempt);
  const row = rowOfRefreshToken(store, params.get('refresh_token') ?? '');
  if (!row || appOfRow(store, row)?.id !== app.id) throw new Refusal('invalidRefreshToken');
  const user = grantUser(store, String(row.UserId), attempt);
  if (!approvalAlive(store, app, parseSfDate(row.CreatedDate) ?? 0, parseSfDate(row.LastUsedDate))) throw new Refusal('invalidRefreshToken');
  return { user, row: touchRow(store, row) };
};

const token = (req: EmuRequest, _m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  const params = formParams(req);
  const grant = params.get('grant_type') ?? '';
  const attempt: Attempt = {};
  try {
    let user: SRecord;
    let row: SRecord | undefined;
    let refreshToken: string | undefined;
    if (grant === JWT_BEARER_GRANT) user = jwtBearer(store, params, attempt);
    else if (grant === 'client_credentials') user = clientCredentials(store, req, params, attempt);
    else if (grant === 'authorization_code') ({ user, row, refreshToken } = authorizationCode(store, req, params, attempt));
    else if (grant === 'refresh_token') ({ user, row } = refreshGrant(store, req, params, attempt));
    else throw new Refusal('unsupportedGrant');
    const app = attempt.app!;
    logAttempt(store, req, attempt, 'Success');
    // JWT bearer and client credentials leave a row only when emulator.serverToServerOauthTokens says so (tokens.ts).
    row ??= recordServerToServerLogin(store, app, user);
    const res = issue(store, req, app, user, refreshToken);
    if (row) linkSession(store, row, String((res.body as { access_token: string }).access_token));
    return res;
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    logAttempt(store, req, attempt, OAUTH_REFUSALS[e.key].loginStatus);
    return refusalResponse(e.key);
  }
};

// ---- userinfo, identity -----------------------------------------------------------------------------------------

const apiUrls = (store: OrgStore, userId: string): Record<string, string> => {
  const versions = store.settings.apiVersions ?? [];
  const v = versions[versions.length - 1] ?? '66.0';
  const base = store.instanceUrl;
  const org = store.orgId;
  return {
    enterprise: `${base}/services/Soap/c/${v}/${org.slice(0, 15)}`,
    metadata: `${base}/services/Soap/m/${v}/${org.slice(0, 15)}`,
    partner: `${base}/services/Soap/u/${v}/${org.slice(0, 15)}`,
    rest: `${base}/services/data/v${v}/`,
    sobjects: `${base}/services/data/v${v}/sobjects/`,
    search: `${base}/services/data/v${v}/search/`,
    query: `${base}/services/data/v${v}/query/`,
    recent: `${base}/services/data/v${v}/recent/`,
    tooling_soap: `${base}/services/Soap/T/${v}/${org.slice(0, 15)}`,
    tooling_rest: `${base}/services/data/v${v}/tooling/`,
    profile: `${base}/${userId}`,
    feeds: `${base}/services/data/v${v}/chatter/feeds`,
    groups: `${base}/services/data/v${v}/chatter/groups`,
    users: `${base}/services/data/v${v}/chatter/users`,
    feed_items: `${base}/services/data/v${v}/chatter/feed-items`,
    custom_domain: store.settings.myDomainUrl ?? base,
  };
};

const userIdentity = (store: OrgStore, user: SRecord): Record<string, unknown> => ({
    user_id: user.Id,
    organization_id: store.orgId,
    email: user.Email,
    email_verified: true,
    first_name: user.FirstName ?? null,
    last_name: user.LastName,
    timezone: user.TimeZoneSidKey,
    active: user.IsActive !== false,
    user_type: user.UserType ?? 'STANDARD',
    language: user.LanguageLocaleKey,
    locale: user.LocaleSidKey,
    utcOffset: 0,
    last_modified_date: user.LastModifiedDate ?? user.CreatedDate ?? null,
    is_app_installed: true,
    is_lightning_login_user: false,
});

const userinfo = (req: EmuRequest, _m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  const user = store.get(req.session!.userId)!;
  const idUrl = `${store.instanceUrl}/id/${store.orgId}/${user.Id}`;
  const base = userIdentity(store, user);
  return json(200, {
    sub: idUrl,
    user_id: user.Id,
    organization_id: store.orgId,
    preferred_username: user.Username,
    nickname: user.CommunityNickname ?? user.Alias,
    name: user.Name ?? [user.FirstName, user.LastName].filter(Boolean).join(' '),
    email: user.Email,
    email_verified: true,
    given_name: user.FirstName ?? null,
    family_name: user.LastName,
    zoneinfo: user.TimeZoneSidKey,
    profile: `${store.instanceUrl}/${user.Id}`,
    active: base.active,
    user_type: base.user_type,
    language: base.language,
    locale: base.locale,
    utcOffset: 0,
    updated_at: base.last_modified_date,
    is_app_installed: true,
    urls: apiUrls(store, user.Id),
  });
};

const identity = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  const orgId = store.normalizeId(m[1]);
  const user = store.get(m[2]);
  // Identity URLs of another org, or of an unknown user: Salesforce answers 403/404 "Bad_Id" (shape UNCONFIRMED).
  if (orgId !== store.orgId || !user || store.typeOf(user.Id) !== 'User') {
    return json(404, { error: 'Bad_Id', error_description: 'Bad id' });
  }
  return json(200, {
    id: `${store.instanceUrl}/id/${store.orgId}/${user.Id}`,
    asserted_user: user.Id === req.session?.userId,
    username: user.Username,
    nick_name: user.CommunityNickname ?? user.Alias,
    display_name: user.Name ?? [user.FirstName, user.LastName].filter(Boolean).join(' '),
    ...userIdentity(store, user),
    urls: apiUrls(store, user.Id),
  });
};

export const oauthRoutes = (): Route[] => [
  { method: 'POST', pattern: /^\/services\/oauth2\/token\/?$/, auth: 'none', handler: token },
  { method: 'GET', pattern: /^\/services\/oauth2\/userinfo\/?$/, auth: 'bearer', handler: userinfo },
  { method: 'POST', pattern: /^\/services\/oauth2\/userinfo\/?$/, auth: 'bearer', handler: userinfo },
  { method: 'GET', pattern: /^\/id\/(00D[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?)\/(005[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?)\/?$/, auth: 'bearer', handler: identity },
];

/** A random consumer key in Salesforce's shape (3MVG + 81 characters). */
export const newConsumerKey = (): string => `3MVG9${randomBytes(60).toString('base64').replace(/[+/=]/g, '').slice(0, 80)}`;
