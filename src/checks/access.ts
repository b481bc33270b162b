/*
 * What the user holds: the profile's permission set plus the permission sets assigned and not expired. Every
 * check that asks "does the user have X, and through what?" goes through here.
 */
import type { AssignmentInfo, OrgSnapshot, PermissionSetInfo, UserInfo } from '../org/index.js';
import { say } from './messages.js';

export type PermissionSource = {
  kind: 'profile' | 'permission-set';
  set: PermissionSetInfo;
  assignment?: AssignmentInfo;
};

export const isExpired = (assignment: AssignmentInfo, now: Date): boolean =>
  assignment.expirationDate !== undefined && Date.parse(assignment.expirationDate) <= now.getTime();

/** Assignments of permission sets (not the profile's own set), expired ones included, with their sets. */
export const assignedSets = (
  snapshot: OrgSnapshot,
  user: UserInfo
): Array<{ assignment: AssignmentInfo; set: PermissionSetInfo }> =>
  user.assignments.flatMap((assignment) => {
    const set = snapshot.permissionSets[assignment.permissionSetId];
    return set && !set.isOwnedByProfile ? [{ assignment, set }] : [];
  });

/** Permission sets the user holds now: assigned and unexpired. */
export const heldSets = (snapshot: OrgSnapshot, user: UserInfo, now: Date): PermissionSource[] =>
  assignedSets(snapshot, user)
    .filter(({ assignment }) => !isExpired(assignment, now))
    .map(({ assignment, set }) => ({ kind: 'permission-set', set, assignment }));

export const profileSet = (snapshot: OrgSnapshot, user: UserInfo): PermissionSetInfo | undefined =>
  (user.profilePermissionSetId ? snapshot.permissionSets[user.profilePermissionSetId] : undefined) ??
  Object.values(snapshot.permissionSets).find((set) => set.isOwnedByProfile && set.profileId === user.profileId);

/** The profile first, then the held permission sets. */
export const permissionSources = (snapshot: OrgSnapshot, user: UserInfo, now: Date): PermissionSource[] => {
  const profile = profileSet(snapshot, user);
  return [...(profile ? [{ kind: 'profile' as const, set: profile }] : []), ...heldSets(snapshot, user, now)];
};

export const grants = (source: PermissionSource, permission: string): boolean =>
  source.set.systemPermissions[permission] === true;

export const sourcesGranting = (
  snapshot: OrgSnapshot,
  user: UserInfo,
  now: Date,
  permission: string
): PermissionSource[] => permissionSources(snapshot, user, now).filter((source) => grants(source, permission));

/** "profile 'Minimum Access - API Only Integrations'" / "permission set 'HubSpot_Integration'". */
export const describeSource = (source: PermissionSource): string =>
  source.kind === 'profile'
    ? say('source.profile', [source.set.profileName ?? source.set.label])
    : say('source.permission-set', [source.set.name]);

export const setName = (snapshot: OrgSnapshot, id: string): string => snapshot.permissionSets[id]?.name ?? id;
