/*
 * Every finding kind of `sf integration audit` through the real sf CLI, each on its own case: an org an admin has
 * let drift (users, permission sets, apps, tokens and logins as Setup would have left them, one case per finding),
 * where each kind must fire on its subject and each subject must raise only its own finding, so no finding can
 * fire everywhere; then the baseline kinds after the admin adds an app and a privileged user authorizes one. Then a
 * clean org whose integration `sf integration create` made, with tokens from live exchanges: none of those kinds.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import forge from 'node-forge';
import type { AuditFinding, AuditResult } from '../../src/audit/types.js';
import { idSuffix } from '../emulator/store.js';
import { startEmulator, type Emulator, type Fixture, type MetadataComponent } from '../emulator/index.js';
import { defaultFixture } from '../helpers/fixtures.js';
import { newSfHome, PROJECT_ROOT, type SfHome } from '../helpers/sf.js';

type Envelope<T> = { status: number; result?: T; name?: string; message?: string };

const DAY = 86_400_000;
const NOW = Date.now();
const sfDate = (daysAgo: number): string => new Date(Math.floor((NOW - daysAgo * DAY) / 1000) * 1000).toISOString().replace('Z', '+0000');
/** 18-character Ids in a pod ('Au') nothing else here mints. */
const aid = (prefix: string, n: number): string => {
  const id15 = `${prefix}Au${String(n).padStart(10, '0')}`;
  return id15 + idSuffix(id15);
};

