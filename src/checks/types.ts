/*
 * Doctor checks: small pure units over an OrgSnapshot. Each has a stable id (a contract: documented in
 * messages/checks.md, used in JSON/JUnit output and by `--error` to name the checks that confirm a cause).
 */
import type { Flow, LiveResult, OrgSnapshot } from '../org/index.js';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export type CheckGroup = 'org' | 'app' | 'user' | 'live';

/**
 * What `sf integration doctor --fix` changes to make a failed check pass, as data: the repairs of the failed checks
 * become one partial desired state, which the planner create uses turns into writes.
 */
export type Repair =
  | { part: 'app'; setting: 'pkce' | 'named-user-jwt' | 'admin-approved' | 'refresh-token-policy' | 'ip-relaxation' | 'permission-sets' }
  | { part: 'permission-set-license' }
  | { part: 'assignments' };

export type Fix = {
  /** Where to change it in Setup, citing the Salesforce Help page that describes it. */
  setup: string;
  /** The plugin command that makes the change, where the plugin can. */
  command?: string;
  /** True when `sf integration doctor --fix` can apply it. */
  autoFixable?: boolean;
  /** What --fix changes (present exactly when autoFixable). */
  repair?: Repair;
};

export type CheckResult = {
  id: string;
  group: CheckGroup;
  status: CheckStatus;
  /** One line naming the actual values seen; for skip, the reason the check could not run. */
  finding: string;
  fix?: Fix;
  /** The values the finding was read from, as data (credential-age: each credential's age and its source). */
  evidence?: Record<string, unknown>;
};

/** Results of the live checks, performed by src/org before the checks run (checks stay pure). */
export type { LiveResult } from '../org/index.js';

/** What the user asked the integration to be allowed (from a create spec), for drift. */
export type DesiredAccess = {
  objects: Array<{ object: string; read?: boolean; create?: boolean; edit?: boolean; delete?: boolean }>;
  fields: Array<{ field: string; read?: boolean; edit?: boolean }>;
  systemPermissions: string[];
};

export type CheckContext = {
  now: Date;
  flow: Flow;
  /** The app looked for (--name), so a finding can name it when it is missing. */
  appName?: string;
  /** The user looked for (--username), so a finding can name it when it is missing. */
  username?: string;
  /** With --client-id: the key the external system uses. */
  clientId?: string;
  /** With --private-key-file: whether that key matches the app's certificate (computed by src/credentials). */
  privateKey?: { path: string; matchesCertificate: boolean };
  live?: LiveResult;
  desired?: DesiredAccess;
  /** --max-credential-age: the rotation period in days (credential-age warns past it; default 365). */
  maxCredentialAgeDays?: number;
  /** The rotation log of the integration's runbook (--runbook, or runbook.md where create and rotate write it). */
  rotations?: Array<{ date: string; before: string; after: string }>;
  /** The runbook those rows were read from, for the evidence. */
  runbookFile?: string;
};

export type Check = {
  id: string;
  group: CheckGroup;
  run(snapshot: OrgSnapshot, ctx: CheckContext): Omit<CheckResult, 'id' | 'group'>;
};
