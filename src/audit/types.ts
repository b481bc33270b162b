/*
 * The audit's data: the org's inventory as src/org/ reads it (plain records, defined with the rest of the org's
 * data in src/org/types.ts), and the result the command answers (apps, identities, connected users, findings). No
 * DeleteToken ever reaches the result.
 */
import type { Inventory } from '../org/types.js';

export type { DangerousGrant, Inventory, InventoryApp, InventoryToken, InventoryUser, LoginSummary } from '../org/types.js';

export type Severity = 'high' | 'medium' | 'low';

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
