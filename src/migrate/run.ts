/*
 * `sf integration migrate` as a domain call: one read of the old user (its access, app, tokens, license), the
 * analysis, the desired state of the migrated identity (the spec create reads), a second read around it, input
 * checks before any write, the plan (migrate/plan.ts) and, unless --dry-run or the prompt says no, the plan applied
 * by the one apply. The command file parses flags, asks and renders.
 */
import { access } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { Messages, type Org, type SfError } from '@salesforce/core';
import { keyMatchesCertificate, readKeyFiles } from '../credentials/index.js';
import { buildSpec, sandboxNameFromSubdomain, type IntegrationSpec } from '../desired/index.js';
import { objectWords, fieldWords } from '../desired/parse.js';
import { permissionSetNameFor } from '../desired/defaults.js';
import { ApiCallError, readMigrationFacts, readSnapshot, Transport, type HeldToken, type LicenseInfo, type OrgSnapshot, type UserInfo } from '../org/index.js';
import { applyPlan, outcomeExitCode } from '../plan/apply.js';
import { PlanBlocked } from '../plan/plan.js';
import { blockedError, plannedResults, renderSteps, type RenderedStep } from '../plan/render.js';
import type { Plan, StepResult } from '../plan/types.js';
import { ExitCode } from '../cli/exit-codes.js';
import { analyzeMigration, type MigrationAnalysis, type Strategy } from './analyze.js';
import { planMigration, RUNBOOK_FILE, SPEC_FILE } from './plan.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'integration.migrate');

export type { MigrationAnalysis, Strategy } from './analyze.js';

/** The --json result. Never holds a token, a DeleteToken, a key or a secret. */
export type MigrateResult = {
  fromUser: string;
  strategy: Strategy;
  /** The migrated identity: the new user, or the same user in place. */
  username: string;
  userId?: string;
  permissionSetName: string;
  appName?: string;
  appType?: IntegrationSpec['app']['kind'];
  flow: IntegrationSpec['flow'];
  consumerKey?: string;
  instanceUrl: string;
  loginUrl: string;
  audience: string;
  analysis: MigrationAnalysis;
  runbookFile?: string;
  specFile?: string;
  verified: boolean;
  dryRun: boolean;
  steps: RenderedStep[];
};

export type MigrateStage = 'read' | 'analyze' | 'plan' | StepResult['name'] | 'report';

export type MigrateOptions = {
  fromUser: string;
  strategy: Strategy;
  name?: string;
  username?: string;
  email?: string;
  appName?: string;
  privateKeyFile?: string;
  keepOldUser: boolean;
  outputDir?: string;
  dryRun: boolean;
  waitMinutes: number;
  targetOrgAlias: string;
  apiVersion?: string;
  retryIntervalMs?: number;
  /** Asked once the plan is known, before the first write; false stops with nothing written. */
  confirm?(plan: Plan, analysis: MigrationAnalysis): Promise<boolean>;
  stage?(stage: MigrateStage): void;
};

export type MigrateOutcome = { result: MigrateResult; plan: Plan; failed: boolean; exitCode: 0 | 1 | 68; declined?: boolean };

const badInput = (key: string, tokens: string[] = []): SfError => {
  const e = messages.createError(key, tokens);
  e.exitCode = ExitCode.BadInput;
  return e;
};

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false
  );

const refusedReads = (snap: OrgSnapshot): string[] =>
  (snap.readFailures ?? []).filter((f) => f.query !== 'logins' && f.query !== 'ecas' && f.query !== 'connectedApps').map((f) => `${f.object} (${f.query}): ${f.errorCode}: ${f.message}`);

/** A refusal of the plan: migrate's own words first, else those create met first (no license, ...). */
const refusal = (e: PlanBlocked): SfError => {
  const first = e.problems[0];
  return messages.messages.has(first.key) ? messages.createError(first.key, first.tokens.map(String)) : blockedError(e);
};

/** The integration's name: --name, else the app's API name without a trailing _Integration, else the old username's local part. */
const nameOf = (opts: MigrateOptions, snap: OrgSnapshot): string => {
  if (opts.name) return opts.name;
  if (snap.app) return snap.app.name.replace(/_Integration$/i, '') || snap.app.name;
  return (opts.fromUser.split('@')[0] ?? 'Integration').replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
};

