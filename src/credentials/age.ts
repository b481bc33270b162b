/*
 * How old a credential is, the signal for rotation: an expired certificate keeps working for JWT bearer "by design"
 * (Salesforce's answer on salesforce.stackexchange 313488), so its age since issue, not its expiry, is what tells a
 * long-lived secret (OWASP Non-Human Identities Top 10, NHI7 Long-Lived Secrets). One rule for audit, doctor and rotate.
 */
import { X509Certificate } from 'node:crypto';

/** Default rotation period in days (audit and doctor --max-credential-age). */
export const DEFAULT_MAX_CREDENTIAL_AGE_DAYS = 365;

const DAY_MS = 86_400_000;

/** Whole days since `issuedAt` (a certificate's notBefore, a secret's creation, a rotation in the runbook), at `now`; never negative. */
export const credentialAgeDays = (issuedAt: string | Date, now: Date = new Date()): number => {
  const issued = typeof issuedAt === 'string' ? Date.parse(issuedAt) : issuedAt.getTime();
  if (!Number.isFinite(issued)) throw new TypeError(`Not a date: ${String(issuedAt)}`);
  return Math.max(0, Math.floor((now.getTime() - issued) / DAY_MS));
};

/** A certificate's (PEM) age from its notBefore; undefined for a certificate that cannot be read. */
export const certificateAgeDays = (pem: string, now: Date = new Date()): number | undefined => {
  let notBefore: string;
  try {
    notBefore = new X509Certificate(pem).validFrom;
  } catch {
    return undefined;
  }
  return Number.isFinite(Date.parse(notBefore)) ? credentialAgeDays(notBefore, now) : undefined;
};

/** Whether a credential issued at `issuedAt` is past the rotation period (strictly older than maxDays). */
export const credentialTooOld = (issuedAt: string | Date, maxDays: number = DEFAULT_MAX_CREDENTIAL_AGE_DAYS, now: Date = new Date()): boolean =>
  credentialAgeDays(issuedAt, now) > maxDays;
