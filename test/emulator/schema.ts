/*
 * The emulated org's sObject catalogue: which objects exist, their key prefixes, fields, field types,
 * which fields are required on create, restricted picklists and references. Field names and key prefixes
 * are Salesforce's own (Object Reference; see ../shared/reference/salesforce-facts.md §1). Where the
 * reference marks something unconfirmed, the choice is made here, once, with a comment.
 */
import { toolingFields } from './vocabulary.js';

export type FieldType =
  | 'id'
  | 'string'
  | 'email'
  | 'url'
  | 'textarea'
  | 'boolean'
  | 'int'
  | 'double'
  | 'date'
  | 'datetime'
  | 'reference'
  | 'picklist';

export type FieldDef = {
  name: string;
  type: FieldType;
  /** Required on create (nillable = false and no default). */
  required?: boolean;
  /** Not createable / not updateable through the API (system or formula fields). */
  readOnly?: boolean;
  /** Createable but not updateable afterwards. */
  createOnly?: boolean;
  /** For references: the target sObject types and the relationship name. */
  referenceTo?: string[];
  relationshipName?: string;
  /** Restricted picklist: a value outside this list is refused with INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST. */
  picklist?: string[];
  /** Value used when a create omits the field. */
  defaultValue?: unknown;
  /** Field is unique across the org (case-insensitive), e.g. User.Username. */
  unique?: boolean;
  maxLength?: number;
  /** Answered by the Tooling API only (ConnectedApplication.DeveloperName): the data API has no such column. */
  toolingOnly?: boolean;
};

export type ObjectDef = {
  name: string;
  keyPrefix: string;
  fields: Map<string, FieldDef>;
  createable: boolean;
  updateable: boolean;
  deletable: boolean;
  /** Answered on /tooling/query too. */
  tooling?: boolean;
  /** Only on the Tooling API (not on /query). */
  toolingOnly?: boolean;
  /** Rows are derived from metadata; the REST API cannot write them directly. */
  derived?: boolean;
  /** Child relationships usable in SOQL subqueries and listed by describe. */
  childRelationships: ChildRelationship[];
};

export type ChildRelationship = { relationshipName: string; childSObject: string; field: string };

type FieldSpec = Omit<FieldDef, 'name'> | FieldType;

const AUDIT: Record<string, FieldSpec> = {
  CreatedDate: { type: 'datetime', readOnly: true },
  CreatedById: { type: 'reference', readOnly: true, referenceTo: ['User'], relationshipName: 'CreatedBy' },
  LastModifiedDate: { type: 'datetime', readOnly: true },
  LastModifiedById: { type: 'reference', readOnly: true, referenceTo: ['User'], relationshipName: 'LastModifiedBy' },
  SystemModstamp: { type: 'datetime', readOnly: true },
};

/**
 * System permissions carried as Permissions<Name> booleans on Profile and PermissionSet. The list holds the
 * ones the product reasons about: API access and every permission on the dangerous-tier list in
 * ../shared/reference/anchors.md §2 (hardis permissionsAuditUtils tiers 0-4).
 */
