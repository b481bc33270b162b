/*
 * The plain data the plugin reasons about. src/org/ reads an org into an OrgSnapshot (one batched read plus one
 * metadata read) and is the only code that talks to Salesforce; checks and the planner are pure functions of
 * these types, so they are tested with plain objects.
 */
import type { IpRelaxation, RefreshTokenPolicy } from '../salesforce/policies.js';

export type { IpRelaxation, RefreshTokenPolicy };

/** System permissions by their API name without the `Permissions` prefix, e.g. `ApiEnabled`. */
export type SystemPermissions = Record<string, boolean>;

export type ObjectAccess = {
  /** ObjectPermissions row Id, when read from the org. */
  id?: string;
  object: string;
  read: boolean;
  create: boolean;
  edit: boolean;
  delete: boolean;
  viewAll: boolean;
  modifyAll: boolean;
};

export type FieldAccess = { id?: string; field: string; read: boolean; edit: boolean };

export type OrgInfo = {
  id: string;
  name: string;
  organizationType: string;
  isSandbox: boolean;
  /** Scratch org: IsSandbox with a TrialExpirationDate (sfdx-core determineOrg). */
  isScratch: boolean;
  instanceUrl: string;
  /** My Domain subdomain as an external system enters it (seed 001 step 7), when the instance URL is a My Domain. */
  subdomain?: string;
  /** Login host for token requests: https://login.salesforce.com, https://test.salesforce.com or the My Domain URL. */
  loginUrl: string;
  /** JWT `aud` the external system must use. */
  audience: string;
};

export type LicenseInfo = { id: string; name: string; total: number; used: number };

export type PermissionSetInfo = {
  id: string;
  name: string;
  label: string;
  /** Name of the user license or permission set license the set is tied to. */
  licenseName?: string;
  isOwnedByProfile: boolean;
  profileId?: string;
  profileName?: string;
  systemPermissions: SystemPermissions;
  objects: ObjectAccess[];
  fields: FieldAccess[];
};

export type AssignmentInfo = {
  id: string;
  permissionSetId: string;
  /** ISO date-time, or undefined for "never expires". */
  expirationDate?: string;
};

export type UserInfo = {
  id: string;
  username: string;
  name: string;
  email: string;
  isActive: boolean;
  profileId: string;
  profileName: string;
  userLicenseName: string;
  /** Permissions of the profile (its owned permission set). */
  profilePermissionSetId?: string;
  assignments: AssignmentInfo[];
  /** DeveloperNames of the permission set licenses assigned to the user. */
  permissionSetLicenses: string[];
  timeZoneSidKey?: string;
  localeSidKey?: string;
  languageLocaleKey?: string;
  emailEncodingKey?: string;
  lastLoginDate?: string;
};

export type PermittedUsers = 'AdminApprovedPreAuthorized' | 'AllSelfAuthorized';

export type AppKind = 'external-client-app' | 'connected-app';

/** The OAuth flow an integration authenticates with: JWT bearer (a certificate) or client credentials (a run-as user). */
export type Flow = 'jwt' | 'client-credentials';

/** The settings the plugin writes to an app it creates, the same for both kinds (src/org/apps.ts writes them). */
export type AppSettings = {
  kind: AppKind;
  /** API name (fullName), e.g. HubSpot_Integration. */
  name: string;
  label: string;
  contactEmail: string;
  description: string;
  callbackUrl: string;
  /** Metadata scope names, e.g. ['Api', 'RefreshToken']. */
  scopes: string[];
  refreshTokenPolicy: RefreshTokenPolicy;
  ipRelaxation: IpRelaxation;
};

/** Both app kinds behind one face (DESIGN.md). */
export type AppConfig = {
  kind: AppKind;
  /** ExternalClientApplication (0xI) or ConnectedApplication (0H4) Id. */
  id: string;
  name: string;
  label: string;
  contactEmail?: string;
  consumerKey?: string;
  /** PEM certificate; its presence enables the JWT bearer flow. */
  certificate?: string;
  clientCredentialsEnabled: boolean;
  /** Username of the client-credentials run-as user. */
  runAsUsername?: string;
  /** OAuth scope names as Salesforce issues them: api, refresh_token, offline_access, full, web, ... */
  scopes: string[];
  /** The same scopes as the metadata names them (Api, RefreshToken, ...), for writing the app back. */
  metadataScopes: string[];
  callbackUrl?: string;
  description?: string;
  pkceRequired: boolean;
  /** "Issue JWT-based access tokens for named users". */
  namedUserJwt: boolean;
  permittedUsers: PermittedUsers;
  /** Permission sets selected on the app (Ids). */
  permissionSetIds: string[];
  /** Profiles selected on the app (Ids). */
  profileIds: string[];
  refreshTokenPolicy: RefreshTokenPolicy;
  ipRelaxation: IpRelaxation;
  createdDate?: string;
  lastModifiedDate?: string;
  /** External Client Apps: the OAuth plugin policy is on (ExtlClntAppConfigurablePolicies isEnabled and isOauthPluginEnabled). */
  oauthPluginEnabled?: boolean;
};

