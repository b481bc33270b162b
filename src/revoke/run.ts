/*
 * `sf integration revoke` as a domain call: read the org's apps, the users named and the OauthToken rows of the
 * selection (paged past the row cap), check every precondition before the first write, plan (revoke/plan.ts), and
 * unless --dry-run, ask, apply through the one apply (bounded concurrency for the revocations), then read the tokens
 * again and report what is left. The command file only parses flags and renders what this returns.
 */
import { Messages, type Org } from '@salesforce/core';
import { ApiCallError, readOauthTokens, readOrgApps, readOrgUsers, readSnapshot, Transport, type OrgApp, type OrgUser } from '../org/index.js';
import { applyPlan, outcomeExitCode } from '../plan/apply.js';
import { plannedResults, renderSteps, type RenderedStep } from '../plan/render.js';
import type { ApplyOutcome, JournalEntry, Plan, StepId } from '../plan/types.js';
import { ExitCode } from '../cli/exit-codes.js';
import { planRevoke, type BlockTarget } from './plan.js';
import { connectionsOf, resolveApps, selectTokens, tokenAppNames, type Connection, type SelectedToken, type Selection, type TokenApp } from './select.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'integration.revoke');

export type { Selection } from './select.js';

export type RevokeStage = 'read' | 'block' | 'users' | 'revoke' | 'verify';

/** One app and one user, and how its tokens ended (planned, on --dry-run: every token counts as pending). */
export type RevokeConnection = Connection & { revoked: number; alreadyGone: number; failed: number; pending: number; error?: string };

export type RevokeAppSummary = {
  app: string;
  appKind: TokenApp['kind'];
  tokens: number;
  users: number;
  lastUsed?: string;
  revoked: number;
  alreadyGone: number;
  failed: number;
  pending: number;
};

/** The --json result. Never holds a DeleteToken. */
export type RevokeResult = {
  dryRun: boolean;
  /** The confirmation prompt was answered no: nothing was changed. */
  declined?: boolean;
  selection: Selection & { block: boolean; freezeUser: boolean; deactivateUser: boolean };
  summary: {
    tokens: number;
    users: number;
    apps: number;
    revoked: number;
    alreadyGone: number;
    failed: number;
    pending: number;
    /** Selected tokens the org still holds when read again after the run (not read on --dry-run). */
    remaining?: number;
  };
  apps: RevokeAppSummary[];
  connections: RevokeConnection[];
  steps: RenderedStep[];
  /** What the run did and did not do, in plain words. */
  notes: string[];
};

export type RevokeProgress = {
  stage(stage: RevokeStage): void;
  count(done: number, total: number): void;
};

export type RevokeOptions = {
  selection: Selection;
  block: boolean;
  freezeUser: boolean;
  deactivateUser: boolean;
  dryRun: boolean;
  targetOrg: string;
  apiVersion?: string;
  concurrency?: number;
  now?: Date;
  progress?: RevokeProgress;
  /** Asked once the plan is known and before any write; false leaves the org as it is. */
  confirm(prompt: string, plan: Plan): Promise<boolean>;
};

export type RevokeOutcome = { result: RevokeResult; exitCode: 0 | 1 | 68 };

const badInput = (key: string, tokens: Array<string | number> = []): Error => {
  const err = messages.createError(key, tokens.map(String));
  err.exitCode = ExitCode.BadInput;
  return err;
};

/** Checked before anything is read: the flags make a selection and the cut-off flags have what they act on. */
export const assertSelection = (o: Pick<RevokeOptions, 'selection' | 'block' | 'freezeUser' | 'deactivateUser'>): void => {
  const s = o.selection;
  if (!s.apps.length && !s.users.length && !s.notInstalled && s.unusedDays === undefined) throw badInput('error.NoSelector');
  if (o.block && !s.apps.length) throw badInput('error.BlockNeedsApp');
  if ((o.freezeUser || o.deactivateUser) && !s.users.length) throw badInput('error.OffboardNeedsUser');
};

const unreachable = (targetOrg: string, e: unknown): Error => {
  const text = e instanceof ApiCallError ? `${e.errorCode} ${e.message}` : e instanceof Error ? `${e.name} ${e.message} ${String((e as { code?: unknown }).code ?? '')}` : String(e);
  if (!/INVALID_SESSION_ID|ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|fetch failed|socket hang up/i.test(text)) return e as Error;
  const err = messages.createError('error.OrgUnreachable', [targetOrg, e instanceof Error ? e.message : String(e)]);
  err.exitCode = ExitCode.Unreachable;
  return err;
};