export const SYSTEM_PERMISSIONS = [
  'ApiEnabled',
  'ApiUserOnly',
  'ModifyAllData',
  'ViewAllData',
  'AuthorApex',
  'CustomizeApplication',
  'ModifyMetadata',
  'ManageInteraction',
  'ManageProfilesPermissionsets',
  'ManageUsers',
  'ManageInternalUsers',
  'AssignPermissionSets',
  'ManageRoles',
  'ManageSharing',
  'ResetPasswords',
  'ManagePasswordPolicies',
  'ManageLoginAccessPolicies',
  'ManageTwoFactor',
  'ManageAuthProviders',
  'ManageCertificates',
  'PasswordNeverExpires',
  'BypassMFAForUiLogins',
  'ViewAllUsers',
  'ViewAllFieldsGlobal',
  'EditReadonlyFields',
  'QueryAllFiles',
  'DataExport',
  'ExportReport',
  'BulkApiHardDelete',
  'ApexRestServices',
  'ManageEncryptionKeys',
  'ViewEncryptedData',
  'ViewEventLogFiles',
  'InstallPackaging',
  'ViewSetup',
  'ManageChatterMessages',
  'ManageUnlistedGroups',
  'ManageDynamicDashboards',
  'ManageReportsInPubFolders',
  'ManageHealthCheck',
  'ManageCustomPermissions',
  'ViewRoles',
  /* "Manage Connected Apps" (published-vocabulary.md: there is no PermissionsConnectedAppManagement). */
  'ManageRemoteAccess',
  /* External Client App permissions; API names from the Object Reference v67 field list of MutingPermissionSet/
     PermissionSet: ExternalClientAppAdmin = "View all External Client Apps, view their settings, and edit their
     policies"; ExternalClientAppDeveloper = "Create, edit, and delete External Client Apps"; ViewClientSecret =
     "View External Client App Consumer Secrets in Metadata". */
  'ExternalClientAppAdmin',
  'ExternalClientAppDeveloper',
  'ViewClientSecret',
  /* "View all External Client Apps and their settings" (label unconfirmed); PermissionSet.PermissionsExternalClientAppViewer
     is in @salesforce/types lib/tooling.d.ts. usage.ts lets it read OAuth usage. */
  'ExternalClientAppViewer',
] as const;

/**
 * Permissions* fields that exist only in some editions or with some features: they are not in the published
 * PermissionSet type (@salesforce/types tooling.d.ts), yet third-party tools meet them in real orgs (hardis lists
 * BypassMFAForUiLogins among its dangerous permissions and checks the describe before ManageEncryptionKeys;
 * published-vocabulary.md). The default org has them; a fixture takes them out with `emulator.absentFields`.
 */
export const EDITION_DEPENDENT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  PermissionSet: ['PermissionsBypassMFAForUiLogins', 'PermissionsManageEncryptionKeys'],
  Profile: ['PermissionsBypassMFAForUiLogins', 'PermissionsManageEncryptionKeys'],
};

const permissionFields = (): Record<string, FieldSpec> =>
  Object.fromEntries(SYSTEM_PERMISSIONS.map((p) => [`Permissions${p}`, { type: 'boolean', defaultValue: false }]));

/** Standard objects the Salesforce Integration license may be given access to (seed 000). */
export const STANDARD_DATA_OBJECTS = ['Account', 'Contact', 'Lead', 'Opportunity', 'Case', 'Task', 'Event'];

const ref = (to: string, relationshipName: string, extra: Partial<FieldDef> = {}): FieldSpec => ({
  type: 'reference',
  referenceTo: [to],
  relationshipName,
  ...extra,
});

