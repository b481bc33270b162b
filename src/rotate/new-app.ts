/*
 * The zero-downtime certificate rotation (`--strategy new-app`) and the retirement of the app it replaces
 * (`--retire APP`). An app holds one certificate, so the only rotation with an overlap is a second app: the same
 * kind, scopes and policies, pre-authorized for the same permission sets, with a new key pair and certificate
 * (create's rules and create's own plan steps: the key pair, the one planner's app step, the live check); the old
 * app is left as it is, and the external system switches consumer key and key when it is ready. Once it has (audit
 * or doctor show the old app unused), `--retire` revokes the old app's tokens (revoke's plan) and removes the app
 * with a destructive deploy. Both go through the one apply; every refusal comes before the first write.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Messages } from '@salesforce/core';
import { CERTIFICATE_FILE, inspectCertificate, keyMatchesCertificate, PRIVATE_KEY_FILE, readKeyFiles } from '../credentials/index.js';
import { LIMITS } from '../desired/defaults.js';
import { apiNameProblems } from '../desired/validate.js';
import type { DesiredState } from '../desired/index.js';
import { lastAppLogin, readOauthTokens, readOrgUsers, Transport, type AppConfig, type AppSettings, type OauthToken, type OrgSnapshot } from '../org/index.js';
import { applyPlan, outcomeExitCode } from '../plan/apply.js';
import { keyPairStep, verifyStep } from '../plan/local.js';
import { planChanges, PlanBlocked, step } from '../plan/plan.js';
import { blockedError, plannedResults, planText, renderSteps } from '../plan/render.js';
import type { ApplyOutcome, Plan, RefName, Step, StepResult } from '../plan/types.js';
import { planRevoke } from '../revoke/plan.js';
import { parseDate, type SelectedToken } from '../revoke/select.js';
import { RUNBOOK_FILE, rotationLogStep } from './plan.js';
import type { RotateOptions, RotateOutcome, RotateResult } from './run.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'integration.rotate');

const DAY_MS = 86_400_000;

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false
  );

const readText = (path: string): Promise<string | undefined> => readFile(path, 'utf8').catch(() => undefined);

const normalizePem = (pem: string | undefined): string => (pem ?? '').replace(/\s+/g, '');

const fingerprintOf = (pem: string | undefined): string | undefined => {
  if (!pem) return undefined;
  try {
    return inspectCertificate(pem).sha256Fingerprint;
  } catch {
    return undefined;
  }
};

const badInput = (key: string, tokens: Array<string | number> = []): Error => {
  const e = messages.createError(key, tokens.map(String));
  e.exitCode = 2;
  return e;
};

const yyyymmdd = (d: Date): string => d.toISOString().slice(0, 10).replace(/-/g, '');

/** `<APP>_<yyyymmdd>`, cut so the name stays within the app name limit. */
export const defaultNewAppName = (oldName: string, now: Date): string => {
  const suffix = `_${yyyymmdd(now)}`;
  return `${oldName.slice(0, LIMITS.appName - suffix.length).replace(/_+$/, '')}${suffix}`;
};

/** The new app's settings: the old app's kind, scopes, policies and contact, under the new name. */
export const successorSettings = (old: AppConfig, name: string, label: string, contactEmail: string): AppSettings => ({
  kind: old.kind,
  name,
  label,
  contactEmail: old.contactEmail ?? contactEmail,
  description: old.description ?? `Successor of ${old.name} (certificate rotation).`,
  callbackUrl: old.callbackUrl ?? 'http://localhost:1717/OauthRedirect',
  scopes: old.metadataScopes,
  refreshTokenPolicy: old.refreshTokenPolicy,
  ipRelaxation: old.ipRelaxation,
});

export type NewAppPlanInput = {
  old: AppConfig;
  settings: AppSettings;
  /** The org read for the new app's name (its app undefined until it exists). */
  snap: OrgSnapshot;
  /** The permission sets the old app pre-authorizes, in the order the org lists them. */
  permissionSets: Array<{ id: string; name: string }>;
  /** The key pair in the new app's directory: to generate, or there already (a resumed run). */
  local: { source: 'generate' } | { source: 'existing'; certificatePem: string };
  dir: string;
  keyDir: string;
  keySize: 2048 | 3072 | 4096;
  validityDays: number;
  commonName: string;
  username: string;
  waitMinutes: number;
  runbook?: string;
  entry: { date: string; by: string; before: string; change: string };
};

