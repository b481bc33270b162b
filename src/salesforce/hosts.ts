/*
 * Salesforce's login hosts, and the host of a URL as reports and checks name it.
 */

export const PRODUCTION_LOGIN = 'login.salesforce.com';
export const SANDBOX_LOGIN = 'test.salesforce.com';

/** `https://Acme.my.salesforce.com/x` → `acme.my.salesforce.com` (a port kept when it is not the default); the text itself when it is no URL. */
export const hostOf = (url: string): string => {
  try {
    return (new URL(url).host || url).toLowerCase();
  } catch {
    return url.toLowerCase();
  }
};
