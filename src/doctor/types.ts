/*
 * What one doctor run reports for one org: the facts it looked at, every check's result, and a summary. The same
 * data renders as a table, JSON or JUnit (src/report/).
 */
import type { CheckResult, CheckStatus } from '../checks/types.js';
import type { Explanation } from '../checks/errors.js';
import type { AppKind, Flow } from '../org/index.js';
import type { RenderedStep } from '../plan/render.js';

export type DoctorSummary = Record<CheckStatus, number> & { total: number };

export type OrgReport = {
  org: { id: string; name: string; instanceUrl: string; isSandbox: boolean; loginUrl: string; audience: string; subdomain?: string; targetOrg: string };
  /** The app by its API name, and the label Setup shows people. */
  app?: { id: string; name: string; kind: AppKind; label?: string };
  user?: { id: string; username: string };
  flow: Flow;
  checks: CheckResult[];
  summary: DoctorSummary;
  /** With --error: the ranked causes, confirmed against this org's checks. */
  explanation?: Explanation;
  /**
   * Queries the org refused, with Salesforce's error: the checks that need what they read skip. A refused read that
   * leaves checks unable to run fails the run (exit code 1), as a failed check does.
   */
  readFailures?: Array<{ query: string; object: string; errorCode: string; message: string; skippedChecks: boolean }>;
  /** Fixes applied with --fix (each step with its status and changes), then the checks were run again. */
  fixes?: RenderedStep[];
  /** With --fix --dry-run: what --fix would change, and nothing was written. */
  fixPlan?: RenderedStep[];
};

/**
 * An org doctor could not check: it could not be reached (exit 69), or reading it failed otherwise. Over several
 * orgs, one such org costs nobody else's report: each keeps its outcome.
 */
export type OrgFailure = {
  targetOrg: string;
  /** True when the org could not be reached (network, expired session): the run exits 69. */
  unreachable: boolean;
  /** The error's name and message (never a token). */
  error: string;
  message: string;
  actions?: string[];
};

/** --json result of `sf integration doctor`: one report per --target-org; the explanation alone without an org. */
export type DoctorResult = {
  reports: OrgReport[];
  /** Orgs that could not be checked, each with its error, in --target-org order. */
  orgFailures?: OrgFailure[];
  explanation?: Explanation;
  /** True when some check reached --fail-on. */
  failed: boolean;
};

export const summarize = (checks: CheckResult[]): DoctorSummary => {
  const s: DoctorSummary = { pass: 0, warn: 0, fail: 0, skip: 0, total: checks.length };
  for (const c of checks) s[c.status]++;
  return s;
};