/** The plan of a new-app rotation: create's key pair step, the one planner's app step, the live check, the log. */
export const planNewApp = (input: NewAppPlanInput): Plan => {
  const { settings, snap, permissionSets, local } = input;
  const [first, ...others] = permissionSets;
  const certificate = keyPairStep({ source: local.source, dir: input.keyDir, keySize: input.keySize, validityDays: input.validityDays, commonName: input.commonName });
  const desired: DesiredState = {
    app: {
      owned: settings,
      flow: 'jwt',
      certificate: local.source === 'generate' ? { generated: true } : { pem: local.certificatePem },
      permissionSetName: first.name,
    },
  };
  const [app] = planChanges(desired, { ...snap, targetPermissionSetId: first.id });
  // The other permission sets the old app pre-authorizes: selected on the new app too.
  const held = snap.app?.permissionSetIds ?? [];
  const missing = Object.fromEntries(others.filter((p) => !held.includes(p.id)).map((p) => [p.id, p.name]));
  // The permission set the deploy selects is named too (a new app's deploy change names only the kind and flow).
  let appStep: Step = app.action === 'create' ? { ...app, changes: [...app.changes, { key: 'app.select', values: [first.name] }] } : app;
  if (Object.keys(missing).length) {
    appStep = {
      ...appStep,
      action: app.action === 'unchanged' ? 'update' : app.action,
      changes: [...appStep.changes, ...Object.values(missing).map((name) => ({ key: 'app.select', values: [name] }))],
      ops: [...app.ops, { kind: 'patch-app', app: { kind: settings.kind, name: settings.name }, patch: { addPermissionSets: missing } }],
    };
  }
  const verify = verifyStep({ enabled: true, flow: 'jwt', hosts: snap.org, app: { kind: settings.kind, name: settings.name }, username: input.username, waitMinutes: input.waitMinutes });
  const after = local.source === 'generate' ? { ref: 'certificateFingerprint' as RefName } : fingerprintOf(local.certificatePem) ?? '-';
  const documents = rotationLogStep(input.dir, input.runbook, input.entry, after);
  // Profiles are not carried over: the new app is pre-authorized through permission sets only (least privilege).
  const warnings = input.old.profileIds.length ? [planText('warning.new-app-profiles', [input.old.profileIds.length, input.old.name])] : [];
  return { steps: [certificate, appStep, verify, documents], warnings };
};

export type RetirePlanInput = {
  /** The app to retire as the org holds it; undefined once it is gone. */
  app?: AppConfig;
  name: string;
  tokens: SelectedToken[];
  dir: string;
  /** Whether the rotation log is written (the directory exists). */
  log: boolean;
  runbook?: string;
  entry: { date: string; by: string; before: string; change: string };
};

/** The plan of a retirement: the app's tokens revoked (revoke's plan), then the app removed, then the log. */
export const planRetire = (input: RetirePlanInput): Plan => {
  const revoke = planRevoke({ tokens: input.tokens, block: [], freeze: [], deactivate: [] });
  const app = input.app;
  const retire = app
    ? step({ id: 'retire-app', action: 'delete', subject: app.name, changes: [{ key: 'retire.app', values: [app.kind, app.name] }], ops: [{ kind: 'delete-app', app: { kind: app.kind, name: app.name } }] })
    : step({ id: 'retire-app', action: 'unchanged', subject: input.name, changes: [{ key: 'retire.gone', values: [input.name] }] });
  const steps = [...revoke.steps, retire];
  const changes = steps.some((s) => s.ops.length > 0);
  if (input.log && changes) steps.push(rotationLogStep(input.dir, input.runbook, input.entry, '-'));
  return { steps, warnings: [] };
};

