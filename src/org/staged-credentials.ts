/*
 * Staged OAuth credentials of an External Client App, the one API that rotates a consumer key and secret with an
 * overlap (Salesforce Help, "Stage, Rotate, and Delete OAuth Credentials for an External Client App"; Connect REST
 * v65.0): GET|POST /apps/oauth/credentials/{appId}/{consumerId}/staged, PATCH .../staged/{stagedId}
 * {"command":"rotate"}, DELETE .../staged/{stagedId}. Staged credentials are valid 30 days unless deleted; after a
 * rotate the previous set stays valid 30 days unless its slot is deleted; one staged set per consumer. Needs the
 * setting "Allow access to External Client App consumer secrets via REST API" and the External Client App Developer
 * and View Client Secret permissions; local apps only. Secrets stay in memory: the caller writes them to 0600 files.
 */
import { ApiCallError, soqlString, type Transport } from './transport.js';

/** The first API version that serves the staged-credentials resource (the help's examples use v65.0). */
export const STAGED_MIN_VERSION = 65;

export type StagedState = 'Active' | 'Rotated' | 'Expired';

/** `state` as the org answers it: Active, Rotated or Expired (StagedState). */
export type StagedCredential = { id: string; key: string; secret: string; state: string };

type Collection = { stagedCredentials?: Array<{ id?: string; key?: string; secret?: string; state?: string }> };

/** Where the app's one consumer lives: the app Id (0xI) and the consumer Id, for the staged resource's path. */
export type StagedTarget = { appId: string; consumerId: string; consumerKey: string };

const version = (transport: Transport): string => {
  const v = Number(transport.apiVersion);
  return (Number.isFinite(v) && v >= STAGED_MIN_VERSION ? v : STAGED_MIN_VERSION).toFixed(1);
};

const base = (transport: Transport, t: StagedTarget): string =>
  `/services/data/v${version(transport)}/apps/oauth/credentials/${encodeURIComponent(t.appId)}/${encodeURIComponent(t.consumerId)}/staged`;

const credentialsOf = (body: Collection | undefined): StagedCredential[] =>
  (body?.stagedCredentials ?? [])
    .filter((c) => c.id && c.key)
    .map((c) => ({ id: String(c.id), key: String(c.key), secret: String(c.secret ?? ''), state: String(c.state ?? '') }));

/** The app's Id and its consumer, by the app's API name. */
export const stagedTarget = async (transport: Transport, app: { name: string; id?: string }): Promise<StagedTarget | undefined> => {
  let appId = app.id;
  if (!appId) {
    const rows = (await transport.queryBatch({ eca: `SELECT Id FROM ExternalClientApplication WHERE DeveloperName = ${soqlString(app.name)}` })).eca;
    if (rows instanceof ApiCallError) throw rows;
    appId = rows[0] ? String(rows[0].Id) : undefined;
  }
  if (!appId) return undefined;
  const list = await transport.rest<{ consumers?: Array<{ id: string; key: string }> }>('GET', `/apps/oauth/credentials/${encodeURIComponent(appId)}`);
  const consumer = list.consumers?.[0];
  return consumer ? { appId, consumerId: consumer.id, consumerKey: consumer.key } : undefined;
};

/** The slot as it stands (empty, Active, Rotated or Expired). A read: it also proves the gates are open. */
export const listStaged = async (transport: Transport, t: StagedTarget): Promise<StagedCredential[]> =>
  credentialsOf(await transport.rest<Collection>('GET', base(transport, t)));

/** A new key and secret in the slot, usable at once beside the main set. */
export const stageCredentials = async (transport: Transport, t: StagedTarget): Promise<StagedCredential> => {
  // The help documents an empty body: an empty JSON object, so the request carries a body its content type names.
  const staged = credentialsOf(await transport.rest<Collection>('POST', base(transport, t), {}))[0];
  if (!staged) throw new ApiCallError('INVALID_RESPONSE', 'The org answered the staging request without staged credentials.');
  return staged;
};

/** The staged set becomes the main set; the slot then holds the previous set (Rotated, valid 30 days). */
export const rotateStaged = async (transport: Transport, t: StagedTarget, stagedId: string): Promise<void> => {
  await transport.rest('PATCH', `${base(transport, t)}/${encodeURIComponent(stagedId)}`, { command: 'rotate' });
};

/** Empties the slot: unused staged credentials, or the previous set after a rotate, gone at once. */
export const deleteStaged = async (transport: Transport, t: StagedTarget, stagedId: string): Promise<void> => {
  await transport.rest('DELETE', `${base(transport, t)}/${encodeURIComponent(stagedId)}`);
};
