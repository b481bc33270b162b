/*
 * credential-age: how long the app's certificate has been in use (its notBefore) against the rotation period
 * (--max-credential-age, default 365 days). A warning, not a failure: the integration still works, but a long-lived
 * credential is OWASP NHI7 (Long-Lived Secrets); the fix is `sf integration rotate`.
 */
import { certificateAgeDays, DEFAULT_MAX_CREDENTIAL_AGE_DAYS } from '../credentials/age.js';
import { defineCheck, needsApp } from './define.js';
import type { Check } from './types.js';

export const credentialAge: Check = defineCheck({
  id: 'credential-age',
  group: 'app',
  fix: { command: (snapshot) => `sf integration rotate --name ${snapshot.app?.name ?? 'APP'}` },
  run: needsApp((app, snapshot, ctx, report) => {
    if (!app.certificate) return report.skip('no-certificate', [app.name]);
    const max = ctx.maxCredentialAgeDays ?? DEFAULT_MAX_CREDENTIAL_AGE_DAYS;
    const age = certificateAgeDays(app.certificate, ctx.now);
    if (age === undefined) return report.skip('no-certificate', [app.name]);
    return age > max ? report.warn([app.name, age, max]) : report.pass([app.name, age, max]);
  }),
});