/** A self-signed certificate made `daysAgo` days ago (the way `openssl req -x509 -days 730` left it back then). */
const oldCertificate = (daysAgo: number): string => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = '01a2b3c4d5e6f70809';
  cert.validity.notBefore = new Date(NOW - daysAgo * DAY);
  cert.validity.notAfter = new Date(NOW + 730 * DAY);
  const attrs = [{ name: 'commonName', value: 'legacy-etl' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
};

const OWNER = 'it-admin@emulated-org.example';
const ADMIN = 'admin@emulated-org.example';

/** The cases: app labels and usernames are the finding subjects. */
const C = {
  noOwner: 'Ownerless Reporting App',
  selfAuthorized: 'Self Service Notes',
  fullScope: 'Full Scope Connector',
  adminProfile: 'Admin Profile Sync',
  oldCert: 'Legacy ETL',
  peopleOnS2s: 'Warehouse Client Credentials',
  phantom: 'Retired Survey Tool',
  inactiveUsers: 'Field Service Mobile',
  unused: 'Quarterly Export',
  standardRunAs: 'Billing Client Credentials',
  sharedOne: 'Shared Sync One',
  sharedTwo: 'Shared Sync Two',
  newApp: 'Newly Added Connector',
  overprivileged: 'etl.admin@emulated-org.example',
  uiLogin: 'ui.integration@emulated-org.example',
  standardLicense: 'billing.runas@emulated-org.example',
  shared: 'shared.sync@emulated-org.example',
} as const;

/** What each subject must raise, and nothing else (the baseline kinds are checked apart). */
const EXPECTED: Record<string, string[]> = {
  [C.noOwner]: ['AUD-APP-NO-OWNER'],
  [C.selfAuthorized]: ['AUD-APP-SELF-AUTHORIZED'],
  [C.fullScope]: ['AUD-APP-FULL-SCOPE'],
  [C.adminProfile]: ['AUD-APP-ADMIN-PROFILE'],
  [C.oldCert]: ['AUD-CERT-OLD'],
  [C.peopleOnS2s]: ['AUD-PEOPLE-HOLD-S2S-TOKENS'],
  [C.phantom]: ['AUD-APP-NOT-INSTALLED'],
  [C.inactiveUsers]: ['AUD-TOKENS-INACTIVE-USERS'],
  [C.unused]: ['AUD-APP-UNUSED'],
  [C.overprivileged]: ['AUD-IDENTITY-OVERPRIVILEGED'],
  [C.uiLogin]: ['AUD-IDENTITY-UI-LOGIN'],
  [C.standardLicense]: ['AUD-IDENTITY-STANDARD-LICENSE'],
  [C.shared]: ['AUD-IDENTITY-SHARED'],
};

const KINDS = [...new Set([...Object.values(EXPECTED).flat(), 'AUD-NEW-APP', 'AUD-NEW-PRIVILEGED-CONNECTION'])];

const connectedApp = (fullName: string, label: string, cfg: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): MetadataComponent => ({
  fullName,
  label,
  contactEmail: OWNER,
  oauthConfig: {
    callbackUrl: 'https://login.salesforce.com/services/oauth2/callback',
    consumerKey: `3MVG9${'k'.repeat(30)}${fullName.replace(/\W/g, '')}`,
    consumerSecret: 'C0'.repeat(32),
    isAdminApproved: 'true',
    scopes: ['Api', 'RefreshToken'],
    ...cfg,
  },
  oauthPolicy: { ipRelaxation: 'ENFORCE', refreshTokenPolicy: 'infinite' },
  ...extra,
});

/** The drifted org: one case per finding kind, built as records and metadata the way Setup leaves them. */
const driftedOrg = (): Fixture => {
  const fx = defaultFixture();
  const r = fx.records!;
  const profile = (name: string): string => String(r.Profile.find((p) => p.Name === name)!.Id);
  const standard = profile('Standard User');
  const apiOnly = profile('Minimum Access - API Only Integrations');
  let n = 0;
  const user = (username: string, profileId: string, fields: Record<string, unknown> = {}): string => {
    const Id = aid('005', ++n);
    r.User.push({
      Id,
      Username: username,
      FirstName: 'Case',
      LastName: username.split('@')[0],
      Email: username,
      Alias: `a${n}`,
      CommunityNickname: `case${n}`,
      TimeZoneSidKey: 'America/Los_Angeles',
      LocaleSidKey: 'en_US',
      EmailEncodingKey: 'UTF-8',
      LanguageLocaleKey: 'en_US',
      ProfileId: profileId,
      IsActive: true,
      UserType: 'Standard',
      CreatedDate: sfDate(800),
      ...fields,
    });
    return Id;
  };
  const pat = user('pat.person@emulated-org.example', standard);
  const sam = user('sam.sales@emulated-org.example', standard);
  const ria = user('ria.research@emulated-org.example', standard);
  const gone = user('gone.leaver@emulated-org.example', standard, { IsActive: false });
  const frozen = user('frozen.contractor@emulated-org.example', standard);
  const quinn = user('quinn.quarterly@emulated-org.example', standard);
  const etl = user(C.overprivileged, apiOnly);
  const ui = user(C.uiLogin, apiOnly);
  user(C.standardLicense, standard);
  user(C.shared, apiOnly);
  user('warehouse.runas@emulated-org.example', apiOnly);
  (r.UserLogin ??= []).push({ Id: aid('060', 1), UserId: frozen, IsFrozen: true, IsPasswordLocked: false });

  // An admin gave the ETL user a permission set with Modify All Data "to make it work".
  const adminRights = aid('0PS', 1);
  r.PermissionSet.push({ Id: adminRights, Name: 'ETL_Admin_Rights', Label: 'ETL Admin Rights', IsOwnedByProfile: false, IsCustom: true, Type: 'Regular', PermissionsApiEnabled: true, PermissionsModifyAllData: true });
  r.PermissionSetAssignment.push({ Id: aid('0Pa', 1), AssigneeId: etl, PermissionSetId: adminRights, ExpirationDate: null });

  fx.metadata = {
    ...(fx.metadata ?? {}),
    ConnectedApp: [
      { ...connectedApp('Ownerless_Reporting', C.noOwner), contactEmail: undefined },
      connectedApp('Self_Service_Notes', C.selfAuthorized, { isAdminApproved: 'false' }),
      connectedApp('Full_Scope_Connector', C.fullScope, { scopes: ['Api', 'Full'] }),
      connectedApp('Admin_Profile_Sync', C.adminProfile, {}, { profileName: ['System Administrator'] }),
      connectedApp('Legacy_ETL', C.oldCert, { certificate: oldCertificate(500), scopes: ['Api'] }),
      connectedApp('Warehouse_CC', C.peopleOnS2s, { isClientCredentialEnabled: 'true', oauthClientCredentialUser: 'warehouse.runas@emulated-org.example', scopes: ['Api'] }),
      connectedApp('Field_Service_Mobile', C.inactiveUsers),
      connectedApp('Quarterly_Export', C.unused),
      connectedApp('Billing_CC', C.standardRunAs, { isClientCredentialEnabled: 'true', oauthClientCredentialUser: C.standardLicense, scopes: ['Api'] }),
      connectedApp('Shared_Sync_One', C.sharedOne, { isClientCredentialEnabled: 'true', oauthClientCredentialUser: C.shared, scopes: ['Api'] }),
      connectedApp('Shared_Sync_Two', C.sharedTwo, { isClientCredentialEnabled: 'true', oauthClientCredentialUser: C.shared, scopes: ['Api'] }),
      // The ETL user is the run-as user of one app (its identity, with the Modify All Data set).
      connectedApp('ETL_CC', 'ETL Client Credentials', { isClientCredentialEnabled: 'true', oauthClientCredentialUser: C.overprivileged, scopes: ['Api'] }),
    ].map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as MetadataComponent),
  };

  let t = 0;
  const token = (app: string, userId: string, createdDaysAgo: number, usedDaysAgo: number): Record<string, unknown> => ({
    AppName: app,
    UserId: userId,
    CreatedDate: sfDate(createdDaysAgo),
    LastUsedDate: sfDate(usedDaysAgo),
    UseCount: 10 + ++t,
    DeleteToken: `AuditCase${String(t).padStart(40, '0')}`,
  });
  (r.OauthToken ??= []).push(
    token(C.selfAuthorized, pat, 120, 2),
    token(C.peopleOnS2s, sam, 90, 3),
    token(C.phantom, ria, 300, 5),
    token(C.inactiveUsers, gone, 200, 10),
    token(C.inactiveUsers, frozen, 150, 4),
    token(C.unused, quinn, 400, 200)
  );
  const login = (userId: string, type: string, application: string, daysAgo: number): Record<string, unknown> => ({
    UserId: userId,
    LoginTime: sfDate(daysAgo),
    LoginType: type,
    Status: 'Success',
    Application: application,
    SourceIp: '198.51.100.7',
    ApiType: 'N/A',
    ApiVersion: 'N/A',
  });
  (r.LoginHistory ??= []).push(
    login(pat, 'Remote Access 2.0', C.selfAuthorized, 2),
    login(pat, 'Application', 'Browser', 1),
    login(etl, 'Remote Access 2.0', 'ETL Client Credentials', 1),
    // Someone signed in to Setup as the integration user (its profile was API only, then copied without it).
    login(ui, 'Application', 'Browser', 6)
  );
  return fx;
};

