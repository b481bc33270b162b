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

/** Where a credential's age was read from: the certificate's notBefore, the runbook's rotation log, or the app record's CreatedDate. */
export type AgeSource = 'certificate' | 'runbook' | 'app-created';

/** The credentials an integration authenticates with: the certificate (JWT bearer) and the consumer secret (client credentials). */
export type CredentialKind = 'certificate' | 'consumer-secret';

/** One credential's age and the evidence it was read from. */
export type CredentialAge = { credential: CredentialKind; source: AgeSource; since: string; ageDays: number };

/** A row of the runbook's rotation log: when, and the certificate fingerprint or consumer key before and after. */
export type RotationRecord = { date: string; before: string; after: string };

/** The app as far as its credentials' ages go (an AppConfig satisfies it). */
export type CredentialFacts = {
  certificate?: string;
  clientCredentialsEnabled: boolean;
  consumerKey?: string;
  /** The app record's CreatedDate (ExternalClientApplication / ConnectedApplication). */
  createdDate?: string;
};

const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/i;
/** Fingerprints compare without colons and case (openssl prints them either way); consumer keys fold the same way, harmlessly. */
const norm = (v: string): string => v.replace(/:/g, '').toUpperCase();
const toDate = (d: string): number => Date.parse(d.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));

/**
 * When the log says `current` was put in use: the first row that made it current, unless an earlier row had already
 * replaced it (then it is older than the log, e.g. a certificate rolled back, and the log proves nothing).
 */
const installedAt = (rows: readonly Row[], current: string): string | undefined => {
  const key = norm(current);
  const first = rows.findIndex((r) => r.after === key);
  if (first < 0) return undefined;
  for (let i = 0; i < first; i++) if (rows[i].before === key) return undefined;
  return rows[first].date;
};

type Row = { date: string; before: string; after: string };
type Prepared = { rows: Row[]; secretRows: Row[] };
const prepared = new WeakMap<readonly RotationRecord[], Prepared>();

/** The log oldest first, and its consumer-key rows; once per log, since an audit dates hundreds of apps from one. */
const prepare = (rotations: readonly RotationRecord[]): Prepared => {
  let p = prepared.get(rotations);
  if (!p) {
    const sorted = rotations
      .map((r) => ({ r, ms: toDate(r.date) }))
      .sort((a, b) => a.ms - b.ms)
      .map(({ r }) => r);
    const rows = sorted.map((r) => ({ date: r.date, before: norm(r.before), after: norm(r.after) }));
    p = { rows, secretRows: rows.filter((r, i) => !FINGERPRINT.test(sorted[i].after) && r.after !== '' && r.after !== '-') };
    prepared.set(rotations, p);
  }
  return p;
};

const newest = (credential: CredentialKind, evidence: Array<{ source: AgeSource; at?: string }>, now: Date): CredentialAge | undefined => {
  const dated = evidence.flatMap((e) => (e.at && Number.isFinite(toDate(e.at)) ? [{ source: e.source, at: e.at, ms: toDate(e.at) }] : []));
  if (!dated.length) return undefined;
  const best = dated.reduce((a, b) => (b.ms > a.ms ? b : a));
  return { credential, source: best.source, since: new Date(best.ms).toISOString(), ageDays: credentialAgeDays(new Date(best.ms), now) };
};

/**
 * The age of each credential the app authenticates with, from the most recent evidence of when it was put in use.
 * No published API returns when a consumer secret was created (neither the Connect REST OAuth credentials and
 * staged-credentials resources nor the ConnectedApp / ExtlClntAppGlobalOauthSettings metadata): a secret is as old as
 * the last rotation the runbook records for the app's current consumer key, else as the app itself. A certificate is
 * as old as its notBefore, or as the rotation that put this very certificate (same SHA-256 fingerprint) on the app,
 * whichever is later. A log row about another certificate or key than the one in the org is stale and ignored: the
 * org's credential is the truth. Oldest first.
 */
export const credentialAges = (app: CredentialFacts, rotations: readonly RotationRecord[] = [], now: Date = new Date()): CredentialAge[] => {
  const { rows, secretRows } = prepare(rotations);
  const ages: CredentialAge[] = [];
  if (app.certificate) {
    let notBefore: string | undefined;
    let fingerprint: string | undefined;
    try {
      const x = new X509Certificate(app.certificate);
      notBefore = x.validFrom;
      fingerprint = x.fingerprint256;
    } catch {
      // An unreadable certificate has no age; the certificate checks report it.
    }
    const age = newest('certificate', [
      { source: 'certificate', at: notBefore && Number.isFinite(Date.parse(notBefore)) ? new Date(notBefore).toISOString() : undefined },
      { source: 'runbook', at: fingerprint ? installedAt(rows, fingerprint) : undefined },
    ], now);
    if (age) ages.push(age);
  }
  if (app.clientCredentialsEnabled) {
    // Without the consumer key (not readable in this org), the latest secret rotation logged stands for it.
    const logged = app.consumerKey ? installedAt(secretRows, app.consumerKey) : secretRows[secretRows.length - 1]?.date;
    const age = newest('consumer-secret', [
      { source: 'app-created', at: app.createdDate },
      { source: 'runbook', at: logged },
    ], now);
    if (age) ages.push(age);
  }
  return ages.sort((a, b) => b.ageDays - a.ageDays);
};
