/*
 * Objects the Salesforce Integration user license gives access to, per seed 000 ("Account, Contact, Lead,
 * Opportunity, Case, Task, Event, Custom Objects, ContentDocument, ContentVersion, and selected others"). The
 * "selected others" are not enumerated by any source this project holds, so they are not guessed here: an
 * object missing from this list is refused with the fix, and an org-derived list (validateAgainstOrg's
 * integrationLicenseObjects) replaces this one when the caller has it.
 */
export const INTEGRATION_LICENSE_OBJECTS: readonly string[] = [
  // Sales and service core (seed 000).
  'Account',
  'Contact',
  'Lead',
  'Opportunity',
  'Case',
  // Activities (seed 000).
  'Task',
  'Event',
  // Files (seed 000).
  'ContentDocument',
  'ContentVersion',
];

/** Custom objects (`__c`, namespaced or not) are available on the license (seed 000). */
export const isCustomObject = (object: string): boolean => object.toLowerCase().endsWith('__c');

export const isAllowedOnIntegrationLicense = (object: string, allowed: readonly string[] = INTEGRATION_LICENSE_OBJECTS): boolean =>
  isCustomObject(object) || allowed.some((o) => o.toLowerCase() === object.toLowerCase());
