/*
 * `sf integration rotate` as a domain call: one read of the org, the key files (or the staged-credential slot)
 * read and judged, every refusal before the first write, a plan (plan.ts), a confirmation, and the plan applied by
 * the one apply. The command file only parses flags and renders what this returns. Secrets (keys, the consumer
 * secret) stay in memory and 0600 files: the result carries paths, fingerprints and the consumer key only.
 */
import { access, readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { Messages, type Org } from '@salesforce/core';
import { parse as parseYaml } from 'yaml';
import {
  CERTIFICATE_FILE,
  inspectCertificate,
  keyMatchesCertificate,
  PRIVATE_KEY_FILE,
  readKeyFiles,
  validateKeyPair,
} from '../credentials/index.js';
import { KEY_SIZES, LIMITS } from '../desired/defaults.js';
import { ApiCallError, listStaged, readSnapshot, stagedTarget, Transport, type AppConfig, type Flow, type OrgSnapshot } from '../org/index.js';
import { applyPlan, outcomeExitCode } from '../plan/apply.js';
import { plannedResults, renderSteps, type RenderedStep } from '../plan/render.js';
import type { Plan, RefName, StepId, StepResult } from '../plan/types.js';
import {
  planRotation,
  PREVIOUS_CERTIFICATE_FILE,
  PREVIOUS_KEY_FILE,
  RUNBOOK_FILE,
  SECRET_FILE,
  type JwtPhase,
  type JwtRotation,
  type SecretRotation,
  type StagedSlot,
} from './plan.js';
import { runNewApp, runRetire } from './new-app.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'integration.rotate');

export type RotateStepResult = RenderedStep;

/** The --json result. Never holds a private key or a consumer secret: paths, fingerprints and the consumer key only. */
export type RotateResult = {
  appName: string;
  appType: AppConfig['kind'];
  flow: Flow;
  username?: string;
  consumerKey?: string;
  /** SHA-256 fingerprints of the certificate the app trusted before the run, and of the one it trusts after. */
  previousCertificateFingerprint?: string;
  certificateFingerprint?: string;
  certificateExpires?: string;
  privateKeyFile?: string;
  certificateFile?: string;
  /** The previous key, while it is kept (--keep-previous, or a run that stopped before the proof). */
  previousPrivateKeyFile?: string;
  consumerSecretFile?: string;
  runbookFile?: string;
  rolledBack: boolean;
  /** The live exchange with the new key or secret succeeded. */
  verified: boolean;
  /** The previous key was refused by the org ("invalid assertion"). */
  previousRefused?: boolean;
  /** Client credentials: the previous consumer key and secret were deleted at once (--revoke-previous). */
  previousRevoked?: boolean;
  /** How the run rotated: on the app itself (the default), with a successor app, or by retiring an app. */
  strategy?: 'in-place' | 'new-app' | 'retire';
  /** --strategy new-app: the successor app and its consumer key (not a secret); --retire with --name: the successor. */
  newAppName?: string;
  newConsumerKey?: string;
  /** --retire: the app retired, its tokens' last use, how many tokens it held and how many were revoked. */
  retiredApp?: string;
  lastUsed?: string;
  tokens?: number;
  revokedTokens?: number;
  /** --retire: the app is gone from the org. */
  retired?: boolean;
  dryRun: boolean;
  steps: RotateStepResult[];
  warnings: string[];
};

export type RotateStage = 'read' | 'validate' | StepId | 'report';

export type RotateOptions = {
  appName: string;
  outputDir?: string;
  username?: string;
  privateKeyFile?: string;
  certificateFile?: string;
  keySize?: number;
  validityDays?: number;
  waitMinutes: number;
  rollback: boolean;
  keepPrevious: boolean;
  revokePrevious: boolean;
  /** in-place (default) or new-app: a successor app with a new key pair, the old app untouched. */
  strategy?: 'in-place' | 'new-app';
  /** --strategy new-app: the successor's API name (default <APP>_<yyyymmdd>). */
  newName?: string;
  /** The app to retire: its tokens revoked, then the app removed (refused while used within unusedDays). */
  retire?: string;
  unusedDays?: number;
  force?: boolean;
  dryRun: boolean;
  apiVersion?: string;
  progress?: { stage(stage: RotateStage): void; warn(message: string): void };
  retryIntervalMs?: number;
  now?: Date;
  /** Asked once the plan is known and before anything is written; false changes nothing. */
  confirm(plan: Plan): Promise<boolean>;
};

export type RotateOutcome = { result: RotateResult; plan: Plan; failed: boolean; exitCode: 0 | 1 | 68; cancelled?: boolean };

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false
  );

