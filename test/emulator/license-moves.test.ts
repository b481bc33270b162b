/*
 * The emulator's reading of license moves (governance-facts.md §5; texts third-party, status codes unconfirmed): a
 * profile change moves the user to the profile's license and UsedLicenses follow; Salesforce's refusals when the new
 * license does not fit the user's permission sets, or (a fixture's reading) when the license cannot be moved to.
 */
import { expect } from 'chai';
import { defaultFixture, newUserFields } from '../helpers/fixtures.js';
import { deriveAppRecords } from './apps.js';
import { ApiError, OrgStore, type Fixture } from './store.js';

const profileId = (store: OrgStore, name: string): string => store.all('Profile').find((p) => p.Name === name)!.Id;
const used = (store: OrgStore, name: string): number => Number(store.all('UserLicense').find((l) => l.Name === name)!.UsedLicenses);

const refusal = (fn: () => unknown): ApiError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
};

const setUp = (emulator: Fixture['emulator'] = {}): { store: OrgStore; userId: string } => {
  const fx = defaultFixture();
  fx.emulator = { ...(fx.emulator ?? {}), ...emulator };
  const store = new OrgStore(fx, deriveAppRecords);
  const user = store.insert('User', newUserFields('legacy@emulated-org.example', profileId(store, 'Standard User')));
  return { store, userId: user.Id };
};

describe('emulator: users moving between licenses', () => {
  it('a profile change moves the user and the seat counts; deactivation frees the seat', () => {
    const { store, userId } = setUp();
    expect([used(store, 'Salesforce'), used(store, 'Salesforce Integration')]).to.deep.equal([2, 0]);
    store.update('User', userId, { ProfileId: profileId(store, 'Minimum Access - API Only Integrations') });
    expect([used(store, 'Salesforce'), used(store, 'Salesforce Integration')]).to.deep.equal([1, 1]);
    store.update('User', userId, { IsActive: false });
    expect(used(store, 'Salesforce Integration')).to.equal(0);
  });

  it('refuses the move while the user holds a permission set the new license does not allow, and changes nothing', () => {
    const { store, userId } = setUp();
    const ps = store.insert('PermissionSet', { Name: 'Campaigns', Label: 'Campaigns' });
    store.insert('ObjectPermissions', { ParentId: ps.Id, SobjectType: 'Campaign', PermissionsRead: true });
    store.insert('PermissionSetAssignment', { AssigneeId: userId, PermissionSetId: ps.Id });
    const e = refusal(() => store.update('User', userId, { ProfileId: profileId(store, 'Minimum Access - API Only Integrations') }));
    expect(e.errorCode).to.equal('FIELD_INTEGRITY_EXCEPTION');
    expect(e.message).to.equal("The user license doesn't allow the permission: Read Campaigns");
    expect(store.get(userId)!.ProfileId).to.equal(profileId(store, 'Standard User'));
    expect(used(store, 'Salesforce Integration')).to.equal(0);
  });

  it('a permission set the Integration permission set license allows moves once the user holds that license', () => {
    const { store, userId } = setUp();
    const ps = store.insert('PermissionSet', { Name: 'Accounts', Label: 'Accounts' });
    store.insert('ObjectPermissions', { ParentId: ps.Id, SobjectType: 'Account', PermissionsRead: true });
    const psa = store.insert('PermissionSetAssignment', { AssigneeId: userId, PermissionSetId: ps.Id });
    // Without the permission set license, the Integration license alone allows no standard object.
    expect(refusal(() => store.update('User', userId, { ProfileId: profileId(store, 'Minimum Access - API Only Integrations') })).message).to.match(/Read Accounts/);
    store.remove('PermissionSetAssignment', psa.Id);
    store.update('User', userId, { ProfileId: profileId(store, 'Minimum Access - API Only Integrations') });
    const psl = store.all('PermissionSetLicense').find((l) => l.DeveloperName === 'SalesforceAPIIntegrationPsl')!;
    store.insert('PermissionSetLicenseAssign', { AssigneeId: userId, PermissionSetLicenseId: psl.Id });
    store.insert('PermissionSetAssignment', { AssigneeId: userId, PermissionSetId: ps.Id });
    expect(used(store, 'Salesforce Integration')).to.equal(1);
  });

  it('a permission set tied to the old user license does not move', () => {
    const { store, userId } = setUp();
    const standard = store.all('UserLicense').find((l) => l.Name === 'Salesforce')!;
    const ps = store.insert('PermissionSet', { Name: 'Tied', Label: 'Tied', LicenseId: standard.Id });
    store.insert('PermissionSetAssignment', { AssigneeId: userId, PermissionSetId: ps.Id });
    expect(refusal(() => store.update('User', userId, { ProfileId: profileId(store, 'Minimum Access - API Only Integrations') })).message).to.equal(
      "The user license doesn't allow the permission set's license."
    );
  });

  it('the other reading: an org where the license cannot be moved to refuses the profile', () => {
    const { store, userId } = setUp({ licenseChanges: { Salesforce: ['Salesforce Platform'] } });
    const e = refusal(() => store.update('User', userId, { ProfileId: profileId(store, 'Minimum Access - API Only Integrations') }));
    expect(e.errorCode).to.equal('FIELD_INTEGRITY_EXCEPTION');
    expect(e.message).to.equal("You can only assign profiles that are compatible with the user's license");
  });
});