const defs: Array<{
  name: string;
  keyPrefix: string;
  fields: Record<string, FieldSpec>;
  createable?: boolean;
  updateable?: boolean;
  deletable?: boolean;
  tooling?: boolean;
  toolingOnly?: boolean;
  derived?: boolean;
}> = [
  {
    name: 'Organization',
    keyPrefix: '00D',
    createable: false,
    updateable: false,
    deletable: false,
    fields: {
      Name: 'string',
      InstanceName: 'string',
      IsSandbox: 'boolean',
      TrialExpirationDate: 'datetime',
      NamespacePrefix: 'string',
      OrganizationType: 'string',
      DefaultLocaleSidKey: 'string',
      TimeZoneSidKey: 'string',
      LanguageLocaleKey: 'string',
      IsReadOnly: 'boolean',
      /* Emulator convenience, not a real field name: the My Domain URL lives in the emulator settings. */
    },
  },
  {
    name: 'UserLicense',
    keyPrefix: '100',
    createable: false,
    updateable: false,
    deletable: false,
    fields: {
      Name: 'string',
      MasterLabel: 'string',
      LicenseDefinitionKey: 'string',
      Status: { type: 'picklist', picklist: ['Active', 'Disabled'] },
      TotalLicenses: 'int',
      UsedLicenses: 'int',
    },
  },
  {
    name: 'Profile',
    keyPrefix: '00e',
    createable: false,
    updateable: false,
    deletable: false,
    fields: {
      Name: 'string',
      UserLicenseId: ref('UserLicense', 'UserLicense'),
      UserType: 'string',
      Description: 'string',
      ...permissionFields(),
    },
  },
  {
    name: 'UserRole',
    keyPrefix: '00E',
    fields: { Name: { type: 'string', required: true }, DeveloperName: 'string' },
  },
  {
    name: 'User',
    keyPrefix: '005',
    deletable: false /* users are deactivated, never deleted (DELETE answers INVALID_CROSS_REFERENCE_KEY-like refusal) */,
    fields: {
      Username: { type: 'string', required: true, unique: true, maxLength: 80 },
      LastName: { type: 'string', required: true, maxLength: 80 },
      FirstName: { type: 'string', maxLength: 40 },
      Name: { type: 'string', readOnly: true },
      Email: { type: 'email', required: true },
      Alias: { type: 'string', required: true, maxLength: 8 },
      CommunityNickname: { type: 'string', maxLength: 40 },
      TimeZoneSidKey: { type: 'string', required: true },
      LocaleSidKey: { type: 'string', required: true },
      EmailEncodingKey: { type: 'picklist', required: true, picklist: ['UTF-8', 'ISO-8859-1', 'Shift_JIS', 'EUC-JP'] },
      LanguageLocaleKey: { type: 'string', required: true },
      ProfileId: ref('Profile', 'Profile', { required: true }),
      UserRoleId: ref('UserRole', 'UserRole'),
      IsActive: { type: 'boolean', defaultValue: true },
      UserType: { type: 'string', readOnly: true },
      LastLoginDate: { type: 'datetime', readOnly: true },
      FederationIdentifier: 'string',
      Title: 'string',
      Department: 'string',
      CompanyName: 'string',
      ...AUDIT,
    },
  },
  {
    name: 'PermissionSetLicense',
    keyPrefix: '0PL',
    createable: false,
    updateable: false,
    deletable: false,
    fields: {
      DeveloperName: 'string',
      MasterLabel: 'string',
      PermissionSetLicenseKey: 'string',
      Status: 'string',
      TotalLicenses: 'int',
      UsedLicenses: 'int',
      ExpirationDate: 'date',
      IsAvailableForIntegrations: 'boolean',
      MaximumPermissionsApiEnabled: 'boolean',
      MaximumPermissionsApiUserOnly: 'boolean',
      MaximumPermissionsModifyAllData: 'boolean',
      MaximumPermissionsViewAllData: 'boolean',
    },
  },
  {
    name: 'PermissionSet',
    keyPrefix: '0PS',
    fields: {
      Name: { type: 'string', required: true, maxLength: 80 },
      Label: { type: 'string', required: true, maxLength: 80 },
      Description: 'textarea',
      /* LicenseId references the UserLicense or PermissionSetLicense the set is tied to (reference §1.7). */
      LicenseId: { type: 'reference', referenceTo: ['UserLicense', 'PermissionSetLicense'], createOnly: true },
      ProfileId: { ...(ref('Profile', 'Profile') as FieldDef), readOnly: true },
      IsOwnedByProfile: { type: 'boolean', readOnly: true, defaultValue: false },
      IsCustom: { type: 'boolean', readOnly: true, defaultValue: true },
      NamespacePrefix: { type: 'string', readOnly: true },
      HasActivationRequired: { type: 'boolean', defaultValue: false },
      Type: { type: 'picklist', readOnly: true, picklist: ['Regular', 'Group', 'Profile', 'Session', 'Standard'] },
      ...permissionFields(),
      ...AUDIT,
    },
  },
  {
    name: 'PermissionSetAssignment',
    keyPrefix: '0Pa',
    fields: {
      AssigneeId: ref('User', 'Assignee', { required: true, createOnly: true }),
      PermissionSetId: ref('PermissionSet', 'PermissionSet', { required: true, createOnly: true }),
      PermissionSetGroupId: ref('PermissionSetGroup', 'PermissionSetGroup', { createOnly: true }),
      ExpirationDate: 'datetime',
      IsActive: { type: 'boolean', readOnly: true, defaultValue: true },
      SystemModstamp: { type: 'datetime', readOnly: true },
    },
  },
  {
    name: 'PermissionSetLicenseAssign',
    keyPrefix: '2LA',
    updateable: false,
    fields: {
      AssigneeId: ref('User', 'Assignee', { required: true }),
      PermissionSetLicenseId: ref('PermissionSetLicense', 'PermissionSetLicense', { required: true }),
      ...AUDIT,
    },
  },
  {
    name: 'ObjectPermissions',
    keyPrefix: '110',
    fields: {
      ParentId: ref('PermissionSet', 'Parent', { required: true, createOnly: true }),
      SobjectType: { type: 'string', required: true, createOnly: true },
      PermissionsRead: { type: 'boolean', defaultValue: false },
      PermissionsCreate: { type: 'boolean', defaultValue: false },
      PermissionsEdit: { type: 'boolean', defaultValue: false },
      PermissionsDelete: { type: 'boolean', defaultValue: false },
      PermissionsViewAllRecords: { type: 'boolean', defaultValue: false },
      PermissionsModifyAllRecords: { type: 'boolean', defaultValue: false },
      SystemModstamp: { type: 'datetime', readOnly: true },
    },
  },
  {
    name: 'FieldPermissions',
    keyPrefix: '01k',
    fields: {
      ParentId: ref('PermissionSet', 'Parent', { required: true, createOnly: true }),
      SobjectType: { type: 'string', required: true, createOnly: true },
      Field: { type: 'string', required: true, createOnly: true },
      PermissionsRead: { type: 'boolean', defaultValue: false },
      PermissionsEdit: { type: 'boolean', defaultValue: false },
      SystemModstamp: { type: 'datetime', readOnly: true },
    },
  },
  {
    name: 'SetupEntityAccess',
    keyPrefix: '0J0',
    updateable: false,
    fields: {
      ParentId: ref('PermissionSet', 'Parent', { required: true }),
      SetupEntityId: {
        type: 'reference',
        required: true,
        referenceTo: ['ConnectedApplication', 'ExternalClientApplication', 'ApexClass', 'CustomPermission'],
      },
      /* Restricted picklist, not createable: derived from the SetupEntityId key prefix (reference §1.2).
         'ExternalClientApplication': Object Reference, SetupEntityAccess ("In API version 60.0 and later"). */
      SetupEntityType: {
        type: 'picklist',
        readOnly: true,
        picklist: [
          'ApexClass',
          'ApexPage',
          'ConnectedApplication',
          'CustomPermission',
          'ServiceProvider',
          'TabSet',
          'CustomEntityDefinition',
          'ExternalClientApplication',
        ],
      },
      SystemModstamp: { type: 'datetime', readOnly: true },
    },
  },
  {
    /* Data API: Name is the app's label ("Connected App Name", up to 80 characters, spaces allowed); the Tooling API
       object adds DeveloperName, the API name (published-vocabulary.md; @salesforce/types tooling.d.ts). */
    name: 'ConnectedApplication',
    keyPrefix: '0H4',
    createable: false,
    updateable: false,
    deletable: false,
    derived: true,
    tooling: true,
    fields: {
      Name: { type: 'string', maxLength: 80 },
      DeveloperName: { type: 'string', toolingOnly: true },
      OptionsAllowAdminApprovedUsersOnly: 'boolean',
      OptionsRefreshTokenValidityMetric: 'boolean',
      RefreshTokenValidityPeriod: 'int',
      OptionsHasSessionLevelPolicy: 'boolean',
      OptionsIsInternal: 'boolean',
      StartUrl: 'url',
      ...AUDIT,
    },
  },
  {
    /* External Client App sObjects: third-party evidence only (reference §1.14); answered on both APIs. */
    name: 'ExternalClientApplication',
    keyPrefix: '0xI',
    createable: false,
    updateable: false,
    deletable: false,
    derived: true,
    tooling: true,
    fields: {
      DeveloperName: 'string',
      MasterLabel: 'string',
      DistributionState: 'string',
      ContactEmail: 'email',
      OrgScopedExternalApp: 'string',
      ...AUDIT,
    },
  },
  {
    name: 'ExtlClntAppOauthPlcyCnfg',
    keyPrefix: '0xJ' /* unconfirmed prefix */,
    createable: false,
    updateable: false,
    deletable: false,
    derived: true,
    tooling: true,
    fields: {
      ExternalClientApplicationId: ref('ExternalClientApplication', 'ExternalClientApplication'),
      DeveloperName: 'string',
      PermittedUsersPolicyType: 'string',
      IpRelaxationPolicyType: 'string',
      RefreshTokenPolicyType: 'string',
      RefreshTokenValidityPeriod: 'int',
      RefreshTokenValidityUnit: 'string',
      RequiredSessionLevel: 'string',
      IsClientCredentialsFlowEnabled: 'boolean',
      ClientCredentialsFlowUser: 'string',
      ...AUDIT,
    },
  },
  {
    name: 'AppMenuItem',
    keyPrefix: '0DS',
    createable: false,
    updateable: false,
    deletable: false,
    derived: true,
    fields: {
      ApplicationId: 'string',
      Name: 'string',
      Label: 'string',
      Type: 'string',
      IsUsingAdminAuthorization: 'boolean',
      IsVisible: 'boolean',
    },
  },
  {
    /* query() only; Id is always null in real orgs (reference §1.3). The emulator keeps an internal Id for
       bookkeeping but answers null for it. */
    name: 'OauthToken',
    keyPrefix: '0CQ',
    createable: false,
    updateable: false,
    deletable: false,
    fields: {
      AccessToken: 'string',
      AppMenuItemId: ref('AppMenuItem', 'AppMenuItem'),
      AppName: 'string',
      DeleteToken: 'string',
      LastUsedDate: 'datetime',
      RequestToken: 'string',
      UseCount: 'int',
      UserId: ref('User', 'User'),
      CreatedDate: { type: 'datetime', readOnly: true },
    },
  },
  {
    name: 'LoginHistory',
    keyPrefix: '0Ya',
    createable: false,
    updateable: false,
    deletable: false,
    fields: {
      UserId: ref('User', 'User'),
      LoginTime: 'datetime',
      LoginType: 'string',
      LoginUrl: 'string',
      SourceIp: 'string',
      Status: 'string',
      Application: 'string',
      ApiType: 'string',
      ApiVersion: 'string',
      /* A picklist whose values Salesforce does not publish: the emulator leaves it null on the rows it writes. */
      LoginSubType: 'string',
      AuthenticationServiceId: 'string',
      Browser: 'string',
      Platform: 'string',
      ClientVersion: 'string',
    },
  },
  {
    /* Object Reference UserLogin (API 29+): describe, query, retrieve, update; one row per user, kept by Salesforce.
       "From the API, you can set [IsPasswordLocked] to false, but not true"; UserId "can't be updated". The key prefix
       is unconfirmed. store.ts keeps one row per user; oauth.ts refuses logins of frozen users. */
    name: 'UserLogin',
    keyPrefix: '060',
    createable: false,
    deletable: false,
    fields: {
      UserId: { ...(ref('User', 'User') as FieldDef), readOnly: true },
      IsFrozen: { type: 'boolean', defaultValue: false },
      IsPasswordLocked: { type: 'boolean', defaultValue: false },
      LastModifiedDate: { type: 'datetime', readOnly: true },
      LastModifiedById: { type: 'reference', readOnly: true, referenceTo: ['User'], relationshipName: 'LastModifiedBy' },
    },
  },
  {
    name: 'Certificate',
    keyPrefix: '0P1',
    tooling: true,
    toolingOnly: true,
    fields: { DeveloperName: 'string', MasterLabel: 'string', ExpirationDate: 'datetime' },
  },
  ...STANDARD_DATA_OBJECTS.map((name, i) => ({
    name,
    keyPrefix: ['001', '003', '00Q', '006', '500', '00T', '00U'][i],
    fields: {
      Name: { type: 'string' as FieldType, required: ['Account', 'Opportunity'].includes(name) },
      OwnerId: ref('User', 'Owner'),
      Description: 'textarea' as FieldType,
      ...(name === 'Account' ? { Industry: 'picklist' as FieldType, Phone: 'string' as FieldType, Website: 'url' as FieldType } : {}),
      ...(['Contact', 'Lead'].includes(name)
        ? {
            FirstName: 'string' as FieldType,
            LastName: { type: 'string' as FieldType, required: true },
            Email: 'email' as FieldType,
            Phone: 'string' as FieldType,
          }
        : {}),
      ...(name === 'Contact' ? { AccountId: ref('Account', 'Account') } : {}),
      ...(name === 'Lead' ? { Company: { type: 'string' as FieldType, required: true }, Status: 'picklist' as FieldType } : {}),
      ...(name === 'Opportunity'
        ? {
            StageName: { type: 'picklist' as FieldType, required: true },
            CloseDate: { type: 'date' as FieldType, required: true },
            Amount: 'double' as FieldType,
            AccountId: ref('Account', 'Account'),
          }
        : {}),
      ...(name === 'Case' ? { Subject: 'string' as FieldType, Status: 'picklist' as FieldType, AccountId: ref('Account', 'Account') } : {}),
      ...(['Task', 'Event'].includes(name) ? { Subject: 'string' as FieldType, WhoId: 'reference' as FieldType, WhatId: 'reference' as FieldType } : {}),
      ...(name === 'Event' ? { StartDateTime: 'datetime' as FieldType, EndDateTime: 'datetime' as FieldType } : {}),
      ...AUDIT,
    },
  })),
  {
    /* Campaign (Object Reference): a standard object outside those Help names for the Salesforce Integration
       license (Account, Contact, Lead, Opportunity, Case, Task, Event, custom objects, ContentDocument,
       ContentVersion, governance-facts.md §5), so the emulator's licenses do not allow it (unconfirmed reading). */
    name: 'Campaign',
    keyPrefix: '701',
    fields: { Name: { type: 'string' as FieldType, required: true }, OwnerId: ref('User', 'Owner'), IsActive: 'boolean' as FieldType, ...AUDIT },
  },
];

