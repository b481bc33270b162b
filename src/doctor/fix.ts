/*
 * doctor --fix: the repairs that failed or warned checks name (as data on their fix, src/checks/types.ts Repair)
 * become one partial desired state; the one planner (src/plan/plan.ts) turns it into the writes, exactly as it
 * does for create. This file builds no write.
 */
import { assignedSets, heldSets } from '../checks/access.js';
import type { CheckResult, Repair } from '../checks/types.js';
import type { AppSettingsChange, DesiredAssignment, DesiredState } from '../desired/index.js';
import type { Flow, OrgSnapshot } from '../org/index.js';
import { planChanges } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';

const repairsOf = (results: CheckResult[]): Repair[] =>
  results.flatMap((r) => ((r.status === 'fail' || r.status === 'warn') && r.fix?.repair ? [r.fix.repair] : []));

type AppSetting = Extract<Repair, { part: 'app' }>['setting'];

/** The app settings the repairs name; the permission sets to pre-authorize are those the user holds. */
const appChange = (repairs: Repair[], flow: Flow, holding: Array<{ id: string; name: string }>): AppSettingsChange => {
  const asks = (setting: AppSetting): boolean => repairs.some((r) => r.part === 'app' && r.setting === setting);
  return {
    ...(asks('pkce') ? { pkceRequired: false as const } : {}),
    ...(asks('named-user-jwt') ? { namedUserJwt: false as const } : {}),
    ...(asks('admin-approved') ? { permittedUsers: 'AdminApprovedPreAuthorized' as const } : {}),
    // Client credentials issues no refresh token: its policy is not repaired.
    ...(flow === 'jwt' && asks('refresh-token-policy') ? { refreshTokenPolicy: { type: 'infinite' as const } } : {}),
    ...(asks('ip-relaxation') ? { ipRelaxation: 'BYPASS' as const } : {}),
    ...(asks('permission-sets') ? { preAuthorize: Object.fromEntries(holding.map((set) => [set.id, set.name])) } : {}),
  };
};

/** The parts of the integration the failed checks repair, and nothing else. */
export const repairState = (snap: OrgSnapshot, results: CheckResult[], flow: Flow, now = new Date()): DesiredState => {
  const repairs = repairsOf(results);
  const asks = (part: Repair['part']): boolean => repairs.some((r) => r.part === part);
  const { user, app } = snap;
  const desired: DesiredState = {};

  if (user && snap.apiIntegrationPsl && asks('permission-set-license')) desired.permissionSetLicense = true;

  // Assignments held without expiry: those that expire (or expired) renewed; else the one app set the user lacks.
  const renewing = user !== undefined && asks('assignments');
  if (user && renewing) {
    const expiring = assignedSets(snap, user).filter(({ assignment }) => assignment.expirationDate);
    const missing = (app?.permissionSetIds ?? []).filter((id) => !user.assignments.some((a) => a.permissionSetId === id));
    const assignments: DesiredAssignment[] = expiring.length
      ? expiring.map(({ set }) => ({ permissionSetId: set.id, name: set.name }))
      : missing.length === 1
        ? [{ permissionSetId: missing[0], name: snap.permissionSets[missing[0]]?.name ?? missing[0] }]
        : [];
    if (assignments.length) desired.assignments = assignments;
  }

  if (app) {
    // The user's own sets to pre-authorize: held now, or held once this plan renews their expired assignments.
    const holding = user ? (renewing ? assignedSets(snap, user).map(({ set }) => set) : heldSets(snap, user, now).map((s) => s.set)) : [];
    const change = appChange(repairs, flow, holding);
    if (Object.keys(change).length) desired.app = { change };
  }
  return desired;
};

/** The plan of doctor --fix: the one planner over the repair state, keeping only the steps that change something. */
export const planFixes = (snap: OrgSnapshot, results: CheckResult[], flow: Flow, now = new Date()): Plan => ({
  steps: planChanges(repairState(snap, results, flow, now), snap).filter((s) => s.action !== 'unchanged' && s.action !== 'skip'),
  warnings: [],
});
