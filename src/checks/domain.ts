/*
 * Hosts and subdomains: which environment a login URL, an audience or a My Domain subdomain points to
 * (seed 001 step 7), and the sandbox name a sandbox username carries.
 */
import type { OrgInfo } from '../org/index.js';
import { hostOf, PRODUCTION_LOGIN, SANDBOX_LOGIN } from '../salesforce/hosts.js';

export type Environment = 'production' | 'sandbox';

/** True for login.salesforce.com and test.salesforce.com, which client credentials refuses. */
export const isGenericLoginHost = (url: string): boolean => [PRODUCTION_LOGIN, SANDBOX_LOGIN].includes(hostOf(url));

/** The environment a My Domain subdomain names: `acme--dev`, `acme--dev.sandbox`, `x.scratch` are sandboxes. */
export const subdomainEnvironment = (subdomain: string): Environment =>
  /--|\.sandbox$|\.scratch$/i.test(subdomain) ? 'sandbox' : 'production';

/** The environment a login host points to, when it says (localhost or a custom host says nothing). */
export const hostEnvironment = (url: string): Environment | undefined => {
  const host = hostOf(url);
  if (host === PRODUCTION_LOGIN) return 'production';
  if (host === SANDBOX_LOGIN) return 'sandbox';
  const myDomain = /^(.+?)\.my\.salesforce\.com$/.exec(host);
  return myDomain ? subdomainEnvironment(myDomain[1]) : undefined;
};

export const orgEnvironment = (org: OrgInfo): Environment => (org.isSandbox || org.isScratch ? 'sandbox' : 'production');

/** `acme--dev` and `acme--dev.sandbox` → `dev`; undefined when the subdomain carries no sandbox name. */
export const sandboxName = (org: OrgInfo): string | undefined => {
  const source = org.subdomain ?? hostOf(org.instanceUrl);
  return /--([a-z0-9]+)/i.exec(source)?.[1]?.toLowerCase();
};