/** The old app's tokens (OauthToken rows by its label or API name), with their holders' usernames. */
const tokensOf = async (transport: Transport, app: { kind: AppConfig['kind']; id?: string; name: string; label: string }): Promise<SelectedToken[]> => {
  const names = [...new Set([app.label, app.name])];
  const rows = (await readOauthTokens(transport, { appNames: names })).filter(
    (r: OauthToken) => names.some((n) => n.toLowerCase() === r.appName.toLowerCase()) || (app.id !== undefined && r.applicationId?.slice(0, 15) === app.id.slice(0, 15))
  );
  const ids = [...new Set(rows.map((r) => r.userId))];
  const users = ids.length ? await readOrgUsers(transport, { ids }) : [];
  const usernameOf = (id: string): string => users.find((u) => u.id.slice(0, 15) === id.slice(0, 15))?.username ?? id;
  return rows.map((r) => ({ ...r, app: { kind: app.kind, id: app.id, name: app.name, label: app.label }, username: usernameOf(r.userId) }));
};

/** The latest use of any of the tokens (LastUsedDate, or CreatedDate for a token never used). */
const lastUseOf = (tokens: SelectedToken[]): string | undefined => {
  let best: string | undefined;
  for (const t of tokens) {
    const used = t.lastUsedDate ?? t.createdDate;
    if (used && (!best || (parseDate(used) ?? 0) > (parseDate(best) ?? 0))) best = used;
  }
  return best;
};

const isDone = (results: StepResult[], id: string): boolean => results.some((r) => r.name === id && !['failed', 'pending', 'skipped'].includes(r.status));

type Shared = {
  transport: Transport;
  adminUsername: string;
  dir: string;
  entry: { date: string; by: string };
  username?: string;
  facts: { name?: string; keySize?: number; validityDays?: number };
  readOrg(appName: string, username?: string): Promise<OrgSnapshot>;
};

type Successor = { old: AppConfig; oldSnap: OrgSnapshot; newName: string; username: string; permissionSets: Array<{ id: string; name: string }>; now: Date };

/** The old app read and judged, and the new app's name: every refusal of a new-app rotation that needs no key. */
const successorOf = async (opts: RotateOptions, shared: Shared): Promise<Successor> => {
  opts.progress?.stage('read');
  const oldSnap = await shared.readOrg(opts.appName, shared.username);
  const old = oldSnap.app;
  if (!old) throw messages.createError('error.AppNotFound', [opts.appName, oldSnap.otherAppNames.slice(0, 5).join(', ') || '-']);
  opts.progress?.stage('validate');
  if (!old.certificate) throw badInput('error.NewAppNeedsJwt', [old.name]);
  const now = opts.now ?? new Date();
  const newName = opts.newName ?? defaultNewAppName(old.name, now);
  if (apiNameProblems('--new-name', newName, LIMITS.appName).length) throw badInput('error.NewNameInvalid', [newName, LIMITS.appName]);
  if (newName.toLowerCase() === old.name.toLowerCase()) throw badInput('error.NewNameSame', [newName]);
  const username = shared.username ?? oldSnap.user?.username;
  if (!username) throw badInput('error.NeedUsername', [shared.dir]);
  const permissionSets = old.permissionSetIds
    .map((id) => ({ id, name: oldSnap.permissionSets[id]?.name }))
    .filter((p): p is { id: string; name: string } => Boolean(p.name));
  if (!permissionSets.length) throw messages.createError('error.NewAppNoPermissionSet', [old.name]);
  return { old, oldSnap, newName, username, permissionSets, now };
};

/** The new app's key pair: to generate, or on disk from a stopped run; an app of that name that is not this rotation's is refused. */
const newAppKeys = async (keyDir: string, snap: OrgSnapshot, s: Successor): Promise<{ local: NewAppPlanInput['local']; privateKey?: string }> => {
  const keyFile = join(keyDir, PRIVATE_KEY_FILE);
  const certFile = join(keyDir, CERTIFICATE_FILE);
  let found: { local: NewAppPlanInput['local']; privateKey?: string } = { local: { source: 'generate' } };
  if (await exists(keyFile)) {
    if (!(await exists(certFile))) throw messages.createError('error.KeyWithoutCertificate', [keyFile, certFile]);
    const files = await readKeyFiles(keyFile, certFile);
    found = { local: { source: 'existing', certificatePem: files.certificatePem ?? '' }, privateKey: files.privateKeyPem };
  }
  const app = snap.app;
  if (!app) return found;
  const cert = app.certificate ?? '';
  const local = found.local;
  const ours = local.source === 'existing' && cert !== '' && (normalizePem(cert) === normalizePem(local.certificatePem) || keyMatchesCertificate(found.privateKey ?? '', cert));
  if (!ours || app.kind !== s.old.kind) throw messages.createError('error.NewAppExists', [s.newName, keyDir]);
  return found;
};

