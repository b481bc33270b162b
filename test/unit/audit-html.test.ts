/* The HTML audit page: self-contained, every value escaped, both charts drawn, every app and finding present, no secret. */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { buildAudit } from '../../src/audit/findings.js';
import { combine } from '../../src/audit/run.js';
import type { AuditResult, Inventory, InventoryApp, InventoryUser } from '../../src/audit/types.js';
import { auditHtml, escapeHtml, PAGE_CONNECTED_USERS, pageConnectedUsers, tokenAgeBuckets } from '../../src/report/audit-html.js';

const NOW = new Date('2026-11-02T09:00:00Z');
const OPTS = { unusedDays: 90, maxCredentialAgeDays: 365, now: NOW };
const ago = (days: number): string => new Date(NOW.getTime() - days * 86_400_000).toISOString().replace('Z', '+0000');
const EVIL = '<script>window.__pwned = 1</script><img src=x onerror="alert(1)">';

const app = (over: Partial<InventoryApp>): InventoryApp => ({
  kind: 'connected-app',
  id: '0H4000000000001AAA',
  name: 'Evil',
  label: EVIL,
  contactEmail: undefined,
  clientCredentialsEnabled: false,
  certificate: undefined,
  scopes: ['full'],
  metadataScopes: ['Full'],
  pkceRequired: false,
  namedUserJwt: false,
  permittedUsers: 'AllSelfAuthorized',
  permissionSetIds: [],
  profileIds: [],
  refreshTokenPolicy: { type: 'infinite' },
  ipRelaxation: 'BYPASS',
  ...over,
});
const user = (id: string, over: Partial<InventoryUser> = {}): InventoryUser => ({ id, username: `${id}@x.example`, name: id, isActive: true, isFrozen: false, licenseName: 'Salesforce', ...over });

const inventory = (): Inventory => ({
  orgId: '00D000000000001AAA',
  instanceUrl: 'https://x.my.salesforce.com',
  takenAt: NOW.toISOString(),
  apps: [app({}), app({ id: '0H4000000000002AAA', name: 'Lead_Scoring', label: "Bob's Lead Scoring Tool", contactEmail: 'bob@x.example' })],
  users: [user('u1'), user('u2', { isActive: false }), user('u3', { username: 'a&b"c@x.example' })],
  tokens: [
    { userId: 'u1', appName: EVIL, createdDate: ago(10), lastUsedDate: ago(5), useCount: 3 },
    { userId: 'u2', appName: "Bob's Lead Scoring Tool", createdDate: ago(900), lastUsedDate: ago(400), useCount: 1 },
    { userId: 'u3', appName: "Bob's Lead Scoring Tool", createdDate: ago(900), lastUsedDate: ago(200), useCount: 1 },
    { userId: 'u1', appName: "Bob's Lead Scoring Tool", createdDate: ago(100) },
  ],
  preAuthorizedUserIds: {},
  adminProfileApps: {},
  logins: [],
  grants: [],
  readFailures: [],
});

