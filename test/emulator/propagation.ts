/*
 * What the token endpoint serves while an app change propagates. Salesforce Help: changes to a connected app or
 * external client app take 2 to 10 minutes to take effect ("changes propagate in 2 to 10 minutes"; modelled with
 * emulator.propagationSeconds). The emulator's reading, per kind of change:
 *
 * - A new app, or any change other than the ones below: the app is refused as not yet known for the window
 *   (oauth.ts `unavailable`: app_not_found / client identifier invalid), as before.
 * - A certificate replaced (ConnectedApp oauthConfig.certificate, ExtlClntAppGlobalOauthSettings.certificate) and
 *   nothing else: emulator.certificatePropagation decides (the help text does not say which, so both are served):
 *     'previousCertificate' (default): the org keeps serving its cached configuration. During the window the OLD key
 *       still signs valid assertions and the NEW key is refused with invalid_grant / invalid assertion; once the
 *       window has passed the new certificate is in effect and the old key is refused with invalid assertion.
 *     'appUnavailable': the change is treated like any other change: during the window both keys are refused as for
 *       an unknown app; afterwards the new key works and the old one is refused with invalid assertion.
 * - Consumer key/secret promoted by a staged-credential rotate (staged-credentials.ts): no window; the point of
 *   staging is that both sets work across the switch (unconfirmed for the window itself).
 *
 * The tracker runs after every metadata change (installed beside apps.ts's deriver by server.ts).
 */
import { appViews, byAppName, ECA_TYPES, type EmuApp } from './apps.js';
import { perStore, type OrgStore } from './store.js';

type Tracked = {
  /** Certificate (PEM) in the app's metadata as last seen. */
  certificate?: string;
  /** The configuration without certificate, as a hash. */
  configHash: string;
  lastModified: number;
  /** The certificate before the last certificate change, and when that change was made. */
  previous?: { certificate?: string; changedAt: number };
  /** A change stamped at `stamp` that does not restart propagation: the app counts as changed at `servedSince`. */
  exempt?: { stamp: number; servedSince: number; reason: 'certificate' | 'credentials' };
  /** What servedSince was before the latest change. */
  priorServedSince: number;
};

const trackedOf = perStore(() => new Map<string, Tracked>());

const keyOf = (app: EmuApp): string => `${app.kind}:${app.fullName}`;
const normalize = (pem: string | undefined): string | undefined => {
  const flat = pem?.replace(/\s+/g, '');
  return flat === '' ? undefined : flat;
};

/** Fields the org manages or only acts on (minted key and secret, rotate instructions): not part of the configuration. */
const NOT_CONFIGURATION = new Set(['certificate', 'consumerKey', 'consumerSecret', 'shouldRotateConsumerKey', 'shouldRotateConsumerSecret']);

/** A component in one spelling whatever path wrote it (fixture, readMetadata-shaped SOAP, deploy XML): values as
 * strings, one-element lists as their element, keys sorted, org-managed fields left out. */
const canonical = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.length === 1 ? canonical(v[0]) : v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) if (!NOT_CONFIGURATION.has(k)) out[k] = canonical((v as Record<string, unknown>)[k]);
    return out;
  }
  return v === undefined || v === null ? v : String(v);
};

/** The app's configuration without its certificate, as one string. */
const configWithoutCertificate = (store: OrgStore, app: EmuApp): string => {
  if (app.kind === 'ConnectedApp') return JSON.stringify(canonical(store.getMetadata('ConnectedApp', app.fullName)));
  return JSON.stringify(
    canonical([
      store.getMetadata('ExternalClientApplication', app.fullName),
      ...ECA_TYPES.filter((t) => t !== 'ExternalClientApplication').map((t) => byAppName(store, t, app.fullName) ?? null),
    ])
  );
};

/** Called after every metadata change: notices certificate replacements and when they were made. */
export const trackPropagation = (store: OrgStore): void => {
  const map = trackedOf(store);
  for (const app of appViews(store)) {
    const certificate = app.certificate;
    const configHash = configWithoutCertificate(store, app);
    const modified = app.lastModifiedDate.getTime();
    const t = map.get(keyOf(app));
    if (!t) {
      map.set(keyOf(app), { certificate, configHash, lastModified: modified, priorServedSince: modified });
      continue;
    }
    if (modified < t.lastModified) {
      // The app was aged (fixture load, agePropagation): everything it holds has propagated.
      Object.assign(t, { certificate, configHash, lastModified: modified, previous: undefined, exempt: undefined, priorServedSince: modified });
      continue;
    }
    const certChanged = normalize(certificate) !== normalize(t.certificate);
    if (modified === t.lastModified && !certChanged && configHash === t.configHash) continue;
    const prior = servedSinceOf(t);
    if (certChanged) {
      t.previous = { certificate: t.certificate, changedAt: store.now().getTime() };
      t.exempt = configHash === t.configHash ? { stamp: modified, servedSince: prior, reason: 'certificate' } : undefined;
    } else {
      t.exempt = undefined;
    }
    Object.assign(t, { certificate, configHash, lastModified: modified, priorServedSince: prior });
  }
};

const servedSinceOf = (t: Tracked): number => (t.exempt && t.exempt.stamp === t.lastModified ? t.exempt.servedSince : t.lastModified);

const mode = (store: OrgStore): 'previousCertificate' | 'appUnavailable' =>
  store.settings.certificatePropagation === 'appUnavailable' ? 'appUnavailable' : 'previousCertificate';

const windowMs = (store: OrgStore): number => Number(store.settings.propagationSeconds ?? 0) * 1000;

/** The change time oauth.ts measures the propagation window from. */
export const servedSince = (store: OrgStore, app: EmuApp): Date => {
  const t = trackedOf(store).get(keyOf(app));
  if (!t || t.lastModified !== app.lastModifiedDate.getTime() || !t.exempt) return app.lastModifiedDate;
  if (mode(store) === 'appUnavailable' && t.exempt.reason === 'certificate') return app.lastModifiedDate;
  return new Date(servedSinceOf(t));
};

/** The certificate the org verifies assertions with now (PEM), or undefined when JWT bearer is not enabled. */
export const effectiveCertificate = (store: OrgStore, app: EmuApp): string | undefined => {
  const t = trackedOf(store).get(keyOf(app));
  if (mode(store) === 'previousCertificate' && t?.previous && store.now().getTime() - t.previous.changedAt < windowMs(store)) {
    return t.previous.certificate;
  }
  return app.certificate;
};

/** The app's latest change restarts no propagation window (a staged-credential rotate). Call after the write. */
export const exemptLatestChange = (store: OrgStore, app: EmuApp): void => {
  const t = trackedOf(store).get(keyOf(app));
  if (!t || t.lastModified !== app.lastModifiedDate.getTime()) return;
  t.exempt = { stamp: t.lastModified, servedSince: t.priorServedSince, reason: 'credentials' };
};