const readText = (path: string): Promise<string | undefined> => readFile(path, 'utf8').catch(() => undefined);

const normalizePem = (pem: string | undefined): string => (pem ?? '').replace(/\s+/g, '');

/** ./NAME-integration for an app create named NAME_Integration: where create wrote the key pair by default. */
export const defaultRotateDir = (appName: string): string => resolvePath(`./${appName.replace(/_Integration$/, '').replace(/[^A-Za-z0-9_-]+/g, '-')}-integration`);

type SpecFacts = { name?: string; username?: string; keySize?: number; validityDays?: number };

/** What create recorded in integration.yaml: the username and the certificate's size and validity. */
const specFacts = async (dir: string): Promise<SpecFacts> => {
  const text = await readText(join(dir, 'integration.yaml'));
  if (!text) return {};
  try {
    const doc = parseYaml(text) as { name?: unknown; username?: unknown; certificate?: { keySize?: unknown; validityDays?: unknown } };
    return {
      name: typeof doc?.name === 'string' ? doc.name : undefined,
      username: typeof doc?.username === 'string' ? doc.username : undefined,
      keySize: Number(doc?.certificate?.keySize) || undefined,
      validityDays: Number(doc?.certificate?.validityDays) || undefined,
    };
  } catch {
    return {};
  }
};

const fingerprintOf = (pem: string | undefined): string | undefined => {
  if (!pem) return undefined;
  try {
    return inspectCertificate(pem).sha256Fingerprint;
  } catch {
    return undefined;
  }
};

const badInput = (key: string, tokens: string[] = []): Error => {
  const e = messages.createError(key, tokens);
  e.exitCode = 2;
  return e;
};

type KeyState = {
  phase: JwtPhase;
  newCertificatePem?: string;
  previousCertificatePem?: string;
  /** The key the app trusted before this rotation (or the key put back, for --rollback). */
  previousPrivateKey?: string;
  /** The new key, when it is on disk already. */
  privateKey?: string;
  /** A resumed rotation: the certificate the app trusted before it started (cert.previous.pem). */
  priorCertificatePem?: string;
};

