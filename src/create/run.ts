/*
 * `sf integration create` as a domain call: desired state from flags or a spec file, one read of the org, input
 * checks before any write, a plan, and (unless --dry-run) the plan applied, verified and documented. The command
 * file only parses flags and renders what this returns.
 */
import { constants } from 'node:fs';
import { access, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Messages, type Org } from '@salesforce/core';
import { stringify as toYaml } from 'yaml';
import { explainError } from '../checks/errors.js';
import {
  createCertificate,
  generateKeyPair,
  inspectCertificate,
  keyMatchesCertificate,
  readKeyFiles,
  validateKeyPair,
  writeKeyFiles,
  writePublicFile,
  writeSecretFile,
  CERTIFICATE_FILE,
  PRIVATE_KEY_FILE,
} from '../credentials/index.js';
import { deployEca, upsertConnectedApp } from '../org/deploy.js';
import { describeObjects } from '../org/describe.js';
import { readConsumerCredentials } from '../org/oauth-credentials.js';
import { readSnapshot } from '../org/snapshot.js';
import { clientCredentialsExchange, jwtExchange, restCall, type ExchangeResult } from '../org/token.js';
import { ApiCallError, Transport } from '../org/transport.js';
import type { OrgSnapshot } from '../org/types.js';
import { applyPlan, type ApplyHooks, type StepResult } from '../plan/apply.js';
import { PlanBlocked, planIntegration, type LocalCredentials } from '../plan/plan.js';
import type { Plan, StepId } from '../plan/types.js';
import { renderRunbook } from '../report/runbook.js';
import { buildSpec, sandboxNameFromSubdomain, specToFile, validateAgainstOrg, type SpecInput, type SpecWarning } from '../spec/index.js';
import type { IntegrationSpec } from '../spec/types.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'integration.create');

export type CreateStepResult = { name: StepId; status: StepResult['status']; subject: string; changes: string[]; error?: string };

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
};

export type CreateOutcome = { result: CreateResult; plan: Plan; failed: boolean };

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false
  );

const objectsOf = (spec: IntegrationSpec): string[] => [
  ...spec.permissionSet.objects.map((o) => o.object),
  ...spec.permissionSet.fields.map((f) => f.field.split('.')[0]),
];

/**
 * The output directory can be written: it is a directory, or the nearest existing ancestor is a writable directory.
 * Checked before any write, so a bad --output-dir fails with nothing changed (not after the org was written).
 */
const assertWritableDir = async (dir: string): Promise<void> => {
  for (let current = dir; ; current = dirname(current)) {
    // eslint-disable-next-line no-await-in-loop
    const info = await stat(current).catch(() => undefined);
    if (info) {
      if (!info.isDirectory()) throw messages.createError('error.OutputDirUnwritable', [dir, current]);
      // eslint-disable-next-line no-await-in-loop
      await access(current, constants.W_OK).catch(() => {
        throw messages.createError('error.OutputDirUnwritable', [dir, current]);
      });
      return;
    }
    if (dirname(current) === current) return;
  }
};

/** Errors that a not-yet-propagated app answers with (seed 001: 2 to 10 minutes after a change). */
const PROPAGATION_ERRORS = /client identifier invalid|not installed in this org|user hasn't approved this consumer|app_not_found/i;

/** What the output directory and the flags hold, decided before any write. */
const localCredentials = async (spec: IntegrationSpec, outputDir: string): Promise<LocalCredentials & { privateKeyPem?: string }> => {
  if (spec.flow !== 'jwt') return { source: 'none' };
  const c = spec.certificate;
  // The spec refuses half a pair (error.KeyPairIncomplete in messages/spec.md), so both or neither are set here.
  if (c.privateKeyFile && c.certificateFile) {
    const files = await readKeyFiles(c.privateKeyFile, c.certificateFile);
    validateKeyPair(files.privateKeyPem, files.certificatePem);
    return { source: 'provided', certificatePem: files.certificatePem };
  }
  const keyFile = join(outputDir, PRIVATE_KEY_FILE);
  const certFile = join(outputDir, CERTIFICATE_FILE);
  if (!(await exists(keyFile))) {
    if (await exists(certFile)) throw messages.createError('error.CertificateWithoutKey', [certFile]);
    return { source: 'generate' };
  }
  if (!(await exists(certFile))) throw messages.createError('error.KeyWithoutCertificate', [keyFile]);
  const files = await readKeyFiles(keyFile, certFile);
  if (!keyMatchesCertificate(files.privateKeyPem, files.certificatePem ?? '')) throw messages.createError('error.OutputDirMismatch', [outputDir]);
  validateKeyPair(files.privateKeyPem, files.certificatePem);
  return { source: 'existing', certificatePem: files.certificatePem, privateKeyPem: files.privateKeyPem };
};

