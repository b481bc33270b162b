/*
 * `sf integration create` as a domain call: desired state from flags or a spec file, one read of the org, input
 * checks before any write, a plan, and (unless --dry-run) the plan applied, verified and documented. The command
 * file only parses flags and renders what this returns.
 */
import { access, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Messages, type Org } from '@salesforce/core';
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
import { Transport } from '../org/transport.js';
import type { OrgSnapshot } from '../org/types.js';
import { applyPlan, type StepResult } from '../plan/apply.js';
import { PlanBlocked, planIntegration, type LocalCredentials } from '../plan/plan.js';
import type { Plan, StepId } from '../plan/types.js';
import { renderRunbook } from '../report/runbook.js';
import { buildSpec, sandboxNameFromSubdomain, specToFile, validateAgainstOrg, type SpecInput, type SpecWarning } from '../spec/index.js';
import type { IntegrationSpec } from '../spec/types.js';
import { stringify as toYaml } from 'yaml';

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

/** Errors that a not-yet-propagated app answers with (seed 001: 2 to 10 minutes after a change). */
const PROPAGATION_ERRORS = /client identifier invalid|not installed in this org|user hasn't approved this consumer|app_not_found/i;

/** What the output directory and the flags hold, decided before any write. */
const localCredentials = async (spec: IntegrationSpec, outputDir: string): Promise<LocalCredentials & { privateKeyPem?: string }> => {
  if (spec.flow !== 'jwt') return { source: 'none' };
  const c = spec.certificate;
  if (c.privateKeyFile || c.certificateFile) {
    if (!c.privateKeyFile || !c.certificateFile) throw messages.createError('error.KeyPairIncomplete');
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

export const runCreate = async (org: Org, opts: CreateOptions): Promise<CreateOutcome> => {
  const progress = opts.progress;
  const conn = org.getConnection();
  const transport = new Transport(conn);
  const adminUsername = conn.getUsername() ?? '';
  const subdomain = /^https:\/\/([^.]+(?:\.sandbox)?)\.my\.salesforce\.com/i.exec(conn.instanceUrl)?.[1];
  const env = { adminUsername, isSandbox: Boolean(await org.isSandbox()), sandboxName: subdomain ? sandboxNameFromSubdomain(subdomain) : undefined };

  progress?.stage('read');
  // The names the read needs (user, permission set, app) do not depend on the owner's email, which defaults to
  // the running user's: read with a stand-in owner, then build the real spec once the running user is known.
  const first = buildSpec(opts.input, { ...env, adminEmail: opts.input.email ?? 'owner-pending@example.com' });
  const snap = await readSnapshot(
    transport,
    { username: first.spec.user.username, appName: first.spec.app.name, permissionSetName: first.spec.permissionSet.name, runningUsername: adminUsername },
    { appKind: first.spec.app.kind }
  );

  progress?.stage('validate');
  // With the running admin known, defaults that use their email are final.
  const built = opts.input.email ? first : buildSpec(opts.input, { ...env, adminEmail: snap.runningUser?.email });
  const warnings = built.warnings.map(warningText);
  const wanted = [...built.spec.permissionSet.objects.map((o) => o.object), ...built.spec.permissionSet.fields.map((f) => f.field.split('.')[0])];
  const spec = wanted.length ? validateAgainstOrg(built.spec, { objects: await describeObjects(transport, wanted) }) : built.spec;
  const outputDir = resolve(opts.outputDir ?? `./${spec.name.replace(/[^A-Za-z0-9_-]+/g, '-')}-integration`);
  const local = await localCredentials(spec, outputDir);

  let plan: Plan;
  try {
    plan = planIntegration(spec, snap, local, { verify: opts.verify });
  } catch (e) {
    if (e instanceof PlanBlocked) throw blocked(e);
    throw e;
  }
  warnings.forEach((w) => progress?.warn(w));

  const base: CreateResult = {
    username: spec.user.username,
    userId: snap.user?.id,
    permissionSetName: spec.permissionSet.name,
    appType: spec.app.kind,
    appName: spec.app.name,
    consumerKey: snap.app?.consumerKey,
    flow: spec.flow,
    instanceUrl: snap.org.instanceUrl,
    loginUrl: snap.org.loginUrl,
    audience: snap.org.audience,
    subdomain: snap.org.subdomain,
    verified: false,
    dryRun: opts.dryRun,
    steps: [],
    warnings,
  };
  if (opts.dryRun) {
    const status = { create: 'created', update: 'updated', unchanged: 'unchanged', skip: 'skipped' } as const;
    // A plan, not an outcome: each step says what applying would do.
    base.steps = plan.steps.map((s) => ({ name: s.id, status: status[s.action], subject: s.subject, changes: s.changes }));
    return { result: base, plan, failed: false };
  }

  // ---- apply ----------------------------------------------------------------------------------------------
  const keyFile = spec.certificate.privateKeyFile ? resolve(spec.certificate.privateKeyFile) : join(outputDir, PRIVATE_KEY_FILE);
  const certFile = spec.certificate.certificateFile ? resolve(spec.certificate.certificateFile) : join(outputDir, CERTIFICATE_FILE);
  let certificatePem = local.certificatePem;
  let privateKeyPem = local.privateKeyPem ?? (local.source === 'provided' ? (await readKeyFiles(keyFile)).privateKeyPem : undefined);
  let consumerKey: string | undefined;
  let consumerSecretFile: string | undefined;
  let verified = false;

  const outcome = await applyPlan(
    plan,
    transport,
    {
      writeCredentials: async () => {
        const pair = await generateKeyPair(spec.certificate.keySize);
        const cert = createCertificate({ privateKeyPem: pair.privateKeyPem, commonName: `${spec.name} integration`, validityDays: spec.certificate.validityDays });
        await writeKeyFiles(outputDir, { privateKeyPem: pair.privateKeyPem, certificatePem: cert });
        privateKeyPem = pair.privateKeyPem;
        certificatePem = cert;
      },
      deployApp: async (op, permissionSetId) => {
        const write = { app: op.app, flow: op.flow, certificatePem, permissionSetIds: [permissionSetId], runAsUsername: op.runAsUsername };
        if (op.app.kind === 'external-client-app') await deployEca(transport, write);
        else await upsertConnectedApp(transport, write, [spec.permissionSet.name]);
      },
      verify: async () => {
        const creds = await readConsumerCredentials(transport, spec.app, { secret: spec.flow === 'client-credentials' });
        consumerKey = creds.consumerKey;
        if (creds.consumerSecret) {
          await mkdir(outputDir, { recursive: true, mode: 0o700 });
          consumerSecretFile = join(outputDir, 'consumer-secret.txt');
          await writeSecretFile(consumerSecretFile, `${creds.consumerSecret}\n`);
        }
        if (spec.flow === 'client-credentials' && !creds.consumerSecret) {
          throw messages.createError('error.SecretUnreadable', [creds.secretError ?? '']);
        }
        const exchange = await verifyLive(transport, snap, spec, { consumerKey, consumerSecret: creds.consumerSecret, privateKeyPem }, {
          waitMinutes: opts.waitMinutes,
          retryIntervalMs: opts.retryIntervalMs ?? 15_000,
        });
        if (!exchange.ok || !exchange.accessToken || !exchange.instanceUrl) {
          throw messages.createError('error.VerifyFailed', [`${exchange.error ?? ''}: ${exchange.errorDescription ?? ''}`, spec.app.name, spec.user.username]);
        }
        const call = await restCall(exchange.instanceUrl, exchange.accessToken, transport.apiVersion);
        if (!call.ok) throw messages.createError('error.VerifyRestFailed', [call.error ?? String(call.status)]);
        verified = true;
      },
      onStepStart: (name) => progress?.stage(name),
    },
    { user: snap.user?.id, permissionSet: snap.targetPermissionSetId }
  );

  progress?.stage('report');
  consumerKey ??= snap.app?.consumerKey ?? (outcome.failed ? undefined : (await readConsumerCredentials(transport, spec.app, { secret: false })).consumerKey);
  const result: CreateResult = {
    ...base,
    userId: outcome.ids.user ?? snap.user?.id,
    consumerKey,
    privateKeyFile: spec.flow === 'jwt' ? keyFile : undefined,
    certificateFile: spec.flow === 'jwt' ? certFile : undefined,
    consumerSecretFile,
    verified,
    steps: outcome.results.map((r) => ({ name: r.name, status: r.status, subject: r.subject, changes: r.changes, ...(r.error ? { error: r.error } : {}) })),
  };
  if (!outcome.failed) {
    // The runbook and the spec file record what was set up (seed 000 "Document the integration").
    await mkdir(outputDir, { recursive: true, mode: 0o700 });
    const cert = certificatePem ?? (spec.flow === 'jwt' && (await exists(certFile)) ? await readFile(certFile, 'utf8') : undefined);
    result.runbookFile = join(outputDir, 'runbook.md');
    result.specFile = join(outputDir, 'integration.yaml');
    await writePublicFile(
      result.runbookFile,
      renderRunbook({
        spec,
        values: { ...result, username: spec.user.username },
        orgId: snap.org.id,
        certificateFile: result.certificateFile,
        certificateExpires: cert ? inspectCertificate(cert).notAfter : undefined,
        createdAt: new Date().toISOString(),
        targetOrg: opts.targetOrgAlias,
      })
    );
    await writePublicFile(result.specFile, toYaml(specToFile(spec)));
  }
  return { result, plan, failed: outcome.failed };
};
