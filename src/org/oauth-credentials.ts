/*
 * Reading an app's consumer key (and, for client credentials, its secret) back from the org: the org mints them,
 * the deployer cannot choose them (../shared/reference/eca-deploy.md §3-4). External Client Apps through the
 * Connect REST credentials resource (v60+); Connected Apps through readMetadata.
 */
import { readConnectedApp } from './snapshot.js';
import { ApiCallError, type Transport } from './transport.js';
import type { AppKind } from './types.js';

type Consumers = { consumers: Array<{ id: string; key: string; name?: string }> };

export type ConsumerCredentials = { consumerKey?: string; consumerSecret?: string; secretError?: string };

/** The consumer key; with `secret`, also the consumer secret when the org allows reading it. */
export const readConsumerCredentials = async (
  transport: Transport,
  app: { kind: AppKind; name: string },
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
  const list = await transport.rest<Consumers>('GET', `/apps/oauth/credentials/${encodeURIComponent(app.name)}`);
  const consumer = list.consumers[0];
  if (!consumer) return {};
  if (!opts.secret) return { consumerKey: consumer.key };
  try {
    const both = await transport.rest<{ key?: string; secret?: string }>(
      'GET',
      `/apps/oauth/credentials/${encodeURIComponent(app.name)}/${consumer.id}?part=keyandsecret`
    );
    return { consumerKey: both.key ?? consumer.key, consumerSecret: both.secret ?? undefined };
  } catch (e) {
    return { consumerKey: consumer.key, secretError: e instanceof ApiCallError ? `${e.errorCode}: ${e.message}` : String(e) };
  }
};