/** What a --block needs of each app: its settings as the org holds them, and the names of what pre-authorizes it. */
const readBlockTargets = async (transport: Transport, apps: OrgApp[]): Promise<BlockTarget[]> => {
  const targets: BlockTarget[] = [];
  for (const app of apps) {
    // eslint-disable-next-line no-await-in-loop
    const snap = await readSnapshot(transport, { appName: app.name }, { appKind: app.kind });
    if (!snap.app) throw messages.createError('error.AppUnreadable', [app.name]);
    const sets = Object.values(snap.permissionSets);
    targets.push({
      app: snap.app,
      permissionSetNames: Object.fromEntries(sets.filter((s) => !s.isOwnedByProfile).map((s) => [s.id, s.name])),
      profileNames: Object.fromEntries(sets.filter((s) => s.isOwnedByProfile && s.profileId).map((s) => [String(s.profileId), s.profileName ?? String(s.profileId)])),
    });
  }
  return targets;
};

type Read = {
  tokens: SelectedToken[];
  users: OrgUser[];
  block: BlockTarget[];
  filter: { appNames?: string[]; userIds?: string[] };
};

const readSelection = async (transport: Transport, opts: RevokeOptions): Promise<Read> => {
  const s = opts.selection;
  const [apps, named] = await Promise.all([readOrgApps(transport), s.users.length ? readOrgUsers(transport, { usernames: s.users }) : Promise.resolve([])]);
  const unknownUsers = s.users.filter((u) => !named.some((n) => n.username.toLowerCase() === u.toLowerCase()));
  if (unknownUsers.length) throw badInput('error.UnknownUser', [unknownUsers.join(', ')]);
  const { found, unresolved } = resolveApps(s.apps, apps);
  if (opts.block && unresolved.length) throw badInput('error.BlockNotInstalled', [unresolved.join(', ')]);
  // The app filter goes to the query only when apps alone decide (not-installed apps are known only once read).
  const filter = {
    ...(s.apps.length && !s.notInstalled ? { appNames: tokenAppNames(found, unresolved) } : {}),
    ...(named.length ? { userIds: named.map((u) => u.id) } : {}),
  };
  const rows = await readOauthTokens(transport, filter);
  const missing = unresolved.filter((name) => !rows.some((r) => r.appName.toLowerCase() === name.trim().toLowerCase()));
  if (missing.length) {
    throw badInput('error.UnknownApp', [missing.join(', '), apps.map((a) => `${a.label} (${a.name})`).slice(0, 20).join(', ') || '-']);
  }
  const block = opts.block ? await readBlockTargets(transport, found) : [];
  const now = opts.now ?? new Date();
  const first = selectTokens(rows, { apps, users: named, selection: s, found, unresolved, userIds: named.map((u) => u.id), now });
  // The usernames of the people behind the tokens, for the plan and the result.
  const unknownIds = [...new Set(first.map((t) => t.userId))].filter((id) => !named.some((u) => u.id.slice(0, 15) === id.slice(0, 15)));
  const holders = unknownIds.length ? await readOrgUsers(transport, { ids: unknownIds }) : [];
  const users = [...named, ...holders];
  const tokens = selectTokens(rows, { apps, users, selection: s, found, unresolved, userIds: named.map((u) => u.id), now });
  return { tokens, users: named, block, filter };
};

const STAGE_OF: Partial<Record<StepId, RevokeStage>> = { 'block-app': 'block', 'freeze-user': 'users', 'deactivate-user': 'users', 'revoke-tokens': 'revoke' };

type TokenEnd = 'revoked' | 'gone' | 'failed' | 'pending';

const summarize = (tokens: SelectedToken[], endOf: (t: SelectedToken) => { end: TokenEnd; error?: string }): Pick<RevokeResult, 'apps' | 'connections' | 'summary'> => {
  const connections = new Map<string, RevokeConnection>();
  for (const c of connectionsOf(tokens)) connections.set(`${c.app}\u0000${c.userId}`, { ...c, revoked: 0, alreadyGone: 0, failed: 0, pending: 0 });
  const apps = new Map<string, RevokeAppSummary>();
  const totals = { revoked: 0, alreadyGone: 0, failed: 0, pending: 0 };
  for (const t of tokens) {
    const { end, error } = endOf(t);
    const key = end === 'gone' ? 'alreadyGone' : end;
    const c = connections.get(`${t.app.label}\u0000${t.userId}`)!;
    c[key]++;
    if (error && !c.error) c.error = error;
    const a = apps.get(t.app.label) ?? { app: t.app.label, appKind: t.app.kind, tokens: 0, users: 0, revoked: 0, alreadyGone: 0, failed: 0, pending: 0 };
    a.tokens++;
    a[key]++;
    apps.set(t.app.label, a);
    totals[key]++;
  }
  for (const c of connections.values()) {
    const a = apps.get(c.app)!;
    a.users++;
    if (c.lastUsed && (!a.lastUsed || c.lastUsed > a.lastUsed)) a.lastUsed = c.lastUsed;
  }
  return {
    apps: [...apps.values()].sort((a, b) => a.app.localeCompare(b.app)),
    connections: [...connections.values()],
    summary: { tokens: tokens.length, users: new Set(tokens.map((t) => t.userId)).size, apps: apps.size, ...totals },
  };
};