/** subject -> finding ids, for the kinds under test. */
const bySubject = (findings: AuditFinding[], kinds: string[] = KINDS): Record<string, string[]> => {
  const out: Record<string, string[]> = {};
  for (const f of findings) if (kinds.includes(f.id)) (out[f.subject] ??= []).push(f.id);
  for (const ids of Object.values(out)) ids.sort();
  return out;
};

describe('sf integration audit: every finding kind on its own case, none on a created org (real CLI, emulator)', function () {
  this.timeout(900_000);
  let emu: Emulator;
  let sf: SfHome;

  const login = async (alias: string): Promise<void> => {
    const r = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', alias], { SF_ACCESS_TOKEN: emu.accessToken });
    expect(r.code, r.stderr).to.equal(0);
  };

  before(async () => {
    sf = await newSfHome();
    expect((await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install'])).code).to.equal(0);
  });

  after(async () => {
    await emu?.close();
    await sf?.dispose();
  });

  describe('the drifted org', () => {
    before(async () => {
      emu = await startEmulator({ fixture: driftedOrg() });
      await login('drifted');
      emu.clearLog();
    });

    after(async () => emu?.close());

    it('--json: each kind fires on its subject, and each subject raises only its own; nothing written', async () => {
      const r = await sf.json<Envelope<AuditResult>>(['integration', 'audit', '--target-org', 'drifted']);
      expect(r.code, r.stdout).to.equal(0);
      const result = r.body.result!;
      expect(result.orgs[0].readFailures).to.deep.equal([]);
      expect(bySubject(result.findings)).to.deep.equal(EXPECTED);
      // The evidence names the values seen on the case.
      const one = (id: string): AuditFinding => result.findings.find((f) => f.id === id)!;
      expect(one('AUD-TOKENS-INACTIVE-USERS').evidence.users).to.deep.equal([
        { username: 'gone.leaver@emulated-org.example', active: false, frozen: false, tokens: 1 },
        { username: 'frozen.contractor@emulated-org.example', active: true, frozen: true, tokens: 1 },
      ]);
      expect(one('AUD-APP-UNUSED').evidence).to.include({ daysUnused: 200, connectedUsers: 1, tokens: 1 });
      expect(one('AUD-PEOPLE-HOLD-S2S-TOKENS').evidence.users).to.deep.equal(['sam.sales@emulated-org.example']);
      expect(one('AUD-APP-ADMIN-PROFILE').evidence.profiles).to.deep.equal(['System Administrator']);
      expect(one('AUD-CERT-OLD').evidence.ageDays).to.be.within(499, 501);
      expect(one('AUD-IDENTITY-OVERPRIVILEGED').evidence.permissions).to.deep.equal([{ permission: 'ModifyAllData', via: 'permission set ETL_Admin_Rights' }]);
      expect(one('AUD-IDENTITY-SHARED').evidence.apps).to.have.members([C.sharedOne, C.sharedTwo]);
      expect(one('AUD-IDENTITY-STANDARD-LICENSE').fix).to.equal(`sf integration migrate --from-user ${C.standardLicense}`);
      for (const f of result.findings) expect(f.nhi.every((x) => /^NHI([1-9]|10)$/.test(x)), f.id).to.equal(true);
      const phantom = result.apps.find((a) => a.label === C.phantom);
      expect(phantom).to.include({ installed: false, kind: 'not-installed', tokens: 1 });
      expect(r.stdout).to.not.include('AuditCase');
      expect(emu.log().writes).to.equal(0);
      await writeFile(join(sf.home, 'drifted-baseline.json'), r.stdout);
    });

    it('human output: every finding id on its subject, with its fix', async () => {
      const r = await sf.run(['integration', 'audit', '--target-org', 'drifted']);
      expect(r.code, r.stderr).to.equal(0);
      const lines = r.stdout.split('\n');
      for (const [subject, ids] of Object.entries(EXPECTED)) {
        for (const id of ids) expect(lines.some((l) => l.includes(id) && l.includes(subject)), `${id} on ${subject}`).to.equal(true);
      }
      expect(r.stdout).to.include('sf integration rotate --name Legacy_ETL');
      expect(r.stdout).to.not.include('AUD-NEW-');
      expect(emu.log().writes).to.equal(0);
    });

    it('--baseline: a new app and a privileged user authorizing an app since then are their own findings, and only those', async () => {
      // Since the baseline, an admin installed one more app, and the admin authorized Self Service Notes.
      emu.store.putMetadata('ConnectedApp', connectedApp('Newly_Added_Connector', C.newApp), { system: true });
      const admin = emu.store.all('User').find((u) => u.Username === ADMIN)!;
      emu.store.insert('OauthToken', { AppName: C.selfAuthorized, UserId: admin.Id, CreatedDate: sfDate(0), LastUsedDate: sfDate(0), UseCount: 1, DeleteToken: `AuditCase${'9'.repeat(40)}` }, { system: true });
      const r = await sf.json<Envelope<AuditResult>>(['integration', 'audit', '--target-org', 'drifted', '--baseline', join(sf.home, 'drifted-baseline.json'), '--fail-on', 'new']);
      expect(r.code, r.stdout).to.equal(1);
      const findings = r.body.result!.findings;
      expect(bySubject(findings, ['AUD-NEW-APP', 'AUD-NEW-PRIVILEGED-CONNECTION'])).to.deep.equal({
        [C.newApp]: ['AUD-NEW-APP'],
        [`${ADMIN} → ${C.selfAuthorized}`]: ['AUD-NEW-PRIVILEGED-CONNECTION'],
      });
      expect(findings.filter((f) => f.isNew).map((f) => f.id).sort()).to.deep.equal(['AUD-NEW-APP', 'AUD-NEW-PRIVILEGED-CONNECTION']);
      // The new app itself raises nothing else; the old cases still raise theirs.
      expect(bySubject(findings, Object.values(EXPECTED).flat())).to.deep.equal(EXPECTED);
      const human = await sf.run(['integration', 'audit', '--target-org', 'drifted', '--baseline', join(sf.home, 'drifted-baseline.json')]);
      expect(human.code, human.stderr).to.equal(0);
      expect(human.stdout.split('\n').some((l) => l.includes('AUD-NEW-APP') && l.includes(C.newApp) && l.includes('(new)'))).to.equal(true);
      expect(human.stdout).to.include('AUD-NEW-PRIVILEGED-CONNECTION');
      expect(emu.log().writes).to.equal(0);
    });
  });

  describe('a clean org: the integration made by sf integration create, tokens from live exchanges', () => {
    before(async () => {
      const fx = defaultFixture();
      // JWT bearer and client credentials logins leave OauthToken rows (a fixture setting: unconfirmed either way).
      fx.emulator = { ...(fx.emulator ?? {}), serverToServerOauthTokens: true };
      emu = await startEmulator({ fixture: fx });
      await login('clean');
    });

    it('raises none of the kinds', async () => {
      const out = join(sf.home, 'hubspot');
      const create = await sf.json<Envelope<{ verified: boolean; consumerKey: string; privateKeyFile: string; username: string }>>(
        ['integration', 'create', '--target-org', 'clean', '--name', 'HubSpot', '--object', 'Account=read,edit', '--email', 'owner@acme.example', '--output-dir', out],
        { SF_INTEGRATION_RETRY_BASE_MS: '5' }
      );
      expect(create.code, create.stdout).to.equal(0);
      const made = create.body.result!;
      expect(made.verified).to.equal(true);
      const jwt = await sf.json<Envelope<{ username: string }>>(['org', 'login', 'jwt', '--client-id', made.consumerKey, '--jwt-key-file', made.privateKeyFile, '--username', made.username, '--instance-url', emu.instanceUrl, '--alias', 'hubspot']);
      expect(jwt.code, JSON.stringify(jwt.body)).to.equal(0);
      expect(emu.store.all('OauthToken').length, 'the live exchanges left tokens').to.be.greaterThan(0);
      emu.clearLog();

      const r = await sf.json<Envelope<AuditResult>>(['integration', 'audit', '--target-org', 'clean']);
      expect(r.code, r.stdout).to.equal(0);
      const result = r.body.result!;
      expect(result.orgs[0].readFailures).to.deep.equal([]);
      const identity = result.identities.find((i) => i.username === made.username);
      expect(identity, 'the created user is an integration identity').to.not.equal(undefined);
      expect(result.apps.find((a) => a.name === 'HubSpot_Integration')?.tokens).to.be.greaterThan(0);
      expect(result.findings.filter((f) => KINDS.includes(f.id))).to.deep.equal([]);
      expect(emu.log().writes).to.equal(0);
    });
  });
});