/** Where a JWT rotation stands: the key files in the directory (or brought) against the app's certificate. */
const jwtState = async (dir: string, app: AppConfig, opts: RotateOptions): Promise<KeyState> => {
  const appCert = app.certificate ?? '';
  const keyFile = join(dir, PRIVATE_KEY_FILE);
  const certFile = join(dir, CERTIFICATE_FILE);
  const prevKeyFile = join(dir, PREVIOUS_KEY_FILE);
  const prevCertFile = join(dir, PREVIOUS_CERTIFICATE_FILE);
  const read = async (k: string, c: string): Promise<{ key: string; cert: string } | undefined> => {
    if (!(await exists(k))) return undefined;
    if (!(await exists(c))) throw messages.createError('error.KeyWithoutCertificate', [k, c]);
    const files = await readKeyFiles(k, c);
    return { key: files.privateKeyPem, cert: files.certificatePem ?? '' };
  };
  const current = await read(keyFile, certFile);
  const previous = await read(prevKeyFile, prevCertFile);
  const trusts = (pair: { key: string; cert: string } | undefined): boolean =>
    Boolean(pair && appCert && (normalizePem(pair.cert) === normalizePem(appCert) || keyMatchesCertificate(pair.key, appCert)));

  if (opts.rollback) {
    if (!previous) throw messages.createError('error.NothingToRollBack', [dir]);
    return { phase: { phase: 'app-written' }, previousCertificatePem: previous.cert, previousPrivateKey: previous.key };
  }
  if (opts.privateKeyFile && opts.certificateFile) {
    const brought = await readKeyFiles(opts.privateKeyFile, opts.certificateFile);
    validateKeyPair(brought.privateKeyPem, brought.certificatePem);
    const cert = brought.certificatePem ?? '';
    const appHasIt = normalizePem(cert) === normalizePem(appCert) || (appCert !== '' && keyMatchesCertificate(brought.privateKeyPem, appCert));
    const old = [current, previous].find((p) => trusts(p) && !keyMatchesCertificate(p!.key, cert)) ?? (appHasIt ? previous ?? current : undefined);
    return {
      phase: { phase: 'provided', certificatePem: cert, oldKeyKnown: Boolean(old), appHasIt },
      newCertificatePem: cert,
      privateKey: brought.privateKeyPem,
      previousPrivateKey: old?.key,
    };
  }
  if (previous) {
    if (!current) throw messages.createError('error.PreviousWithoutCurrent', [dir]);
    const resumed = { newCertificatePem: current.cert, privateKey: current.key, previousPrivateKey: previous.key, priorCertificatePem: previous.cert };
    if (trusts(current)) return { phase: { phase: 'app-written' }, ...resumed };
    if (trusts(previous)) return { phase: { phase: 'pair-written' }, ...resumed };
    throw messages.createError('error.KeysNotTheApps', [dir, app.name]);
  }
  if (!current) return { phase: { phase: 'no-key' } };
  if (!trusts(current)) throw messages.createError('error.KeysNotTheApps', [dir, app.name]);
  return { phase: { phase: 'start' }, previousPrivateKey: current.key };
};

/** The slot of staged credentials, read first: the read also proves the setting and the permissions are in place. */
const slotState = async (transport: Transport, app: AppConfig): Promise<StagedSlot> => {
  if (app.kind === 'connected-app') throw messages.createError('error.ConnectedAppSecret', [app.name]);
  let slots;
  try {
    const target = await stagedTarget(transport, { name: app.name, id: app.id });
    if (!target) throw messages.createError('error.NoConsumer', [app.name]);
    slots = await listStaged(transport, target);
  } catch (e) {
    if (e instanceof ApiCallError && (e.status === 403 || e.errorCode === 'INSUFFICIENT_ACCESS' || e.errorCode === 'FUNCTIONALITY_NOT_ENABLED')) {
      throw messages.createError('error.StagedPrerequisites', [app.name, `${e.errorCode}: ${e.message}`]);
    }
    if (e instanceof ApiCallError && e.errorCode === 'NOT_FOUND') throw messages.createError('error.StagedUnavailable', [app.name, `${e.errorCode}: ${e.message}`]);
    throw e;
  }
  const slot = slots[0];
  return slot ? { id: slot.id, state: slot.state } : undefined;
};

const unreachable = (e: unknown): boolean => {
  const text = e instanceof ApiCallError ? `${e.errorCode} ${e.message}` : e instanceof Error ? `${e.name} ${e.message} ${String((e as { code?: unknown }).code ?? '')}` : String(e);
  return /INVALID_SESSION_ID|ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|fetch failed|socket hang up/i.test(text);
};

/** The local account that ran the command, for the rotation log (none where the OS does not say). */
const localAccount = (): string => {
  try {
    return ` (${userInfo().username})`;
  } catch {
    return '';
  }
};