/** `--strategy new-app`: the successor app, proved with a live exchange; the old app untouched. */
export const runNewApp = async (opts: RotateOptions, shared: Shared): Promise<RotateOutcome> => {
  const { transport, dir, facts } = shared;
  const s = await successorOf(opts, shared);
  const { old, newName, username } = s;
  const snap = await shared.readOrg(newName, username);
  const keyDir = join(dir, newName);
  const { local, privateKey } = await newAppKeys(keyDir, snap, s);
  const before = fingerprintOf(old.certificate) ?? '-';
  let plan: Plan;
  try {
    plan = planNewApp({
      old,
      settings: successorSettings(old, newName, `${old.label} ${yyyymmdd(s.now)}`.slice(0, 80), s.oldSnap.runningUser?.email ?? ''),
      snap,
      permissionSets: s.permissionSets,
      local,
      dir,
      keyDir,
      keySize: (opts.keySize ?? facts.keySize ?? 2048) as 2048 | 3072 | 4096,
      validityDays: opts.validityDays ?? facts.validityDays ?? 365,
      commonName: `${(facts.name ?? old.name.replace(/_Integration$/, '')).slice(0, 50)} integration`,
      username,
      waitMinutes: opts.waitMinutes,
      runbook: await readText(join(dir, RUNBOOK_FILE)),
      entry: { ...shared.entry, before, change: messages.getMessage('log.new-app', [newName, old.name]) },
    });
  } catch (e) {
    throw e instanceof PlanBlocked ? blockedError(e) : e;
  }
  plan.warnings.forEach((w) => opts.progress?.warn(w));
  const certificatePem = local.source === 'existing' ? local.certificatePem : undefined;
  const base: RotateResult = {
    appName: old.name,
    appType: old.kind,
    flow: 'jwt',
    strategy: 'new-app',
    username,
    consumerKey: old.consumerKey,
    newAppName: newName,
    newConsumerKey: snap.app?.consumerKey,
    previousCertificateFingerprint: before,
    certificateFingerprint: fingerprintOf(certificatePem),
    rolledBack: false,
    verified: false,
    dryRun: opts.dryRun,
    steps: renderSteps(plannedResults(plan.steps)),
    warnings: plan.warnings,
  };
  if (opts.dryRun) return { result: base, plan, failed: false, exitCode: 0 };
  if (!(await opts.confirm(plan))) return { result: base, plan, failed: false, exitCode: 0, cancelled: true };
  const outcome = await applyPlan(plan, transport, {
    values: { ...(privateKey ? { privateKey } : {}), ...(snap.app ? { appId: snap.app.id, consumerKey: snap.app.consumerKey } : {}) },
    onStepStart: (name) => opts.progress?.stage(name),
    retryIntervalMs: opts.retryIntervalMs,
  });
  opts.progress?.stage('report');
  return { result: appliedNewApp(base, outcome, { keyDir, dir, certificatePem }), plan, failed: outcome.failed, exitCode: outcomeExitCode(outcome) };
};

/** The result of an applied new-app rotation: the new app's consumer key, the key files once written, what was proved. */
const appliedNewApp = (base: RotateResult, outcome: ApplyOutcome, at: { keyDir: string; dir: string; certificatePem?: string }): RotateResult => {
  const keysThere = isDone(outcome.results, 'certificate');
  const pem = at.certificatePem;
  return {
    ...base,
    newConsumerKey: outcome.values.consumerKey ?? base.newConsumerKey,
    certificateFingerprint: outcome.values.certificateFingerprint ?? base.certificateFingerprint,
    certificateExpires: outcome.values.certificateExpires ?? (pem ? inspectCertificate(pem).notAfter : undefined),
    privateKeyFile: keysThere ? join(at.keyDir, PRIVATE_KEY_FILE) : undefined,
    certificateFile: keysThere ? join(at.keyDir, CERTIFICATE_FILE) : undefined,
    runbookFile: isDone(outcome.results, 'documents') ? join(at.dir, RUNBOOK_FILE) : undefined,
    verified: isDone(outcome.results, 'verify'),
    steps: renderSteps(outcome.results),
  };
};

