/*
 * The audit as pure functions of an inventory: the apps, integration identities and connected users it lists, and
 * the findings, each mapped to the OWASP Non-Human Identities Top 10 (2025) and NIST CSF 2.0 PR.AA-05 (access
 * permissions managed and reviewed, least privilege), with the Setup path or plugin command that fixes it.
 */
import { X509Certificate } from 'node:crypto';
import { credentialAgeDays, credentialAges, type AgeSource } from '../credentials/age.js';
import { INTEGRATION_LICENSE } from '../salesforce/licenses.js';
import { formatRefreshPolicy } from '../salesforce/policies.js';
import type { AuditApp, AuditFinding, AuditIdentity, AuditOptions, ConnectedUser, Inventory, InventoryApp, InventoryToken, OrgAudit, Severity } from './types.js';

const DAY = 86_400_000;
const NIST = 'PR.AA-05';
const parse = (d: string | undefined): number => (d ? Date.parse(d.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')) : Number.NaN);
const maxDate = (a: string | undefined, b: string | undefined): string | undefined => (!a ? b : !b ? a : parse(a) >= parse(b) ? a : b);
const minDate = (a: string | undefined, b: string | undefined): string | undefined => (!a ? b : !b ? a : parse(a) <= parse(b) ? a : b);

const certificateFacts = (pem: string | undefined, now: Date): AuditApp['certificate'] => {
  if (!pem) return undefined;
  try {
    const x = new X509Certificate(pem);
    const notBefore = new Date(x.validFrom).toISOString();
    return { subject: /CN=([^\n,]+)/.exec(x.subject)?.[1], notBefore, notAfter: new Date(x.validTo).toISOString(), ageDays: credentialAgeDays(notBefore, now) };
  } catch {
    return {};
  }
};

const flowsOf = (app: InventoryApp): string[] => [
  ...(app.certificate ? ['jwt-bearer'] : []),
  ...(app.clientCredentialsEnabled ? ['client-credentials'] : []),
  ...(app.callbackUrl && app.scopes.some((s) => s === 'refresh_token' || s === 'offline_access') ? ['web-server'] : []),
];

const serverToServer = (app: InventoryApp): boolean => Boolean(app.certificate) || app.clientCredentialsEnabled;

/** Tokens grouped by the installed app they belong to (AppMenuItem.ApplicationId, else label or API name), or by label. */
const groupTokens = (inv: Inventory): { byApp: Map<string, InventoryToken[]>; phantom: Map<string, InventoryToken[]> } => {
  const byId = new Map(inv.apps.map((a) => [a.id, a]));
  const byName = new Map<string, InventoryApp>();
  for (const a of inv.apps) {
    byName.set(a.name.toLowerCase(), a);
    byName.set(a.label.toLowerCase(), a);
  }
  const byApp = new Map<string, InventoryToken[]>();
  const phantom = new Map<string, InventoryToken[]>();
  for (const t of inv.tokens) {
    const app = (t.applicationId ? byId.get(t.applicationId) : undefined) ?? byName.get(t.appName.toLowerCase());
    const map = app ? byApp : phantom;
    const key = app ? app.id : t.appName;
    const list = map.get(key);
    if (list) list.push(t);
    else map.set(key, [t]);
  }
  return { byApp, phantom };
};

const finding = (f: Omit<AuditFinding, 'nist'> & { nist?: string }): AuditFinding => ({ nist: NIST, ...f });

const SINCE: Record<AgeSource, string> = { certificate: 'since its notBefore', runbook: 'since the rotation the runbook records', 'app-created': 'since the app was created, no rotation recorded' };

/**
 * Credentials past the rotation period (NHI7): the certificate (AUD-CERT-OLD) and, with client credentials, the
 * consumer secret (AUD-SECRET-OLD), each dated by the one age rule (src/credentials/age.ts) and saying which evidence
 * dated it. No API rotates a Connected App's secret: its fix is the Setup path.
 */
const credentialAgeFindings = (app: InventoryApp, cert: AuditApp['certificate'], opts: AuditOptions): AuditFinding[] =>
  credentialAges(app, opts.rotations, opts.now)
    .filter((age) => age.ageDays > opts.maxCredentialAgeDays)
    .map((age) => {
      const what = age.credential === 'certificate' ? 'certificate' : 'consumer secret';
      const message = `${app.label}'s ${what} is ${age.ageDays} days old, ${SINCE[age.source]} (${age.since.slice(0, 10)}; rotation period ${opts.maxCredentialAgeDays}).`;
      const evidence = { source: age.source, since: age.since, ageDays: age.ageDays };
      if (age.credential === 'certificate') {
        return finding({ id: 'AUD-CERT-OLD', severity: 'medium', nhi: ['NHI7'], subject: app.label, message, evidence: { ...evidence, notBefore: cert?.notBefore, notAfter: cert?.notAfter }, fix: `sf integration rotate --name ${app.name}` });
      }
      const fix = app.kind === 'connected-app' ? `Setup > App Manager > ${app.label} > View > Manage Consumer Details > Generate (no API rotates a Connected App's secret)` : `sf integration rotate --name ${app.name}`;
      return finding({ id: 'AUD-SECRET-OLD', severity: 'medium', nhi: ['NHI7'], subject: app.label, message, evidence, fix });
    });

export const buildAudit = (org: string, inv: Inventory, opts: AuditOptions): OrgAudit => {
  const now = opts.now;
  const users = new Map(inv.users.map((u) => [u.id, u]));
  const { byApp, phantom } = groupTokens(inv);
  const grantsOf = new Map<string, Inventory['grants']>();
  for (const g of inv.grants) grantsOf.set(g.userId, [...(grantsOf.get(g.userId) ?? []), g]);
  const privileged = (userId: string): boolean => (grantsOf.get(userId) ?? []).length > 0;
  const findings: AuditFinding[] = [];
  const connectedUsers: ConnectedUser[] = [];

  const usersOfTokens = (label: string, tokens: InventoryToken[]): ConnectedUser[] => {
    const per = new Map<string, ConnectedUser>();
    for (const t of tokens) {
      const u = users.get(t.userId);
      const cu = per.get(t.userId) ?? {
        app: label,
        userId: t.userId,
        username: u?.username,
        active: u?.isActive ?? false,
        frozen: u?.isFrozen ?? false,
        privileged: privileged(t.userId),
        tokens: 0,
        useCount: 0,
      };
      cu.tokens++;
      cu.useCount += t.useCount ?? 0;
      cu.firstUsed = minDate(cu.firstUsed, t.createdDate);
      cu.lastUsed = maxDate(cu.lastUsed, t.lastUsedDate ?? t.createdDate);
      per.set(t.userId, cu);
    }
    return [...per.values()];
  };

  const tokenFindings = (label: string, connected: ConnectedUser[], revokeBy: string): void => {
    const gone = connected.filter((c) => !c.active || c.frozen);
    if (gone.length) {
      findings.push(
        finding({
          id: 'AUD-TOKENS-INACTIVE-USERS',
          severity: 'high',
          nhi: ['NHI1'],
          subject: label,
          message: `${gone.length} inactive or frozen user(s) still hold tokens of ${label}.`,
          evidence: { users: gone.map((c) => ({ username: c.username ?? c.userId, active: c.active, frozen: c.frozen, tokens: c.tokens })) },
          fix: gone.map((c) => `sf integration revoke --user ${c.username ?? c.userId}`).slice(0, 5).join('; '),
        })
      );
    }
    const last = connected.reduce<string | undefined>((acc, c) => maxDate(acc, c.lastUsed), undefined);
    const idle = last ? Math.floor((now.getTime() - parse(last)) / DAY) : undefined;
    if (connected.length && idle !== undefined && idle > opts.unusedDays) {
      findings.push(
        finding({
          id: 'AUD-APP-UNUSED',
          severity: 'medium',
          nhi: ['NHI1'],
          subject: label,
          message: `${label} holds tokens of ${connected.length} user(s) but was last used ${idle} days ago (more than ${opts.unusedDays}).`,
          evidence: { lastUsed: last, daysUnused: idle, connectedUsers: connected.length, tokens: connected.reduce((n, c) => n + c.tokens, 0) },
          fix: `sf integration revoke --app ${JSON.stringify(revokeBy)}`,
        })
      );
    }
  };

  const apps: AuditApp[] = inv.apps.map((app) => {
    const tokens = byApp.get(app.id) ?? [];
    const connected = usersOfTokens(app.label, tokens);
    connectedUsers.push(...connected);
    const cert = certificateFacts(app.certificate, now);
    const pre = inv.preAuthorizedUserIds[app.id] ?? [];
    const out: AuditApp = {
      name: app.name,
      label: app.label,
      kind: app.kind,
      id: app.id,
      owner: app.contactEmail,
      createdDate: app.createdDate,
      distributionState: app.distributionState,
      flows: flowsOf(app),
      certificate: cert,
      runAsUser: app.runAsUsername,
      scopes: app.scopes,
      permittedUsers: app.permittedUsers,
      refreshTokenPolicy: formatRefreshPolicy(app.refreshTokenPolicy),
      ipRelaxation: app.ipRelaxation,
      preAuthorizedUsers: pre.length,
      tokens: tokens.length,
      connectedUsers: connected.length,
      firstUsed: connected.reduce<string | undefined>((a, c) => minDate(a, c.firstUsed), undefined),
      lastUsed: connected.reduce<string | undefined>((a, c) => maxDate(a, c.lastUsed), undefined),
      installed: true,
    };
    tokenFindings(app.label, connected, app.name);
    if (!app.contactEmail) {
      findings.push(finding({ id: 'AUD-APP-NO-OWNER', severity: 'low', nhi: ['NHI1'], subject: app.label, message: `${app.label} names no owner (contact email).`, evidence: { contactEmail: null }, fix: 'Setup > External Client App Manager (or App Manager) > Edit > Contact Email' }));
    }
    if (app.permittedUsers === 'AllSelfAuthorized' && tokens.length) {
      findings.push(finding({ id: 'AUD-APP-SELF-AUTHORIZED', severity: 'medium', nhi: ['NHI3'], subject: app.label, message: `Any user can authorize ${app.label} themselves, and ${connected.length} have.`, evidence: { permittedUsers: app.permittedUsers, connectedUsers: connected.length }, fix: `Setup > Connected Apps OAuth Usage > ${app.label} > Manage Policies > Permitted Users: Admin approved users are pre-authorized` }));
    }
    if (app.scopes.includes('full')) {
      findings.push(finding({ id: 'AUD-APP-FULL-SCOPE', severity: 'high', nhi: ['NHI5'], subject: app.label, message: `${app.label} grants the full scope.`, evidence: { scopes: app.scopes }, fix: 'Replace the full scope with api (and refresh_token only when a person signs in).' }));
    }
    const profiles = inv.adminProfileApps[app.id] ?? [];
    const admin = profiles.filter((p) => /admin/i.test(p));
    if (admin.length) {
      findings.push(finding({ id: 'AUD-APP-ADMIN-PROFILE', severity: 'high', nhi: ['NHI5'], subject: app.label, message: `${app.label} is pre-authorized through the ${admin.join(', ')} profile.`, evidence: { profiles: admin }, fix: 'Select a dedicated permission set on the app instead of an admin profile (Manage Profiles / Manage Permission Sets).' }));
    }
    findings.push(...credentialAgeFindings(app, cert, opts));
    if (serverToServer(app)) {
      const people = connected.filter((c) => users.get(c.userId)?.licenseName !== INTEGRATION_LICENSE && !(app.runAsUsername && c.username === app.runAsUsername));
      if (people.length && app.certificate === undefined && app.clientCredentialsEnabled) {
        findings.push(finding({ id: 'AUD-PEOPLE-HOLD-S2S-TOKENS', severity: 'medium', nhi: ['NHI10'], subject: app.label, message: `${people.length} person(s) hold tokens of the server-to-server app ${app.label}.`, evidence: { users: people.map((p) => p.username ?? p.userId) }, fix: `sf integration revoke --app ${JSON.stringify(app.name)}` }));
      }
    }
    return out;
  });

  for (const [label, tokens] of phantom) {
    const connected = usersOfTokens(label, tokens);
    connectedUsers.push(...connected);
    const last = connected.reduce<string | undefined>((a, c) => maxDate(a, c.lastUsed), undefined);
    apps.push({ name: label, label, kind: 'not-installed', flows: [], scopes: [], preAuthorizedUsers: 0, tokens: tokens.length, connectedUsers: connected.length, firstUsed: connected.reduce<string | undefined>((a, c) => minDate(a, c.firstUsed), undefined), lastUsed: last, installed: false });
    findings.push(finding({ id: 'AUD-APP-NOT-INSTALLED', severity: 'high', nhi: ['NHI1', 'NHI3'], subject: label, message: `${connected.length} user(s) hold tokens of ${label}, which is not installed in the org.`, evidence: { tokens: tokens.length, connectedUsers: connected.length, lastUsed: last }, fix: `sf integration revoke --app ${JSON.stringify(label)} (or Setup > Connected Apps OAuth Usage > ${label} > Install, then manage it)` }));
    tokenFindings(label, connected, label);
  }

  // Integration identities: Integration-license users, run-as users, users pre-authorized for a server-to-server app.
  const why = new Map<string, Set<string>>();
  const appsOf = new Map<string, Set<string>>();
  const mark = (userId: string, reason: string, app?: string): void => {
    why.set(userId, (why.get(userId) ?? new Set()).add(reason));
    if (app) appsOf.set(userId, (appsOf.get(userId) ?? new Set()).add(app));
  };
  for (const u of inv.users) if (u.licenseName === INTEGRATION_LICENSE) mark(u.id, 'integration license');
  for (const app of inv.apps) {
    if (app.runAsUsername) {
      const u = inv.users.find((x) => x.username.toLowerCase() === app.runAsUsername?.toLowerCase());
      if (u) mark(u.id, 'client credentials run-as user', app.label);
    }
    if (serverToServer(app) && app.permittedUsers === 'AdminApprovedPreAuthorized') {
      for (const id of inv.preAuthorizedUserIds[app.id] ?? []) mark(id, 'pre-authorized for a server-to-server app', app.label);
    }
  }
  const identities: AuditIdentity[] = [...why.keys()].flatMap((userId) => {
    const u = users.get(userId);
    if (!u) return [];
    const logins = inv.logins.filter((l) => l.userId === userId);
    const grants = grantsOf.get(userId) ?? [];
    const identityApps = [...(appsOf.get(userId) ?? [])];
    const id: AuditIdentity = {
      userId,
      username: u.username,
      license: u.licenseName,
      profile: u.profileName,
      active: u.isActive,
      frozen: u.isFrozen,
      lastLogin: u.lastLoginDate,
      loginTypes: [...new Set(logins.map((l) => l.loginType))],
      dangerousPermissions: grants.flatMap((g) => g.permissions.map((p) => ({ permission: p, via: g.viaProfile ? `profile ${g.permissionSet}` : `permission set ${g.permissionSet}` }))),
      apps: identityApps,
      why: [...(why.get(userId) ?? [])],
      owner: u.email,
    };
    if (id.dangerousPermissions.length) {
      findings.push(finding({ id: 'AUD-IDENTITY-OVERPRIVILEGED', severity: 'high', nhi: ['NHI5'], subject: u.username, message: `Integration identity ${u.username} holds ${[...new Set(id.dangerousPermissions.map((d) => d.permission))].join(', ')}.`, evidence: { permissions: id.dangerousPermissions }, fix: `Remove the permissions (or unassign the set), then sf integration doctor --username ${u.username} --fix` }));
    }
    const ui = logins.filter((l) => l.loginType === 'Application');
    if (ui.length) {
      findings.push(finding({ id: 'AUD-IDENTITY-UI-LOGIN', severity: 'medium', nhi: ['NHI10'], subject: u.username, message: `Integration identity ${u.username} logged in to the user interface ${ui.reduce((n, l) => n + l.count, 0)} time(s).`, evidence: { lastUiLogin: ui.reduce<string | undefined>((a, l) => maxDate(a, l.last), undefined) }, fix: `Give ${u.username} the API Only User permission (sf integration doctor --username ${u.username} --fix)` }));
    }
    if (u.licenseName !== INTEGRATION_LICENSE) {
      findings.push(finding({ id: 'AUD-IDENTITY-STANDARD-LICENSE', severity: 'low', nhi: ['NHI10'], subject: u.username, message: `Integration identity ${u.username} spends a ${u.licenseName ?? 'standard'} license and is not API only.`, evidence: { license: u.licenseName, profile: u.profileName }, fix: `sf integration migrate --from-user ${u.username}` }));
    }
    if (identityApps.length > 1) {
      findings.push(finding({ id: 'AUD-IDENTITY-SHARED', severity: 'medium', nhi: ['NHI9'], subject: u.username, message: `One integration user, ${u.username}, is behind ${identityApps.length} apps.`, evidence: { apps: identityApps }, fix: 'Give each integration its own user: sf integration create --name <app> (one per system)' }));
    }
    return [id];
  });

  const count = (s: Severity): number => findings.filter((f) => f.severity === s).length;
  return {
    org,
    orgId: inv.orgId,
    instanceUrl: inv.instanceUrl,
    takenAt: inv.takenAt,
    summary: { apps: apps.length, identities: identities.length, tokens: inv.tokens.length, connectedUsers: connectedUsers.length, findings: { high: count('high'), medium: count('medium'), low: count('low') } },
    apps,
    identities,
    connectedUsers,
    findings,
    readFailures: inv.readFailures,
  };
};

/** Findings of `current` whose (id, subject) a baseline result did not have, marked new; plus new apps and privileged connections. */
export const markNew = (current: OrgAudit, baseline: { findings?: Array<{ id: string; subject: string }>; apps?: Array<{ label: string }>; connectedUsers?: Array<{ app: string; userId: string }> }): void => {
  const seen = new Set((baseline.findings ?? []).map((f) => `${f.id}\u0000${f.subject}`));
  for (const f of current.findings) if (!seen.has(`${f.id}\u0000${f.subject}`)) f.isNew = true;
  const apps = new Set((baseline.apps ?? []).map((a) => a.label));
  for (const a of current.apps) {
    if (!apps.has(a.label)) current.findings.push(finding({ id: 'AUD-NEW-APP', severity: 'medium', nhi: ['NHI3'], subject: a.label, message: `${a.label} is new since the baseline.`, evidence: { tokens: a.tokens, connectedUsers: a.connectedUsers }, fix: 'Review the app: sf integration doctor --name <app>', isNew: true }));
  }
  const links = new Set((baseline.connectedUsers ?? []).map((c) => `${c.app}\u0000${c.userId}`));
  for (const c of current.connectedUsers) {
    if (c.privileged && !links.has(`${c.app}\u0000${c.userId}`)) {
      current.findings.push(finding({ id: 'AUD-NEW-PRIVILEGED-CONNECTION', severity: 'high', nhi: ['NHI5'], subject: `${c.username ?? c.userId} → ${c.app}`, message: `Privileged user ${c.username ?? c.userId} authorized ${c.app} since the baseline.`, evidence: { firstUsed: c.firstUsed }, fix: `Confirm it is expected, else sf integration revoke --user ${c.username ?? c.userId} --app ${JSON.stringify(c.app)}`, isNew: true }));
    }
  }
};