const isDone = (results: StepResult[], id: StepId): boolean => results.some((r) => r.name === id && !['failed', 'pending', 'skipped'].includes(r.status));

/** Flags that cannot go together, or values outside create's rules: exit 2 before anything is read. */
/** --strategy new-app and --retire: the flags that do not go with them (exit 2). */
const checkStrategyInput = (opts: RotateOptions): void => {
  const newApp = opts.strategy === 'new-app';
  const inPlaceOnly = opts.rollback || opts.keepPrevious || opts.revokePrevious || Boolean(opts.privateKeyFile ?? opts.certificateFile);
  if (!opts.appName && !opts.retire) throw badInput('error.NeedName');
  if (newApp && inPlaceOnly) throw badInput('error.NewAppFlags');
  if (opts.newName !== undefined && !newApp) throw badInput('error.NewNameWithoutNewApp');
  if (opts.retire && newApp) throw badInput('error.RetireSeparately', [opts.retire]);
  if (opts.retire && inPlaceOnly) throw badInput('error.RetireAlone');
  if (!opts.retire && opts.force) throw badInput('error.ForceWithoutRetire');
};

const checkInput = (opts: RotateOptions): void => {
  checkStrategyInput(opts);
  if (Boolean(opts.privateKeyFile) !== Boolean(opts.certificateFile)) throw badInput('error.KeyPairIncomplete');
  if (opts.rollback && (Boolean(opts.privateKeyFile) || opts.revokePrevious)) throw badInput('error.RollbackAlone');
  if (opts.keySize !== undefined && !KEY_SIZES.includes(opts.keySize as 2048)) throw badInput('error.KeySize', [String(opts.keySize)]);
  const v = opts.validityDays;
  if (v !== undefined && (!Number.isInteger(v) || v < LIMITS.validityDays.min || v > LIMITS.validityDays.max)) throw badInput('error.ValidityDays', [String(v)]);
};

type Context = { opts: RotateOptions; app: AppConfig; snap: OrgSnapshot; dir: string; facts: SpecFacts; runbook?: string; entry: { date: string; by: string } };

type Prepared = { plan: Plan; values: Partial<Record<RefName, string>>; username?: string; state?: KeyState };

/** A JWT rotation: the key files judged against the app's certificate, then the plan. */
const prepareJwt = async (c: Context): Promise<Prepared> => {
  const { opts, app, dir, facts } = c;
  if (!app.certificate && !opts.privateKeyFile) throw messages.createError('error.NoCertificate', [app.name]);
  const username = opts.username ?? facts.username ?? c.snap.user?.username;
  if (!username) throw badInput('error.NeedUsername', [dir]);
  if (!opts.dryRun && !(await exists(dir)) && !opts.privateKeyFile) throw messages.createError('error.NoDirectory', [dir, app.name]);
  const state = await jwtState(dir, app, opts);
  const rotation: JwtRotation = {
    flow: 'jwt',
    dir,
    phase: state.phase,
    rollback: opts.rollback,
    newCertificatePem: state.newCertificatePem,
    previousCertificatePem: state.previousCertificatePem,
    keySize: (opts.keySize ?? facts.keySize ?? 2048) as 2048 | 3072 | 4096,
    validityDays: opts.validityDays ?? facts.validityDays ?? 365,
    commonName: `${(facts.name ?? app.name.replace(/_Integration$/, '')).slice(0, 50)} integration`,
    username,
    keepPrevious: opts.keepPrevious,
    newFingerprint: fingerprintOf(state.newCertificatePem),
    previousFingerprint: fingerprintOf(state.previousCertificatePem),
  };
  const before = fingerprintOf(state.priorCertificatePem ?? app.certificate) ?? '-';
  const plan = planRotation({
    app,
    snap: c.snap,
    rotation,
    waitMinutes: opts.waitMinutes,
    runbook: c.runbook,
    entry: { ...c.entry, before, change: messages.getMessage(opts.rollback ? 'log.rollback' : 'log.certificate') },
  });
  const values = {
    privateKey: opts.rollback ? state.previousPrivateKey : state.privateKey,
    previousPrivateKey: state.previousPrivateKey,
    certificateFingerprint: opts.rollback ? rotation.previousFingerprint : rotation.newFingerprint,
  };
  return { plan, values, username, state };
};