export type Schema = Map<string, ObjectDef>;

/**
 * Child relationship names (parent -> children), as the Object Reference and describe name them:
 * User.PermissionSetAssignments, PermissionSet.Assignments/ObjectPerms/FieldPerms/SetupEntityAccessItems and
 * Account.Contacts/Opportunities/Cases are documented names. User.PermissionSetLicenseAssignments and
 * User.OauthTokens are unconfirmed (the most likely names, following Salesforce's plural convention).
 */
const CHILD_RELATIONSHIPS: Array<[parent: string, relationshipName: string, child: string, field: string]> = [
  ['User', 'PermissionSetAssignments', 'PermissionSetAssignment', 'AssigneeId'],
  ['User', 'PermissionSetLicenseAssignments', 'PermissionSetLicenseAssign', 'AssigneeId'],
  ['User', 'OauthTokens', 'OauthToken', 'UserId'],
  ['PermissionSet', 'Assignments', 'PermissionSetAssignment', 'PermissionSetId'],
  ['PermissionSet', 'ObjectPerms', 'ObjectPermissions', 'ParentId'],
  ['PermissionSet', 'FieldPerms', 'FieldPermissions', 'ParentId'],
  ['PermissionSet', 'SetupEntityAccessItems', 'SetupEntityAccess', 'ParentId'],
  ['Account', 'Contacts', 'Contact', 'AccountId'],
  ['Account', 'Opportunities', 'Opportunity', 'AccountId'],
  ['Account', 'Cases', 'Case', 'AccountId'],
];