const blocked = (e: PlanBlocked): Error => {
  const first = e.problems[0];
  return messages.createError(first.key, first.tokens.map(String));
};

const warningText = (w: SpecWarning): string => w.message;

/** Runs the live exchange the way the external system will, retrying while the app propagates. */
const verifyLive = async (
  transport: Transport,
  snap: OrgSnapshot,
  spec: IntegrationSpec,
  credentials: { consumerKey?: string; consumerSecret?: string; privateKeyPem?: string },
  opts: { waitMinutes: number; retryIntervalMs: number }
): Promise<ExchangeResult> => {
  const deadline = Date.now() + opts.waitMinutes * 60_000;
  // Token requests go to the org's own host (My Domain); client credentials must (seed 004).
  const tokenUrl = snap.org.instanceUrl;
  for (;;) {
    const result =
      spec.flow === 'jwt'
        ? // eslint-disable-next-line no-await-in-loop
          await jwtExchange({ tokenUrl, clientId: credentials.consumerKey ?? '', username: spec.user.username, audience: snap.org.audience, privateKeyPem: credentials.privateKeyPem ?? '' })
        : // eslint-disable-next-line no-await-in-loop
          await clientCredentialsExchange({ tokenUrl, clientId: credentials.consumerKey ?? '', clientSecret: credentials.consumerSecret ?? '' });
    const transient = !result.ok && PROPAGATION_ERRORS.test(`${result.error ?? ''} ${result.errorDescription ?? ''}`);
    if (result.ok || !transient || Date.now() >= deadline) return result;
    // eslint-disable-next-line no-await-in-loop
    await new Promise((r) => setTimeout(r, opts.retryIntervalMs));
  }
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
  // which defaults to the running user's: read with a stand-in owner, then build the real spec once it is known.
  const first = buildSpec(opts.input, { ...env, adminEmail: opts.input.email ?? 'owner-pending@example.com' });
  const apiDisabled = (e: unknown): never => {
    if (e instanceof ApiCallError && e.errorCode === 'API_DISABLED_FOR_ORG') throw messages.createError('error.ApiDisabled', [adminUsername]);
    throw e;
  };
  // One batch of describes: the objects and fields asked for, and PermissionSet for the system permission names.
  const described = await describeObjects(transport, ['PermissionSet', ...objectsOf(first.spec)]).catch(apiDisabled);
  // The permission names this org has: only those are selected in the snapshot (editions differ).
  const orgPermissions = described.PermissionSet?.fields.filter((f) => f.startsWith('Permissions')).map((f) => f.slice('Permissions'.length));
  const catalogue = { objects: described, systemPermissions: orgPermissions ?? [] };
  const checked = validateAgainstOrg(first.spec, catalogue);
  const notPermissionable = checked.permissionSet.fields.filter((f) => described[f.field.split('.')[0]]?.notPermissionable?.includes(f.field.split('.')[1]));
  if (notPermissionable.length) throw messages.createError('error.FieldNotPermissionable', [notPermissionable.map((f) => f.field).join(', ')]);
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
  const refused = (snap.readFailures ?? []).filter((f) => f.query !== 'logins' && !(f.query === 'ecas' && checked.app.kind === 'connected-app'));
  if (refused.length) {
    throw messages.createError('error.SnapshotReadFailed', [refused.map((f) => `${f.object} (${f.query}): ${f.errorCode}: ${f.message}`).join('\n')]);
  }

  progress?.stage('validate');
  const built = opts.input.email ? first : buildSpec(opts.input, { ...env, adminEmail: snap.runningUser?.email });
  const spec = validateAgainstOrg(built.spec, catalogue);
  if (spec.app.kind === 'connected-app' && spec.flow === 'client-credentials' && opts.verify) {
    throw messages.createError('error.ConnectedAppSecret');
  }
  const outputDir = resolve(opts.outputDir ?? `./${spec.name.replace(/[^A-Za-z0-9_-]+/g, '-')}-integration`);
  if (!opts.dryRun) await assertWritableDir(outputDir);
  const local = await localCredentials(spec, outputDir);
  try {
    const plan = planIntegration(spec, snap, local, { verify: opts.verify });
    return { transport, snap, spec, warnings: built.warnings.map(warningText), outputDir, local, plan };
  } catch (e) {
    throw e instanceof PlanBlocked ? blocked(e) : e;
  }
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

/** State the apply hooks share: what was generated, read back and proved during the run (written by the hooks). */
type RunState = { certificatePem?: string; privateKeyPem?: string; consumerKey?: string; consumerSecretFile?: string; verified: boolean; appId?: string };

/** The non-record steps of create: key files, the app, the live check. */
/* eslint-disable no-param-reassign -- the hooks fill in the run's shared state */
const createHooks = (p: Prepared, opts: CreateOptions, state: RunState): ApplyHooks => {
  const { transport, spec, outputDir } = p;
  return {
    writeCredentials: async (): Promise<void> => {
      const pair = await generateKeyPair(spec.certificate.keySize);
      const cert = createCertificate({ privateKeyPem: pair.privateKeyPem, commonName: `${spec.name} integration`, validityDays: spec.certificate.validityDays });
      await writeKeyFiles(outputDir, { privateKeyPem: pair.privateKeyPem, certificatePem: cert });
      state.privateKeyPem = pair.privateKeyPem;
      state.certificatePem = cert;
    },
    deployApp: async (op): Promise<void> => {
      const write = {
        app: op.app,
        certificatePem: op.flow === 'jwt' ? state.certificatePem : undefined,
        clientCredentials: op.flow === 'client-credentials',
        // By API name: what real orgs accept and return for both app kinds (eca-deploy.md §5).
        permissionSetNames: [spec.permissionSet.name],
        runAsUsername: op.runAsUsername,
      };
      if (op.app.kind === 'external-client-app') state.appId = (await deployEca(transport, write)).appId;
      else await upsertConnectedApp(transport, write);
    },
    verify: async (): Promise<void> => {
      const creds = await readConsumerCredentials(transport, { ...spec.app, id: state.appId ?? p.snap.app?.id }, { secret: spec.flow === 'client-credentials' });
      state.consumerKey = creds.consumerKey;
      if (creds.consumerSecret) {
        await mkdir(outputDir, { recursive: true, mode: 0o700 });
        state.consumerSecretFile = join(outputDir, 'consumer-secret.txt');
        const current = await readFile(state.consumerSecretFile, 'utf8').catch(() => undefined);
        // Rewritten only when the org's secret changed (a re-run leaves the file alone).
        if (current !== `${creds.consumerSecret}\n`) await writeSecretFile(state.consumerSecretFile, `${creds.consumerSecret}\n`);
      } else if (spec.flow === 'client-credentials') {
        throw messages.createError('error.SecretUnreadable', [creds.secretError ?? '']);
      }
      const exchange = await verifyLive(transport, p.snap, spec, { ...creds, privateKeyPem: state.privateKeyPem }, {
        waitMinutes: opts.waitMinutes,
        retryIntervalMs: opts.retryIntervalMs ?? 15_000,
      });
      if (!exchange.ok || !exchange.accessToken || !exchange.instanceUrl) {
        const pair = `${exchange.error ?? ''}: ${exchange.errorDescription ?? ''}`;
        const likely = explainError(pair).causes[0];
        throw messages.createError('error.VerifyFailed', [pair, likely ? `${likely.cause} ${likely.fix}` : ''], [spec.app.name, spec.user.username]);
      }
      const call = await restCall(exchange.instanceUrl, exchange.accessToken, transport.apiVersion);
      if (!call.ok) throw messages.createError('error.VerifyRestFailed', [call.error ?? String(call.status)]);
      state.verified = true;
    },
    onStepStart: (name): void => opts.progress?.stage(name),
  };
};
/* eslint-enable no-param-reassign */

/** runbook.md and integration.yaml: the record of what was set up (seed 000 "Document the integration"). */
const writeDocs = async (p: Prepared, result: CreateResult, state: RunState, targetOrg: string): Promise<Pick<CreateResult, 'runbookFile' | 'specFile'>> => {
  await mkdir(p.outputDir, { recursive: true, mode: 0o700 });
  const certFile = result.certificateFile;
  const cert = state.certificatePem ?? (certFile && (await exists(certFile)) ? await readFile(certFile, 'utf8') : undefined);
  const runbookFile = join(p.outputDir, 'runbook.md');
  const specFile = join(p.outputDir, 'integration.yaml');
  await writePublicFile(
    runbookFile,
    renderRunbook({
      spec: p.spec,
      values: { ...result, username: p.spec.user.username },
      orgId: p.snap.org.id,
      certificateFile: certFile,
      certificateExpires: cert ? inspectCertificate(cert).notAfter : undefined,
      createdAt: new Date().toISOString(),
      targetOrg,
    })
  );
  await writePublicFile(specFile, toYaml(specToFile(p.spec)));
  return { runbookFile, specFile };
};

export const runCreate = async (org: Org, opts: CreateOptions): Promise<CreateOutcome> => {
  const p = await prepare(org, opts);
  p.warnings.forEach((w) => opts.progress?.warn(w));
  const { spec, snap, plan, local, outputDir, transport } = p;
  if (opts.dryRun) {
    const status = { create: 'created', update: 'updated', unchanged: 'unchanged', skip: 'skipped' } as const;
    // A plan, not an outcome: each step says what applying would do.
    const steps = plan.steps.map((s) => ({ name: s.id, status: status[s.action], subject: s.subject, changes: s.changes }));
    return { result: { ...baseResult(p, true), steps }, plan, failed: false };
  }

  const keyFile = spec.certificate.privateKeyFile ? resolve(spec.certificate.privateKeyFile) : join(outputDir, PRIVATE_KEY_FILE);
  const certFile = spec.certificate.certificateFile ? resolve(spec.certificate.certificateFile) : join(outputDir, CERTIFICATE_FILE);
  const state: RunState = {
    certificatePem: local.certificatePem,
    privateKeyPem: local.privateKeyPem ?? (local.source === 'provided' ? (await readKeyFiles(keyFile)).privateKeyPem : undefined),
    verified: false,
  };
  const outcome = await applyPlan(plan, transport, createHooks(p, opts, state), { user: snap.user?.id, permissionSet: snap.targetPermissionSetId });

  opts.progress?.stage('report');
  const consumerKey =
    state.consumerKey ??
    snap.app?.consumerKey ??
    (outcome.failed ? undefined : (await readConsumerCredentials(transport, { ...spec.app, id: state.appId ?? snap.app?.id }, { secret: false })).consumerKey);
  const result: CreateResult = {
    ...baseResult(p, false),
    userId: outcome.ids.user ?? snap.user?.id,
    consumerKey,
    privateKeyFile: spec.flow === 'jwt' ? keyFile : undefined,
    certificateFile: spec.flow === 'jwt' ? certFile : undefined,
    consumerSecretFile: state.consumerSecretFile,
    verified: state.verified,
    steps: outcome.results.map((r) => ({ name: r.name, status: r.status, subject: r.subject, changes: r.changes, ...(r.error ? { error: r.error } : {}) })),
  };
  if (outcome.failed) return { result, plan, failed: true };
  try {
    return { result: { ...result, ...(await writeDocs(p, result, state, opts.targetOrgAlias)) }, plan, failed: false };
  } catch (e) {
    // The org holds the integration; only its paper trail is missing. Say so rather than fail the whole run.
    const warning = messages.getMessage('warning.DocsNotWritten', [p.outputDir, e instanceof Error ? e.message : String(e)]);
    opts.progress?.warn(warning);
    return { result: { ...result, warnings: [...result.warnings, warning] }, plan, failed: false };
  }
};
