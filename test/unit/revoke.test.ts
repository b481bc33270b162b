/*
 * revoke's selection and plan as pure functions: which tokens --app / --user / --not-installed / --unused-days take,
 * and the steps (cut off first, then revoke), with nothing planned for what is already so.
 */
import { expect } from 'chai';
import type { AppConfig, OrgApp, OrgUser } from '../../src/org/index.js';
import { blockPatch, planRevoke } from '../../src/revoke/plan.js';
import { connectionsOf, resolveApps, selectTokens, tokenAppNames, type Selection, type TokenRow } from '../../src/revoke/select.js';

const apps: OrgApp[] = [
  { kind: 'connected-app', id: '0H4000000000001AAA', name: 'Bobs_Lead_Scoring_Tool', label: "Bob's Lead Scoring Tool", appMenuItemIds: ['0DS000000000001AAA'] },
  { kind: 'connected-app', id: '0H4000000000002AAA', name: 'Outlook_Plugin', label: 'Outlook Plugin', appMenuItemIds: ['0DS000000000002AAA'] },
  { kind: 'external-client-app', id: '0xI000000000003AAA', name: 'Slack', label: 'Slack', appMenuItemIds: [] },
];
const users: OrgUser[] = [
  { id: '005000000000001AAA', username: 'ann@example.com', name: 'Ann', isActive: true, userLoginId: '060000000000001AAA', isFrozen: false },
  { id: '005000000000002AAA', username: 'ben@example.com', name: 'Ben', isActive: false, userLoginId: '060000000000002AAA', isFrozen: true },
];
const NOW = new Date('2026-12-01T00:00:00Z');
const day = (n: number): string => new Date(NOW.getTime() - n * 86_400_000).toISOString().replace('Z', '+0000');
const tokens: TokenRow[] = [
  { deleteToken: 'd1', userId: users[0].id, appName: "Bob's Lead Scoring Tool", appMenuItemId: '0DS000000000001AAA', createdDate: day(700), lastUsedDate: day(400) },
  { deleteToken: 'd2', userId: users[1].id, appName: "Bob's Lead Scoring Tool", appMenuItemId: '0DS000000000001AAA', createdDate: day(700), lastUsedDate: day(450) },
  { deleteToken: 'd3', userId: users[0].id, appName: 'Outlook Plugin', appMenuItemId: '0DS000000000002AAA', createdDate: day(100), lastUsedDate: day(1) },
  { deleteToken: 'd4', userId: users[0].id, appName: 'Slack', createdDate: day(50), lastUsedDate: day(2) },
  { deleteToken: 'd5', userId: users[1].id, appName: 'Old Sync Tool', createdDate: day(900), lastUsedDate: day(800) },
];

const select = (s: Partial<Selection>): string[] => {
  const selection: Selection = { apps: [], users: [], notInstalled: false, ...s };
  const { found, unresolved } = resolveApps(selection.apps, apps);
  const named = users.filter((u) => selection.users.includes(u.username));
  return selectTokens(tokens, { apps, users, selection, found, unresolved, userIds: named.map((u) => u.id), now: NOW }).map((t) => t.deleteToken);
};

describe('revoke: selection', () => {
  it('resolves --app by API name or label, case-insensitively; the rest may name a not-installed app', () => {
    const r = resolveApps(['bobs_lead_scoring_tool', 'slack', 'Old Sync Tool'], apps);
    expect(r.found.map((a) => a.name)).to.deep.equal(['Bobs_Lead_Scoring_Tool', 'Slack']);
    expect(r.unresolved).to.deep.equal(['Old Sync Tool']);
    expect(tokenAppNames(r.found, r.unresolved)).to.include.members(["Bob's Lead Scoring Tool", 'Slack', 'Old Sync Tool']);
  });

  it('--app takes exactly that app\'s tokens, of every user; External Client App tokens match by name', () => {
    expect(select({ apps: ["Bob's Lead Scoring Tool"] })).to.deep.equal(['d1', 'd2']);
    expect(select({ apps: ['Slack'] })).to.deep.equal(['d4']);
    expect(select({ apps: ['Old Sync Tool'] })).to.deep.equal(['d5']);
  });

  it('--user takes one person\'s tokens across apps; with --app, only those apps', () => {
    expect(select({ users: ['ann@example.com'] })).to.deep.equal(['d1', 'd3', 'd4']);
    expect(select({ users: ['ann@example.com'], apps: ['Outlook_Plugin', 'Slack'] })).to.deep.equal(['d3', 'd4']);
  });

  it('--not-installed takes tokens of apps the org does not have; --unused-days narrows by last use', () => {
    expect(select({ notInstalled: true })).to.deep.equal(['d5']);
    expect(select({ unusedDays: 30 })).to.deep.equal(['d1', 'd2', 'd5']);
    expect(select({ apps: ["Bob's Lead Scoring Tool"], unusedDays: 420 })).to.deep.equal(['d2']);
  });

  it('groups tokens by app and user with the latest use', () => {
    const { found, unresolved } = resolveApps([], apps);
    const selected = selectTokens(tokens, { apps, users, selection: { apps: [], users: [], notInstalled: false, unusedDays: 0 }, found, unresolved, userIds: [], now: NOW });
    const c = connectionsOf(selected);
    expect(c.map((x) => `${x.app}|${x.username}|${x.tokens}`)).to.deep.equal([
      "Bob's Lead Scoring Tool|ann@example.com|1",
      "Bob's Lead Scoring Tool|ben@example.com|1",
      'Old Sync Tool|ben@example.com|1',
      'Outlook Plugin|ann@example.com|1',
      'Slack|ann@example.com|1',
    ]);
  });
});

