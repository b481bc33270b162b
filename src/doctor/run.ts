/*
 * `sf integration doctor` as a domain call: one read of the org (a composite batch of queries plus one metadata
 * read of the app), the local key compared with the app's certificate, optionally the live exchange the external
 * system would make, then every check as a pure function of what was read. Never writes to the org, except with
 * --fix: the repairs the failed checks name, planned by the one planner and applied by the one apply.
 */
import { Messages, type Org } from '@salesforce/core';
import { explainError, runChecks } from '../checks/index.js';
import type { CheckContext, DesiredAccess, LiveResult } from '../checks/types.js';
import { keyMatchesCertificate, readKeyFiles } from '../credentials/index.js';
import { buildSpec, type LoadedSpecFile } from '../desired/index.js';
import { ApiCallError, exchangeToken, readSnapshot, Transport, type Flow, type OrgSnapshot } from '../org/index.js';
import { applyPlan } from '../plan/apply.js';
import { PlanBlocked } from '../plan/plan.js';
import { blockedError, plannedResults, renderSteps } from '../plan/render.js';
import type { Plan } from '../plan/types.js';
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
  /** --max-credential-age, in days. */
  maxCredentialAgeDays?: number;
  /** The runbook's rotation log (credential-age dates the credentials from it) and the file it was read from. */
  rotations?: CheckContext['rotations'];
  runbookFile?: string;
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

/** The exchange the external system would make, through the one token exchange create verifies with. */
const liveChecks = async (transport: Transport, snap: OrgSnapshot, flow: Flow, opts: DoctorOptions, privateKeyPem?: string): Promise<LiveResult | undefined> => {
  const username = snap.user?.username ?? opts.username;
  if (!opts.clientId) return undefined;
  if (flow === 'jwt') {
    if (!privateKeyPem || !username) return undefined;
    return exchangeToken(snap.org, { flow, clientId: opts.clientId, username, privateKeyPem }, { apiVersion: transport.apiVersion });
  }
  if (!opts.clientSecret) return undefined;
  return exchangeToken(snap.org, { flow, clientId: opts.clientId, clientSecret: opts.clientSecret }, { apiVersion: transport.apiVersion });
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
    maxCredentialAgeDays: opts.maxCredentialAgeDays,
    rotations: opts.rotations,
    runbookFile: opts.runbookFile,
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
  /** --dry-run: report the plan of the repairs and write nothing. */
  dryRun?: boolean;
  /** Asked before anything is written; false leaves the org as it is. */
  confirm(plan: Plan): Promise<boolean>;
};

/**
 * One org's report; with `fix`, the repairs its failed checks name, planned by the one planner and (after
 * confirmation) applied by the one apply, then the checks run again. With `fix.dryRun`, the plan alone.
 */
export const diagnoseOrg = async (org: Org, targetOrg: string, opts: DoctorOptions, fix?: FixOptions): Promise<OrgReport> => {
  const first = await inspect(org, targetOrg, opts);
  if (!fix) return first.report;
  let plan: Plan;
  try {
    plan = planFixes(first.snap, first.report.checks, first.report.flow, opts.now);
  } catch (e) {
    throw e instanceof PlanBlocked ? blockedError(e) : e;
  }
  if (fix.dryRun) return { ...first.report, fixPlan: renderSteps(plannedResults(plan.steps)) };
  if (!plan.steps.length || !(await fix.confirm(plan))) return { ...first.report, fixes: [] };
  const outcome = await applyPlan(plan, first.transport, { values: { user: first.snap.user?.id } });
  const again = await inspect(org, targetOrg, opts);
  return { ...again.report, fixes: renderSteps(outcome.results) };
};