/** The desired state of the migrated identity: the spec create reads, holding the supported part of the old access. */
const migratedSpec = async (
  org: Org,
  opts: MigrateOptions,
  first: OrgSnapshot,
  analysis: MigrationAnalysis,
  env: { name: string; adminUsername: string; subdomain?: string }
): Promise<IntegrationSpec> => {
  const old = first.user;
  const app = analysis.app;
  const inPlace = opts.strategy === 'in-place';
  const built = buildSpec(
    {
      name: env.name,
      flow: app?.flow,
      appType: app?.kind,
      username: inPlace ? undefined : opts.username,
      email: opts.email ?? first.runningUser?.email ?? old?.email,
      objects: analysis.carried.objects.map((o) => `${o.object}=${objectWords(o).join(',')}`),
      fields: analysis.carried.fields.map((f) => `${f.field}=${fieldWords(f).join(',')}`),
    },
    {
      adminUsername: env.adminUsername,
      adminEmail: first.runningUser?.email,
      isSandbox: Boolean(await org.isSandbox()),
      sandboxName: env.subdomain ? sandboxNameFromSubdomain(env.subdomain) : undefined,
    }
  );
  return {
    ...built.spec,
    user: inPlace && old ? { ...built.spec.user, username: old.username, email: old.email } : built.spec.user,
    app: first.app ? { ...built.spec.app, kind: first.app.kind, name: first.app.name, label: first.app.label } : built.spec.app,
  };
};

/** The key the external system signs with, checked against the app's certificate before any write (JWT only). */
const privateKeyFor = async (opts: MigrateOptions, spec: IntegrationSpec, snap: OrgSnapshot): Promise<string | undefined> => {
  if (spec.flow !== 'jwt' || opts.dryRun) return undefined;
  const appName = snap.app?.name ?? spec.app.name;
  if (!opts.privateKeyFile) throw badInput('error.KeyRequired', [appName]);
  const pem = (await readKeyFiles(opts.privateKeyFile)).privateKeyPem;
  const certificate = snap.app?.certificate;
  if (!certificate || !keyMatchesCertificate(pem, certificate)) throw badInput('error.KeyMismatch', [opts.privateKeyFile, appName]);
  return pem;
};

/** The org around the migrated identity: the user, the new permission set, the app. */
const readAround = async (
  transport: Transport,
  t: { username: string; app?: MigrationAnalysis['app']; psName: string; adminUsername: string }
): Promise<OrgSnapshot> => {
  const snap = await readSnapshot(transport, { username: t.username, appName: t.app?.name, permissionSetName: t.psName, runningUsername: t.adminUsername }, { appKind: t.app?.kind });
  const refused = refusedReads(snap);
  if (refused.length) throw messages.createError('error.SnapshotReadFailed', [refused.join('\n')]);
  return snap;
};

/** The old user, its app, tokens and license: everything the analysis reads. */
const readOld = async (transport: Transport, opts: MigrateOptions, adminUsername: string): Promise<{ first: OrgSnapshot; old: UserInfo; tokens: HeldToken[]; userLicense?: LicenseInfo }> => {
  const first = await readSnapshot(transport, { username: opts.fromUser, appName: opts.appName, runningUsername: adminUsername });
  const refused = refusedReads(first);
  if (refused.length) throw messages.createError('error.SnapshotReadFailed', [refused.join('\n')]);
  const old = first.user;
  if (!old) throw badInput('error.UserNotFound', [opts.fromUser]);
  if (opts.appName && !first.app) throw badInput('error.AppNotFound', [opts.appName, first.otherAppNames.join(', ') || '-']);
  const facts = await readMigrationFacts(transport, { userId: old.id, licenseName: old.userLicenseName });
  if (facts.tokens instanceof ApiCallError) throw messages.createError('error.SnapshotReadFailed', [`OauthToken: ${facts.tokens.errorCode}: ${facts.tokens.message}`]);
  return { first, old, tokens: facts.tokens, userLicense: facts.userLicense };
};

type Prepared = {
  transport: Transport;
  old: UserInfo;
  second: OrgSnapshot;
  spec: IntegrationSpec;
  analysis: MigrationAnalysis;
  plan: Plan;
  outputDir: string;
  privateKeyPem?: string;
};

