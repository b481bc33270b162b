/*
 * The emulated org held to Salesforce's published vocabulary (issue 7): fields and objects an org may lack, the
 * Tooling-only ConnectedApplication.DeveloperName, the composite refusals a real org makes, and the published
 * types themselves (@salesforce/types) as the emulator reads them.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { newUserFields } from '../helpers/fixtures.js';
import { buildSchema, unpublishedFields } from './schema.js';
import { metadataTypes, registryTypes, toolingFields } from './vocabulary.js';
import { DEFAULT_FIXTURE, startEmulator, type Emulator, type Fixture } from './index.js';

type Json = Record<string, unknown>;
type Answer = { status: number; body: unknown };

const V = '/services/data/v66.0';
const OPTIONAL_PERMISSIONS = ['PermissionsBypassMFAForUiLogins', 'PermissionsManageEncryptionKeys'];

const baseFixture = (): Fixture => JSON.parse(readFileSync(DEFAULT_FIXTURE, 'utf8')) as Fixture;

const client = (emu: Emulator) => async (method: string, path: string, body?: unknown): Promise<Answer> => {
  const res = await fetch(emu.instanceUrl + path, {
    method,
    headers: { Authorization: `Bearer ${emu.accessToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
};

const q = (soql: string, tooling = false): string => `${V}/${tooling ? 'tooling/' : ''}query?q=${encodeURIComponent(soql)}`;
const errorOf = (a: Answer): { errorCode: string; message: string } => (a.body as Array<{ errorCode: string; message: string }>)[0];

describe('emulator fidelity to the published vocabulary', () => {
  describe('the published types as data', () => {
    it('reads @salesforce/types and the source-deploy-retrieve registry', () => {
      const eca = metadataTypes().types.get('ExtlClntAppOauthConfigurablePolicies')!;
      expect(eca.members.get('externalClientApplication')).to.include({ type: 'string', optional: false });
      expect(eca.members.get('permittedUsersPolicyType')).to.include({ type: 'PermittedUsersPolicyType', optional: true });
      expect(metadataTypes().enums.get('PolicyAction')).to.include.members(['Block', 'RaiseSessionLevel', 'StepUpMFA']);
      expect([...metadataTypes().types.get('ExternalClientAppSettings')!.members.keys()]).to.not.include('enableExternalClientApps');
      expect(toolingFields('PermissionSet')?.has('PermissionsManageRemoteAccess')).to.equal(true);
      expect(toolingFields('PermissionSet')?.has('PermissionsConnectedAppManagement')).to.equal(false);
      expect(toolingFields('ConnectedApplication')?.has('DeveloperName')).to.equal(true);
      expect(registryTypes().get('ExtlClntAppGlobalOauthSettings')).to.include({ directoryName: 'extlClntAppGlobalOauthSets', suffix: 'ecaGlblOauth' });
    });

    it('names no field on a published object that Salesforce does not publish', () => {
      expect(unpublishedFields(buildSchema())).to.deep.equal([]);
    });
  });

  describe('an org without optional fields and objects (emulator.absentFields, absentObjects)', () => {
    let emu: Emulator;
    let call: ReturnType<typeof client>;

    before(async () => {
      const f = baseFixture();
      f.emulator = { ...f.emulator, absentFields: { PermissionSet: OPTIONAL_PERMISSIONS, Profile: OPTIONAL_PERMISSIONS }, absentObjects: ['ExternalClientApplication'] };
      emu = await startEmulator({ fixture: f });
      call = client(emu);
    });
    after(async () => emu.close());

    it('describe omits the fields and answers NOT_FOUND for the object', async () => {
      const describe = (await call('GET', `${V}/sobjects/PermissionSet/describe`)).body as { fields: Array<{ name: string }> };
      const names = describe.fields.map((f) => f.name);
      expect(names).to.include('PermissionsApiEnabled');
      for (const f of OPTIONAL_PERMISSIONS) expect(names).to.not.include(f);
      const eca = await call('GET', `${V}/sobjects/ExternalClientApplication/describe`);
      expect(eca.status).to.equal(404);
      expect(errorOf(eca).errorCode).to.equal('NOT_FOUND');
    });

    it('SOQL answers INVALID_FIELD and INVALID_TYPE with Salesforce texts', async () => {
      const field = await call('GET', q('SELECT Id, PermissionsBypassMFAForUiLogins FROM PermissionSet'));
      expect(field.status).to.equal(400);
      expect(errorOf(field)).to.include({ errorCode: 'INVALID_FIELD' });
      expect(errorOf(field).message).to.contain("No such column 'PermissionsBypassMFAForUiLogins' on entity 'PermissionSet'");
      const type = await call('GET', q('SELECT Id, DeveloperName FROM ExternalClientApplication'));
      expect(errorOf(type)).to.include({ errorCode: 'INVALID_TYPE' });
      expect(errorOf(type).message).to.contain("sObject type 'ExternalClientApplication' is not supported.");
      expect((await call('GET', q('SELECT Id FROM ExternalClientApplication', true))).status).to.equal(400);
    });

    it('writes naming an absent field answer INVALID_FIELD and change nothing', async () => {
      emu.clearLog();
      const r = await call('POST', `${V}/sobjects/PermissionSet`, { Name: 'X_Set', Label: 'X Set', PermissionsManageEncryptionKeys: true });
      expect(r.status).to.equal(400);
      expect(errorOf(r)).to.deep.include({ errorCode: 'INVALID_FIELD' });
      expect(emu.log().writes).to.equal(0);
      expect(emu.store.all('PermissionSet').some((p) => p.Name === 'X_Set')).to.equal(false);
    });
  });

  describe('Connected Apps: Name is the label, DeveloperName only on the Tooling API', () => {
    let emu: Emulator;
    let call: ReturnType<typeof client>;

    before(async () => {
      const f = baseFixture();
      f.metadata = {
        ...f.metadata,
        ConnectedApp: [
          {
            fullName: 'Billing_Sync',
            label: 'Billing Sync (ERP)',
            contactEmail: 'ops@example.com',
            oauthConfig: { callbackUrl: 'https://login.salesforce.com/services/oauth2/success', consumerKey: '3MVG9billing', isAdminApproved: 'true', scopes: ['Api'] },
          },
        ],
      };
      emu = await startEmulator({ fixture: f });
      call = client(emu);
    });
    after(async () => emu.close());

    it('answers the label as Name on the data API, where DeveloperName is no column', async () => {
      const rows = ((await call('GET', q('SELECT Id, Name FROM ConnectedApplication'))).body as { records: Json[] }).records;
      expect(rows.map((r) => r.Name)).to.deep.equal(['Billing Sync (ERP)']);
      const dev = await call('GET', q('SELECT Id, DeveloperName FROM ConnectedApplication'));
      expect(errorOf(dev).errorCode).to.equal('INVALID_FIELD');
      const describe = (await call('GET', `${V}/sobjects/ConnectedApplication/describe`)).body as { fields: Array<{ name: string }> };
      expect(describe.fields.map((f) => f.name)).to.not.include('DeveloperName');
    });

    it('answers the API name as DeveloperName on the Tooling API', async () => {
      const rows = ((await call('GET', q("SELECT Id, DeveloperName, Name FROM ConnectedApplication WHERE DeveloperName = 'Billing_Sync'", true))).body as { records: Json[] }).records;
      expect(rows).to.have.length(1);
      expect(rows[0]).to.include({ DeveloperName: 'Billing_Sync', Name: 'Billing Sync (ERP)' });
    });

    it('runs only the documented resources in a composite batch (no Tooling API)', async () => {
      const r = await call('POST', `${V}/composite/batch`, { batchRequests: [{ method: 'GET', url: `v66.0/tooling/query?q=${encodeURIComponent('SELECT Id FROM ConnectedApplication')}` }] });
      expect(r.status).to.equal(400);
      expect(errorOf(r).errorCode).to.equal('INVALID_BATCH_REQUEST');
    });
  });

  describe('composite refusals a real org makes (all or none)', () => {
    let emu: Emulator;
    let call: ReturnType<typeof client>;
    let integrationProfile: string;
    let psl: string;

    before(async () => {
      emu = await startEmulator({ fixture: baseFixture() });
      call = client(emu);
      integrationProfile = emu.store.all('Profile').find((p) => p.Name === 'Minimum Access - API Only Integrations')!.Id;
      psl = emu.store.all('PermissionSetLicense')[0].Id;
    });
    after(async () => emu.close());

    const user = (username: string): Json => newUserFields(username, integrationProfile);

    const composite = async (subs: Array<{ method: string; url: string; referenceId: string; body?: Json }>): Promise<Array<{ httpStatusCode: number; body: unknown }>> => {
      const r = await call('POST', `${V}/composite`, { allOrNone: true, compositeRequest: subs });
      expect(r.status).to.equal(200);
      return (r.body as { compositeResponse: Array<{ httpStatusCode: number; body: unknown }> }).compositeResponse;
    };

    it('refuses object access the user license does not allow, and rolls the whole request back', async () => {
      emu.clearLog();
      const before = emu.store.all('User').length;
      // A permission set with no license, given Read on Account, assigned to an Integration-license user who has no
      // Salesforce API Integration permission set license.
      const results = await composite([
        { method: 'POST', url: `${V}/sobjects/User`, referenceId: 'u', body: user('no.psl@emulated-org.example') },
        { method: 'POST', url: `${V}/sobjects/PermissionSet`, referenceId: 'ps', body: { Name: 'No_Psl_Set', Label: 'No Psl Set' } },
        { method: 'POST', url: `${V}/sobjects/PermissionSetAssignment`, referenceId: 'a', body: { AssigneeId: '@{u.id}', PermissionSetId: '@{ps.id}' } },
        { method: 'POST', url: `${V}/sobjects/ObjectPermissions`, referenceId: 'op', body: { ParentId: '@{ps.id}', SobjectType: 'Account', PermissionsRead: true } },
      ]);
      const failed = results[3];
      expect(failed.httpStatusCode).to.equal(400);
      expect((failed.body as Array<{ message: string }>)[0].message).to.equal(
        "Can't save permission set No Psl Set, which is assigned to a user with user license Salesforce Integration. The user license doesn't allow the permission: Read Accounts"
      );
      expect(results.slice(0, 3).every((r) => r.httpStatusCode === 400)).to.equal(true);
      expect(emu.store.all('User')).to.have.length(before);
      expect(emu.log().writes).to.equal(0);
    });

    it('allows the same access once the user holds the permission set license', async () => {
      const results = await composite([
        { method: 'POST', url: `${V}/sobjects/User`, referenceId: 'u', body: user('with.psl@emulated-org.example') },
        { method: 'POST', url: `${V}/sobjects/PermissionSetLicenseAssign`, referenceId: 'l', body: { AssigneeId: '@{u.id}', PermissionSetLicenseId: psl } },
        { method: 'POST', url: `${V}/sobjects/PermissionSet`, referenceId: 'ps', body: { Name: 'Psl_Set', Label: 'Psl Set', LicenseId: psl, PermissionsApiEnabled: true } },
        { method: 'POST', url: `${V}/sobjects/ObjectPermissions`, referenceId: 'op', body: { ParentId: '@{ps.id}', SobjectType: 'Account', PermissionsRead: true } },
        { method: 'POST', url: `${V}/sobjects/PermissionSetAssignment`, referenceId: 'a', body: { AssigneeId: '@{u.id}', PermissionSetId: '@{ps.id}' } },
      ]);
      expect(results.map((r) => r.httpStatusCode)).to.deep.equal([201, 201, 201, 201, 201]);
    });

    it('refuses assigning a set whose object access the user license does not allow', async () => {
      const ps = emu.store.insert('PermissionSet', { Name: 'Crm_Set', Label: 'Crm Set' });
      emu.store.insert('ObjectPermissions', { ParentId: ps.Id, SobjectType: 'Contact', PermissionsRead: true, PermissionsEdit: true });
      const u = emu.store.insert('User', user('assign.me@emulated-org.example'));
      const r = await call('POST', `${V}/sobjects/PermissionSetAssignment`, { AssigneeId: u.Id, PermissionSetId: ps.Id });
      expect(r.status).to.equal(400);
      expect(errorOf(r).message).to.equal(
        "Can't assign permission set Crm Set to user assign.me@emulated-org.example. The user license doesn't allow the permission: Read Contacts"
      );
    });

    it('refuses a system permission the permission set license caps (MaximumPermissions<Name> = false)', async () => {
      const r = await call('POST', `${V}/sobjects/PermissionSet`, { Name: 'Mad_Set', Label: 'Mad Set', LicenseId: psl, PermissionsModifyAllData: true });
      expect(r.status).to.equal(400);
      expect(errorOf(r).message).to.equal("The user license doesn't allow the permission: Modify All Data");
    });

    it('refuses FieldPermissions on a field that is not permissionable (required, system), as describe says', async () => {
      const describe = (await call('GET', `${V}/sobjects/Account/describe`)).body as { fields: Array<{ name: string; permissionable: boolean }> };
      const permissionable = Object.fromEntries(describe.fields.map((f) => [f.name, f.permissionable]));
      expect(permissionable).to.include({ Name: false, Id: false, CreatedDate: false, Industry: true, Phone: true });
      const ps = emu.store.insert('PermissionSet', { Name: 'Fls_Set', Label: 'Fls Set' });
      emu.clearLog();
      const results = await composite([
        { method: 'POST', url: `${V}/sobjects/FieldPermissions`, referenceId: 'ok', body: { ParentId: ps.Id, SobjectType: 'Account', Field: 'Account.Industry', PermissionsRead: true } },
        { method: 'POST', url: `${V}/sobjects/FieldPermissions`, referenceId: 'bad', body: { ParentId: ps.Id, SobjectType: 'Account', Field: 'Account.Name', PermissionsRead: true } },
      ]);
      expect(results[1].httpStatusCode).to.equal(400);
      expect((results[1].body as Array<{ errorCode: string; message: string }>)[0]).to.deep.include({
        errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
        message: 'Field Name: bad value for restricted picklist field: Account.Name',
      });
      expect(results[0].httpStatusCode).to.equal(400);
      expect(emu.store.all('FieldPermissions').filter((f) => f.ParentId === ps.Id)).to.have.length(0);
      expect(emu.log().writes).to.equal(0);
    });
  });
});
