/*
 * User checks: the integration user, its license, profile and permission sets (seed 000, seed 001 step 5,
 * seed 003 least privilege, seed 004 API only).
 */
import type { OrgSnapshot, UserInfo } from '../org/index.js';
import { API_INTEGRATION_PSL, API_INTEGRATION_PSL_LABEL, INTEGRATION_LICENSE } from '../salesforce/licenses.js';
import { DANGEROUS_OBJECT_PERMISSIONS, dangerousPermission, INTEGRATION_BASELINE } from '../salesforce/permissions.js';
import type { Check, DesiredAccess } from './types.js';
import { defineCheck, doctorFixCommand, list, needsUser, type Outcome } from './define.js';
import {
  assignedSets,
  describeSource,
  isExpired,
  permissionSources,
  sourcesGranting,
  setName,
  type PermissionSource,
} from './access.js';
import { sandboxName } from './domain.js';
import { say } from './messages.js';

const createCommand = (snapshot: OrgSnapshot): string =>
  `sf integration create --name NAME${snapshot.user ? ` --username ${snapshot.user.username}` : ''}`;

const sourceNames = (sources: PermissionSource[]): string => list(sources.map(describeSource));

export const userExists: Check = defineCheck({
  id: 'user-exists',
  group: 'user',
  fix: { command: createCommand },
  run: (snapshot, ctx, report): Outcome => {
    const { user } = snapshot;
    if (user) return report.pass([user.username, user.id, user.name]);
    if (ctx.username) return report.fail([ctx.username]);
    return report.fail([snapshot.app?.name ?? ctx.appName ?? say('none')], { variant: 'fail.unnamed' });
  },
});

export const userActive: Check = defineCheck({
  id: 'user-active',
  group: 'user',
  run: needsUser((user, snapshot, ctx, report) =>
    user.isActive ? report.pass([user.username]) : report.fail([user.username])
  ),
});

export const userLicense: Check = defineCheck({
  id: 'user-license',
  group: 'user',
  fix: { command: createCommand },
  run: needsUser((user, snapshot, ctx, report) => {
    if (user.userLicenseName === INTEGRATION_LICENSE) return report.pass([user.username, user.userLicenseName]);
    const license = snapshot.integrationLicense;
    const free = license ? say('user-license.free', [license.total - license.used, license.total]) : say('unknown');
    return report.warn([user.username, user.userLicenseName, free]);
  }),
});

export const userApiOnly: Check = defineCheck({
  id: 'user-api-only',
  group: 'user',
  reads: ['user', 'permissions'],
  run: needsUser((user, snapshot, ctx, report) => {
    const sources = sourcesGranting(snapshot, user, ctx.now, 'ApiUserOnly');
    if (sources.length > 0) return report.pass([user.username, sourceNames(sources)]);
    // Seed 004: the client-credentials run-as user must be API only; for JWT it is hygiene (seed 000).
    return ctx.flow === 'client-credentials'
      ? report.fail([user.username, user.profileName])
      : report.warn([user.username, user.profileName]);
  }),
});

/** The integration's assignments: those of the sets selected on the app, else every permission set assignment. */
const integrationAssignments = (snapshot: OrgSnapshot, user: UserInfo): ReturnType<typeof assignedSets> => {
  const all = assignedSets(snapshot, user);
  const selected = snapshot.app?.permissionSetIds ?? [];
  return selected.length > 0 ? all.filter(({ set }) => selected.includes(set.id)) : all;
};

export const userPermissionSetAssigned: Check = defineCheck({
  id: 'user-permission-set-assigned',
  group: 'user',
  reads: ['user', 'permissions'],
  fix: { command: doctorFixCommand, repair: { part: 'assignments' } },
  run: needsUser((user, snapshot, ctx, report) => {
    const assignments = integrationAssignments(snapshot, user);
    const wanted = list((snapshot.app?.permissionSetIds ?? []).map((id) => setName(snapshot, id)));
    if (assignments.length === 0) {
      return report.fail([user.username, wanted], { variant: 'fail.none', fixTokens: [wanted] });
    }
    const describe = (rows: typeof assignments): string =>
      list(rows.map(({ set, assignment }) => `${set.name} (${assignment.expirationDate ?? say('never-expires')})`));
    const names = list(assignments.map(({ set }) => set.name));
    const expired = assignments.filter(({ assignment }) => isExpired(assignment, ctx.now));
    if (expired.length > 0) return report.fail([user.username, describe(expired)], { fixTokens: [names] });
    const expiring = assignments.filter(({ assignment }) => assignment.expirationDate !== undefined);
    if (expiring.length > 0) return report.warn([user.username, describe(expiring)], { fixTokens: [names] });
    return report.pass([user.username, describe(assignments)]);
  }),
});

export const userPermissionSetLicense: Check = defineCheck({
  id: 'user-permission-set-license',
  group: 'user',
  reads: ['user', 'permissions'],
  fix: { command: doctorFixCommand, repair: { part: 'permission-set-license' } },
  run: needsUser((user, snapshot, ctx, report) => {
    const needing = assignedSets(snapshot, user).filter(({ set }) =>
      [API_INTEGRATION_PSL_LABEL, API_INTEGRATION_PSL].includes(set.licenseName ?? '')
    );
    if (needing.length === 0) return report.pass([user.username], 'pass.not-needed');
    const names = list(needing.map(({ set }) => set.name));
    if (user.permissionSetLicenses.includes(API_INTEGRATION_PSL)) return report.pass([user.username, names]);
    const psl = snapshot.apiIntegrationPsl;
    const free = psl ? say('user-license.free', [psl.total - psl.used, psl.total]) : say('unknown');
    return report.fail([user.username, names, list(user.permissionSetLicenses), free]);
  }),
});

