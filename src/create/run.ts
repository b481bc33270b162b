/*
 * `sf integration create` as a domain call: desired state from flags or a spec file, one read of the org, input
 * checks before any write, a plan (create/plan.ts), and (unless --dry-run) the plan applied by the one apply:
 * key files, records, the app, the live check and the documents are all steps of it. The command file only
 * parses flags and renders what this returns.
 */
import { access } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { Messages, type Org, type SfError } from '@salesforce/core';
import { asBadInput, badInput, ExitCode } from '../cli/exit-codes.js';
import { assertWritableDir } from '../cli/output.js';
import { sanitizeEcho } from '../cli/sanitize.js';
import { keyMatchesCertificate, readKeyFiles, validateKeyPair, CERTIFICATE_FILE, PRIVATE_KEY_FILE } from '../credentials/index.js';
import { draftSpec, sandboxNameFromSubdomain, validateAgainstOrg, withOwner, type IntegrationSpec, type SpecInput, type SpecWarning } from '../desired/index.js';
import { ApiCallError, checkConnectedAppCreation, objectCatalogue, readSnapshot, Transport, type OrgSnapshot } from '../org/index.js';
import { applyPlan, outcomeExitCode, type ApplyOptions } from '../plan/apply.js';
import { PlanBlocked } from '../plan/plan.js';
import { blockedError, plannedResults, recoveryTexts, renderSteps, type RenderedStep } from '../plan/render.js';
import type { Plan, StepId, StepResult } from '../plan/types.js';
import { assertOwnsCredentials } from './ownership.js';
import { missingPermissions } from './preconditions.js';
import { defaultOutputDir, keyFilesOf, planIntegration, RUNBOOK_FILE, SECRET_FILE, SPEC_FILE, type LocalCredentials } from './plan.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'integration.create');

export type CreateStepResult = RenderedStep;

/** The --json result (issue 3). Never holds key material or a consumer secret. */
export type CreateResult = {
  username: string;
  userId?: string;
  permissionSetName: string;
  appType: IntegrationSpec['app']['kind'];
  appName: string;
  consumerKey?: string;
  flow: IntegrationSpec['flow'];
  instanceUrl: string;
  loginUrl: string;
  audience: string;
  subdomain?: string;
  privateKeyFile?: string;
  certificateFile?: string;
  consumerSecretFile?: string;
  runbookFile?: string;
  specFile?: string;
  verified: boolean;
  dryRun: boolean;
  steps: CreateStepResult[];
  warnings: string[];
};

export type CreateStage = 'read' | 'validate' | StepId | 'report';

export type Progress = {
  stage(stage: CreateStage): void;
  warn(message: string): void;
};

export type CreateOptions = {
  input: SpecInput;
  outputDir?: string;
  dryRun: boolean;
  verify: boolean;
  /** Minutes to keep retrying the live exchange while the app propagates. */
  waitMinutes: number;
  targetOrgAlias: string;
  apiVersion?: string;
  progress?: Progress;
  /** Pause between live-exchange retries (tests shorten it). */
  retryIntervalMs?: number;
  /** --replace-credentials: replacing the certificate (or flow) an existing app holds is intended. */
  replaceCredentials?: boolean;
  /** Told the plan before apply starts, then every step and journal entry as it ends (the Ctrl-C step table). */
  observer?: Pick<ApplyOptions, 'onStepStart' | 'onStepEnd' | 'onJournal'> & { onPlan?(plan: Plan): void };
};

/**
 * The result, the plan it came from, and the exit code by the rule every writing command shares (0, 1 or 68);
 * `error` is what the command reports when the run failed for a reason the step's own error does not say.
 */
export type CreateOutcome = { result: CreateResult; plan: Plan; failed: boolean; exitCode: 0 | 1 | 68; error?: SfError };

/**
 * A create of a record the snapshot did not have, refused because it exists now: another run created the same
 * integration between this run's read and its write. Salesforce's codes: DUPLICATE_USERNAME for a username in use
 * (in any org, "Username already exists"), DUPLICATE_DEVELOPER_NAME for a permission set API name; and the app
 * found in the org right before it was to be created (CREATED_CONCURRENTLY, src/org/apps.ts).
 */