/** A client-credentials rotation: the staged slot read (which proves the prerequisites), then the plan. */
const prepareSecret = async (c: Context, transport: Transport): Promise<Prepared> => {
  const { opts, app } = c;
  if (opts.rollback) throw messages.createError('error.RollbackSecret', [app.name]);
  const slot = await slotState(transport, app);
  if (slot && slot.state === 'Rotated' && !opts.revokePrevious) throw messages.createError('error.PreviousStillValid', [app.name]);
  const rotation: SecretRotation = { flow: 'client-credentials', dir: c.dir, slot, revokePrevious: opts.revokePrevious };
  const plan = planRotation({
    app,
    snap: c.snap,
    rotation,
    waitMinutes: opts.waitMinutes,
    runbook: c.runbook,
    entry: { ...c.entry, before: app.consumerKey ?? '-', change: messages.getMessage('log.secret') },
  });
  return { plan, values: {} };
};

/** One read of the org; an org that cannot be reached is exit 69. */
const readOrg = async (transport: Transport, opts: RotateOptions, username: string | undefined, adminUsername: string): Promise<OrgSnapshot> => {
  try {
    return await readSnapshot(transport, { appName: opts.appName, username, runningUsername: adminUsername });
  } catch (e) {
    if (!unreachable(e)) throw e;
    const err = messages.createError('error.OrgUnreachable', [e instanceof Error ? e.message : String(e)]);
    err.exitCode = 69;
    throw err;
  }
};

/** The result of an applied rotation: paths, fingerprints and what was proved. */
const appliedResult = (base: RotateResult, c: Context, p: Prepared, outcome: Awaited<ReturnType<typeof applyPlan>>): RotateResult => {
  const { opts, dir, app } = c;
  const jwt = base.flow === 'jwt';
  const verified = isDone(outcome.results, 'verify') || (!jwt && isDone(outcome.results, 'staged-credentials'));
  if (!jwt) {
    return {
      ...base,
      consumerKey: outcome.values.consumerKey ?? app.consumerKey,
      consumerSecretFile: verified ? join(dir, SECRET_FILE) : undefined,
      runbookFile: isDone(outcome.results, 'documents') ? join(dir, RUNBOOK_FILE) : undefined,
      verified,
      previousRevoked: opts.revokePrevious && !outcome.failed,
      steps: renderSteps(outcome.results),
    };
  }
  const previousDone = isDone(outcome.results, 'previous-key');
  const phase = p.state?.phase.phase;
  const keptPrevious = !opts.rollback && phase !== 'provided' && phase !== 'no-key' && (opts.keepPrevious || !previousDone);
  const newPem = p.state?.newCertificatePem;
  return {
    ...base,
    certificateFingerprint: outcome.values.certificateFingerprint,
    certificateExpires: outcome.values.certificateExpires ?? (newPem ? inspectCertificate(newPem).notAfter : undefined),
    privateKeyFile: opts.privateKeyFile ? resolvePath(opts.privateKeyFile) : join(dir, PRIVATE_KEY_FILE),
    certificateFile: opts.certificateFile ? resolvePath(opts.certificateFile) : join(dir, CERTIFICATE_FILE),
    previousPrivateKeyFile: keptPrevious ? join(dir, PREVIOUS_KEY_FILE) : undefined,
    runbookFile: isDone(outcome.results, 'documents') ? join(dir, RUNBOOK_FILE) : undefined,
    rolledBack: opts.rollback && !outcome.failed,
    verified,
    ...(opts.rollback ? {} : { previousRefused: previousDone }),
    steps: renderSteps(outcome.results),
  };
};