/** Everything before the first write: the reads, the analysis, the desired state, the input checks, the plan. */
const prepare = async (org: Org, opts: MigrateOptions): Promise<Prepared> => {
  const conn = org.getConnection(opts.apiVersion);
  const transport = new Transport(conn);
  const adminUsername = conn.getUsername() ?? '';
  const subdomain = /^https:\/\/([^.]+(?:\.sandbox)?)\.my\.salesforce\.com/i.exec(conn.instanceUrl)?.[1];

  opts.stage?.('read');
  const { first, old, tokens, userLicense } = await readOld(transport, opts, adminUsername);

  opts.stage?.('analyze');
  const name = nameOf(opts, first);
  const psName = permissionSetNameFor(name);
  const analysis = analyzeMigration(first, { strategy: opts.strategy, keepOldUser: opts.keepOldUser, userLicense, tokens, targetPermissionSetName: psName });
  const app = analysis.app;
  if (!app && !opts.dryRun) throw badInput('error.NoApp', [old.username, first.otherAppNames.join(', ') || '-']);

  const inPlace = opts.strategy === 'in-place';
  const spec = await migratedSpec(org, opts, first, analysis, { name, adminUsername, subdomain });
  if (!inPlace && spec.user.username.toLowerCase() === old.username.toLowerCase()) throw badInput('error.SameUsername', [old.username]);

  opts.stage?.('plan');
  const second = await readAround(transport, { username: inPlace ? old.username : spec.user.username, app, psName, adminUsername });
  if (!inPlace && analysis.onIntegrationLicense && !second.user) throw messages.createError('error.AlreadyIntegration', [old.username]);
  const planAnalysis = inPlace ? analyzeMigration(second, { strategy: 'in-place', keepOldUser: false, userLicense, tokens, targetPermissionSetName: psName }) : { ...analysis, integrationSeat: second.user ? undefined : analysis.integrationSeat };

  const privateKeyPem = await privateKeyFor(opts, spec, second);
  const outputDir = resolvePath(opts.outputDir ?? `./${name.replace(/[^A-Za-z0-9_-]+/g, '-')}-migration`);
  const documentsWritten = (await exists(join(outputDir, RUNBOOK_FILE))) && (await exists(join(outputDir, SPEC_FILE)));

  let plan: Plan;
  try {
    plan = planMigration({
      strategy: opts.strategy,
      analysis: planAnalysis,
      spec,
      oldSnap: inPlace ? second : first,
      newSnap: inPlace ? undefined : second,
      tokens,
      keepOldUser: opts.keepOldUser,
      outputDir,
      documentsWritten,
      privateKeyFile: opts.privateKeyFile ? resolvePath(opts.privateKeyFile) : undefined,
      waitMinutes: opts.waitMinutes,
      targetOrg: opts.targetOrgAlias,
      runningUsername: adminUsername,
    });
  } catch (e) {
    throw e instanceof PlanBlocked ? refusal(e) : e;
  }
  return { transport, old, second, spec, analysis: planAnalysis, plan, outputDir, privateKeyPem };
};

const baseResult = (p: Prepared, opts: MigrateOptions): MigrateResult => {
  const { old, second, spec } = p;
  const inPlace = opts.strategy === 'in-place';
  return {
    fromUser: old.username,
    strategy: opts.strategy,
    username: spec.user.username,
    userId: inPlace ? old.id : second.user?.id,
    permissionSetName: spec.permissionSet.name,
    appName: p.analysis.app?.name,
    appType: p.analysis.app?.kind,
    flow: spec.flow,
    consumerKey: second.app?.consumerKey,
    instanceUrl: second.org.instanceUrl,
    loginUrl: second.org.loginUrl,
    audience: second.org.audience,
    analysis: p.analysis,
    verified: false,
    dryRun: opts.dryRun,
    steps: [],
  };
};

export const runMigrate = async (org: Org, opts: MigrateOptions): Promise<MigrateOutcome> => {
  const p = await prepare(org, opts);
  const { plan, old, second, transport, outputDir } = p;
  const inPlace = opts.strategy === 'in-place';
  const base = baseResult(p, opts);
  if (opts.dryRun) return { result: { ...base, steps: renderSteps(plannedResults(plan.steps)) }, plan, failed: false, exitCode: 0 };
  if (opts.confirm && !(await opts.confirm(plan, p.analysis))) {
    return { result: { ...base, steps: renderSteps(plannedResults(plan.steps).map((r) => ({ ...r, status: 'pending' }))) }, plan, failed: false, exitCode: 0, declined: true };
  }

  const outcome = await applyPlan(plan, transport, {
    values: {
      user: inPlace ? old.id : second.user?.id,
      permissionSet: second.targetPermissionSetId,
      privateKey: p.privateKeyPem,
      consumerKey: second.app?.consumerKey,
      appId: second.app?.id,
    },
    onStepStart: (s) => opts.stage?.(s),
    retryIntervalMs: opts.retryIntervalMs,
  });
  opts.stage?.('report');
  const done = (id: StepResult['name']): boolean => outcome.results.some((r) => r.name === id && ['created', 'updated', 'unchanged', 'deleted'].includes(r.status));
  const documents = done('documents');
  return {
    result: {
      ...base,
      userId: outcome.values.user ?? base.userId,
      consumerKey: outcome.values.consumerKey ?? base.consumerKey,
      runbookFile: documents ? join(outputDir, RUNBOOK_FILE) : undefined,
      specFile: documents ? join(outputDir, SPEC_FILE) : undefined,
      verified: done('verify'),
      steps: renderSteps(outcome.results),
    },
    plan,
    failed: outcome.failed,
    exitCode: outcomeExitCode(outcome),
  };
};