const appConfig = (over: Partial<AppConfig>): AppConfig => ({
  kind: 'external-client-app',
  id: '0xI000000000003AAA',
  name: 'HubSpot',
  label: 'HubSpot',
  clientCredentialsEnabled: false,
  scopes: ['api', 'refresh_token'],
  metadataScopes: ['Api', 'RefreshToken'],
  pkceRequired: false,
  namedUserJwt: false,
  permittedUsers: 'AdminApprovedPreAuthorized',
  permissionSetIds: ['0PS000000000001AAA'],
  profileIds: [],
  refreshTokenPolicy: { type: 'infinite' },
  ipRelaxation: 'BYPASS',
  oauthPluginEnabled: true,
  ...over,
});

describe('revoke: plan', () => {
  it('blocks an External Client App: its permission sets off, the OAuth plugin off; nothing when already so', () => {
    const { patch, changes } = blockPatch({ app: appConfig({}), permissionSetNames: { '0PS000000000001AAA': 'HubSpot_Integration' }, profileNames: {} });
    expect(patch).to.deep.equal({ removePermissionSets: { '0PS000000000001AAA': 'HubSpot_Integration' }, oauthPluginOff: true });
    expect(changes.map((c) => c.key)).to.deep.equal(['block.permission-set', 'block.oauth-plugin']);
    expect(blockPatch({ app: appConfig({ permissionSetIds: [], oauthPluginEnabled: false }), permissionSetNames: {}, profileNames: {} }).changes).to.deep.equal([]);
  });

  it('blocks a self-authorized Connected App with client credentials: admin-approved only, profiles off, the flow off', () => {
    const app = appConfig({ kind: 'connected-app', permittedUsers: 'AllSelfAuthorized', permissionSetIds: [], profileIds: ['00e000000000001AAA'], clientCredentialsEnabled: true });
    const { patch } = blockPatch({ app, permissionSetNames: {}, profileNames: { '00e000000000001AAA': 'Standard User' } });
    expect(patch).to.deep.equal({ adminApproved: true, removeProfiles: { '00e000000000001AAA': 'Standard User' }, clientCredentialsOff: true });
  });

  it('cuts off before it revokes, one revoke step per app, and plans nothing for a frozen or inactive user', () => {
    const { found, unresolved } = resolveApps([], apps);
    const selected = selectTokens(tokens, { apps, users, selection: { apps: [], users: ['ann@example.com', 'ben@example.com'], notInstalled: false }, found, unresolved, userIds: users.map((u) => u.id), now: NOW });
    const plan = planRevoke({ tokens: selected, block: [], freeze: users, deactivate: users });
    expect(plan.steps.map((s) => `${s.id}:${s.action}:${s.subject}`)).to.deep.equal([
      'freeze-user:update:ann@example.com',
      'freeze-user:unchanged:ben@example.com',
      'deactivate-user:update:ann@example.com',
      'deactivate-user:unchanged:ben@example.com',
      "revoke-tokens:delete:Bob's Lead Scoring Tool",
      'revoke-tokens:delete:Old Sync Tool',
      'revoke-tokens:delete:Outlook Plugin',
      'revoke-tokens:delete:Slack',
    ]);
    expect(plan.steps[0].ops).to.deep.equal([{ kind: 'update', sobject: 'UserLogin', id: '060000000000001AAA', fields: { IsFrozen: true } }]);
    expect(plan.steps[2].ops).to.deep.equal([{ kind: 'update', sobject: 'User', id: users[0].id, fields: { IsActive: false } }]);
    const labels = plan.steps.flatMap((s) => s.ops.flatMap((o) => (o.kind === 'revoke-token' ? [o.label] : [])));
    expect(labels).to.have.length(5);
    expect(labels.join(' ')).to.not.match(/\bd\d\b/);
    expect([...plan.tokenOf.values()].map((t) => t.deleteToken).sort()).to.deep.equal(['d1', 'd2', 'd3', 'd4', 'd5']);
  });

  it('an empty selection plans nothing to write', () => {
    const plan = planRevoke({ tokens: [], block: [], freeze: [], deactivate: [] });
    expect(plan.steps).to.have.length(1);
    expect(plan.steps[0]).to.include({ id: 'revoke-tokens', action: 'unchanged' });
    expect(plan.steps[0].ops).to.deep.equal([]);
  });
});