const CONCURRENT = /DUPLICATE_USERNAME|DUPLICATE_DEVELOPER_NAME|CREATED_CONCURRENTLY/;
const concurrentCreate = (plan: Plan, results: StepResult[]): string | undefined => {
  const failed = results.find((r) => r.status === 'failed');
  const step = failed && plan.steps.find((s) => s.id === failed.name);
  if (!failed?.error || !step || step.action !== 'create' || !CONCURRENT.test(failed.error)) return undefined;
  return failed.error;
};

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false
  );

const fieldObjectsOf = (spec: IntegrationSpec): string[] => spec.permissionSet.fields.map((f) => f.field.split('.')[0]);

/** What the output directory and the flags hold, decided before any write. */
const localState = async (spec: IntegrationSpec, outputDir: string): Promise<LocalCredentials & { privateKeyPem?: string }> => {
  const documentsWritten = (await exists(join(outputDir, RUNBOOK_FILE))) && (await exists(join(outputDir, SPEC_FILE)));
  if (spec.flow !== 'jwt') return { source: 'none', documentsWritten };
  const c = spec.certificate;
  // The spec refuses half a pair (error.KeyPairIncomplete in messages/spec.md), so both or neither are set here.
  if (c.privateKeyFile && c.certificateFile) {
    const files = await readKeyFiles(c.privateKeyFile, c.certificateFile);
    validateKeyPair(files.privateKeyPem, files.certificatePem);
    return { source: 'provided', certificatePem: files.certificatePem, privateKeyPem: files.privateKeyPem, documentsWritten };
  }
  const keyFile = join(outputDir, PRIVATE_KEY_FILE);
  const certFile = join(outputDir, CERTIFICATE_FILE);
  if (!(await exists(keyFile))) {
    if (await exists(certFile)) throw messages.createError('error.CertificateWithoutKey', [certFile]);
    return { source: 'generate', documentsWritten };
  }
  if (!(await exists(certFile))) throw messages.createError('error.KeyWithoutCertificate', [keyFile]);
  const files = await readKeyFiles(keyFile, certFile);
  if (!keyMatchesCertificate(files.privateKeyPem, files.certificatePem ?? '')) throw messages.createError('error.OutputDirMismatch', [outputDir]);
  validateKeyPair(files.privateKeyPem, files.certificatePem);
  return { source: 'existing', certificatePem: files.certificatePem, privateKeyPem: files.privateKeyPem, documentsWritten };
};

const warningText = (w: SpecWarning): string => w.message;

/** Key and certificate flags mean nothing for client credentials (no certificate is made): refused with the reason. */
const assertFlagsFitFlow = (input: SpecInput, spec: IntegrationSpec): void => {
  if (spec.flow !== 'client-credentials') return;
  const given = [
    input.keySize !== undefined && '--key-size',
    input.certValidityDays !== undefined && '--cert-validity-days',
    input.privateKeyFile !== undefined && '--private-key-file',
    input.certificateFile !== undefined && '--certificate-file',
  ].filter((f): f is string => Boolean(f));
  if (given.length) badInput(messages.createError('error.CertificateFlagsWithClientCredentials', [given.join(', ')]));
};

type Prepared = {
  transport: Transport;
  snap: OrgSnapshot;
  spec: IntegrationSpec;
  warnings: string[];
  outputDir: string;
  local: LocalCredentials & { privateKeyPem?: string };
  plan: Plan;
};

