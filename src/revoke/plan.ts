/*
 * The plan of `sf integration revoke`: a desired state in which the selected tokens do not exist (and, with --block,
 * the apps pre-authorize nobody and an External Client App's OAuth plugin is off; with --freeze-user /
 * --deactivate-user, the people cannot log in). Pure: built from what the org holds, so an applied plan read again
 * plans nothing (a re-run revokes nothing and exits 0). Order: cut off first (block, freeze, deactivate), then revoke,
 * so nothing mints a new token behind the revocations.
 */
import type { AppConfig, AppPatch, OrgUser } from '../org/index.js';
import { step } from '../plan/plan.js';
import { planText } from '../plan/render.js';
import type { Change, Operation, Plan, Step } from '../plan/types.js';
import { connectionsOf, parseDate, type SelectedToken } from './select.js';

const change = (key: string, ...values: Array<string | number>): Change => (values.length ? { key, values } : { key });

/** An app to cut off, as the org holds it, with the names of what pre-authorizes it. */
export type BlockTarget = { app: AppConfig; permissionSetNames: Record<string, string>; profileNames: Record<string, string> };

/** The patch that leaves nobody able to get a token from the app, and what it changes, in plan words. */
export const blockPatch = (t: BlockTarget): { patch: AppPatch; changes: Change[] } => {
  const { app } = t;
  const changes: Change[] = [];
  const patch: AppPatch = {};
  if (app.permittedUsers !== 'AdminApprovedPreAuthorized') {
    // Self-authorizing users could approve the app again: only pre-authorized users may use it from now on.
    patch.adminApproved = true;
    changes.push(change('app.permitted-users', app.permittedUsers));
  }
  if (app.permissionSetIds.length) {
    patch.removePermissionSets = Object.fromEntries(app.permissionSetIds.map((id) => [id, t.permissionSetNames[id] ?? id]));
    for (const id of app.permissionSetIds) changes.push(change('block.permission-set', t.permissionSetNames[id] ?? id));
  }
  if (app.profileIds.length) {
    patch.removeProfiles = Object.fromEntries(app.profileIds.map((id) => [id, t.profileNames[id] ?? id]));
    for (const id of app.profileIds) changes.push(change('block.profile', t.profileNames[id] ?? id));
  }
  if (app.kind === 'external-client-app' && app.oauthPluginEnabled !== false) {
    patch.oauthPluginOff = true;
    changes.push(change('block.oauth-plugin'));
  }
  if (app.kind === 'connected-app' && app.clientCredentialsEnabled) {
    // Permitted Users does not govern the run-as user of the client credentials flow: the flow itself goes off.
    patch.clientCredentialsOff = true;
    changes.push(change('app.client-credentials', 'on', 'off'));
  }
  return { patch, changes };
};

export type RevokePlanInput = {
  tokens: SelectedToken[];
  block: BlockTarget[];
  freeze: OrgUser[];
  deactivate: OrgUser[];
};

/** A label for a token in the journal and in errors: never the DeleteToken. */
export const tokenLabel = (t: SelectedToken, n: number): string => `token ${n + 1} (${t.app.label}, ${t.username})`;

const latest = (tokens: SelectedToken[]): string | undefined => {
  let best: string | undefined;
  for (const t of tokens) {
    const used = t.lastUsedDate ?? t.createdDate;
    if (used && (!best || (parseDate(used) ?? 0) > (parseDate(best) ?? 0))) best = used;
  }
  return best;
};

export type RevokePlan = Plan & {
  /** The token each revoke operation revokes (the journal names it by label). */
  tokenOf: Map<string, SelectedToken>;
};

export const planRevoke = (input: RevokePlanInput): RevokePlan => {
  const steps: Step[] = [];
  for (const target of input.block) {
    const { patch, changes } = blockPatch(target);
    const ops: Operation[] = changes.length ? [{ kind: 'patch-app', app: { kind: target.app.kind, name: target.app.name }, patch }] : [];
    steps.push(step({ id: 'block-app', action: changes.length ? 'update' : 'unchanged', subject: `${target.app.label} (${target.app.name})`, changes, ops }));
  }
  for (const user of input.freeze) {
    const frozen = user.isFrozen || !user.userLoginId;
    steps.push(
      step({
        id: 'freeze-user',
        action: frozen ? 'unchanged' : 'update',
        subject: user.username,
        changes: frozen ? [] : [change('user.freeze')],
        ops: frozen ? [] : [{ kind: 'update', sobject: 'UserLogin', id: String(user.userLoginId), fields: { IsFrozen: true } }],
      })
    );
  }
  for (const user of input.deactivate) {
    steps.push(
      step({
        id: 'deactivate-user',
        action: user.isActive ? 'update' : 'unchanged',
        subject: user.username,
        changes: user.isActive ? [change('user.deactivate')] : [],
        ops: user.isActive ? [{ kind: 'update', sobject: 'User', id: user.id, fields: { IsActive: false } }] : [],
      })
    );
  }
  const tokenOf = new Map<string, SelectedToken>();
  const byApp = new Map<string, SelectedToken[]>();
  for (const t of input.tokens) byApp.set(t.app.label, [...(byApp.get(t.app.label) ?? []), t]);
  let n = 0;
  for (const [label, tokens] of [...byApp.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const ops: Operation[] = tokens.map((t) => {
      const op: Operation = { kind: 'revoke-token', token: t.deleteToken, label: tokenLabel(t, n++) };
      tokenOf.set(op.label, t);
      return op;
    });
    const users = connectionsOf(tokens).length;
    const last = latest(tokens);
    steps.push(
      step({
        id: 'revoke-tokens',
        action: 'delete',
        subject: label,
        changes: [last ? change('revoke.tokens', tokens.length, users, last.slice(0, 10)) : change('revoke.tokens-never-used', tokens.length, users)],
        ops,
      })
    );
  }
  if (!input.tokens.length) steps.push(step({ id: 'revoke-tokens', action: 'unchanged', subject: planText('subject.no-tokens'), changes: [change('revoke.none')] }));
  return { steps, warnings: [], tokenOf };
};
