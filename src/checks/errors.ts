/*
 * The `--error "TEXT"` catalogue: a pasted OAuth error (bare pair, JSON body, or wrapped by the CLI) mapped to
 * its causes, most likely first, each with its fix and the check ids that confirm it. Sources: seed 001's
 * troubleshooting list, shared/reference/salesforce-facts.md §3 and anchors.md §3.
 */
import { sanitizeEcho, stripControls } from '../cli/sanitize.js';
import type { CheckResult } from './types.js';
import { errorMessages } from './messages.js';

export type Explanation = {
  /** The Salesforce error pair found in the text. */
  matched: { error: string; errorDescription?: string } | undefined;
  /** The catalogue entry that matched, e.g. `not-approved-consumer`. */
  entry?: string;
  causes: Array<{ rank: number; cause: string; fix: string; confirmingChecks: string[]; confirmed?: boolean }>;
};

/** Each cause once, with the checks that confirm it. */
const CAUSES: Record<string, string[]> = {
  'permission-set-not-selected': ['app-permission-set-associated'],
  'permission-set-not-assigned': ['user-permission-set-assigned', 'user-permission-set-license'],
  'refresh-token-policy': ['app-refresh-token-policy'],
  'self-authorized': ['app-admin-approved'],
  propagation: ['app-propagation'],
  'wrong-org': ['app-exists', 'org-login-url'],
  'wrong-audience': ['org-login-url'],
  'key-mismatch': ['app-certificate-key-match'],
  'wrong-consumer-key': ['app-consumer-key'],
  'certificate-invalid': ['app-certificate', 'app-flow-enabled'],
  'assertion-expired': [],
  'user-inactive': ['user-active', 'user-exists'],
  'sandbox-username': ['user-sandbox-username', 'user-exists'],
  'wrong-secret': [],
  'app-not-installed': ['app-exists', 'app-admin-approved', 'app-permission-set-associated'],
  'cc-wrong-domain': ['org-login-url'],
  'cc-no-user': ['app-client-credentials-user'],
  'flow-not-enabled': ['app-flow-enabled'],
  'ip-restricted': ['app-ip-relaxation'],
  'api-disabled': ['user-api-enabled'],
  'named-user-jwt': ['app-jwt-access-tokens'],
  'missing-refresh-scope': ['app-scopes'],
  'not-in-catalogue': [],
};

/** The most common causes of an integration's OAuth failure, listed for an error the catalogue does not know. */
const UNKNOWN_ERROR_CAUSES: Array<keyof typeof CAUSES> = ['permission-set-not-assigned', 'self-authorized', 'propagation', 'wrong-org', 'key-mismatch', 'not-in-catalogue'];

/** How much of a paste is read: an OAuth error with its JSON body fits many times over. */
const PASTE_READ_LIMIT = 20_000;

type Entry = {
  id: string;
  /** The canonical pair, used when the text names the description but not the code. */
  error: string;
  description?: string;
  patterns: RegExp[];
  causes: Array<keyof typeof CAUSES>;
};