/** `--retire APP`: refused while the app is in use (unless --force); its tokens revoked, then the app removed. */
type RetireFacts = { app?: AppConfig; successor?: AppConfig; tokens: SelectedToken[]; lastUsed?: string };

/** The app to retire, its successor and its tokens, read; refused while the tokens were used recently (unless --force). */
const retireFacts = async (opts: RotateOptions, shared: Shared, name: string): Promise<RetireFacts> => {
  opts.progress?.stage('read');
  const app = (await shared.readOrg(name)).app;
  // The successor named with --name must exist: retiring an app with nothing to switch to is an outage.
  const successor = opts.appName ? (await shared.readOrg(opts.appName)).app : undefined;
  opts.progress?.stage('validate');
  if (opts.appName && !successor) throw messages.createError('error.SuccessorNotFound', [opts.appName, name]);
  const tokens = await tokensOf(shared.transport, app ?? { kind: 'external-client-app', name, label: name });
  // Two signs of use, as the audit reads them: the tokens' LastUsedDate, and logins through the app (LoginHistory).
  const login = await lastAppLogin(shared.transport, [...new Set([app?.label ?? name, name])]);
  const tokenUse = lastUseOf(tokens);
  const lastUsed = [tokenUse, login.last].filter((d): d is string => Boolean(d)).sort((a, b) => (parseDate(a) ?? 0) - (parseDate(b) ?? 0)).at(-1);
  const unusedDays = opts.unusedDays ?? 30;
  const recent = lastUsed !== undefined && (opts.now ?? new Date()).getTime() - (parseDate(lastUsed) ?? 0) < unusedDays * DAY_MS;
  if (recent && !opts.force) {
    throw messages.createError('error.RetireInUse', [name, lastUsed.slice(0, 10), unusedDays, tokens.length, tokenUse?.slice(0, 10) ?? '-', login.last?.slice(0, 10) ?? (login.readable ? '-' : '?')], [name]);
  }
  return { app, successor, tokens, lastUsed };
};

export const runRetire = async (opts: RotateOptions, shared: Shared): Promise<RotateOutcome> => {
  const { transport, dir } = shared;
  const progress = opts.progress;
  const name = opts.retire ?? '';
  const { app, successor, tokens, lastUsed } = await retireFacts(opts, shared, name);
  const runbook = await readText(join(dir, RUNBOOK_FILE));
  const plan = planRetire({
    app,
    name,
    tokens,
    dir,
    log: await exists(dir),
    runbook,
    entry: { ...shared.entry, before: fingerprintOf(app?.certificate) ?? app?.consumerKey ?? '-', change: messages.getMessage('log.retire', [name]) },
  });
  const base: RotateResult = {
    appName: name,
    appType: app?.kind ?? 'external-client-app',
    flow: app && !app.certificate && app.clientCredentialsEnabled ? 'client-credentials' : 'jwt',
    strategy: 'retire',
    consumerKey: app?.consumerKey,
    newAppName: successor?.name,
    newConsumerKey: successor?.consumerKey,
    retiredApp: name,
    lastUsed,
    tokens: tokens.length,
    rolledBack: false,
    verified: false,
    dryRun: opts.dryRun,
    steps: renderSteps(plannedResults(plan.steps)),
    warnings: plan.warnings,
  };
  const changes = plan.steps.some((s) => s.ops.length > 0);
  if (opts.dryRun || !changes) return { result: { ...base, retired: !app && !tokens.length }, plan, failed: false, exitCode: 0 };
  if (!(await opts.confirm(plan))) return { result: base, plan, failed: false, exitCode: 0, cancelled: true };
  const outcome = await applyPlan(plan, transport, { onStepStart: (id) => progress?.stage(id), retryIntervalMs: opts.retryIntervalMs });
  progress?.stage('report');
  const revoked = outcome.journal.filter((e) => e.op === 'revoke-token' && e.outcome === 'done').length;
  const result: RotateResult = {
    ...base,
    revokedTokens: revoked,
    retired: isDone(outcome.results, 'retire-app'),
    runbookFile: isDone(outcome.results, 'documents') ? join(dir, RUNBOOK_FILE) : undefined,
    steps: renderSteps(outcome.results),
  };
  return { result, plan, failed: outcome.failed, exitCode: outcomeExitCode(outcome) };
};


