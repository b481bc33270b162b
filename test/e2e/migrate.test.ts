/*
 * `sf integration migrate` through the real sf CLI against the emulator: an integration user on the standard
 * Salesforce license (Standard User profile: API Enabled, Account/Contact access, Campaign which the Integration
 * license does not allow), a Connected App for the JWT bearer flow pre-authorized through that profile, and OAuth
 * tokens. The dry run names what is dropped and the seat freed; both strategies end with a working token exchange
 * as the migrated identity, one standard seat freed and one Integration seat taken, nothing the license forbids
 * granted; a fault mid-way exits 68 and the re-run converges.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { startEmulator, type Emulator, type Fixture } from '../emulator/index.js';
import type { MigrateResult } from '../../src/migrate/run.js';
import { makeKeyPair } from '../helpers/credentials.js';
import { defaultFixture, newUserFields } from '../helpers/fixtures.js';
import { newSfHome, PROJECT_ROOT, type SfHome } from '../helpers/sf.js';

type Envelope<T> = { status: number; result?: T; name?: string; message?: string };

const OLD = 'legacy.sync@emulated-org.example';
const APP = 'Legacy_Sync';
const STANDARD_PROFILE_PS = '0PSEm0000000003OAA';
const CONSUMER_KEY = `3MVG9${'y'.repeat(20)}LegacySync`;

const legacyOrg = (certificatePem: string, emulator: Fixture['emulator'] = {}): Fixture => {
  const fx = defaultFixture();
  const r = fx.records!;
  const standardProfile = String(r.Profile.find((p) => p.Name === 'Standard User')!.Id);
  r.User.push({ Id: '005Tt0000000009AAA', FirstName: 'Legacy', ...newUserFields(OLD, standardProfile), Alias: 'legacy', CommunityNickname: 'legacy', IsActive: true });
  r.PermissionSet.push({ Id: '0PSTt0000000009AAA', Name: 'Legacy_Leads', Label: 'Legacy Leads', IsOwnedByProfile: false, IsCustom: true, Type: 'Regular', PermissionsApiEnabled: true });
  // Salesforce keeps a PermissionSetAssignment of the profile's own permission set for every user (IsOwnedByProfile).
  r.PermissionSetAssignment.push({ Id: '0PaTt0000000008AAA', AssigneeId: '005Tt0000000009AAA', PermissionSetId: STANDARD_PROFILE_PS, ExpirationDate: null });
  r.PermissionSetAssignment.push({ Id: '0PaTt0000000009AAA', AssigneeId: '005Tt0000000009AAA', PermissionSetId: '0PSTt0000000009AAA', ExpirationDate: null });
  const op = (n: number, parent: string, object: string, access: Record<string, boolean>): Record<string, unknown> => ({ Id: `110Tt000000000${n}AAA`, ParentId: parent, SobjectType: object, ...access });
  r.ObjectPermissions = [
    op(1, STANDARD_PROFILE_PS, 'Account', { PermissionsRead: true, PermissionsCreate: true, PermissionsEdit: true }),
    op(2, STANDARD_PROFILE_PS, 'Contact', { PermissionsRead: true }),
    op(3, STANDARD_PROFILE_PS, 'Campaign', { PermissionsRead: true }),
    op(4, '0PSTt0000000009AAA', 'Lead', { PermissionsRead: true }),
  ];
  r.FieldPermissions = [{ Id: '01kTt0000000001AAA', ParentId: STANDARD_PROFILE_PS, SobjectType: 'Account', Field: 'Account.Industry', PermissionsRead: true, PermissionsEdit: false }];
  fx.metadata = {
    ...(fx.metadata ?? {}),
    ConnectedApp: [
      {
        fullName: APP,
        label: 'Legacy Sync',
        contactEmail: 'owner@emulated-org.example',
        oauthConfig: {
          callbackUrl: 'https://login.salesforce.com/services/oauth2/success',
          certificate: certificatePem,
          consumerKey: CONSUMER_KEY,
          consumerSecret: 'S3CR3T1111111111111111111111111111111111111111111111111111111111',
          isAdminApproved: 'true',
          scopes: ['Api', 'RefreshToken'],
        },
        oauthPolicy: { ipRelaxation: 'BYPASS', refreshTokenPolicy: 'infinite' },
        profileName: ['Standard User'],
      },
    ],
  };
  fx.emulator = { ...(fx.emulator ?? {}), ...emulator };
  return fx;
};

describe('sf integration migrate (real CLI, emulator)', function () {
  this.timeout(600_000);
  let sf: SfHome;
  let keyFile: string;
  let certificatePem: string;

  before(async () => {
    sf = await newSfHome();
    const link = await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install']);
    expect(link.code, link.stderr).to.equal(0);
    const pair = makeKeyPair();
    certificatePem = pair.certificatePem;
    keyFile = join(sf.home, 'server.key');
    await writeFile(keyFile, pair.privateKeyPem, { mode: 0o600 });
  });
  after(async () => sf?.dispose());

  /** A fresh legacy org, logged in as the admin, with two tokens held by the old user. */
  const legacy = async (emulator: Fixture['emulator'] = {}): Promise<Emulator> => {
    const emu = await startEmulator({ fixture: legacyOrg(certificatePem, emulator) });
    for (const n of [1, 2]) emu.store.insert('OauthToken', { UserId: '005Tt0000000009AAA', AppName: 'Legacy Sync', UseCount: n, DeleteToken: `delete-token-${n}-${'z'.repeat(20)}` }, { system: true });
    const r = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', 'legacy'], { SF_ACCESS_TOKEN: emu.accessToken });
    expect(r.code, r.stderr).to.equal(0);
    return emu;
  };
  const migrate = (args: string[]): Promise<{ code: number; stdout: string; stderr: string; body: Envelope<MigrateResult> }> =>
    sf.json<Envelope<MigrateResult>>(['integration', 'migrate', '--target-org', 'legacy', '--from-user', OLD, ...args], { SF_INTEGRATION_RETRY_BASE_MS: '5' });
  const used = (emu: Emulator, name: string): number => Number(emu.store.all('UserLicense').find((l) => l.Name === name)!.UsedLicenses);
  const grantsOf = (emu: Emulator, userId: string): string[] => {
    const sets = new Set(emu.store.all('PermissionSetAssignment').filter((a) => a.AssigneeId === userId).map((a) => a.PermissionSetId));
    return emu.store
      .all('ObjectPermissions')
      .filter((o) => sets.has(o.ParentId) && (o.PermissionsRead === true || o.PermissionsEdit === true))
      .map((o) => String(o.SobjectType))
      .sort();
  };
  const jwtLogin = (emu: Emulator, username: string): Promise<{ code: number; body: Envelope<{ username: string }> }> =>
    sf.json<Envelope<{ username: string }>>(['org', 'login', 'jwt', '--client-id', CONSUMER_KEY, '--jwt-key-file', keyFile, '--username', username, '--instance-url', emu.instanceUrl]);

  it('--dry-run names the dropped object and the seat freed, and writes nothing', async () => {
    const emu = await legacy();
    try {
      emu.clearLog();
      const r = await migrate(['--dry-run', '--output-dir', join(sf.home, 'dry')]);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      const a = r.body.result!.analysis;
      expect(a.license).to.equal('Salesforce');
      expect(a.profile).to.equal('Standard User');
      expect(a.dropped.filter((d) => d.reason === 'license').map((d) => d.name)).to.deep.equal(['Campaign']);
      expect(a.dropped.find((d) => d.name === 'Campaign')!.via).to.deep.equal(['profile Standard User']);
      expect(a.carried.objects.map((o) => o.object).sort()).to.deep.equal(['Account', 'Contact', 'Lead']);
      expect(a.seatFreed).to.deep.include({ license: 'Salesforce', used: 2, after: 1 });
      expect(a.integrationSeat).to.deep.include({ used: 0, after: 1 });
      expect(a.app).to.deep.include({ name: APP, kind: 'connected-app', preAuthorizedVia: ['profile Standard User'] });
      expect(a.tokens).to.have.length(2);
      expect(r.stdout).to.not.include('delete-token');
      expect(r.body.result!.steps.find((s) => s.name === 'user')?.status).to.equal('created');
      // Without a terminal and without --no-prompt, a run that would write refuses before reading anything.
      const unasked = await migrate(['--private-key-file', keyFile, '--output-dir', join(sf.home, 'dry')]);
      expect(unasked.code, unasked.stdout).to.equal(2);
      expect(unasked.body.message).to.match(/would ask/);
      expect(emu.log().writes).to.equal(0);
    } finally {
      await emu.close();
    }
  });

  it('new-user: a new Integration user takes over, the old one is retired, and a re-run writes nothing', async () => {
    const emu = await legacy();
    try {
      const before = { standard: used(emu, 'Salesforce'), integration: used(emu, 'Salesforce Integration') };
      const args = ['--private-key-file', keyFile, '--output-dir', join(sf.home, 'new-user'), '--no-prompt'];
      const r = await migrate(args);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      const result = r.body.result!;
      expect(result.verified).to.be.true;
      expect(result.username).to.not.equal(OLD);
      expect(used(emu, 'Salesforce')).to.equal(before.standard - 1);
      expect(used(emu, 'Salesforce Integration')).to.equal(before.integration + 1);
      const fresh = emu.store.all('User').find((u) => u.Username === result.username)!;
      expect(emu.store.get(String(fresh.ProfileId))!.Name).to.equal('Minimum Access - API Only Integrations');
      expect(grantsOf(emu, fresh.Id)).to.deep.equal(['Account', 'Contact', 'Lead']);
      expect(emu.store.all('User').find((u) => u.Username === OLD)!.IsActive).to.equal(false);
      expect(emu.store.all('OauthToken').filter((t) => t.UserId === '005Tt0000000009AAA')).to.have.length(0);
      const login = await jwtLogin(emu, result.username);
      expect(login.code, JSON.stringify(login.body)).to.equal(0);

      emu.clearLog();
      const again = await migrate(args);
      expect(again.code, again.stdout).to.equal(0);
      expect(emu.log().writes).to.equal(0);
      expect(new Set(again.body.result!.steps.filter((s) => s.name !== 'documents').map((s) => s.status))).to.not.include('created');
    } finally {
      await emu.close();
    }
  });

  it('in-place: the same user moves to the Integration license and keeps its User Id', async () => {
    const emu = await legacy();
    try {
      const before = { standard: used(emu, 'Salesforce'), integration: used(emu, 'Salesforce Integration') };
      const args = ['--strategy', 'in-place', '--private-key-file', keyFile, '--output-dir', join(sf.home, 'in-place'), '--no-prompt'];
      const r = await migrate(args);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      expect(r.body.result!.userId).to.equal('005Tt0000000009AAA');
      expect(r.body.result!.verified).to.be.true;
      const user = emu.store.get('005Tt0000000009AAA')!;
      expect(emu.store.get(String(user.ProfileId))!.Name).to.equal('Minimum Access - API Only Integrations');
      expect(used(emu, 'Salesforce')).to.equal(before.standard - 1);
      expect(used(emu, 'Salesforce Integration')).to.equal(before.integration + 1);
      expect(grantsOf(emu, user.Id)).to.deep.equal(['Account', 'Contact', 'Lead']);
      // The compatible permission set moved with the user.
      expect(emu.store.all('PermissionSetAssignment').some((a) => a.AssigneeId === user.Id && a.PermissionSetId === '0PSTt0000000009AAA')).to.be.true;
      const login = await jwtLogin(emu, OLD);
      expect(login.code, JSON.stringify(login.body)).to.equal(0);
      emu.clearLog();
      const again = await migrate(args);
      expect(again.code, again.stdout).to.equal(0);
      expect(emu.log().writes).to.equal(0);
    } finally {
      await emu.close();
    }
  });

  it('in-place: when Salesforce refuses the license change, nothing is left half-done', async () => {
    const emu = await legacy({ licenseChanges: { Salesforce: ['Salesforce Platform'] } });
    try {
      const r = await migrate(['--strategy', 'in-place', '--private-key-file', keyFile, '--output-dir', join(sf.home, 'refused'), '--no-prompt']);
      expect(r.code, r.stdout).to.equal(1);
      expect(r.body.message).to.match(/FIELD_INTEGRITY_EXCEPTION/);
      expect(emu.store.get(String(emu.store.get('005Tt0000000009AAA')!.ProfileId))!.Name).to.equal('Standard User');
      expect(emu.store.all('PermissionSet').some((p) => p.Name === 'Legacy_Sync_Integration')).to.be.false;
      expect(emu.store.all('PermissionSetAssignment').some((a) => a.PermissionSetId === '0PSTt0000000009AAA')).to.be.true;
    } finally {
      await emu.close();
    }
  });

  it('a fault mid-way exits 68, and the re-run converges', async () => {
    const emu = await legacy();
    try {
      const args = ['--private-key-file', keyFile, '--output-dir', join(sf.home, 'fault'), '--no-prompt'];
      emu.injectFault({ soapOperation: 'upsertMetadata', status: 503, times: 6 });
      const first = await migrate(args);
      emu.clearFaults();
      expect(first.code, first.stdout).to.equal(68);
      const statuses = first.body.result!.steps.map((s) => s.status);
      expect(statuses).to.include('failed');
      expect(emu.store.all('User').find((u) => u.Username === OLD)!.IsActive, 'the old user stays until the new one works').to.equal(true);
      const second = await migrate(args);
      expect(second.code, second.stdout).to.equal(0);
      expect(second.body.result!.verified).to.be.true;
      expect(emu.store.all('User').filter((u) => String(u.Username).startsWith('legacy_sync.integration') || String(u.Username).startsWith('legacy-sync.integration'))).to.have.length(1);
      expect(used(emu, 'Salesforce')).to.equal(1);
      expect(used(emu, 'Salesforce Integration')).to.equal(1);
    } finally {
      await emu.close();
    }
  });
});
