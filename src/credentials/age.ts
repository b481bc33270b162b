/*
 * The age of a credential, the risk signal for rotation (OWASP Top 10 Non-Human Identities Risks - 2025, NHI7
 * Long-Lived Secrets): an expired certificate keeps working for JWT bearer, so age, not expiry, says when to rotate.
 * Pure: a certificate (PEM) is aged from its notBefore, a Date (a rotation logged in the runbook) from itself.
 */
import { X509Certificate } from 'node:crypto';

const DAY_MS = 86_400_000;

/** The default rotation period, in days. */
export const DEFAULT_MAX_CREDENTIAL_AGE_DAYS = 365;

/** Whole days from the certificate's notBefore (or the given date) to `now`; undefined for an unreadable certificate. */
export const credentialAgeDays = (credential: string | Date, now: Date): number | undefined => {
  let since: Date;
  if (credential instanceof Date) since = credential;
  else {
    try {
      since = new Date(new X509Certificate(credential).validFrom);
    } catch {
      return undefined;
    }
  }
  if (Number.isNaN(since.getTime())) return undefined;
  return Math.max(0, Math.floor((now.getTime() - since.getTime()) / DAY_MS));
};
