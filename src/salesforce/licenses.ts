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

/**
 * Standard objects a permission set on the Salesforce API Integration permission set license can grant, as Salesforce
 * Help names them for the Salesforce Integration license ("Give Integration Users API Only Access",
 * integration_user.htm; the Edition Comparison names "selected others"): custom objects (`__c`) are allowed too.
 * An object outside the list is reported as dropped by a migration; the list errs on the side of the documented.
 */
export const INTEGRATION_LICENSE_OBJECTS: readonly string[] = ['Account', 'Contact', 'Lead', 'Opportunity', 'Case', 'Task', 'Event', 'ContentDocument', 'ContentVersion'];

/** The object can be granted on the Salesforce API Integration permission set license. */
export const integrationLicenseAllows = (object: string): boolean =>
  /__c$/i.test(object) || INTEGRATION_LICENSE_OBJECTS.some((o) => o.toLowerCase() === object.toLowerCase());