/** A live token exchange as the external system makes it, then one REST call with the token (src/org/token.ts). */
export type LiveResult = {
  /** `loginUrl` is where the token request went. */
  /** `transient`: the last answer was a transient error (503, a request limit, a dropped connection), after `attempts` tries. */
  tokenExchange?: { ok: boolean; error?: string; errorDescription?: string; loginUrl: string; audience?: string; transient?: boolean; attempts?: number };
  apiCall?: { ok: boolean; status?: number; error?: string; transient?: boolean; attempts?: number };
};

export type LoginRecord = { time: string; status: string; application?: string; loginType?: string };

/** The parts of a snapshot a failed read leaves unknown: the checks that need them skip instead of guessing. */
export type ReadAspect = 'app' | 'user' | 'permissions';

/** A snapshot query Salesforce refused: its key, the object it reads, Salesforce's error, what it leaves unknown. */
export type ReadFailure = { query: string; object: string; errorCode: string; message: string; affects: ReadAspect[] };

/** Everything checks and the planner need, read in one go. Missing things are undefined, never thrown. */
export type OrgSnapshot = {
  takenAt: string;
  org: OrgInfo;
  integrationLicense?: LicenseInfo;
  apiIntegrationPsl?: LicenseInfo & { developerName: string };
  integrationProfile?: { id: string; name: string };
  app?: AppConfig;
  /** When looking by name found nothing: other apps' names, to suggest a near match. */
  otherAppNames: string[];
  user?: UserInfo;
  /** Permission sets relevant to the user or the app, by Id (profile-owned sets included). */
  permissionSets: Record<string, PermissionSetInfo>;
  recentLogins: LoginRecord[];
  /** The user running the command (defaults for a new user's locale settings, email, username domain). */
  runningUser?: Pick<UserInfo, 'id' | 'username' | 'email' | 'timeZoneSidKey' | 'localeSidKey' | 'languageLocaleKey' | 'emailEncodingKey'> & {
    /** System permissions (API names without `Permissions`) the running user holds among those create needs; absent when unread. */
    permissions?: string[];
  };
  /** The permission set named in the desired state, when it exists (create reads it by name). */
  targetPermissionSetId?: string;
  /** Queries the org refused (never read as "no rows"): create stops before writing; doctor skips what they feed. */
  readFailures?: ReadFailure[];
};

/** One write of a composite request (REST API Developer Guide, Composite): `@{ref.id}` in a value names an earlier one's Id. */
export type CompositeSubrequest = { method: 'POST' | 'PATCH' | 'DELETE'; path: string; referenceId: string; body?: Record<string, unknown> };

// The org at audit scale (src/org/inventory.ts reads it; src/audit/ finds risks in it).

export type InventoryUser = {
  id: string;
  username: string;
  name: string;
  email?: string;
  isActive: boolean;
  isFrozen: boolean;
  userType?: string;
  profileName?: string;
  licenseName?: string;
  lastLoginDate?: string;
};

/** A token as the audit keeps it: the read's fields without the DeleteToken. */
export type InventoryToken = { userId: string; appName: string; appMenuItemId?: string; applicationId?: string; createdDate: string; lastUsedDate?: string; useCount?: number };

export type InventoryApp = AppConfig & { distributionState?: string; createdById?: string };

/** Logins per user and login type (LoginHistory, successful ones). */
export type LoginSummary = { userId: string; loginType: string; application?: string; count: number; last?: string };

/** A permission set (or profile) granting a dangerous system permission to a user. */
export type DangerousGrant = { userId: string; permissionSet: string; viaProfile: boolean; permissions: string[] };

export type Inventory = {
  orgId: string;
  instanceUrl: string;
  takenAt: string;
  apps: InventoryApp[];
  users: InventoryUser[];
  tokens: InventoryToken[];
  /** Who holds each app's selected permission sets (pre-authorized users), by app Id. */
  preAuthorizedUserIds: Record<string, string[]>;
  /** Profile-owned permission sets selected on apps: app Id -> profile names. */
  adminProfileApps: Record<string, string[]>;
  logins: LoginSummary[];
  grants: DangerousGrant[];
  readFailures: Array<{ query: string; errorCode: string; message: string }>;
};
