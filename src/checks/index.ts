/*
 * The doctor's checks in report order (Org, App, User, Live) and the function that runs them all. Pure: the
 * snapshot and the live results are read by src/org before this runs.
 */
import type { OrgSnapshot } from '../org/index.js';
import type { Check, CheckContext, CheckResult } from './types.js';
import { ORG_CHECKS } from './org.js';
import { APP_CHECKS } from './app.js';
import { USER_CHECKS } from './user.js';
import { LIVE_CHECKS } from './live.js';
import { credentialAge } from './age.js';
import { runCheck } from './define.js';

export type { Check, CheckContext, CheckResult, CheckStatus, Fix } from './types.js';
export { explainError, CATALOGUE_ENTRIES, type Explanation } from './errors.js';

export const ALL_CHECKS: readonly Check[] = [...ORG_CHECKS, ...APP_CHECKS, credentialAge, ...USER_CHECKS, ...LIVE_CHECKS];

export const CHECK_IDS: readonly string[] = ALL_CHECKS.map((check) => check.id);

export const checkById = (id: string): Check | undefined => ALL_CHECKS.find((check) => check.id === id);

export const runChecks = (snapshot: OrgSnapshot, ctx: CheckContext): CheckResult[] =>
  ALL_CHECKS.map((check) => runCheck(check, snapshot, ctx));