/** Everything before the first write: desired state, one read of the org, input checks against it, the plan. */
const prepare = async (org: Org, opts: CreateOptions): Promise<Prepared> => {
  const progress = opts.progress;
  const conn = org.getConnection(opts.apiVersion);
  const transport = new Transport(conn);
  const adminUsername = conn.getUsername() ?? '';
  const subdomain = /^https:\/\/([^.]+(?:\.sandbox)?)\.my\.salesforce\.com/i.exec(conn.instanceUrl)?.[1];
  const env = { adminUsername, isSandbox: Boolean(await org.isSandbox()), sandboxName: subdomain ? sandboxNameFromSubdomain(subdomain) : undefined };

  progress?.stage('read');
  // The names the reads need (objects, permissions, user, permission set, app) do not depend on the owner's email,
  // which defaults to the running user's: the desired state is built once, before the read, and an owner the flags
  // and the spec file do not name is filled in from the read (withOwner).
  const draft = await asBadInput(() => draftSpec(opts.input, env));
  assertFlagsFitFlow(opts.input, draft.spec);
  const apiDisabled = (e: unknown): never => {
    if (e instanceof ApiCallError && e.errorCode === 'API_DISABLED_FOR_ORG') throw messages.createError('error.ApiDisabled', [adminUsername]);
    throw e;
  };
  // One batch of describes: the objects and fields asked for, and PermissionSet for the system permission names.
  // The org's object list, and describes of PermissionSet and of the objects whose fields are asked for: a spec of
  // 200 objects costs one round trip, not eight.
  const described = await objectCatalogue(transport, { describe: ['PermissionSet', ...fieldObjectsOf(draft.spec)] }).catch(apiDisabled);
  // The permission names this org has: only those are selected in the snapshot (editions differ).
  const orgPermissions = described.PermissionSet?.fields.filter((f) => f.startsWith('Permissions')).map((f) => f.slice('Permissions'.length));
  const catalogue = { objects: described, systemPermissions: orgPermissions ?? [] };
  // Names the org does not have (objects, fields, permissions) are bad input: exit 2, nothing written.
  const checked = await asBadInput(() => validateAgainstOrg(draft.spec, catalogue));
  const notPermissionable = checked.permissionSet.fields.filter((f) => described[f.field.split('.')[0]]?.notPermissionable?.includes(f.field.split('.')[1]));
  if (notPermissionable.length) badInput(messages.createError('error.FieldNotPermissionable', [notPermissionable.map((f) => f.field).join(', ')]));
  const snap = await readSnapshot(
    transport,
    {
      username: checked.user.username,
      appName: checked.app.name,
      permissionSetName: checked.permissionSet.name,
      runningUsername: adminUsername,
      extraPermissions: checked.permissionSet.systemPermissions,
      systemPermissions: orgPermissions,
    },
    { appKind: checked.app.kind }
  ).catch(apiDisabled);
  // A query the org refused is not "nothing there": planning on it would write what exists already. Stop before any
  // write. Ignored: the login history (create does not use it) and External Client Apps when creating a Connected App.
  // Also ignored: the running user's permissions (unread, the org answers each write itself).
  const refused = (snap.readFailures ?? []).filter(
    (f) => f.query !== 'logins' && f.query !== 'runningUserPermissions' && !(f.query === 'ecas' && checked.app.kind === 'connected-app')
  );
  if (refused.length) {
    throw messages.createError('error.SnapshotReadFailed', [refused.map((f) => `${f.object} (${f.query}): ${f.errorCode}: ${f.message}`).join('\n')]);
  }

  progress?.stage('validate');
  const built = await asBadInput(() => withOwner({ ...draft, spec: checked }, snap.runningUser?.email));
  const spec = built.spec;
  if (spec.app.kind === 'connected-app' && spec.flow === 'client-credentials' && opts.verify) {
    badInput(messages.createError('error.ConnectedAppSecret'));
  }
  const outputDir = opts.outputDir ? resolvePath(opts.outputDir) : defaultOutputDir(spec);
  if (!opts.dryRun) await assertWritableDir(outputDir);
  // Key files that are unreadable, not a pair, too weak or of the wrong type are bad input (exit 2).
  const local = await asBadInput(() => localState(spec, outputDir));
  // Nobody's credentials are replaced by accident: an app holding a certificate (or a flow) this run does not hold
  // is refused before any write, --dry-run included (exit 1).
  assertOwnsCredentials(spec, snap, local, { replace: opts.replaceCredentials === true, outputDir });
  let plan: Plan;
  try {
    plan = planIntegration(spec, snap, local, { verify: opts.verify, waitMinutes: opts.waitMinutes, outputDir, targetOrg: opts.targetOrgAlias });
  } catch (e) {
    throw e instanceof PlanBlocked ? blockedError(e) : e;
  }
  // Preconditions of the writes, before the first one (--dry-run says the same): exit 1, nothing written.
  const missing = missingPermissions(plan, snap, spec.app.kind, orgPermissions ?? []);
  if (missing.length) throw messages.createError('error.RunningUserLacksPermissions', [adminUsername, missing.join(', ')], [adminUsername]);
  if (spec.app.kind === 'connected-app' && plan.steps.some((s) => s.id === 'app' && s.action === 'create')) {
    const check = await checkConnectedAppCreation(transport, spec.app);
    if (!check.ok) throw messages.createError('error.ConnectedAppCreationBlocked', [spec.app.name, sanitizeEcho(check.problem)]);
  }
  return { transport, snap, spec, warnings: built.warnings.map(warningText), outputDir, local, plan };
};

