/*
 * The audit's data: the org's inventory as src/org/ reads it (plain records), and the result the command answers
 * (apps, identities, connected users, findings). No DeleteToken ever reaches the result.
 */
import type { AppConfig } from '../org/types.js';

export type Severity = 'high' | 'medium' | 'low';

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

export type AuditApp = {
  name: string;
  label: string;
  kind: 'external-client-app' | 'connected-app' | 'not-installed';
  id?: string;
  owner?: string;
  createdDate?: string;
  distributionState?: string;
  flows: string[];
  certificate?: { subject?: string; notBefore?: string; notAfter?: string; ageDays?: number };
  runAsUser?: string;
  scopes: string[];
  permittedUsers?: string;
  refreshTokenPolicy?: string;
  ipRelaxation?: string;
  preAuthorizedUsers: number;
  tokens: number;
  connectedUsers: number;
  firstUsed?: string;
  lastUsed?: string;
  installed: boolean;
};

export type AuditIdentity = {
  userId: string;
  username: string;
  license?: string;
  profile?: string;
  active: boolean;
  frozen: boolean;
  lastLogin?: string;
  loginTypes: string[];
  dangerousPermissions: Array<{ permission: string; via: string }>;
  apps: string[];
  why: string[];
  owner?: string;
};

export type ConnectedUser = {
  app: string;
  userId: string;
  username?: string;
  active: boolean;
  frozen: boolean;
  privileged: boolean;
  tokens: number;
  firstUsed?: string;
  lastUsed?: string;
  useCount: number;
};

export type AuditFinding = {
  id: string;
  severity: Severity;
  nhi: string[];
  nist?: string;
  subject: string;
  message: string;
  evidence: Record<string, unknown>;
  fix: string;
  isNew?: boolean;
};

export type OrgAudit = {
  org: string;
  orgId: string;
  instanceUrl: string;
  takenAt: string;
  summary: { apps: number; identities: number; tokens: number; connectedUsers: number; findings: Record<Severity, number> };
  apps: AuditApp[];
  identities: AuditIdentity[];
  connectedUsers: ConnectedUser[];
  findings: AuditFinding[];
  readFailures: Inventory['readFailures'];
};

export type AuditResult = {
  orgs: OrgAudit[];
  /** Flattened over every org, for pipelines. */
  apps: AuditApp[];
  identities: AuditIdentity[];
  connectedUsers: ConnectedUser[];
  findings: AuditFinding[];
  failed: boolean;
};

export type AuditOptions = {
  unusedDays: number;
  maxCredentialAgeDays: number;
  now: Date;
  /** Rotation logs of the runbooks given (--runbook): a row dates the credential whose fingerprint or consumer key it installed. */
  rotations?: Array<{ date: string; before: string; after: string }>;
};
