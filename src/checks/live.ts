/*
 * Live checks: the results of the real token exchange and REST call that src/org performed before the checks
 * ran. A failed exchange is explained by the error catalogue and by the configuration checks that confirm it.
 */
import type { OrgSnapshot } from '../org/index.js';
import type { Check, CheckContext, CheckResult } from './types.js';
import { defineCheck, list, runCheck, type Outcome } from './define.js';
import { explainError } from './errors.js';
import { ORG_CHECKS } from './org.js';
import { APP_CHECKS } from './app.js';
import { USER_CHECKS } from './user.js';

const CONFIGURATION_CHECKS: Check[] = [...ORG_CHECKS, ...APP_CHECKS, ...USER_CHECKS];

/** The configuration checks among `ids`, run over the same snapshot (pure, so running them again is free). */
const runConfigurationChecks = (ids: string[], snapshot: OrgSnapshot, ctx: CheckContext): CheckResult[] =>
  CONFIGURATION_CHECKS.filter((check) => ids.includes(check.id)).map((check) => runCheck(check, snapshot, ctx));

export const liveTokenExchange: Check = defineCheck({
  id: 'live-token-exchange',
  group: 'live',
  run: (snapshot, ctx, report): Outcome => {
    const exchange = ctx.live?.tokenExchange;
    if (!exchange) return report.skip('no-live');
    const who = snapshot.user?.username ?? snapshot.app?.runAsUsername ?? '-';
    if (exchange.ok) return report.pass([exchange.loginUrl, who]);
    const error = [exchange.error, exchange.errorDescription].filter(Boolean).join(': ') || '-';
    const candidates = [...new Set(explainError(error).causes.flatMap((cause) => cause.confirmingChecks))];
    const results = runConfigurationChecks(candidates, snapshot, ctx);
    const explaining = results.filter((result) => result.status === 'fail' || result.status === 'warn');
    const [top] = explainError(error, results).causes;
    return report.fail([exchange.loginUrl, error, list(explaining.map((result) => `${result.id} (${result.status})`))], {
      fixTokens: [top.cause, top.fix],
      command: `sf integration doctor --error "${error.replace(/"/g, '\\"')}"`,
    });
  },
});

export const liveApiCall: Check = defineCheck({
  id: 'live-api-call',
  group: 'live',
  run: (snapshot, ctx, report): Outcome => {
    if (ctx.live?.tokenExchange?.ok === false) return report.skip('no-token');
    const call = ctx.live?.apiCall;
    if (!call) return report.skip('no-live');
    const status = call.status ?? '-';
    return call.ok ? report.pass([status]) : report.fail([status, call.error ?? '-']);
  },
});

export const LIVE_CHECKS: Check[] = [liveTokenExchange, liveApiCall];
