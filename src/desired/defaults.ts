/*
 * Defaults of a new integration (issue 3 and seeds 000, 001, 003) and the names derived from NAME. Each choice
 * that trades convenience for security says why next to it.
 */
import type { AppKind, Flow, IpRelaxation, RefreshTokenPolicy } from '../org/index.js';
import type { DesiredCertificate } from './types.js';

export const DEFAULT_FLOW: Flow = 'jwt';
/** New Connected Apps are blocked by default since Spring '26; External Client Apps are the supported path. */
export const DEFAULT_APP_KIND: AppKind = 'external-client-app';

/** Seed 001 step 2: `api`, plus `refresh_token` which Salesforce needs to accept JWT bearer exchanges. */
export const DEFAULT_SCOPES: readonly string[] = ['Api', 'RefreshToken'];

/**
 * The JWT bearer and client-credentials flows never redirect, but the app requires a callback URL (seed 001
 * step 2). Salesforce's own OAuth success page: owned by Salesforce, so no third party could ever receive a
 * code if the app were misused with a redirecting flow, and accepted by both app kinds.
 */
export const DEFAULT_CALLBACK_URL = 'https://login.salesforce.com/services/oauth2/success';

/**
 * Seed 001 step 4: "Refresh token is valid until revoked". With any other policy the pre-authorization record
 * ages out and JWT logins start failing with invalid_grant weeks later, although no refresh token is issued.
 */
export const DEFAULT_REFRESH_TOKEN_POLICY: RefreshTokenPolicy = { type: 'infinite' };

/**
 * "Relax IP restrictions", as seed 001 step 4 and issue 3 ask: its troubleshooting list names Enforce as a cause
 * of "not authorized" when the org restricts login IP ranges, and doctor's app-ip-relaxation check warns on it.
 * The trade-off (seed 003, anchors §4: with Relax a stolen key works from any address) is stated in the note
 * create prints; `--ip-relaxation enforce` keeps the profile's IP ranges in force once the external system's
 * addresses are added to it.
 */
export const DEFAULT_IP_RELAXATION: IpRelaxation = 'BYPASS';

/** Seed 003 prefers short-lived secrets: one year instead of seed 001's ten; RSA 2048 as seed 001. */
export const DEFAULT_CERTIFICATE: Pick<DesiredCertificate, 'validityDays' | 'keySize'> = { validityDays: 365, keySize: 2048 };

export const ALWAYS_SYSTEM_PERMISSIONS: readonly string[] = ['ApiEnabled'];

/** Salesforce limits the names are checked against. */
export const LIMITS = {
  /** PermissionSet.Name and Label. */
  permissionSetName: 80,
  /**
   * External Client App / Connected App API name. Salesforce documents 80 for ConnectedApplication.Name, but
   * the ECA derives further component names from it (…OAuthSettings_defaultPolicy); 40 keeps every one valid.
   */
  appName: 40,
  /** User.FirstName is 40; the app name NAME_Integration must fit 40, so NAME gets 40 - "_Integration". */
  name: 40 - '_Integration'.length,
  username: 80,
  email: 128,
  alias: 8,
  description: 255,
  validityDays: { min: 1, max: 3650 },
  /** A spec file: its size, YAML aliases, and how many objects, fields and system permissions it may name. */
  specFileBytes: 256 * 1024,
  specAliases: 100,
  specObjects: 200,
  specFields: 2000,
  specSystemPermissions: 100,
  /** Problems listed one by one in an error; the rest are counted. */
  problemsListed: 20,
} as const;

export const KEY_SIZES: ReadonlyArray<DesiredCertificate['keySize']> = [2048, 3072, 4096];

/** "Acme_ERP" → "Acme ERP": the name as people read it, for labels and the user's first name. */
export const displayName = (name: string): string => name.replace(/_/g, ' ');

export const permissionSetNameFor = (name: string): string => `${name}_Integration`;
export const appNameFor = (name: string): string => `${name}_Integration`;

/** "HubSpot" → "hubspot", "Acme_ERP" → "acme-erp": the name in a username. */
export const slugOf = (name: string): string => name.toLowerCase().replace(/_/g, '-');

/** "HubSpot" → "hubspint": at most 8 characters, recognisable as an integration in user lists. */
export const aliasFor = (name: string): string => `${name.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 5)}int`;

export const domainOf = (username: string): string => username.slice(username.lastIndexOf('@') + 1);

/**
 * The sandbox suffix of usernames in this org: the sandbox name when known, else the last label of the admin's
 * username (admin@acme.com.dev → "dev"), which is how Salesforce renames copied users.
 */
export const sandboxSuffixOf = (adminUsername: string, sandboxName?: string): string =>
  (sandboxName ?? domainOf(adminUsername).split('.').pop() ?? '').toLowerCase();

export const defaultUsername = (name: string, adminUsername: string): string =>
  `${slugOf(name)}.integration@${domainOf(adminUsername)}`;

/** The sandbox name in a My Domain subdomain (seed 001 step 7): acme--dev.sandbox → "dev", acme--dev → "dev". */
export const sandboxNameFromSubdomain = (subdomain: string): string | undefined => /--([^.]+)/.exec(subdomain)?.[1]?.toLowerCase();
