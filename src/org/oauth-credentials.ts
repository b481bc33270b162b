/*
 * Reading an app's consumer key (and, for client credentials, its secret) back from the org: the org mints them,
 * the deployer cannot choose them (../shared/reference/eca-deploy.md §3-4). External Client Apps through the
 * Connect REST credentials resource (v60+), which takes the app's Id ("OAuth Credentials by App ID"; a developer
 * name is not an app identifier there); Connected Apps through readMetadata.
 */
import { readConnectedApp } from './snapshot.js';
import { ApiCallError, soqlString, type Transport } from './transport.js';
import type { AppKind } from './types.js';

/** The ExternalClientApplication Id (0xI) of an app named by its API name, when the caller does not know it. */
const ecaIdOf = async (transport: Transport, name: string): Promise<string | undefined> => {
  const soql = `SELECT Id FROM ExternalClientApplication WHERE DeveloperName = ${soqlString(name)}`;
  const rows = (await transport.queryBatch({ eca: soql })).eca;
  if (!(rows instanceof ApiCallError)) return rows[0] ? String(rows[0].Id) : undefined;
  // Orgs where the data API does not serve the object: the Tooling API's ExternalClientApplication has it too.
  const tooling = await transport.toolingQuery<{ Id: string }>(soql);
  return tooling[0]?.Id;
};

type Consumers = { consumers: Array<{ id: string; key: string; name?: string }> };

export type ConsumerCredentials = { consumerKey?: string; consumerSecret?: string; secretError?: string };

/** The consumer key; with `secret`, also the consumer secret when the org allows reading it. */
export const readConsumerCredentials = async (
  transport: Transport,
  app: { kind: AppKind; name: string; id?: string },
  opts: { secret: boolean }
): Promise<ConsumerCredentials> => {
  if (app.kind === 'connected-app') {
    const component = await readConnectedApp(transport, app.name);
    const cfg = (component?.oauthConfig ?? {}) as { consumerKey?: string };
    return {
      consumerKey: cfg.consumerKey,
      ...(opts.secret ? { secretError: 'Connected App consumer secrets are not returned by the Metadata API; copy it from Setup.' } : {}),
    };
  }
  const appId = app.id ?? (await ecaIdOf(transport, app.name));
  if (!appId) return {};
  const list = await transport.rest<Consumers>('GET', `/apps/oauth/credentials/${encodeURIComponent(appId)}`);
  const consumer = list.consumers[0];
  if (!consumer) return {};
  if (!opts.secret) return { consumerKey: consumer.key };
  try {
    const both = await transport.rest<{ key?: string; secret?: string }>(
      'GET',
      `/apps/oauth/credentials/${encodeURIComponent(appId)}/${encodeURIComponent(consumer.id)}?part=keyandsecret`
    );
    return { consumerKey: both.key ?? consumer.key, consumerSecret: both.secret ?? undefined };
  } catch (e) {
    return { consumerKey: consumer.key, secretError: e instanceof ApiCallError ? `${e.errorCode}: ${e.message}` : String(e) };
  }
};
