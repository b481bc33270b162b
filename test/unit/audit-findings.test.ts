/* Each audit finding on a plain inventory: raised on its case, absent on a clean integration. */
import { expect } from 'chai';
import { buildAudit, markNew } from '../../src/audit/findings.js';
import { reachesFailOn } from '../../src/audit/run.js';
import type { Inventory, InventoryApp, InventoryUser } from '../../src/audit/types.js';

const NOW = new Date('2026-11-02T09:00:00Z');
const OPTS = { unusedDays: 90, maxCredentialAgeDays: 365, now: NOW };
const ago = (days: number): string => new Date(NOW.getTime() - days * 86_400_000).toISOString().replace('Z', '+0000');

const app = (over: Partial<InventoryApp> = {}): InventoryApp => ({
  kind: 'external-client-app',
  id: '0xI000000000001AAA',
  name: 'HubSpot',
  label: 'HubSpot',
  contactEmail: 'owner@example.com',
  clientCredentialsEnabled: false,
  certificate: undefined,
  scopes: ['api'],
  metadataScopes: ['Api'],
  pkceRequired: false,
  namedUserJwt: false,
  permittedUsers: 'AdminApprovedPreAuthorized',
  permissionSetIds: [],
  profileIds: [],
  refreshTokenPolicy: { type: 'infinite' },
  ipRelaxation: 'ENFORCE',
  ...over,
});
const user = (id: string, over: Partial<InventoryUser> = {}): InventoryUser => ({ id, username: `${id}@x.example`, name: id, isActive: true, isFrozen: false, licenseName: 'Salesforce Integration', ...over });
const inventory = (over: Partial<Inventory> = {}): Inventory => ({
  orgId: '00D',
  instanceUrl: 'https://x',
  takenAt: NOW.toISOString(),
  apps: [app({ clientCredentialsEnabled: true, runAsUsername: 'integ@x.example' })],
  users: [user('integ', { username: 'integ@x.example' })],
  tokens: [],
  preAuthorizedUserIds: { '0xI000000000001AAA': ['integ'] },
  adminProfileApps: {},
  logins: [{ userId: 'integ', loginType: 'Remote Access 2.0', count: 3 }],
  grants: [],
  readFailures: [],
  ...over,
});
const ids = (inv: Inventory): string[] => buildAudit('o', inv, OPTS).findings.map((f) => f.id);

