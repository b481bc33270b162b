/*
 * credential-age: how long the app's credentials have been in use against the rotation period (--max-credential-age,
 * default 365 days): the certificate (its notBefore, or the rotation the runbook records for it) and, with client
 * credentials, the consumer secret (the rotation the runbook records, else the app's creation: no API tells when a
 * secret was made). A warning, not a failure: the integration still works, but a long-lived credential is OWASP NHI7
 * (Long-Lived Secrets); the fix is `sf integration rotate` (in Setup for a Connected App's secret). The evidence names
 * where each age came from.
 */
import { credentialAges, DEFAULT_MAX_CREDENTIAL_AGE_DAYS } from '../credentials/age.js';
import { defineCheck, needsApp } from './define.js';
import { say } from './messages.js';
import type { Check } from './types.js';

export const credentialAge: Check = defineCheck({
  id: 'credential-age',
  group: 'app',
  fix: { command: (snapshot) => `sf integration rotate --name ${snapshot.app?.name ?? 'APP'}` },
  run: needsApp((app, snapshot, ctx, report) => {
    if (!app.certificate && !app.clientCredentialsEnabled) return report.skip('no-certificate', [app.name]);
    const max = ctx.maxCredentialAgeDays ?? DEFAULT_MAX_CREDENTIAL_AGE_DAYS;
    const ages = credentialAges(app, ctx.rotations, ctx.now);
    const oldest = ages[0];
    if (!oldest) return report.skip(app.certificate ? 'no-certificate' : 'no-credential-date', [app.name]);
    const evidence = { maxDays: max, credentials: ages, ...(ctx.runbookFile ? { runbook: ctx.runbookFile } : {}) };
    const tokens = [say(`credential-age.credential.${oldest.credential}`), app.name, oldest.ageDays, say(`credential-age.source.${oldest.source}`, [oldest.since.slice(0, 10)]), max];
    if (oldest.ageDays <= max) return { ...report.pass(tokens), evidence };
    // A Connected App's consumer secret is rotated in Setup: no API does it.
    const fix = oldest.credential === 'certificate' ? {} : app.kind === 'connected-app' ? { fix: 'fix.connected-app-secret', command: null } : { fix: 'fix.secret' };
    return { ...report.warn(tokens, fix), evidence };
  }),
});
