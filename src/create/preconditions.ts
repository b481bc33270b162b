/*
 * What the running user must be allowed to do for the writes a plan makes, checked before the first write (a
 * refusal half way through would leave a user on a paid license and nothing to use it with). Salesforce Help,
 * "User Permissions and Access": creating users takes Manage Users (or Manage Internal Users); permission sets
 * and their object and field access, Manage Profiles and Permission Sets; assigning permission sets and
 * permission set licenses, Assign Permission Sets; writing app metadata, Customize Application (and, for External
 * Client Apps, the External Client App permissions). Pure: the permissions come from the snapshot.
 */
import type { OrgSnapshot } from '../org/index.js';
import type { Plan, StepId } from '../plan/types.js';

type Need = { label: string; anyOf: string[] };

const NEEDS: Partial<Record<StepId, Need>> = {
  user: { label: 'Manage Users', anyOf: ['ManageUsers', 'ManageInternalUsers'] },
  'permission-set': { label: 'Manage Profiles and Permission Sets', anyOf: ['ManageProfilesPermissionsets'] },
  'object-permissions': { label: 'Manage Profiles and Permission Sets', anyOf: ['ManageProfilesPermissionsets'] },
  'field-permissions': { label: 'Manage Profiles and Permission Sets', anyOf: ['ManageProfilesPermissionsets'] },
  'permission-set-license': { label: 'Assign Permission Sets', anyOf: ['AssignPermissionSets', 'ManageUsers'] },
  'permission-set-assignment': { label: 'Assign Permission Sets', anyOf: ['AssignPermissionSets', 'ManageUsers'] },
};

const APP_NEEDS: Record<'external-client-app' | 'connected-app', Need> = {
  'external-client-app': { label: 'Customize Application or Create, edit, and delete External Client Apps', anyOf: ['CustomizeApplication', 'ExternalClientAppDeveloper', 'ExternalClientAppAdmin'] },
  'connected-app': { label: 'Customize Application', anyOf: ['CustomizeApplication'] },
};

/**
 * The permissions the running user lacks for the plan's writes, as "Permission (steps)" texts; empty when it has
 * them all, or when its permissions could not be read (the org then answers each write itself).
 */
export const missingPermissions = (plan: Plan, snap: Pick<OrgSnapshot, 'runningUser' | 'app'>, appKind: 'external-client-app' | 'connected-app', orgPermissions: string[]): string[] => {
  const held = snap.runningUser?.permissions;
  if (!held) return [];
  const missing = new Map<string, StepId[]>();
  for (const step of plan.steps) {
    if (step.action !== 'create' && step.action !== 'update') continue;
    const need = step.id === 'app' ? APP_NEEDS[appKind] : NEEDS[step.id];
    if (!need) continue;
    // A permission this org's edition does not have cannot be asked for.
    const known = need.anyOf.filter((p) => orgPermissions.length === 0 || orgPermissions.includes(p));
    if (!known.length || known.some((p) => held.includes(p))) continue;
    missing.set(need.label, [...(missing.get(need.label) ?? []), step.id]);
  }
  return [...missing].map(([label, steps]) => `${label} (${steps.join(', ')})`);
};
