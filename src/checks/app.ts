/*
 * App checks: the External Client App or Connected App the external system authenticates against
 * (seed 001 steps 2 to 6, seed 004 for client credentials).
 */
import type { AppConfig, IpRelaxation } from '../org/index.js';
import { editDistance } from '../salesforce/names.js';
import { formatRefreshPolicy } from '../salesforce/policies.js';
import type { Check, Repair } from './types.js';
import { defineCheck, doctorFixCommand, list, needsApp, needsAppAndUser, worst, type FixDefaults, type Outcome } from './define.js';
import { heldSets, sourcesGranting, describeSource, setName } from './access.js';
import { isSha2Signature, readCertificate } from './certificate.js';
import { say } from './messages.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const MINUTE_MS = 60 * 1000;
const EXPIRY_WARNING_DAYS = 30;
const MIN_RSA_BITS = 2048;
const PROPAGATION_MINUTES = 10;

/** The fixes `doctor --fix` applies to the app: the setting it changes, and nothing else. */
const repairs = (setting: Extract<Repair, { part: 'app' }>['setting']): FixDefaults => ({ command: doctorFixCommand, repair: { part: 'app', setting } });

const appKind = (app: AppConfig): string => say(`kind.${app.kind}`);

const isoDate = (date: Date): string => date.toISOString().slice(0, 10);

const normalize = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

export const nearMatches = (name: string, candidates: readonly string[]): string[] => {
  const wanted = normalize(name);
  return candidates.filter((candidate) => {
    const other = normalize(candidate);
    return other.includes(wanted) || wanted.includes(other) || editDistance(wanted, other) <= 3;
  });
};

/** Shows enough of a consumer key to tell two apart, not the whole value. */
export const maskKey = (key: string): string => (key.length > 12 ? `${key.slice(0, 6)}…${key.slice(-4)}` : key);

export const appExists: Check = defineCheck({
  id: 'app-exists',
  group: 'app',
  run: (snapshot, ctx, report): Outcome => {
    const { app } = snapshot;
    // Found by API name; people know it by its label (ConnectedApplication.Name is the label).
    if (app) return report.pass([appKind(app), app.name, app.id, app.label]);
    if (ctx.appName) return report.fail([ctx.appName, list(nearMatches(ctx.appName, snapshot.otherAppNames))]);
    return report.fail([snapshot.user?.username ?? ctx.username ?? say('none'), list(snapshot.otherAppNames)], {
      variant: 'fail.unnamed',
    });
  },
});

export const appFlowEnabled: Check = defineCheck({
  id: 'app-flow-enabled',
  group: 'app',
  run: needsApp((app, snapshot, ctx, report) => {
    const enabled = ctx.flow === 'jwt' ? app.certificate !== undefined : app.clientCredentialsEnabled;
    return enabled
      ? report.pass([app.name], `pass.${ctx.flow}`)
      : report.fail([app.name], { variant: `fail.${ctx.flow}`, fix: `fix.${ctx.flow}` });
  }),
});

type Problem = { status: 'warn' | 'fail'; text: string };

const certificateProblems = (facts: NonNullable<ReturnType<typeof readCertificate>>, now: Date): Problem[] => {
  const daysLeft = Math.floor((facts.notAfter.getTime() - now.getTime()) / DAY_MS);
  const problems: Array<Problem | false> = [
    !facts.keyType.startsWith('rsa') && { status: 'fail', text: say('app-certificate.problem.key-type', [facts.keyType]) },
    facts.keyType.startsWith('rsa') &&
      (facts.keyBits ?? 0) < MIN_RSA_BITS && {
        status: 'fail',
        text: say('app-certificate.problem.key-size', [facts.keyBits ?? 0, MIN_RSA_BITS]),
      },
    facts.notAfter.getTime() <= now.getTime() && {
      status: 'fail',
      text: say('app-certificate.problem.expired', [isoDate(facts.notAfter)]),
    },
    facts.notBefore.getTime() > now.getTime() && {
      status: 'fail',
      text: say('app-certificate.problem.not-yet-valid', [isoDate(facts.notBefore)]),
    },
    daysLeft >= 0 &&
      daysLeft < EXPIRY_WARNING_DAYS && {
        status: 'warn',
        text: say('app-certificate.problem.expiring', [isoDate(facts.notAfter), daysLeft]),
      },
    !isSha2Signature(facts.signatureAlgorithm) && {
      status: 'warn',
      text: say('app-certificate.problem.signature', [facts.signatureAlgorithm]),
    },
  ];
  return problems.filter((problem): problem is Problem => problem !== false);
};

