/*
 * Staged OAuth credentials of External Client Apps (Connect REST v65.0; Salesforce Help "Stage, Rotate, and Delete
 * OAuth Credentials for an External Client App", eca_stage_oauth_credentials.htm; governance-facts.md §4):
 *   GET|POST /services/data/vXX.X/apps/oauth/credentials/{appId}/{consumerId}/staged
 *   PATCH    .../staged/{stagedId}   {"command":"rotate"}
 *   DELETE   .../staged/{stagedId}
 * Documented: "User Permissions Needed: External Client App Developer and View Client Secret"; "Allow access to
 * External Client App consumer secrets via REST API must be turned on" (ExternalClientAppSettings.
 * enableClientSecretInRestApiAccess); staged credentials are valid 30 days unless deleted; after a rotate the
 * previous credentials stay valid 30 days unless their slot is deleted; one staged credential per consumer.
 * Shapes as a third-party client reads them (Infisical's Salesforce rotation): POST and GET answer
 * {stagedCredentials:[{id,key,secret,state,url}], url}.
 *
 * The model: a consumer has its main key and secret (ExtlClntAppGlobalOauthSettings) and at most one slot.
 *   POST    fills the slot with a new key and secret, state Active: the token endpoint accepts them at once.
 *   PATCH   rotate: the slot's set becomes the main set; the slot now holds the previous set, state Rotated.
 *   DELETE  empties the slot: staged credentials never used, or the previous set gone at once (revoke previous).
 *   30 days after staging (Active) or rotating (Rotated), by the emulator's clock (emulator.now), the slot's set
 *   is Expired and refused; emulator.stagedCredentialsAfterExpiry says whether it stays listed ('listedAsExpired',
 *   default, and still occupies the slot) or is removed ('removed', as one practitioner reports).
 * Choices no source settles are in STAGED_MODEL. The slots are not part of GET /__emulator/state.
 */
import { appViews, bool, byAppName, ecaSettings, mintConsumerKey, mintConsumerSecret, userHasPermission, type EmuApp } from './apps.js';
import { consumerOf } from './connect.js';
import { json, readJson, type EmuRequest, type EmuResponse, type Route } from './http.js';
import { exemptLatestChange } from './propagation.js';
import { ApiError, idSuffix, perStore, type OrgStore } from './store.js';

export type StagedState = 'Active' | 'Rotated' | 'Expired';

export const STAGED_MODEL = {
  /** "valid 30 days" (help). */
  validDays: 30,
  /** First API version serving the resource: the help's examples use v65.0; earlier versions answer NOT_FOUND. */
  minVersion: 65,
  /** Status of a successful POST (unconfirmed; Connect REST creates answer 201). */
  createdStatus: 201,
  /** Key prefix of staged credential Ids (unconfirmed). */
  idPrefix: '0Hx',
  /** Refusals whose codes and texts are unconfirmed. */
  refusals: {
    settingOff: { status: 403, errorCode: 'INSUFFICIENT_ACCESS', message: 'Access to consumer secrets through the REST API is turned off in this org (External Client App Settings).' },
    permission: {
      status: 403,
      errorCode: 'INSUFFICIENT_ACCESS',
      message: 'You need the External Client App Developer and View Client Secret permissions to manage staged OAuth credentials.',
    },
    notLocal: { status: 403, errorCode: 'INSUFFICIENT_ACCESS', message: 'Staged OAuth credentials are available for local external client apps only.' },
    slotTaken: { status: 400, errorCode: 'INVALID_INPUT', message: 'This consumer already has staged credentials. Delete them before staging new ones.' },
    badCommand: { status: 400, errorCode: 'INVALID_INPUT', message: 'Invalid command. The only supported command is rotate.' },
    notRotatable: { status: 400, errorCode: 'INVALID_INPUT', message: 'Only active staged credentials can be rotated.' },
  },
} as const;

type Slot = { id: string; appId: string; consumerId: string; key: string; secret: string; state: 'Active' | 'Rotated'; since: number };

const slotsOf = perStore(() => new Map<string, Slot>());
let slotCounter = 1;

const DAY = 86_400_000;

const stateOf = (store: OrgStore, slot: Slot): StagedState =>
  store.now().getTime() >= slot.since + STAGED_MODEL.validDays * DAY ? 'Expired' : slot.state;

/** The consumer's slot as it stands now (an expired slot is dropped when the setting says so). */
const slotOf = (store: OrgStore, consumerId: string): Slot | undefined => {
  const slot = slotsOf(store).get(consumerId);
  if (slot && stateOf(store, slot) === 'Expired' && store.settings.stagedCredentialsAfterExpiry === 'removed') {
    slotsOf(store).delete(consumerId);
    return undefined;
  }
  return slot;
};

/** Credentials the token endpoint accepts beside the main set: a live (Active or Rotated) slot's key and secret. */
export const stagedClient = (store: OrgStore, consumerKey: string): { app: EmuApp; secret: string } | undefined => {
  for (const slot of slotsOf(store).values()) {
    if (slot.key !== consumerKey || stateOf(store, slot) === 'Expired') continue;
    const app = appViews(store).find((a) => a.id === slot.appId);
    return app ? { app, secret: slot.secret } : undefined;
  }
  return undefined;
};