describe('audit findings', () => {
  it('a clean integration (as create leaves it) raises nothing', () => {
    const a = buildAudit('o', inventory(), OPTS);
    expect(a.findings).to.deep.equal([]);
    expect(a.identities.map((i) => i.username)).to.deep.equal(['integ@x.example']);
  });

  it('tokens of inactive or frozen users (NHI1), unused apps (NHI1), tokens of apps not installed (NHI1, NHI3)', () => {
    const inv = inventory({
      users: [user('integ', { username: 'integ@x.example' }), user('gone', { isActive: false }), user('ice', { isFrozen: true })],
      tokens: [
        { userId: 'gone', appName: 'HubSpot', createdDate: ago(400), lastUsedDate: ago(200) },
        { userId: 'ice', appName: 'Ghost', createdDate: ago(30), lastUsedDate: ago(1) },
      ],
    });
    const a = buildAudit('o', inv, OPTS);
    expect(a.findings.filter((f) => f.id === 'AUD-TOKENS-INACTIVE-USERS').map((f) => f.subject).sort()).to.deep.equal(['Ghost', 'HubSpot']);
    expect(a.findings.find((f) => f.id === 'AUD-APP-UNUSED')).to.include({ subject: 'HubSpot', severity: 'medium' });
    expect(a.findings.find((f) => f.id === 'AUD-APP-NOT-INSTALLED')).to.deep.include({ subject: 'Ghost', nhi: ['NHI1', 'NHI3'] });
    expect(a.apps.find((x) => x.label === 'Ghost')).to.include({ installed: false, connectedUsers: 1 });
  });

  it('self-authorized apps holding tokens (NHI3), full scope and admin profiles (NHI5), no owner', () => {
    const inv = inventory({
      apps: [app({ permittedUsers: 'AllSelfAuthorized', scopes: ['full'], contactEmail: undefined })],
      adminProfileApps: { '0xI000000000001AAA': ['System Administrator'] },
      tokens: [{ userId: 'integ', appName: 'HubSpot', createdDate: ago(3), lastUsedDate: ago(1) }],
    });
    expect(ids(inv)).to.include.members(['AUD-APP-SELF-AUTHORIZED', 'AUD-APP-FULL-SCOPE', 'AUD-APP-ADMIN-PROFILE', 'AUD-APP-NO-OWNER']);
  });

  it('dangerous permissions (NHI5), UI logins (NHI10), standard license (migrate), one user behind several apps (NHI9)', () => {
    const second = app({ id: '0xI000000000002AAA', name: 'Erp', label: 'Erp', clientCredentialsEnabled: true, runAsUsername: 'integ@x.example' });
    const inv = inventory({
      apps: [app({ clientCredentialsEnabled: true, runAsUsername: 'integ@x.example' }), second],
      users: [user('integ', { username: 'integ@x.example', licenseName: 'Salesforce' })],
      grants: [{ userId: 'integ', permissionSet: 'Admin_Like', viaProfile: false, permissions: ['ModifyAllData'] }],
      logins: [{ userId: 'integ', loginType: 'Application', count: 2, last: ago(1) }],
    });
    const a = buildAudit('o', inv, OPTS);
    expect(a.findings.map((f) => f.id)).to.include.members(['AUD-IDENTITY-OVERPRIVILEGED', 'AUD-IDENTITY-UI-LOGIN', 'AUD-IDENTITY-STANDARD-LICENSE', 'AUD-IDENTITY-SHARED']);
    expect(a.findings.find((f) => f.id === 'AUD-IDENTITY-STANDARD-LICENSE')?.fix).to.equal('sf integration migrate --from-user integ@x.example');
  });

  it('certificates older than the rotation period (NHI7), named for rotate', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const forge = (await import('node-forge')).default;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
    cert.serialNumber = '01';
    cert.validity.notBefore = new Date(NOW.getTime() - 500 * 86_400_000);
    cert.validity.notAfter = new Date(NOW.getTime() + 500 * 86_400_000);
    cert.setSubject([{ name: 'commonName', value: 'hubspot' }]);
    cert.setIssuer([{ name: 'commonName', value: 'hubspot' }]);
    cert.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()), forge.md.sha256.create());
    const inv = inventory({ apps: [app({ certificate: forge.pki.certificateToPem(cert) })] });
    const a = buildAudit('o', inv, OPTS);
    const f = a.findings.find((x) => x.id === 'AUD-CERT-OLD');
    expect(f).to.deep.include({ nhi: ['NHI7'], fix: 'sf integration rotate --name HubSpot' });
    expect(f?.evidence).to.include({ source: 'certificate', ageDays: 500 });
    expect(a.apps[0].certificate?.ageDays).to.equal(500);
    expect(buildAudit('o', inv, { ...OPTS, maxCredentialAgeDays: 600 }).findings.some((x) => x.id === 'AUD-CERT-OLD')).to.equal(false);
  });

  it('baseline: new apps and privileged users authorizing an app are findings; --fail-on levels', () => {
    const before = buildAudit('o', inventory(), OPTS);
    const inv = inventory({
      users: [user('integ', { username: 'integ@x.example' }), user('boss', { licenseName: 'Salesforce' })],
      grants: [{ userId: 'boss', permissionSet: 'System Administrator', viaProfile: true, permissions: ['ModifyAllData'] }],
      tokens: [{ userId: 'boss', appName: 'Bobs Tool', createdDate: ago(1), lastUsedDate: ago(1) }],
    });
    const after = buildAudit('o', inv, OPTS);
    markNew(after, before);
    expect(after.findings.filter((f) => f.isNew).map((f) => f.id)).to.include.members(['AUD-NEW-APP', 'AUD-NEW-PRIVILEGED-CONNECTION', 'AUD-APP-NOT-INSTALLED']);
    expect(reachesFailOn(after.findings, 'new')).to.equal(true);
    expect(reachesFailOn(before.findings, 'low')).to.equal(false);
    expect(reachesFailOn([{ ...after.findings[0], severity: 'low' }], 'medium')).to.equal(false);
  });

  it('consumer secrets older than the rotation period (NHI7): dated by the app creation, or by a --runbook rotation of its consumer key', () => {
    const cc = (over: Partial<InventoryApp> = {}): Inventory => inventory({ apps: [app({ clientCredentialsEnabled: true, runAsUsername: 'integ@x.example', consumerKey: 'KEY2', createdDate: ago(400), ...over })] });
    const f = buildAudit('o', cc(), OPTS).findings.find((x) => x.id === 'AUD-SECRET-OLD');
    expect(f).to.deep.include({ severity: 'medium', nhi: ['NHI7'], subject: 'HubSpot', fix: 'sf integration rotate --name HubSpot' });
    expect(f?.evidence).to.include({ source: 'app-created', ageDays: 400 });
    expect(f?.message).to.include('consumer secret is 400 days old, since the app was created');
    expect(ids(cc({ createdDate: ago(100) }))).to.not.include('AUD-SECRET-OLD');
    expect(ids(cc({ clientCredentialsEnabled: false }))).to.not.include('AUD-SECRET-OLD');
    // A runbook's rotation of this consumer key dates the secret; a rotation of another key proves nothing.
    const rotated = (after: string): string[] => buildAudit('o', cc(), { ...OPTS, rotations: [{ date: ago(10), before: 'KEY1', after }] }).findings.map((x) => x.id);
    expect(rotated('KEY2')).to.not.include('AUD-SECRET-OLD');
    expect(rotated('KEY_OF_ANOTHER_APP')).to.include('AUD-SECRET-OLD');
    // No API rotates a Connected App's secret: the fix is the Setup path.
    const ca = buildAudit('o', cc({ kind: 'connected-app' }), OPTS).findings.find((x) => x.id === 'AUD-SECRET-OLD');
    expect(ca?.fix).to.match(/^Setup > App Manager > HubSpot > View > Manage Consumer Details/);
  });
});