/** --strategy new-app and --retire (new-app.ts), with the same snapshot read and the same exit 69 for an org out of reach. */
const runSuccessorOrRetire = async (
  opts: RotateOptions,
  c: { transport: Transport; adminUsername: string; dir: string; facts: SpecFacts }
): Promise<RotateOutcome> => {
  const shared = {
    ...c,
    username: opts.username ?? c.facts.username,
    entry: { date: (opts.now ?? new Date()).toISOString(), by: `${c.adminUsername}${localAccount()}` },
    readOrg: (appName: string, username?: string): Promise<OrgSnapshot> => readOrg(c.transport, { ...opts, appName }, username, c.adminUsername),
  };
  try {
    return await (opts.retire ? runRetire(opts, shared) : runNewApp(opts, shared));
  } catch (e) {
    // The reads besides the snapshot (tokens, logins, the new app's name): an org that cannot be reached is exit 69.
    if (!unreachable(e) || (e as { exitCode?: number }).exitCode === 69) throw e;
    const err = messages.createError('error.OrgUnreachable', [e instanceof Error ? e.message : String(e)]);
    err.exitCode = 69;
    throw err;
  }
};

export const runRotate = async (org: Org, opts: RotateOptions): Promise<RotateOutcome> => {
  checkInput(opts);
  const progress = opts.progress;
  const conn = org.getConnection(opts.apiVersion);
  const transport = new Transport(conn);
  const adminUsername = conn.getUsername() ?? '';
  const dir = opts.outputDir ? resolvePath(opts.outputDir) : defaultRotateDir(opts.retire ?? opts.appName);
  const facts = await specFacts(dir);
  if (opts.strategy === 'new-app' || opts.retire) return runSuccessorOrRetire(opts, { transport, adminUsername, dir, facts });

  progress?.stage('read');
  const snap = await readOrg(transport, opts, opts.username ?? facts.username, adminUsername);
  const app = snap.app;
  if (!app) throw messages.createError('error.AppNotFound', [opts.appName, snap.otherAppNames.slice(0, 5).join(', ') || '-']);

  progress?.stage('validate');
  const flow: Flow = !app.certificate && app.clientCredentialsEnabled ? 'client-credentials' : 'jwt';
  const c: Context = {
    opts,
    app,
    snap,
    dir,
    facts,
    runbook: await readText(join(dir, RUNBOOK_FILE)),
    entry: { date: (opts.now ?? new Date()).toISOString(), by: `${adminUsername}${localAccount()}` },
  };
  const p = flow === 'jwt' ? await prepareJwt(c) : await prepareSecret(c, transport);
  const { plan } = p;
  plan.warnings.forEach((w) => progress?.warn(w));

  const base: RotateResult = {
    appName: app.name,
    appType: app.kind,
    flow,
    username: p.username,
    consumerKey: app.consumerKey,
    previousCertificateFingerprint: flow === 'jwt' ? fingerprintOf(p.state?.priorCertificatePem ?? app.certificate) : undefined,
    rolledBack: false,
    verified: false,
    dryRun: opts.dryRun,
    steps: renderSteps(plannedResults(plan.steps)),
    warnings: plan.warnings,
  };
  if (opts.dryRun) return { result: base, plan, failed: false, exitCode: 0 };
  if (!(await opts.confirm(plan))) return { result: base, plan, failed: false, exitCode: 0, cancelled: true };

  const outcome = await applyPlan(plan, transport, {
    values: { appId: app.id, consumerKey: app.consumerKey, ...p.values },
    onStepStart: (name) => progress?.stage(name),
    retryIntervalMs: opts.retryIntervalMs,
  });
  progress?.stage('report');
  return { result: appliedResult(base, c, p, outcome), plan, failed: outcome.failed, exitCode: outcomeExitCode(outcome) };
};