const toFieldDef = (name: string, spec: FieldSpec): FieldDef => (typeof spec === 'string' ? { name, type: spec } : { name, ...spec });

/**
 * Objects whose every field must be in the published Tooling API type of the same name (@salesforce/types
 * tooling.d.ts). Profile's Permissions* fields are held to PermissionSet's (the Object Reference gives both the same
 * permission fields; the Tooling Profile type lists only a few). Other objects (User, ObjectPermissions,
 * SetupEntityAccess, OauthToken, ...) are data-API objects the Tooling types do not cover: Object Reference.
 */
const PUBLISHED_AS: Record<string, { tooling: string; prefix?: string }> = {
  PermissionSet: { tooling: 'PermissionSet' },
  PermissionSetAssignment: { tooling: 'PermissionSetAssignment' },
  Profile: { tooling: 'PermissionSet', prefix: 'Permissions' },
  ConnectedApplication: { tooling: 'ConnectedApplication' },
  ExternalClientApplication: { tooling: 'ExternalClientApplication' },
  ExtlClntAppOauthPlcyCnfg: { tooling: 'ExtlClntAppOauthPlcyCnfg' },
  UserRole: { tooling: 'UserRole' },
  Certificate: { tooling: 'Certificate' },
};

/** Fields of the catalogue that Salesforce does not publish (empty when the emulator holds to the vocabulary). */
export const unpublishedFields = (schema: Schema): string[] => {
  const out: string[] = [];
  for (const [object, rule] of Object.entries(PUBLISHED_AS)) {
    const def = schema.get(object);
    const published = toolingFields(rule.tooling);
    if (!def || !published) continue;
    for (const name of def.fields.keys()) {
      if (rule.prefix && !name.startsWith(rule.prefix)) continue;
      if (!published.has(name) && !EDITION_DEPENDENT_FIELDS[object]?.includes(name)) out.push(`${object}.${name}`);
    }
  }
  return out;
};

