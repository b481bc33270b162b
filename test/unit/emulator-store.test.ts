/*
 * The emulator's store on its own, without HTTP: Ids, Salesforce's save rules, license counting, app derivation.
 */
import { expect } from 'chai';
import { deriveAppRecords, agePropagation } from '../emulator/apps.js';
import { Faults } from '../emulator/faults.js';
import type { EmuRequest } from '../emulator/http.js';
import { ApiError, idSuffix, OrgStore } from '../emulator/store.js';
import { defaultFixture, integrationFixture, newUserFields } from '../helpers/fixtures.js';

const newStore = (): OrgStore => new OrgStore(defaultFixture(), deriveAppRecords);

const expectApiError = (fn: () => unknown, errorCode: string, message?: RegExp): ApiError => {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(ApiError);
    const err = e as ApiError;
    expect(err.errorCode).to.equal(errorCode);
    if (message) expect(err.message).to.match(message);
    return err;
  }
  throw new Error(`expected ${errorCode}`);
};

const userFields = (store: OrgStore, username: string, profile = 'Minimum Access - API Only Integrations'): Record<string, unknown> =>
  newUserFields(username, store.all('Profile').find((p) => p.Name === profile)!.Id);

describe('emulator store', () => {
  it('computes the case-safe 18-character Id suffix as Salesforce documents it', () => {
    // Example from Salesforce's documentation of 15- vs 18-character Ids.
    expect(idSuffix('001D000000IqhSL')).to.equal('IAZ');
    const store = newStore();
    const id = store.newId('User');
    expect(id).to.have.length(18);
    expect(id.startsWith('005')).to.be.true;
    expect(id.slice(15)).to.equal(idSuffix(id.slice(0, 15)));
  });

  it('loads the default org: Enterprise Edition, 5 free Integration licenses, one active admin', () => {
    const store = newStore();
    expect(store.all('Organization')[0].OrganizationType).to.equal('Enterprise Edition');
    const integration = store.all('UserLicense').find((l) => l.Name === 'Salesforce Integration')!;
    expect(integration.TotalLicenses).to.equal(5);
    expect(integration.UsedLicenses).to.equal(0);
    expect(store.all('User').filter((u) => u.IsActive)).to.have.length(1);
    expect(store.all('PermissionSetLicense')[0].DeveloperName).to.equal('SalesforceAPIIntegrationPsl');
  });

  it('refuses a user without required fields: REQUIRED_FIELD_MISSING names them', () => {
    const store = newStore();
    const err = expectApiError(() => store.insert('User', { Username: 'a@b.example' }), 'REQUIRED_FIELD_MISSING');
    expect(err.fields).to.include.members(['LastName', 'Email', 'Alias', 'ProfileId']);
    expect(store.writeCount).to.equal(0);
  });

  it('refuses a duplicate username, case-insensitively: DUPLICATE_USERNAME', () => {
    const store = newStore();
    store.insert('User', userFields(store, 'hub@example.com'));
    expectApiError(() => store.insert('User', userFields(store, 'HUB@example.com')), 'DUPLICATE_USERNAME', /Duplicate Username/);
    expect(store.writeCount).to.equal(1);
  });

  it('counts license use and refuses the sixth Integration user: LICENSE_LIMIT_EXCEEDED', () => {
    const store = newStore();
    for (let i = 0; i < 5; i++) store.insert('User', userFields(store, `i${i}@example.com`));
    expect(store.all('UserLicense').find((l) => l.Name === 'Salesforce Integration')!.UsedLicenses).to.equal(5);
    expectApiError(() => store.insert('User', userFields(store, 'i5@example.com')), 'LICENSE_LIMIT_EXCEEDED');
    // An inactive user frees the seat.
    const first = store.all('User').find((u) => u.Username === 'i0@example.com')!;
    store.update('User', first.Id, { IsActive: false });
    expect(store.insert('User', userFields(store, 'i5@example.com')).Id).to.match(/^005/);
  });

  it('refuses restricted picklist values, malformed Ids and references to missing records', () => {
    const store = newStore();
    expectApiError(() => store.insert('User', { ...userFields(store, 'p@example.com'), EmailEncodingKey: 'EBCDIC' }), 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    expectApiError(() => store.insert('User', { ...userFields(store, 'p@example.com'), ProfileId: 'nope' }), 'MALFORMED_ID');
    expectApiError(() => store.insert('User', { ...userFields(store, 'p@example.com'), ProfileId: '00eEm0000000099AAA' }), 'INVALID_CROSS_REFERENCE_KEY');
    expectApiError(() => store.insert('User', { ...userFields(store, 'p@example.com'), Bogus__c: 1 }), 'INVALID_FIELD');
    expectApiError(() => store.insert('User', { ...userFields(store, 'p@example.com'), UserType: 'Standard' }), 'INVALID_FIELD_FOR_INSERT_UPDATE');
    expect(store.writeCount).to.equal(0);
  });

  it('requires the permission set license before a permission set that needs it can be assigned', () => {
    const store = newStore();
    const user = store.insert('User', userFields(store, 'psl@example.com'));
    const psl = store.all('PermissionSetLicense')[0];
    const ps = store.insert('PermissionSet', { Name: 'HubSpot_Integration', Label: 'HubSpot Integration', LicenseId: psl.Id, PermissionsApiEnabled: true });
    expectApiError(() => store.insert('PermissionSetAssignment', { AssigneeId: user.Id, PermissionSetId: ps.Id }), 'FIELD_INTEGRITY_EXCEPTION', /permission set license/);
    store.insert('PermissionSetLicenseAssign', { AssigneeId: user.Id, PermissionSetLicenseId: psl.Id });
    store.insert('PermissionSetAssignment', { AssigneeId: user.Id, PermissionSetId: ps.Id });
    expectApiError(() => store.insert('PermissionSetAssignment', { AssigneeId: user.Id, PermissionSetId: ps.Id }), 'DUPLICATE_VALUE');
    expect(store.all('PermissionSetLicense')[0].UsedLicenses).to.equal(1);
  });

  it('keeps each user assigned to its profile\'s permission set, as Salesforce does', () => {
    const store = newStore();
    const user = store.insert('User', userFields(store, 'profile@example.com'));
    const profileSet = (): string | undefined =>
      store
        .all('PermissionSetAssignment')
        .filter((a) => a.AssigneeId === user.Id)
        .map((a) => store.get(String(a.PermissionSetId)))
        .find((p) => p?.IsOwnedByProfile === true)?.Label as string | undefined;
    expect(profileSet()).to.equal('Minimum Access - API Only Integrations');
    store.update('User', user.Id, { ProfileId: store.all('Profile').find((p) => p.Name === 'Standard User')!.Id });
    expect(profileSet()).to.equal('Standard User');
  });

  it('refuses a second permission set with the same name and a second access row for the same object', () => {
    const store = newStore();
    const ps = store.insert('PermissionSet', { Name: 'HubSpot_Integration', Label: 'HubSpot Integration' });
    expectApiError(() => store.insert('PermissionSet', { Name: 'hubspot_integration', Label: 'Other' }), 'DUPLICATE_DEVELOPER_NAME');
    store.insert('ObjectPermissions', { ParentId: ps.Id, SobjectType: 'Account', PermissionsRead: true });
    expectApiError(() => store.insert('ObjectPermissions', { ParentId: ps.Id, SobjectType: 'Account', PermissionsRead: true }), 'DUPLICATE_VALUE');
  });

  it('derives the SOQL-visible records of an External Client App from its metadata', () => {
    const integ = integrationFixture();
    const store = new OrgStore(integ.fixture, deriveAppRecords);
    agePropagation(store);
    const eca = store.all('ExternalClientApplication');
    expect(eca).to.have.length(1);
    expect(eca[0].DeveloperName).to.equal(integ.appName);
    expect(eca[0].Id).to.match(/^0xI/);
    const policy = store.all('ExtlClntAppOauthPlcyCnfg')[0];
    expect(policy.ExternalClientApplicationId).to.equal(eca[0].Id);
    expect(policy.PermittedUsersPolicyType).to.equal('AdminApprovedPreAuthorized');
    const access = store.all('SetupEntityAccess').filter((r) => r.SetupEntityId === eca[0].Id);
    expect(access.map((r) => r.ParentId)).to.deep.equal([integ.permissionSetId]);
    // Derived records cannot be written through the API.
    expectApiError(() => store.update('ExternalClientApplication', String(eca[0].Id), { MasterLabel: 'x' }), 'INVALID_TYPE_FOR_OPERATION');
  });

  it('writes SetupEntityAccess changes for an app back into the app metadata, keeping the row Id', () => {
    const integ = integrationFixture();
    const store = new OrgStore(integ.fixture, deriveAppRecords);
    const appId = String(store.all('ExternalClientApplication')[0].Id);
    const row = store.all('SetupEntityAccess').find((r) => r.SetupEntityId === appId)!;
    store.remove('SetupEntityAccess', row.Id);
    const policy = (): Record<string, unknown> => store.listMetadata('ExtlClntAppOauthConfigurablePolicies')[0];
    expect(policy().commaSeparatedPermissionSet).to.equal('');
    const again = store.insert('SetupEntityAccess', { ParentId: integ.permissionSetId, SetupEntityId: appId });
    expect(policy().commaSeparatedPermissionSet).to.equal(integ.permissionSetId);
    expect(store.all('SetupEntityAccess').find((r) => r.SetupEntityId === appId)?.Id).to.equal(again.Id);
    expect(store.writeCount).to.equal(2);
  });

  it('arms faults for the next N matching requests only', () => {
    const faults = new Faults([{ method: 'POST', path: '/sobjects/User$', status: 503, times: 2 }]);
    const req = (method: string, path: string): EmuRequest => ({ method, path } as unknown as EmuRequest);
    expect(faults.take(req('GET', '/services/data/v66.0/sobjects/User'))).to.be.undefined;
    expect(faults.take(req('POST', '/services/data/v66.0/sobjects/User'))?.status).to.equal(503);
    expect(faults.take(req('POST', '/services/data/v66.0/sobjects/User'))?.status).to.equal(503);
    expect(faults.take(req('POST', '/services/data/v66.0/sobjects/User'))).to.be.undefined;
  });
});