const refuse = (r: { status: number; errorCode: string; message: string }): ApiError => new ApiError(r.errorCode, r.message, r.status);
const notFound = (): ApiError => new ApiError('NOT_FOUND', 'The requested resource does not exist', 404);

/** Path checks and gates, in the order a request meets them. */
const target = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): { app: EmuApp; consumerId: string; base: string } => {
  const [, version, appIdRaw, consumerRaw] = m;
  if (Number(version) < STAGED_MODEL.minVersion) throw notFound();
  const appId = decodeURIComponent(appIdRaw);
  // The app is named by its Id (the resource pages are "by App ID"); 15 or 18 characters.
  const id = /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(appId) ? store.normalizeId(appId) : undefined;
  const app = appViews(store).find((a) => a.kind === 'ExternalClientApplication' && a.id === id);
  const consumer = app ? consumerOf(store, app) : undefined;
  const wanted = decodeURIComponent(consumerRaw);
  if (!app || !consumer || (wanted !== consumer.id && wanted !== consumer.id.slice(0, 15))) throw notFound();
  if (!bool(ecaSettings(store).enableClientSecretInRestApiAccess)) throw refuse(STAGED_MODEL.refusals.settingOff);
  const userId = req.session?.userId ?? '';
  if (!userHasPermission(store, userId, 'ExternalClientAppDeveloper') || !userHasPermission(store, userId, 'ViewClientSecret')) {
    throw refuse(STAGED_MODEL.refusals.permission);
  }
  const header = store.getMetadata('ExternalClientApplication', app.fullName);
  if ((header?.distributionState ?? 'Local') !== 'Local') throw refuse(STAGED_MODEL.refusals.notLocal);
  return { app, consumerId: consumer.id, base: `/services/data/v${version}/apps/oauth/credentials/${app.id}/${consumer.id}/staged` };
};

const view = (store: OrgStore, slot: Slot, base: string): Record<string, unknown> => ({
  id: slot.id,
  key: slot.key,
  secret: slot.secret,
  state: stateOf(store, slot),
  url: `${base}/${slot.id}`,
});

const collection = (store: OrgStore, base: string, slot: Slot | undefined): Record<string, unknown> => ({
  stagedCredentials: slot ? [view(store, slot, base)] : [],
  url: base,
});

const list = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  const { consumerId, base } = target(req, m, store);
  return json(200, collection(store, base, slotOf(store, consumerId)));
};

const stage = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  const { app, consumerId, base } = target(req, m, store);
  if (slotOf(store, consumerId)) throw refuse(STAGED_MODEL.refusals.slotTaken);
  const id15 = `${STAGED_MODEL.idPrefix}5g${String(slotCounter++).padStart(10, '0')}`;
  const slot: Slot = { id: id15 + idSuffix(id15), appId: app.id, consumerId, key: mintConsumerKey(), secret: mintConsumerSecret(), state: 'Active', since: store.now().getTime() };
  slotsOf(store).set(consumerId, slot);
  store.writeCount++;
  return json(STAGED_MODEL.createdStatus, collection(store, base, slot));
};

const slotById = (store: OrgStore, consumerId: string, stagedId: string): Slot => {
  const slot = slotOf(store, consumerId);
  const wanted = decodeURIComponent(stagedId);
  if (!slot || (wanted !== slot.id && wanted !== slot.id.slice(0, 15))) throw notFound();
  return slot;
};

const rotate = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  const { app, consumerId, base } = target(req, m, store);
  const slot = slotById(store, consumerId, m[4]);
  const body = readJson(req) as { command?: unknown } | null;
  if (!body || typeof body !== 'object' || body.command !== 'rotate') throw refuse(STAGED_MODEL.refusals.badCommand);
  if (stateOf(store, slot) !== 'Active') throw refuse(STAGED_MODEL.refusals.notRotatable);
  const global = byAppName(store, 'ExtlClntAppGlobalOauthSettings', app.fullName)!;
  const previous = { key: String(global.consumerKey), secret: String(global.consumerSecret ?? '') };
  store.putMetadata('ExtlClntAppGlobalOauthSettings', { ...structuredClone(global), consumerKey: slot.key, consumerSecret: slot.secret }, { userId: req.session?.userId });
  const promoted = appViews(store).find((a) => a.id === app.id);
  if (promoted) exemptLatestChange(store, promoted);
  Object.assign(slot, { key: previous.key, secret: previous.secret, state: 'Rotated', since: store.now().getTime() });
  return json(200, collection(store, base, slot));
};

const remove = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  const { consumerId } = target(req, m, store);
  slotById(store, consumerId, m[4]);
  slotsOf(store).delete(consumerId);
  store.writeCount++;
  return { status: 204 };
};

const STAGED = String.raw`^\/services\/data\/v(\d+\.\d)\/apps\/oauth\/credentials\/([^/]+)\/([^/]+)\/staged`;

export const stagedCredentialRoutes = (): Route[] => [
  { method: 'GET', pattern: new RegExp(`${STAGED}\\/?$`), auth: 'bearer', handler: list },
  { method: 'POST', pattern: new RegExp(`${STAGED}\\/?$`), auth: 'bearer', handler: stage },
  { method: 'PATCH', pattern: new RegExp(`${STAGED}\\/([^/]+)\\/?$`), auth: 'bearer', handler: rotate },
  { method: 'DELETE', pattern: new RegExp(`${STAGED}\\/([^/]+)\\/?$`), auth: 'bearer', handler: remove },
];