/** FieldPermissions can be given on the field (describe `permissionable`): not on Id, system or required fields. */
export const isPermissionable = (f: FieldDef): boolean => f.name !== 'Id' && f.required !== true && f.readOnly !== true;

let checkedVocabulary = false;

/** Builds the catalogue; the caller may extend it (custom objects in a fixture). */
export const buildSchema = (): Schema => {
  const schema: Schema = new Map();
  for (const d of defs) {
    const fields = new Map<string, FieldDef>([['Id', { name: 'Id', type: 'id', readOnly: true }]]);
    for (const [n, s] of Object.entries(d.fields)) fields.set(n, toFieldDef(n, s));
    schema.set(d.name, {
      name: d.name,
      keyPrefix: d.keyPrefix,
      fields,
      createable: d.createable ?? true,
      updateable: d.updateable ?? true,
      deletable: d.deletable ?? true,
      tooling: d.tooling,
      toolingOnly: d.toolingOnly,
      derived: d.derived,
      childRelationships: [],
    });
  }
  for (const [parent, relationshipName, childSObject, field] of CHILD_RELATIONSHIPS) {
    schema.get(parent)?.childRelationships.push({ relationshipName, childSObject, field });
  }
  if (!checkedVocabulary) {
    // Once per process: a field Salesforce does not publish is an emulator bug, not an org variant.
    const unpublished = unpublishedFields(schema);
    if (unpublished.length) throw new Error(`The org emulator names fields Salesforce does not publish: ${unpublished.join(', ')}`);
    checkedVocabulary = true;
  }
  return schema;
};

