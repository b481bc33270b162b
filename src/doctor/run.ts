/*
 * `sf integration doctor` as a domain call: one read of the org (a composite batch of queries plus one metadata
 * read of the app), the local key compared with the app's certificate, optionally the live exchange the external
 * system would make, then every check as a pure function of what was read. Never writes to the org.
 */
import { Messages, type Org } from '@salesforce/core';
import { explainError, runChecks } from '../checks/index.js';
import type { CheckContext, DesiredAccess, Flow, LiveResult } from '../checks/types.js';
import { keyMatchesCertificate, readKeyFiles } from '../credentials/index.js';
import { patchApp } from '../org/deploy.js';
import { readSnapshot } from '../org/snapshot.js';
import { clientCredentialsExchange, jwtExchange, restCall } from '../org/token.js';
import { ApiCallError, Transport } from '../org/transport.js';
import type { OrgSnapshot } from '../org/types.js';
import { applyPlan } from '../plan/apply.js';
import type { Plan } from '../plan/types.js';
import { buildSpec, type LoadedSpecFile } from '../spec/index.js';
import { planFixes } from './fix.js';
import { summarize, type OrgReport } from './types.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'integration.doctor');

export type DoctorOptions = {
  appName?: string;
  username?: string;
  clientId?: string;
  privateKeyFile?: string;
  /** The consumer secret (the command reads it from the environment variable the user named). */
  clientSecret?: string;
  flow?: Flow;
  spec?: LoadedSpecFile;
  error?: string;
  now?: Date;
  apiVersion?: string;
};

/** The flow the app is set up for: a certificate means JWT bearer, client credentials otherwise when enabled. */
export const inferFlow = (snap: OrgSnapshot, asked?: Flow): Flow => {
  if (asked) return asked;
  if (snap.app && !snap.app.certificate && snap.app.clientCredentialsEnabled) return 'client-credentials';
  return 'jwt';
};

/** What a create spec allows, as the drift check compares it. */
export const desiredAccess = (file: LoadedSpecFile, adminUsername: string): DesiredAccess => {
  const { spec } = buildSpec({ specFile: file }, { adminUsername, adminEmail: 'owner@example.com', isSandbox: false });
  return {
    objects: spec.permissionSet.objects.map((o) => ({ object: o.object, read: o.read, create: o.create, edit: o.edit, delete: o.delete })),
    fields: spec.permissionSet.fields.map((f) => ({ field: f.field, read: f.read, edit: f.edit })),
    systemPermissions: spec.permissionSet.systemPermissions,
  };
};

/** The exchange the external system would make: JWT at the login host, client credentials at the My Domain. */
const liveChecks = async (transport: Transport, snap: OrgSnapshot, flow: Flow, opts: DoctorOptions, privateKeyPem?: string): Promise<LiveResult | undefined> => {
  const username = snap.user?.username ?? opts.username;
  if (!opts.clientId) return undefined;
  let exchange;
  if (flow === 'jwt') {
    if (!privateKeyPem || !username) return undefined;
    exchange = await jwtExchange({ tokenUrl: snap.org.loginUrl, clientId: opts.clientId, username, audience: snap.org.audience, privateKeyPem });
  } else {
    if (!opts.clientSecret) return undefined;
    exchange = await clientCredentialsExchange({ tokenUrl: snap.org.instanceUrl, clientId: opts.clientId, clientSecret: opts.clientSecret });
  }
  const live: LiveResult = {
    tokenExchange: { ok: exchange.ok, error: exchange.error, errorDescription: exchange.errorDescription, loginUrl: exchange.tokenUrl, audience: exchange.audience },
  };
  if (exchange.ok && exchange.accessToken && exchange.instanceUrl) {
    live.apiCall = await restCall(exchange.instanceUrl, exchange.accessToken, transport.apiVersion);
  }
  return live;
};

const unreachable = (targetOrg: string, e: unknown): Error => {
  const reason = e instanceof Error ? e.message : String(e);
  const err = messages.createError('error.OrgUnreachable', [targetOrg, reason]);
  err.exitCode = 69;
  return err;
};

type Inspection = { report: OrgReport; snap: OrgSnapshot; transport: Transport };