export const userApiEnabled: Check = defineCheck({
  id: 'user-api-enabled',
  group: 'user',
  reads: ['user', 'permissions'],
  run: needsUser((user, snapshot, ctx, report) => {
    const sources = sourcesGranting(snapshot, user, ctx.now, 'ApiEnabled');
    if (sources.length > 0) return report.pass([user.username, sourceNames(sources)]);
    return report.fail([user.username, sourceNames(permissionSources(snapshot, user, ctx.now))]);
  }),
});

type Grant = { tier: number; text: string };

const dangerousGrants = (source: PermissionSource): Grant[] => {
  const where = describeSource(source);
  const system = Object.entries(source.set.systemPermissions).flatMap(([permission, on]): Grant[] => {
    const danger = on && !INTEGRATION_BASELINE.includes(permission) ? dangerousPermission(permission) : undefined;
    return danger ? [{ tier: danger.tier, text: say('grant.system', [permission, danger.tier, where]) }] : [];
  });
  const objects = source.set.objects.flatMap((access) =>
    DANGEROUS_OBJECT_PERMISSIONS.filter((danger) => access[danger.flag]).map((danger) => ({
      tier: danger.tier,
      text: say('grant.object', [danger.name, access.object, danger.tier, where]),
    }))
  );
  return [...system, ...objects];
};

export const userLeastPrivilege: Check = defineCheck({
  id: 'user-least-privilege',
  group: 'user',
  reads: ['user', 'permissions'],
  run: needsUser((user, snapshot, ctx, report) => {
    const sources = permissionSources(snapshot, user, ctx.now);
    const found = sources.flatMap(dangerousGrants).sort((a, b) => a.tier - b.tier);
    if (found.length === 0) return report.pass([user.username, sourceNames(sources)]);
    const tokens = [user.username, found.map((grant) => grant.text).join('; ')];
    return found[0].tier === 0 ? report.fail(tokens) : report.warn(tokens);
  }),
});

export const userSandboxUsername: Check = defineCheck({
  id: 'user-sandbox-username',
  group: 'user',
  run: needsUser((user, snapshot, ctx, report) => {
    const { org } = snapshot;
    if (org.isScratch) return report.skip('scratch');
    if (!org.isSandbox) return report.pass([user.username], 'pass.production');
    const name = sandboxName(org);
    if (!name) return report.skip('no-sandbox-name', [org.subdomain ?? org.instanceUrl]);
    return user.username.toLowerCase().endsWith(`.${name}`)
      ? report.pass([user.username, name])
      : report.warn([user.username, name], { fixTokens: [`${user.username}.${name}`] });
  }),
});

type AccessFlag = 'read' | 'create' | 'edit' | 'delete' | 'viewAll' | 'modifyAll';
const OBJECT_FLAGS: AccessFlag[] = ['read', 'create', 'edit', 'delete', 'viewAll', 'modifyAll'];
const FIELD_FLAGS: Array<'read' | 'edit'> = ['read', 'edit'];

/** Each permission the spec asks for, as `Account.edit`, `Account.Industry.read`, `ApiEnabled` (read implied). */
const desiredItems = (desired: DesiredAccess): Set<string> => {
  const objects = desired.objects.flatMap((o) => {
    const flags = OBJECT_FLAGS.filter((flag) => flag !== 'viewAll' && flag !== 'modifyAll' && o[flag]);
    return [...new Set(flags.length > 0 ? ['read', ...flags] : [])].map((flag) => `${o.object}.${flag}`);
  });
  const fields = desired.fields.flatMap((f) =>
    f.edit ? [`${f.field}.read`, `${f.field}.edit`] : f.read ? [`${f.field}.read`] : []
  );
  return new Set([...objects, ...fields, ...desired.systemPermissions]);
};

/** Each permission the user holds, with where it comes from. */
const heldItems = (sources: PermissionSource[]): Map<string, string[]> => {
  const held = new Map<string, string[]>();
  const add = (item: string, source: PermissionSource): void => {
    held.set(item, [...(held.get(item) ?? []), describeSource(source)]);
  };
  for (const source of sources) {
    const { systemPermissions, objects, fields } = source.set;
    Object.entries(systemPermissions).forEach(([permission, on]) => on && add(permission, source));
    objects.forEach((o) => OBJECT_FLAGS.forEach((flag) => o[flag] && add(`${o.object}.${flag}`, source)));
    fields.forEach((f) => FIELD_FLAGS.forEach((flag) => f[flag] && add(`${f.field}.${flag}`, source)));
  }
  return held;
};

export const userSpecDrift: Check = defineCheck({
  id: 'user-spec-drift',
  group: 'user',
  reads: ['user', 'permissions'],
  fix: { command: () => 'sf integration create --spec FILE' },
  run: needsUser((user, snapshot, ctx, report) => {
    if (!ctx.desired) return report.skip('no-spec');
    const desired = desiredItems(ctx.desired);
    const held = heldItems(permissionSources(snapshot, user, ctx.now));
    const beyond = [...held.entries()]
      .filter(([item]) => !desired.has(item) && !INTEGRATION_BASELINE.includes(item))
      .map(([item, where]) => `${item} (${where.join(', ')})`);
    const missing = [...desired].filter((item) => !held.has(item));
    if (missing.length > 0) return report.fail([user.username, list(missing), list(beyond)]);
    if (beyond.length > 0) return report.warn([user.username, list(beyond)], { command: null });
    return report.pass([user.username]);
  }),
});

export const USER_CHECKS: Check[] = [
  userExists,
  userActive,
  userLicense,
  userApiOnly,
  userPermissionSetAssigned,
  userPermissionSetLicense,
  userApiEnabled,
  userLeastPrivilege,
  userSandboxUsername,
  userSpecDrift,
];