/** Most specific first: the first entry whose pattern matches wins. */
const CATALOGUE: Entry[] = [
  {
    id: 'worked-then-invalid-grant',
    error: 'invalid_grant',
    patterns: [/\b(weeks?|months?)\b/, /stopped working|started failing|suddenly/],
    causes: ['refresh-token-policy', 'permission-set-not-assigned', 'certificate-invalid', 'user-inactive', 'sandbox-username'],
  },
  {
    id: 'fails-after-setup',
    error: 'invalid_grant',
    patterns: [/immediately after|right after|just (created|set up|changed|modified)|after (setup|creating|modifying)/],
    causes: ['propagation', 'refresh-token-policy', 'permission-set-not-selected'],
  },
  {
    id: 'external-client-app-not-installed',
    error: 'invalid_client',
    description: 'External client app is not installed in this org',
    patterns: [/external client app is not installed/],
    causes: ['wrong-org', 'app-not-installed', 'propagation'],
  },
  {
    id: 'app-must-be-installed',
    error: 'invalid_client',
    description: 'app must be installed into org',
    patterns: [/app must be installed/],
    causes: ['app-not-installed', 'wrong-org'],
  },
  {
    id: 'not-admin-approved',
    error: 'invalid_app_access',
    description: 'user is not admin approved to access this app',
    patterns: [/not admin approved|invalid_app_access|oauth_app_access_denied|not approved for access/],
    causes: ['permission-set-not-selected', 'permission-set-not-assigned', 'self-authorized', 'propagation'],
  },
  {
    id: 'not-approved-consumer',
    error: 'invalid_grant',
    description: "user hasn't approved this consumer",
    patterns: [/(hasn.?t|has not) approved this consumer/],
    causes: [
      'permission-set-not-selected',
      'refresh-token-policy',
      'permission-set-not-assigned',
      'self-authorized',
      'propagation',
      'wrong-org',
      'missing-refresh-scope',
      'sandbox-username',
    ],
  },
  {
    id: 'audience-invalid',
    error: 'invalid_grant',
    description: 'audience is invalid',
    patterns: [/audience (is )?invalid|audience validation failed|invalid audience/],
    causes: ['wrong-audience', 'wrong-org'],
  },
  {
    id: 'invalid-assertion',
    error: 'invalid_grant',
    description: 'invalid assertion',
    patterns: [/invalid assertion/],
    causes: ['key-mismatch', 'wrong-consumer-key', 'certificate-invalid', 'assertion-expired'],
  },
  {
    id: 'expired-authorization-code',
    error: 'invalid_grant',
    description: 'expired authorization code',
    patterns: [/expired authorization code|assertion (has )?expired/],
    causes: ['assertion-expired'],
  },
  {
    id: 'inactive-user',
    error: 'invalid_grant',
    description: 'inactive user',
    patterns: [/inactive user|user is inactive|inactive_user|user (is )?frozen/],
    causes: ['user-inactive', 'sandbox-username'],
  },
  {
    id: 'request-not-supported-on-domain',
    error: 'invalid_grant',
    description: 'request not supported on this domain',
    patterns: [/not supported on this domain/],
    causes: ['cc-wrong-domain'],
  },
  {
    id: 'no-client-credentials-user',
    error: 'invalid_grant',
    description: 'no client credentials user enabled',
    patterns: [/no client credentials user|valid execution user/],
    causes: ['cc-no-user', 'flow-not-enabled'],
  },
  {
    id: 'client-identifier-invalid',
    error: 'invalid_client_id',
    description: 'client identifier invalid',
    patterns: [/client identifier invalid|invalid_client_id/],
    causes: ['wrong-consumer-key', 'wrong-org', 'propagation'],
  },
  {
    id: 'invalid-client-credentials',
    error: 'invalid_client',
    description: 'invalid client credentials',
    patterns: [/invalid client credentials/],
    causes: ['wrong-secret', 'wrong-consumer-key', 'wrong-org'],
  },
  {
    id: 'unsupported-grant-type',
    error: 'unsupported_grant_type',
    description: 'grant type not supported',
    patterns: [/unsupported_grant_type|grant type not supported/],
    causes: ['flow-not-enabled'],
  },
  {
    id: 'api-disabled',
    error: 'API_DISABLED_FOR_ORG',
    description: 'API is not enabled for this Organization or Partner',
    patterns: [/api_disabled_for_org|api_currently_disabled|api is not enabled|api is disabled/],
    causes: ['api-disabled'],
  },
  {
    id: 'not-authorized',
    error: 'invalid_grant',
    description: 'not authorized',
    patterns: [/\bnot authori[sz]ed\b|ip restricted|restricted ip/],
    causes: ['ip-restricted', 'api-disabled'],
  },
  {
    id: 'invalid-session',
    error: 'INVALID_SESSION_ID',
    description: 'Session expired or invalid',
    patterns: [/invalid_session_id|invalid ?session ?id|session expired or invalid/],
    causes: ['named-user-jwt', 'propagation'],
  },
  {
    id: 'invalid-grant',
    error: 'invalid_grant',
    patterns: [/invalid_grant/],
    causes: ['refresh-token-policy', 'permission-set-not-selected', 'key-mismatch', 'wrong-audience', 'user-inactive'],
  },
];

