/*
 * Org checks: where the external system must send its token request and which audience it must sign.
 */
import type { Check } from './types.js';
import { defineCheck, type Outcome } from './define.js';
import { hostEnvironment, isGenericLoginHost, orgEnvironment, subdomainEnvironment } from './domain.js';
import { say } from './messages.js';

export const orgLoginUrl: Check = defineCheck({
  id: 'org-login-url',
  group: 'org',
  run: (snapshot, ctx, report): Outcome => {
    const { org } = snapshot;
    const env = orgEnvironment(org);
    const envLabel = say(`env.${org.isScratch ? 'scratch' : env}`);
    const live = ctx.live?.tokenExchange;
    const problems: string[] = [];
    const mismatch = (what: string, url: string | undefined): void => {
      const seen = url ? hostEnvironment(url) : undefined;
      if (url && seen && seen !== env) problems.push(say(`org-login-url.problem.${what}`, [url, say(`env.${seen}`)]));
    };
    if (org.subdomain && subdomainEnvironment(org.subdomain) !== env) {
      problems.push(say('org-login-url.problem.subdomain', [org.subdomain, say(`env.${subdomainEnvironment(org.subdomain)}`)]));
    }
    mismatch('login-url', org.loginUrl);
    mismatch('audience', org.audience);
    mismatch('live-login-url', live?.loginUrl);
    mismatch('live-audience', live?.audience);
    if (ctx.flow === 'client-credentials') {
      for (const url of [org.loginUrl, live?.loginUrl]) {
        if (url && isGenericLoginHost(url)) problems.push(say('org-login-url.problem.client-credentials', [url]));
      }
    }
    const subdomain = org.subdomain ?? say('org-login-url.no-subdomain');
    if (problems.length > 0) {
      return report.fail([envLabel, [...new Set(problems)].join('; ')], {
        fixTokens: [envLabel, org.loginUrl, org.audience, subdomain],
      });
    }
    return report.pass([envLabel, org.loginUrl, org.audience, subdomain]);
  },
});

export const ORG_CHECKS: Check[] = [orgLoginUrl];