/** Case-insensitive lookups, as Salesforce resolves API names. */
export const findObject = (schema: Schema, name: string): ObjectDef | undefined => {
  const direct = schema.get(name);
  if (direct) return direct;
  const lower = name.toLowerCase();
  for (const def of schema.values()) if (def.name.toLowerCase() === lower) return def;
  return undefined;
};

export const findField = (obj: ObjectDef, name: string): FieldDef | undefined => {
  const direct = obj.fields.get(name);
  if (direct) return direct;
  const lower = name.toLowerCase();
  for (const f of obj.fields.values()) if (f.name.toLowerCase() === lower) return f;
  return undefined;
};

/** Finds the field behind a relationship name (`Profile` on User -> ProfileId). */
export const findRelationship = (obj: ObjectDef, relName: string): FieldDef | undefined => {
  const lower = relName.toLowerCase();
  for (const f of obj.fields.values()) if (f.relationshipName?.toLowerCase() === lower) return f;
  return undefined;
};

export const findChildRelationship = (obj: ObjectDef, relName: string): ChildRelationship | undefined => {
  const lower = relName.toLowerCase();
  return obj.childRelationships.find((c) => c.relationshipName.toLowerCase() === lower);
};

export const objectForKeyPrefix = (schema: Schema, id: string): ObjectDef | undefined => {
  const prefix = id.slice(0, 3);
  for (const def of schema.values()) if (def.keyPrefix === prefix) return def;
  return undefined;
};