export const appCertificate: Check = defineCheck({
  id: 'app-certificate',
  group: 'app',
  run: needsApp((app, snapshot, ctx, report) => {
    if (!app.certificate) return report.skip('no-certificate', [app.name]);
    const facts = readCertificate(app.certificate);
    if (!facts) return report.fail([app.name], { variant: 'fail.unparseable' });
    const problems = certificateProblems(facts, ctx.now);
    const status = worst(problems.map((problem) => problem.status));
    if (status === 'pass') {
      return report.pass([facts.subject, facts.keyBits ?? 0, facts.signatureAlgorithm, isoDate(facts.notAfter)]);
    }
    return report[status]([facts.subject, problems.map((problem) => problem.text).join('; ')], {
      variant: 'problems',
    });
  }),
});

export const appCertificateKeyMatch: Check = defineCheck({
  id: 'app-certificate-key-match',
  group: 'app',
  run: needsApp((app, snapshot, ctx, report) => {
    if (!app.certificate) return report.skip('no-certificate', [app.name]);
    if (!ctx.privateKey) return report.skip('no-private-key');
    return ctx.privateKey.matchesCertificate
      ? report.pass([ctx.privateKey.path, app.name])
      : report.fail([ctx.privateKey.path, app.name]);
  }),
});

export const appConsumerKey: Check = defineCheck({
  id: 'app-consumer-key',
  group: 'app',
  run: needsApp((app, snapshot, ctx, report) => {
    if (!ctx.clientId) return report.skip('no-client-id');
    if (!app.consumerKey) return report.skip('no-consumer-key', [app.name]);
    return ctx.clientId === app.consumerKey
      ? report.pass([maskKey(ctx.clientId), app.name])
      : report.fail([maskKey(ctx.clientId), app.name, maskKey(app.consumerKey)]);
  }),
});

const scopeName = (scope: string): string => scope.toLowerCase().replace(/[^a-z]/g, '');

export const appScopes: Check = defineCheck({
  id: 'app-scopes',
  group: 'app',
  run: needsApp((app, snapshot, ctx, report) => {
    const held = new Set(app.scopes.map(scopeName));
    const scopes = list(app.scopes);
    const missing = [
      !held.has('api') && 'api',
      ctx.flow === 'jwt' && !held.has('refreshtoken') && !held.has('offlineaccess') && 'refresh_token/offline_access',
    ].filter((scope): scope is string => scope !== false);
    if (missing.length > 0) return report.fail([scopes, missing.join(', ')]);
    if (held.has('full')) return report.warn([scopes]);
    return report.pass([scopes]);
  }),
});

export const appPkce: Check = defineCheck({
  id: 'app-pkce',
  group: 'app',
  fix: repairs('pkce'),
  run: needsApp((app, snapshot, ctx, report) => {
    if (!app.pkceRequired) return report.pass([app.name]);
    // PKCE belongs to the authorization-code flows; seed 001 step 2 requires it off for JWT bearer.
    return ctx.flow === 'jwt' ? report.fail([app.name]) : report.warn([app.name]);
  }),
});

export const appJwtAccessTokens: Check = defineCheck({
  id: 'app-jwt-access-tokens',
  group: 'app',
  fix: repairs('named-user-jwt'),
  run: needsApp((app, snapshot, ctx, report) => (app.namedUserJwt ? report.warn([app.name]) : report.pass([app.name]))),
});

export const appAdminApproved: Check = defineCheck({
  id: 'app-admin-approved',
  group: 'app',
  fix: repairs('admin-approved'),
  run: needsApp((app, snapshot, ctx, report) => {
    if (app.permittedUsers === 'AdminApprovedPreAuthorized') return report.pass([app.name, app.permittedUsers]);
    // Client credentials runs as the run-as user and asks no approval: self-authorization is a risk, not a break.
    return ctx.flow === 'jwt'
      ? report.fail([app.name, app.permittedUsers])
      : report.warn([app.name, app.permittedUsers], { variant: 'warn.client-credentials' });
  }),
});

export const appRefreshTokenPolicy: Check = defineCheck({
  id: 'app-refresh-token-policy',
  group: 'app',
  fix: repairs('refresh-token-policy'),
  run: needsApp((app, snapshot, ctx, report) => {
    const policy = formatRefreshPolicy(app.refreshTokenPolicy);
    // Client credentials issues no refresh token and keeps no approval record: the policy does not apply.
    if (ctx.flow === 'client-credentials') return report.pass([policy], 'pass.client-credentials');
    return app.refreshTokenPolicy.type === 'infinite' ? report.pass([policy]) : report.fail([policy]);
  }),
});

