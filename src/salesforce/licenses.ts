/*
 * The licenses and the profile an integration identity stands on, by the names Salesforce gives them (Salesforce
 * Help: "Give Integration Users API Only Access"; Object Reference: UserLicense, PermissionSetLicense, Profile).
 * One definition for the snapshot read, the planner and the checks.
 */

/** UserLicense.Name of the Salesforce Integration user license. */
export const INTEGRATION_LICENSE = 'Salesforce Integration';

/** Profile.Name of the API-only profile that comes with the Salesforce Integration license. */
export const INTEGRATION_PROFILE = 'Minimum Access - API Only Integrations';

/** PermissionSetLicense.DeveloperName of the Salesforce API Integration permission set license. */
export const API_INTEGRATION_PSL = 'SalesforceAPIIntegrationPsl';

/** PermissionSetLicense.MasterLabel of the same license, as Setup shows it. */
export const API_INTEGRATION_PSL_LABEL = 'Salesforce API Integration';
