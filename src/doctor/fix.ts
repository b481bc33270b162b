/*
 * doctor --fix: the findings the plugin can repair, as a plan for the same plan/apply engine that create uses.
 * Only failed or warned checks whose fix is marked autoFixable contribute; everything else stays a finding.
 */
import { assignedSets, isExpired } from '../checks/access.js';
import type { CheckResult } from '../checks/types.js';
import type { AppPatch } from '../org/deploy.js';
import type { Flow, OrgSnapshot } from '../org/types.js';
import type { Plan, Step } from '../plan/types.js';

const APP_CHECKS = new Set([
  'app-pkce',
  'app-jwt-access-tokens',
  'app-admin-approved',
  'app-refresh-token-policy',
  'app-ip-relaxation',
  'app-permission-set-associated',
]);

const needsFix = (results: CheckResult[], id: string): boolean =>
  results.some((r) => r.id === id && (r.status === 'fail' || r.status === 'warn') && r.fix?.autoFixable);

/** The user's own permission sets (not the profile's) that are not expired, or whose expiry this plan clears. */
const heldSets = (snap: OrgSnapshot, now: Date, clearingExpiry: boolean): string[] =>
  snap.user
    ? assignedSets(snap, snap.user)
        .filter(({ assignment }) => clearingExpiry || !isExpired(assignment, now))
        .map(({ set }) => set.id)
    : [];

export const planFixes = (snap: OrgSnapshot, results: CheckResult[], flow: Flow, now = new Date()): Plan => {
  const steps: Step[] = [];
  const app = snap.app;
  const user = snap.user;

  if (user && needsFix(results, 'user-permission-set-license') && snap.apiIntegrationPsl) {
    steps.push({
      id: 'permission-set-license',
      action: 'create',
      subject: snap.apiIntegrationPsl.name,
      changes: [`assign ${snap.apiIntegrationPsl.name} to ${user.username}`],
      ops: [{ kind: 'create', sobject: 'PermissionSetLicenseAssign', fields: { AssigneeId: user.id, PermissionSetLicenseId: snap.apiIntegrationPsl.id } }],
    });
  }
  if (user && needsFix(results, 'user-permission-set-assigned')) {
    const expiring = user.assignments.filter((a) => a.expirationDate && snap.permissionSets[a.permissionSetId] && !snap.permissionSets[a.permissionSetId].isOwnedByProfile);
    const missing = (app?.permissionSetIds ?? []).filter((id) => !user.assignments.some((a) => a.permissionSetId === id));
    const ops: Step['ops'] = [
      ...expiring.map((a) => ({ kind: 'update' as const, sobject: 'PermissionSetAssignment', id: a.id, fields: { ExpirationDate: null } })),
      ...(expiring.length === 0 && missing.length === 1
        ? [{ kind: 'create' as const, sobject: 'PermissionSetAssignment', fields: { AssigneeId: user.id, PermissionSetId: missing[0] } }]
        : []),
    ];
    if (ops.length) {
      steps.push({
        id: 'permission-set-assignment',
        action: expiring.length ? 'update' : 'create',
        subject: user.username,
        changes: [...expiring.map((a) => `${snap.permissionSets[a.permissionSetId]?.name ?? a.permissionSetId}: expiry ${a.expirationDate ?? ''} → never`), ...(ops.length > expiring.length ? ['assign the app\'s permission set'] : [])],
        ops,
      });
    }
  }
  if (app && [...APP_CHECKS].some((id) => needsFix(results, id))) {
    // Only what a failing check names changes; everything else the app holds is kept (patch, not rewrite).
    const addPermissionSets: Record<string, string> = {};
    if (needsFix(results, 'app-permission-set-associated')) {
      // An expired assignment that the permission-set-assignment step renews counts as held.
      for (const id of heldSets(snap, now, needsFix(results, 'user-permission-set-assigned'))) {
        if (!app.permissionSetIds.includes(id)) addPermissionSets[id] = snap.permissionSets[id]?.name ?? id;
      }
    }
    const patch: AppPatch = {
      pkceOff: needsFix(results, 'app-pkce'),
      namedUserJwtOff: needsFix(results, 'app-jwt-access-tokens'),
      adminApproved: needsFix(results, 'app-admin-approved') || Object.keys(addPermissionSets).length > 0,
      refreshValidUntilRevoked: flow === 'jwt' && needsFix(results, 'app-refresh-token-policy'),
      relaxIp: needsFix(results, 'app-ip-relaxation'),
      addPermissionSets,
    };
    steps.push({
      id: 'app',
      action: 'update',
      subject: app.name,
      changes: results.filter((r) => APP_CHECKS.has(r.id) && needsFix(results, r.id)).map((r) => r.id),
      ops: [{ kind: 'patch-app', app: { kind: app.kind, name: app.name }, patch }],
    });
  }
  return { steps, warnings: [] };
};