const IP_RELAXATION_LABEL: Record<IpRelaxation, string> = {
  BYPASS: 'relax',
  ENFORCE: 'enforce',
  BYPASS_2FACTOR: 'relax-2fa',
  ENFORCE_RELAXREFRESH: 'enforce-relax-refresh',
};

export const appIpRelaxation: Check = defineCheck({
  id: 'app-ip-relaxation',
  group: 'app',
  fix: repairs('ip-relaxation'),
  run: needsApp((app, snapshot, ctx, report) => {
    const tokens = [app.ipRelaxation, say(`ip.${IP_RELAXATION_LABEL[app.ipRelaxation]}`)];
    // A headless integration can answer no second factor and holds no refresh token: only BYPASS relaxes it.
    return app.ipRelaxation === 'BYPASS' ? report.pass(tokens) : report.warn(tokens);
  }),
});

export const appPermissionSetAssociated: Check = defineCheck({
  id: 'app-permission-set-associated',
  group: 'app',
  reads: ['app', 'user', 'permissions'],
  fix: repairs('permission-sets'),
  run: needsAppAndUser((app, user, snapshot, ctx, report) => {
    if (ctx.flow === 'client-credentials' && app.permittedUsers === 'AllSelfAuthorized') {
      return report.skip('self-authorized', [app.name]);
    }
    const held = heldSets(snapshot, user, ctx.now);
    const selected = held.filter((source) => app.permissionSetIds.includes(source.set.id));
    if (selected.length > 0) return report.pass([list(selected.map((source) => source.set.name)), app.name]);
    // Selected and assigned, but the assignment expired: the association is right; user-permission-set-assigned
    // names the expiry, so the fix points at the assignment rather than at the app.
    const expired = user.assignments.filter((a) => app.permissionSetIds.includes(a.permissionSetId));
    if (expired.length > 0) return report.pass([list(expired.map((a) => setName(snapshot, a.permissionSetId))), app.name], 'pass.expired');
    if (app.profileIds.includes(user.profileId)) return report.pass([user.profileName, app.name], 'pass.profile');
    const heldNames = list(held.map((source) => source.set.name));
    return report.fail(
      [app.name, list(app.permissionSetIds.map((id) => setName(snapshot, id))), user.username, heldNames],
      { fixTokens: [heldNames, app.name] }
    );
  }),
});

export const appPropagation: Check = defineCheck({
  id: 'app-propagation',
  group: 'app',
  run: needsApp((app, snapshot, ctx, report) => {
    const changed = app.lastModifiedDate ?? app.createdDate;
    if (!changed) return report.skip('no-modified-date', [app.name]);
    const minutes = Math.max(0, Math.floor((ctx.now.getTime() - Date.parse(changed)) / MINUTE_MS));
    return minutes < PROPAGATION_MINUTES
      ? report.warn([app.name, changed, minutes])
      : report.pass([app.name, changed, minutes]);
  }),
});

export const appClientCredentialsUser: Check = defineCheck({
  id: 'app-client-credentials-user',
  group: 'app',
  reads: ['app', 'user', 'permissions'],
  run: needsApp((app, snapshot, ctx, report) => {
    if (ctx.flow !== 'client-credentials') return report.skip('not-client-credentials');
    const runAs = app.runAsUsername;
    if (!runAs) return report.fail([app.name], { variant: 'fail.none' });
    const { user } = snapshot;
    if (user?.username.toLowerCase() !== runAs.toLowerCase()) {
      return report.warn([runAs, user?.username ?? say('none')], { variant: 'warn.other-user' });
    }
    const apiOnly = sourcesGranting(snapshot, user, ctx.now, 'ApiUserOnly');
    const problems = [
      !user.isActive && say('app-client-credentials-user.problem.inactive'),
      apiOnly.length === 0 && say('app-client-credentials-user.problem.not-api-only', [user.profileName]),
    ].filter((problem): problem is string => problem !== false);
    if (problems.length > 0) return report.fail([runAs, problems.join('; ')]);
    return report.pass([runAs, list(apiOnly.map(describeSource))]);
  }),
});

export const APP_CHECKS: Check[] = [
  appExists,
  appFlowEnabled,
  appCertificate,
  appCertificateKeyMatch,
  appConsumerKey,
  appScopes,
  appPkce,
  appJwtAccessTokens,
  appAdminApproved,
  appRefreshTokenPolicy,
  appIpRelaxation,
  appPermissionSetAssociated,
  appPropagation,
  appClientCredentialsUser,
];
