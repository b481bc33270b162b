/*
 * Connect REST resources for External Client App credentials (Connect REST API Developer Guide,
 * "OAuth Credentials Resources", available v60.0; eca-deploy.md §4; OAuth Usage is in usage.ts, staged credentials
 * in staged-credentials.ts):
 *   GET /services/data/vXX.X/apps/oauth/credentials/{appIdentifier}
 *   GET /services/data/vXX.X/apps/oauth/credentials/{appIdentifier}/{oauthConsumerIdentifier}?part=key|secret|keyandsecret
 * Response field names follow wire/eca-connect-credentials-shapes-INFERRED.json (third-party client code, not a
 * capture): usage {apps:[{developerName,identifier,label}]}, credentials {consumers:[{id,key,name}]}, one consumer
 * {key,secret}.
 */
import { appViews, bool, byAppName, ecaSettings, userHasPermission, type EmuApp } from './apps.js';
import { json, type EmuResponse, type Route } from './http.js';
import { ApiError, idSuffix, type OrgStore } from './store.js';

const notFound = (): ApiError => new ApiError('NOT_FOUND', 'The requested resource does not exist', 404);

const requireVersion = (version: string, min: number): void => {
  if (Number(version) < min) throw notFound();
};

/**
 * App identifier: the ExternalClientApplication Id (15 or 18 characters). The resources are "OAuth Credentials by
 * App ID" / "by Consumer ID" (Connect REST API Developer Guide); nothing documents a developer name there, so a
 * name is an unknown resource: NOT_FOUND, as for any other (eca-deploy.md §4).
 */
const findEca = (store: OrgStore, identifier: string): EmuApp => {
  const id = /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(identifier) ? store.normalizeId(identifier) : undefined;
  const app = id ? appViews(store).find((a) => a.kind === 'ExternalClientApplication' && a.id === id) : undefined;
  if (!app) throw notFound();
  return app;
};

/** The OAuth consumer of an ECA exists once its global OAuth settings do. Its Id uses key prefix 888 (the OAuth
 * consumer / RemoteAccess entity): unconfirmed for ECAs. Derived from the app Id so it stays stable. */
export const consumerOf = (store: OrgStore, app: EmuApp): { id: string; key: string; secret?: string; name: string } | undefined => {
  if (!app.consumerKey || !byAppName(store, 'ExtlClntAppGlobalOauthSettings', app.fullName)) return undefined;
  const id15 = `888${app.id.slice(3, 15)}`;
  return { id: id15 + idSuffix(id15), key: app.consumerKey, secret: app.consumerSecret, name: app.label };
};

/**
 * Reading the secret needs the org setting "Allow access to External Client App consumer secrets via REST API"
 * (ExternalClientAppSettings.enableClientSecretInRestApiAccess, v62+) and the External Client App Developer and View
 * Client Secret permissions (eca-deploy.md §4, third-party). Status and text of the refusal are unconfirmed.
 */
const secretRefusal = (store: OrgStore, userId: string): ApiError | undefined => {
  if (!bool(ecaSettings(store).enableClientSecretInRestApiAccess)) {
    return new ApiError('INSUFFICIENT_ACCESS', 'Access to consumer secrets through the REST API is turned off in this org (External Client App Settings).', 403);
  }
  if (!userHasPermission(store, userId, 'ExternalClientAppDeveloper') || !userHasPermission(store, userId, 'ViewClientSecret')) {
    return new ApiError('INSUFFICIENT_ACCESS', "You don't have permission to view the consumer secret of this external client app.", 403);
  }
  return undefined;
};

const PARTS = ['key', 'secret', 'keyandsecret'];

export const connectRoutes = (): Route[] => [
  {
    method: 'GET',
    pattern: /^\/services\/data\/v(\d+\.\d)\/apps\/oauth\/credentials\/([^/]+)\/?$/,
    auth: 'bearer',
    handler: (_req, m, store): EmuResponse => {
      requireVersion(m[1], 60);
      const app = findEca(store, decodeURIComponent(m[2]));
      const consumer = consumerOf(store, app);
      const base = `/services/data/v${m[1]}/apps/oauth/credentials/${app.id}`;
      // url and stagedCredentialsUrl as a third-party client reads them (Infisical's Salesforce rotation; unconfirmed).
      const urls = (id: string): Record<string, string> => ({ stagedCredentialsUrl: `${base}/${id}/staged`, url: `${base}/${id}` });
      return json(200, { consumers: consumer ? [{ id: consumer.id, key: consumer.key, name: consumer.name, ...urls(consumer.id) }] : [] });
    },
  },
  {
    method: 'GET',
    pattern: /^\/services\/data\/v(\d+\.\d)\/apps\/oauth\/credentials\/([^/]+)\/([^/]+)\/?$/,
    auth: 'bearer',
    handler: (req, m, store): EmuResponse => {
      requireVersion(m[1], 60);
      const app = findEca(store, decodeURIComponent(m[2]));
      const consumer = consumerOf(store, app);
      const wanted = decodeURIComponent(m[3]);
      if (!consumer || (wanted !== consumer.id && wanted !== consumer.id.slice(0, 15))) throw notFound();
      const part = req.url.searchParams.get('part') ?? 'key';
      if (!PARTS.includes(part)) {
        throw new ApiError('INVALID_PARAMETER_VALUE', `Invalid value for part: ${part}. Valid values are key, secret, keyandsecret.`, 400) /* unconfirmed */;
      }
      if (part !== 'key') {
        const refusal = secretRefusal(store, req.session?.userId ?? '');
        if (refusal) throw refusal;
      }
      // The secret "is returned only when specified" (doc); properties not asked for are null (Connect output classes
      // serialize every property; unconfirmed).
      return json(200, { key: part === 'secret' ? null : consumer.key, secret: part === 'key' ? null : consumer.secret ?? null });
    },
  },
];
