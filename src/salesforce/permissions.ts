/*
 * Dangerous permissions by tier (hardis permissionsAuditUtils, shared/reference/anchors.md §2): 0 = full org
 * compromise, 1 = identity takeover, 2 = sharing model bypass, 3 = data theft, 4 = control weakening.
 * ApiEnabled is Tier 3 there, but every integration needs it, so it sits in the baseline with ApiUserOnly.
 */
export const INTEGRATION_BASELINE: readonly string[] = ['ApiEnabled', 'ApiUserOnly'];

export const PERMISSION_TIERS: ReadonlyArray<readonly string[]> = [
  ['ModifyAllData', 'AuthorApex', 'CustomizeApplication', 'ModifyMetadata', 'ManageInteraction', 'ManageProfilesPermissionsets'],
  [
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
  ],
  [
    'ViewAllData',
    'ViewAllUsers',
    'ViewAllFieldsGlobal',
    'EditReadonlyFields',
    'QueryAllFiles',
    'ManageChatterMessages',
    'ManageUnlistedGroups',
    'ManageDynamicDashboards',
  ],
  ['DataExport', 'ExportReport', 'ApiEnabled', 'BulkApiHardDelete', 'ManageReportsInPubFolders', 'ApexRestServices'],
  [
    'ManageEncryptionKeys',
    'ViewEncryptedData',
    'ManageHealthCheck',
    'ViewEventLogFiles',
    'InstallPackaging',
    'ManageCustomPermissions',
    'ViewSetup',
    'ViewRoles',
  ],
];

/** The tier of a system permission (API name without the `Permissions` prefix), when it is on the list. */
export const dangerousPermission = (permission: string): { tier: number } | undefined => {
  // API names are case-insensitive in Salesforce: 'modifyalldata' is ModifyAllData.
  const wanted = permission.toLowerCase();
  const tier = PERMISSION_TIERS.findIndex((names) => names.some((n) => n.toLowerCase() === wanted));
  return tier >= 0 ? { tier } : undefined;
};

/** Object-level View All / Modify All: Tier 2 (sharing model bypass). */
export const DANGEROUS_OBJECT_PERMISSIONS: ReadonlyArray<{ flag: 'viewAll' | 'modifyAll'; name: string; tier: number }> = [
  { flag: 'viewAll', name: 'ViewAllRecords', tier: 2 },
  { flag: 'modifyAll', name: 'ModifyAllRecords', tier: 2 },
];