/** The plain words of what the run does and does not do (Salesforce Help, "Revoke OAuth Tokens"; governance-facts §3). */
const notesOf = (opts: RevokeOptions): string[] => [
  ...(opts.block ? [messages.getMessage('note.block')] : opts.selection.apps.length ? [messages.getMessage('note.no-block')] : []),
  ...(opts.freezeUser ? [messages.getMessage('note.freeze')] : []),
  ...(opts.deactivateUser ? [messages.getMessage('note.deactivate')] : []),
];

/** The prompt: the counts, and one line per step that changes something. */
export const promptText = (result: RevokeResult, planLines: string[]): string =>
  messages.getMessage('prompt.confirm', [result.summary.tokens, result.summary.users, result.summary.apps, planLines.join('\n')]);

export const runRevoke = async (org: Org, opts: RevokeOptions, planLines: (plan: Plan) => string[]): Promise<RevokeOutcome> => {
  assertSelection(opts);
  const transport = new Transport(org.getConnection(opts.apiVersion));
  opts.progress?.stage('read');
  let read: Read;
  try {
    read = await readSelection(transport, opts);
  } catch (e) {
    throw unreachable(opts.targetOrg, e);
  }
  const plan = planRevoke({
    tokens: read.tokens,
    block: read.block,
    freeze: opts.freezeUser ? read.users : [],
    deactivate: opts.deactivateUser ? read.users : [],
  });
  const selection = { ...opts.selection, block: opts.block, freezeUser: opts.freezeUser, deactivateUser: opts.deactivateUser };
  const planned: RevokeResult = {
    dryRun: opts.dryRun,
    selection,
    ...summarize(read.tokens, () => ({ end: 'pending' })),
    steps: renderSteps(plannedResults(plan.steps)),
    notes: notesOf(opts),
  };
  const changes = plan.steps.some((s) => s.ops.length > 0);
  if (opts.dryRun || !changes) return { result: planned, exitCode: 0 };
  if (!(await opts.confirm(promptText(planned, planLines(plan)), plan))) return { result: { ...planned, declined: true }, exitCode: 0 };

  let outcome: ApplyOutcome;
  try {
    outcome = await applyPlan(plan, transport, {
      concurrency: opts.concurrency,
      onStepStart: (id) => {
        const stage = STAGE_OF[id];
        if (stage) opts.progress?.stage(stage);
      },
      onProgress: (done, total) => opts.progress?.count(done, total),
    });
  } catch (e) {
    throw unreachable(opts.targetOrg, e);
  }
  const byLabel = new Map<string, JournalEntry>();
  for (const e of outcome.journal) if (e.op === 'revoke-token') byLabel.set(e.target, e);
  const labelOf = new Map([...plan.tokenOf.entries()].map(([label, t]) => [t, label]));
  const endOf = (t: SelectedToken): { end: TokenEnd; error?: string } => {
    const e = byLabel.get(labelOf.get(t) ?? '');
    if (!e) return { end: 'pending' };
    if (e.outcome === 'failed') return { end: 'failed', error: e.error };
    return { end: e.alreadyGone ? 'gone' : 'revoked' };
  };

  // Read again: what is left of the selection (none, when every revocation ended well).
  opts.progress?.stage('verify');
  let remaining: number | undefined;
  try {
    const again = await readOauthTokens(transport, read.filter);
    const selected = new Set(read.tokens.map((t) => t.deleteToken));
    remaining = again.filter((r) => selected.has(r.deleteToken)).length;
  } catch {
    remaining = undefined;
  }
  const summary = summarize(read.tokens, endOf);
  const result: RevokeResult = {
    ...planned,
    ...summary,
    summary: { ...summary.summary, ...(remaining === undefined ? {} : { remaining }) },
    steps: renderSteps(outcome.results),
  };
  const exitCode = outcomeExitCode(outcome);
  // Every revocation answered well but the org still holds some of them: the run is not done.
  if (exitCode === 0 && remaining) return { result, exitCode: 68 };
  return { result, exitCode };
};