/** Reads one org and runs every check. */
const inspect = async (org: Org, targetOrg: string, opts: DoctorOptions): Promise<Inspection> => {
  const transport = new Transport(org.getConnection(opts.apiVersion));
  let snap: OrgSnapshot;
  try {
    snap = await readSnapshot(transport, { appName: opts.appName, username: opts.username });
  } catch (e) {
    if (e instanceof ApiCallError && e.errorCode === 'API_DISABLED_FOR_ORG') throw messages.createError('error.ApiDisabled', [targetOrg]);
    // Only a network failure or a dead session means the org is unreachable; anything else is reported as it is.
    const text = e instanceof ApiCallError ? `${e.errorCode} ${e.message}` : e instanceof Error ? `${e.name} ${e.message} ${String((e as { code?: unknown }).code ?? '')}` : String(e);
    if (/INVALID_SESSION_ID|ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|fetch failed|socket hang up/i.test(text)) throw unreachable(targetOrg, e);
    throw e;
  }
  const flow = inferFlow(snap, opts.flow);

  let privateKeyPem: string | undefined;
  let privateKey: CheckContext['privateKey'];
  if (opts.privateKeyFile) {
    privateKeyPem = (await readKeyFiles(opts.privateKeyFile)).privateKeyPem;
    if (snap.app?.certificate) privateKey = { path: opts.privateKeyFile, matchesCertificate: keyMatchesCertificate(privateKeyPem, snap.app.certificate) };
  }
  const ctx: CheckContext = {
    now: opts.now ?? new Date(),
    flow,
    appName: opts.appName,
    username: opts.username,
    clientId: opts.clientId,
    privateKey,
    live: await liveChecks(transport, snap, flow, opts, privateKeyPem),
    desired: opts.spec ? desiredAccess(opts.spec, org.getUsername() ?? 'admin@example.com') : undefined,
  };
  const checks = runChecks(snap, ctx);
  const report: OrgReport = {
    org: {
      id: snap.org.id,
      name: snap.org.name,
      instanceUrl: snap.org.instanceUrl,
      isSandbox: snap.org.isSandbox,
      loginUrl: snap.org.loginUrl,
      audience: snap.org.audience,
      subdomain: snap.org.subdomain,
      targetOrg,
    },
    app: snap.app ? { id: snap.app.id, name: snap.app.name, kind: snap.app.kind, label: snap.app.label } : undefined,
    user: snap.user ? { id: snap.user.id, username: snap.user.username } : undefined,
    flow,
    checks,
    summary: summarize(checks),
    explanation: opts.error ? explainError(opts.error, checks) : undefined,
    ...(snap.readFailures?.length
      ? { readFailures: snap.readFailures.map(({ affects, ...f }) => ({ ...f, skippedChecks: affects.length > 0 })) }
      : {}),
  };
  return { report, snap, transport };
};

export type FixOptions = {
  /** Asked before anything is written; false leaves the org as it is. */
  confirm(plan: Plan): Promise<boolean>;
};

/** Applies the repairable findings through the plan/apply engine create uses. */
const applyFixes = async (inspection: Inspection, plan: Plan): Promise<NonNullable<OrgReport['fixes']>> => {
  const { snap, transport } = inspection;
  const outcome = await applyPlan(
    plan,
    transport,
    {
      writeCredentials: () => Promise.resolve(),
      verify: () => Promise.resolve(),
      // doctor --fix never rewrites an app from its own model: it patches what the org holds.
      deployApp: () => Promise.reject(new Error('internal: doctor --fix patches apps, it does not deploy them')),
      patchApp: (op) => patchApp(transport, op.app, op.patch),
    },
    { user: snap.user?.id }
  );
  return outcome.results.map((r) => ({ name: r.name, status: r.status, ...(r.error ? { error: r.error } : {}) }));
};

/** One org's report; with `fix`, repairs what it can after confirmation and reports the checks run again. */
export const diagnoseOrg = async (org: Org, targetOrg: string, opts: DoctorOptions, fix?: FixOptions): Promise<OrgReport> => {
  const first = await inspect(org, targetOrg, opts);
  if (!fix) return first.report;
  const plan = planFixes(first.snap, first.report.checks, first.report.flow, opts.now);
  if (!plan.steps.length || !(await fix.confirm(plan))) return { ...first.report, fixes: [] };
  const fixes = await applyFixes(first, plan);
  const again = await inspect(org, targetOrg, opts);
  return { ...again.report, fixes };
};