const baseResult = (p: Prepared, dryRun: boolean): CreateResult => ({
  username: p.spec.user.username,
  userId: p.snap.user?.id,
  permissionSetName: p.spec.permissionSet.name,
  appType: p.spec.app.kind,
  appName: p.spec.app.name,
  consumerKey: p.snap.app?.consumerKey,
  flow: p.spec.flow,
  instanceUrl: p.snap.org.instanceUrl,
  loginUrl: p.snap.org.loginUrl,
  audience: p.snap.org.audience,
  subdomain: p.snap.org.subdomain,
  verified: false,
  dryRun,
  steps: [],
  warnings: p.warnings,
});

const isDone = (results: StepResult[], id: StepId): boolean => results.some((r) => r.name === id && r.status !== 'failed' && r.status !== 'pending' && r.status !== 'skipped');

export const runCreate = async (org: Org, opts: CreateOptions): Promise<CreateOutcome> => {
  const p = await prepare(org, opts);
  p.warnings.forEach((w) => opts.progress?.warn(w));
  const { spec, snap, plan, local, outputDir, transport } = p;
  if (opts.dryRun) {
    // A plan, not an outcome: each step says what applying would do.
    return { result: { ...baseResult(p, true), steps: renderSteps(plannedResults(plan.steps)) }, plan, failed: false, exitCode: 0 };
  }

  opts.observer?.onPlan?.(plan);
  const outcome = await applyPlan(plan, transport, {
    values: { user: snap.user?.id, permissionSet: snap.targetPermissionSetId, privateKey: local.privateKeyPem, consumerKey: snap.app?.consumerKey, appId: snap.app?.id },
    onStepStart: (name) => {
      opts.progress?.stage(name);
      opts.observer?.onStepStart?.(name);
    },
    onStepEnd: opts.observer?.onStepEnd,
    onJournal: opts.observer?.onJournal,
    retryIntervalMs: opts.retryIntervalMs,
  });
  opts.progress?.stage('report');
  // Writes whose answer was lost were read back, not sent twice: say what was found and what was sent again.
  const recovered = recoveryTexts(transport.recoveries);
  recovered.forEach((w) => opts.progress?.warn(w));
  const keys = keyFilesOf(spec, outputDir);
  const jwt = spec.flow === 'jwt';
  const documents = isDone(outcome.results, 'documents');
  const result: CreateResult = {
    ...baseResult(p, false),
    userId: outcome.values.user,
    consumerKey: outcome.values.consumerKey,
    privateKeyFile: jwt ? keys.privateKeyFile : undefined,
    certificateFile: jwt ? keys.certificateFile : undefined,
    consumerSecretFile: spec.flow === 'client-credentials' && isDone(outcome.results, 'verify') ? join(outputDir, SECRET_FILE) : undefined,
    runbookFile: documents ? join(outputDir, RUNBOOK_FILE) : undefined,
    specFile: documents ? join(outputDir, SPEC_FILE) : undefined,
    verified: opts.verify && isDone(outcome.results, 'verify'),
    steps: renderSteps(outcome.results),
    warnings: [...p.warnings, ...recovered],
  };
  const exitCode = outcomeExitCode(outcome);
  const concurrent = concurrentCreate(plan, outcome.results);
  if (concurrent) {
    const error = messages.createError('error.CreatedConcurrently', [spec.name, sanitizeEcho(concurrent)]);
    error.exitCode = exitCode === 68 ? ExitCode.Partial : ExitCode.Failure;
    return { result, plan, failed: true, exitCode, error };
  }
  return { result, plan, failed: outcome.failed, exitCode };
};