const ERROR_CODE =
  /\b(invalid_grant|invalid_app_access|invalid_client_id|invalid_client|unsupported_grant_type|invalid_request|oauth_app_access_denied|inactive_user|api_disabled_for_org|invalid_session_id)\b\s*[:\-–]?\s*([^\n]*)/i;

/** The text behind the CLI's wrappers ("Here's the error: ...", "Errors encountered: ..."). */
const unwrap = (text: string): string =>
  text
    .replace(/^[\s\S]*here.?s the error:\s*/i, '')
    .replace(/^[\s\S]*errors encountered:\s*/i, '')
    .replace(/error authenticating with jwt config due to:\s*/gi, '')
    .trim();

const cleanDescription = (description: string): string | undefined => {
  const cleaned = description
    .replace(/\s*\[audience=[^\]]*\]/gi, '')
    .replace(/["'}\s]+$/, '')
    .trim();
  return cleaned.length > 0 ? cleaned : undefined;
};

const parseJson = (text: string): Explanation['matched'] => {
  const body = /\{[^{}]*"error"\s*:[^{}]*\}/.exec(text)?.[0];
  if (!body) return undefined;
  try {
    const parsed = JSON.parse(body) as { error?: unknown; error_description?: unknown };
    if (typeof parsed.error !== 'string') return undefined;
    return {
      error: parsed.error,
      errorDescription: typeof parsed.error_description === 'string' ? parsed.error_description : undefined,
    };
  } catch {
    return undefined;
  }
};

const parsePair = (text: string): Explanation['matched'] => {
  const found = ERROR_CODE.exec(text);
  return found ? { error: found[1], errorDescription: cleanDescription(found[2]) } : undefined;
};

const entryFor = (text: string): Entry | undefined => {
  const lower = text.toLowerCase();
  return CATALOGUE.find((entry) => entry.patterns.some((pattern) => pattern.test(lower)));
};

const isConfirmedBy = (checks: string[], results: CheckResult[]): boolean =>
  results.some((result) => checks.includes(result.id) && (result.status === 'fail' || result.status === 'warn'));

/**
 * Explains a pasted OAuth error. With check results, causes whose confirming checks failed or warned are marked
 * confirmed and ranked first (the catalogue order is kept otherwise).
 */
export const explainError = (text: string, results?: CheckResult[]): Explanation => {
  // Pasted text is untrusted: escape sequences and control characters go before anything is matched or echoed,
  // and a huge paste is read only as far as an error message reaches.
  const inner = unwrap(stripControls(text.slice(0, PASTE_READ_LIMIT)));
  const pair = parseJson(inner) ?? parsePair(inner);
  const entry = entryFor(pair ? `${pair.error} ${pair.errorDescription ?? ''} ${inner}` : inner);
  const found = pair ?? (entry?.description ? { error: entry.error, errorDescription: entry.description } : undefined);
  const matched = found && {
    error: sanitizeEcho(found.error),
    ...(found.errorDescription !== undefined ? { errorDescription: sanitizeEcho(found.errorDescription) } : {}),
  };
  // An error the catalogue does not know: the causes behind most OAuth failures of integrations, in that order.
  const causeIds = entry?.causes ?? UNKNOWN_ERROR_CAUSES;
  const causes = causeIds
    .map((id) => ({
      cause: errorMessages.getMessage(`cause.${id}`),
      fix: errorMessages.getMessage(`fix.${id}`),
      confirmingChecks: [...CAUSES[id]],
      ...(results ? { confirmed: isConfirmedBy(CAUSES[id], results) } : {}),
    }))
    .map((cause, index) => ({ cause, index }))
    .sort((a, b) => Number(b.cause.confirmed === true) - Number(a.cause.confirmed === true) || a.index - b.index)
    .map(({ cause }, index) => ({ rank: index + 1, ...cause }));
  return { matched, ...(entry ? { entry: entry.id } : {}), causes };
};

/** Every entry id of the catalogue, for docs and tests. */
export const CATALOGUE_ENTRIES: readonly string[] = CATALOGUE.map((entry) => entry.id);
