/*
 * Fixture builders for tests: the default org plus an integration set up as seed 001 describes it (user on the
 * Salesforce Integration license, permission set on the Salesforce API Integration license assigned without
 * expiry, an External Client App with the JWT certificate, admin-approved, the permission set selected).
 * Apps are given as Metadata API components only: the emulator derives the records SOQL sees.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_FIXTURE } from '../emulator/index.js';
import type { Fixture, MetadataComponent } from '../emulator/index.js';

export const defaultFixture = (): Fixture => JSON.parse(readFileSync(DEFAULT_FIXTURE, 'utf8')) as Fixture;

/** The fields a new User needs (the required ones of the Object Reference), on the given profile. */
export const newUserFields = (username: string, profileId: string): Record<string, unknown> => ({
  Username: username,
  LastName: 'Integration',
  Email: 'owner@example.com',
  Alias: 'integ',
  TimeZoneSidKey: 'America/Los_Angeles',
  LocaleSidKey: 'en_US',
  EmailEncodingKey: 'UTF-8',
  LanguageLocaleKey: 'en_US',
  ProfileId: profileId,
});

const byName = (fx: Fixture, type: string, field: string, value: string): string => {
  const row = fx.records?.[type]?.find((r) => r[field] === value);
  if (!row) throw new Error(`default fixture has no ${type} with ${field}=${value}`);
  return String(row.Id);
};

export type IntegrationOptions = {
  name?: string;
  username?: string;
  certificatePem?: string;
  consumerKey?: string;
  consumerSecret?: string;
  clientCredentials?: boolean;
  appKind?: 'eca' | 'connected-app';
};

export type IntegrationFixture = {
  fixture: Fixture;
  username: string;
  userId: string;
  permissionSetId: string;
  permissionSetName: string;
  appName: string;
  consumerKey: string;
  consumerSecret: string;
};

/** 15-character-safe test Ids that the emulator's generator never produces (it uses the '5g' pod). */
const testId = (prefix: string, n: number): string => {
  const id15 = `${prefix}Tt${String(n).padStart(10, '0')}`;
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
  let suffix = '';
  for (let c = 0; c < 3; c++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) if (/[A-Z]/.test(id15.charAt(c * 5 + i))) bits |= 1 << i;
    suffix += chars.charAt(bits);
  }
  return id15 + suffix;
};

export const integrationFixture = (opts: IntegrationOptions = {}): IntegrationFixture => {
  const fx = defaultFixture();
  const name = opts.name ?? 'HubSpot_Integration';
  const username = opts.username ?? 'hubspot.integration@emulated-org.example';
  const consumerKey = opts.consumerKey ?? `3MVG9${'x'.repeat(20)}${name.replace(/\W/g, '')}`;
  const consumerSecret = opts.consumerSecret ?? 'S3CR3T0000000000000000000000000000000000000000000000000000000000';
  const profileId = byName(fx, 'Profile', 'Name', 'Minimum Access - API Only Integrations');
  const pslId = byName(fx, 'PermissionSetLicense', 'DeveloperName', 'SalesforceAPIIntegrationPsl');
  const userId = testId('005', 1);
  const permissionSetId = testId('0PS', 1);
  const records = fx.records!;
  records.User.push({
    Id: userId,
    Username: username,
    FirstName: 'HubSpot',
    LastName: 'Integration',
    Email: 'integration-owner@emulated-org.example',
    Alias: 'hubint',
    CommunityNickname: 'hubint',
    TimeZoneSidKey: 'America/Los_Angeles',
    LocaleSidKey: 'en_US',
    EmailEncodingKey: 'UTF-8',
    LanguageLocaleKey: 'en_US',
    ProfileId: profileId,
    IsActive: true,
  });
  records.PermissionSet.push({
    Id: permissionSetId,
    Name: name,
    Label: name.replace(/_/g, ' '),
    LicenseId: pslId,
    IsOwnedByProfile: false,
    IsCustom: true,
    Type: 'Regular',
    PermissionsApiEnabled: true,
  });
  records.PermissionSetLicenseAssign = [{ Id: testId('2LA', 1), AssigneeId: userId, PermissionSetLicenseId: pslId }];
  records.PermissionSetAssignment.push({ Id: testId('0Pa', 1), AssigneeId: userId, PermissionSetId: permissionSetId, ExpirationDate: null });
  records.ObjectPermissions = [
    { Id: testId('110', 1), ParentId: permissionSetId, SobjectType: 'Account', PermissionsRead: true, PermissionsCreate: true, PermissionsEdit: true },
  ];

  const metadata: Record<string, MetadataComponent[]> = { ...(fx.metadata ?? {}) };
  if ((opts.appKind ?? 'eca') === 'eca') {
    Object.assign(metadata, {
      ExternalClientApplication: [
        { fullName: name, label: name.replace(/_/g, ' '), contactEmail: 'integration-owner@emulated-org.example', distributionState: 'Local', isProtected: 'false' },
      ],
      ExtlClntAppOauthSettings: [
        { fullName: `${name}_oauth`, externalClientApplication: name, label: `${name} OAuth`, commaSeparatedOauthScopes: 'Api, RefreshToken' },
      ],
      ExtlClntAppGlobalOauthSettings: [
        {
          fullName: `${name}_glbloauth`,
          externalClientApplication: name,
          label: `${name} Global OAuth`,
          callbackUrl: 'https://login.salesforce.com/services/oauth2/success',
          ...(opts.certificatePem ? { certificate: opts.certificatePem } : {}),
          consumerKey,
          consumerSecret,
          isClientCredentialsFlowEnabled: opts.clientCredentials ? 'true' : 'false',
          isPkceRequired: 'false',
          isNamedUserJwtEnabled: 'false',
          isConsumerSecretOptional: 'false',
        },
      ],
      ExtlClntAppOauthConfigurablePolicies: [
        {
          fullName: `${name}_oauthPlcy`,
          externalClientApplication: name,
          label: `${name} OAuth Policies`,
          permittedUsersPolicyType: 'AdminApprovedPreAuthorized',
          commaSeparatedPermissionSet: permissionSetId,
          refreshTokenPolicyType: 'Infinite',
          ipRelaxationPolicyType: 'Bypass',
          isClientCredentialsFlowEnabled: opts.clientCredentials ? 'true' : 'false',
          ...(opts.clientCredentials ? { clientCredentialsFlowUser: username } : {}),
        },
      ],
      ExtlClntAppConfigurablePolicies: [
        { fullName: `${name}_plcy`, externalClientApplication: name, label: `${name} Policies`, isEnabled: 'true', isOauthPluginEnabled: 'true' },
      ],
    });
  } else {
    metadata.ConnectedApp = [
      {
        fullName: name,
        label: name.replace(/_/g, ' '),
        contactEmail: 'integration-owner@emulated-org.example',
        oauthConfig: {
          callbackUrl: 'https://login.salesforce.com/services/oauth2/success',
          ...(opts.certificatePem ? { certificate: opts.certificatePem } : {}),
          consumerKey,
          consumerSecret,
          isAdminApproved: 'true',
          isClientCredentialEnabled: opts.clientCredentials ? 'true' : 'false',
          ...(opts.clientCredentials ? { oauthClientCredentialUser: username } : {}),
          scopes: ['Api', 'RefreshToken'],
        },
        oauthPolicy: { ipRelaxation: 'BYPASS', refreshTokenPolicy: 'infinite' },
        permissionSetName: [name],
      },
    ];
  }
  fx.metadata = metadata;
  return { fixture: fx, username, userId, permissionSetId, permissionSetName: name, appName: name, consumerKey, consumerSecret };
};