describe('audit HTML page', () => {
  const result = combine([buildAudit('prod', inventory(), OPTS)], undefined);
  const html = auditHtml(result);

  it('escapes every value: a <script> in an app label is text, never markup', () => {
    expect(result.findings.length).to.be.greaterThan(0);
    expect(html).to.not.include('<script>window.__pwned');
    expect(html).to.not.include('<img src=x');
    expect(html).to.include(escapeHtml(EVIL));
    expect(html).to.include('a&amp;b&quot;c@x.example');
    // Only the two scripts of the page itself: the data island and the sort/filter script.
    expect(html.match(/<script/g)).to.have.length(2);
    // The embedded JSON holds no raw "<" either, so it cannot close its <script> element.
    const json = /<script type="application\/json" id="audit-data">([\s\S]*?)<\/script>/.exec(html)![1];
    expect(json).to.not.include('<');
    expect(JSON.parse(json)).to.deep.equal(JSON.parse(JSON.stringify(result)));
  });

  it('loads nothing: no http(s) resource, no external src/href, and the CSP allows only the inline script by hash', () => {
    expect(html).to.not.match(/\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
    expect(html).to.not.match(/url\(\s*["']?(?:https?:)?\/\//i);
    expect(html).to.not.match(/@import/i);
    expect(html).to.not.match(/<link\b/i);
    const csp = /Content-Security-Policy" content="([^"]+)"/.exec(html)![1];
    expect(csp).to.include("default-src 'none'");
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1];
    expect(csp).to.include(`'sha256-${createHash('sha256').update(script).digest('base64')}'`);
    expect(html).to.match(/@media print/);
  });

  it('draws both charts as inline SVG: tokens by last-use age, connected users per app', () => {
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).to.have.length(2);
    const [age, users] = svgs as [string, string];
    expect(age).to.include('Tokens by last use');
    expect(age.match(/<rect /g)).to.have.length(6);
    expect(users.match(/<rect /g)).to.have.length(2);
    expect(users).to.include('Bob&#39;s Lead Scoring Tool: 3');
    expect(users).to.not.include('<script>');
    // 5 days, 200 days, 400 days, and a token never used counts from its creation (100 days).
    expect(tokenAgeBuckets(result.orgs[0]).map((b) => b.tokens)).to.deep.equal([1, 0, 1, 1, 1, 0]);
  });

  it('has a row for every app, identity, connected user and finding, with severity, NHI id, evidence and fix', () => {
    const tbody = (id: string): string => new RegExp(`id="${id}"[\\s\\S]*?<tbody>([\\s\\S]*?)</tbody>`).exec(html)![1];
    const rows = (id: string): number => (tbody(id).match(/<tr/g) ?? []).length;
    expect(rows('apps-0')).to.equal(result.apps.length);
    expect(rows('identities-0')).to.equal(result.identities.length);
    expect(rows('connected-0')).to.equal(result.connectedUsers.length);
    expect(rows('findings-0')).to.equal(result.findings.length);
    for (const a of result.apps) expect(tbody('apps-0')).to.include(`<td data-sort="${escapeHtml(a.label.toLowerCase())}">${escapeHtml(a.label)}</td>`);
    const findings = tbody('findings-0');
    for (const f of result.findings) {
      expect(findings).to.include(`>${escapeHtml(f.id)}<`);
      expect(findings).to.include(escapeHtml(f.fix));
      expect(findings).to.include(`sev-${f.severity}`);
      for (const nhi of f.nhi) expect(findings).to.include(nhi);
      for (const k of Object.keys(f.evidence)) expect(findings).to.include(`<dt>${escapeHtml(k)}</dt>`);
    }
    expect(html).to.include('data-filter="apps-0"');
    expect(html).to.not.match(/DeleteToken/i);
  });

  it('is pure: the same result gives the same page', () => {
    expect(auditHtml(result)).to.equal(html);
  });
});

describe('audit HTML page on a large org', () => {
  // 1,250 people connected to one app; every 50th inactive, every 100th privileged.
  const people = Array.from({ length: 1250 }, (_, i) => user(`p${i}`, { isActive: i % 50 !== 7 }));
  const big: Inventory = {
    ...inventory(),
    apps: [app({ label: 'Busy App', name: 'Busy_App', scopes: ['api'], contactEmail: 'it@x.example' })],
    users: people,
    tokens: people.map((p, i) => ({ userId: p.id, appName: 'Busy App', createdDate: ago(400), lastUsedDate: ago(i % 300), useCount: 1 })),
    grants: people.filter((_, i) => i % 100 === 3).map((p) => ({ userId: p.id, permissionSet: 'Admin_Extras', viaProfile: false, permissions: ['ModifyAllData'] })),
  };
  const result = combine([buildAudit('prod', big, OPTS)], undefined);
  const html = auditHtml(result);
  const tbody = /id="connected-0"[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)![1];

  it('shows at most PAGE_CONNECTED_USERS connected users, the inactive and privileged ones first, and says what it left out', () => {
    expect(result.connectedUsers).to.have.length(1250);
    expect((tbody.match(/<tr/g) ?? []).length).to.equal(PAGE_CONNECTED_USERS);
    expect(html).to.include(`<span data-shown>${PAGE_CONNECTED_USERS}</span> of 1250)`);
    expect(html).to.include(`This page shows ${PAGE_CONNECTED_USERS} of the 1250 connected users`);
    expect(html).to.include('The other 250 are left out of this page');
    expect(html).to.include('connected-users.csv');
    for (const c of result.connectedUsers.filter((x) => !x.active || x.privileged)) expect(tbody).to.include(`>${escapeHtml(c.username)}<`);
    // The figures still count every connected user.
    expect(html).to.include('<span class="num">1250</span><span class="label">Connected users</span>');
  });

  it('embeds the result less the rows left out, with the count per org', () => {
    const json = /<script type="application\/json" id="audit-data">([\s\S]*?)<\/script>/.exec(html)![1];
    const embedded = JSON.parse(json) as AuditResult & { orgs: Array<{ connectedUsersOmitted?: number; connectedUsers: unknown[] }> };
    expect(embedded.orgs[0].connectedUsers).to.have.length(PAGE_CONNECTED_USERS);
    expect(embedded.orgs[0].connectedUsersOmitted).to.equal(250);
    expect(embedded.connectedUsers).to.have.length(PAGE_CONNECTED_USERS);
    expect(embedded.findings).to.deep.equal(JSON.parse(JSON.stringify(result.findings)));
    expect(embedded.orgs[0].summary.connectedUsers).to.equal(1250);
    expect(result.orgs[0].connectedUsers, 'the result itself is not cut').to.have.length(1250);
    expect(pageConnectedUsers(result.orgs[0], 5000)).to.have.length(1250);
  });
});
