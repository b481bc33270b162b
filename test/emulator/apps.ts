/*
 * OAuth apps in the emulated org. The Metadata API components are the truth (ConnectedApp; the External
 * Client App family linked by `externalClientApplication`); the records SOQL sees (ConnectedApplication,
 * ExternalClientApplication, ExtlClntAppOauthPlcyCnfg, AppMenuItem, SetupEntityAccess rows that pre-authorize
 * permission sets and profiles) are derived from them here, and REST writes to SetupEntityAccess for an app
 * are written back into the metadata. `appViews` gives the token endpoint one face for both kinds.
 *
 * Field mapping: ../shared/reference/salesforce-facts.md §1.1, §1.14, §2.1, §2.2.
 */
import { randomBytes } from 'node:crypto';
import type { MetadataComponent, OrgStore, SRecord, StoreDeriver } from './store.js';
import { metadataTypes, validateComponent } from './vocabulary.js';

export const ECA_TYPES = [
  'ExternalClientApplication',
  'ExtlClntAppOauthSettings',
  'ExtlClntAppGlobalOauthSettings',
  'ExtlClntAppOauthConfigurablePolicies',
  'ExtlClntAppConfigurablePolicies',
] as const;

export type PermittedUsers = 'AdminApprovedPreAuthorized' | 'AllSelfAuthorized';

/** One face for both app kinds, in the terms the token endpoint needs. */
export type EmuApp = {
  kind: 'ExternalClientApplication' | 'ConnectedApp';
  /** ConnectedApplication (0H4) or ExternalClientApplication (0xI) Id. */
  id: string;
  fullName: string;
  label: string;
  consumerKey?: string;
  consumerSecret?: string;
  /** PEM certificate: its presence enables the JWT bearer flow. */
  certificate?: string;
  clientCredentialsEnabled: boolean;
  /** Username of the client-credentials run-as user. */
  clientCredentialsUser?: string;
  permittedUsers: PermittedUsers;
  /** Permission set Ids pre-authorized on the app (profiles resolved to their owned permission sets). */
  permissionSetIds: string[];
  profileIds: string[];
  /** 'infinite' | 'zero' | 'specific_lifetime:N:UNIT' | 'specific_inactivity:N:UNIT' (ConnectedApp spelling). */
  refreshTokenPolicy: string;
  /** 'ENFORCE' | 'BYPASS' | 'BYPASS_2FACTOR' | 'ENFORCE_RELAXREFRESH' (ConnectedApp spelling). */
  ipRelaxation: string;
  /** Scope names as in metadata (Api, RefreshToken, ...). */
  scopes: string[];
  pkceRequired: boolean;
  namedUserJwt: boolean;
  /** Installed and enabled (ExtlClntAppConfigurablePolicies.isEnabled / isOauthPluginEnabled). */
  enabled: boolean;
  createdDate: Date;
  lastModifiedDate: Date;
};

export const bool = (v: unknown): boolean => v === true || v === 'true';
const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));
const list = (v: unknown): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]).filter((s) => s !== '');
const csv = (v: unknown): string[] =>
  str(v)
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean) ?? [];

type Bookkeeping = { ids: Map<string, string>; stamps: Map<string, { created: Date; modified: Date; hash: string }> };
const books = new WeakMap<OrgStore, Bookkeeping>();
const book = (store: OrgStore): Bookkeeping => {
  let b = books.get(store);
  if (!b) {
    b = { ids: new Map(), stamps: new Map() };
    books.set(store, b);
  }
  return b;
};

/** Stable Id for a derived record, keyed by type and the component's name. */
const stableId = (store: OrgStore, type: string, key: string): string => {
  const b = book(store);
  const k = `${type}:${key}`;
  let id = b.ids.get(k);
  if (!id) {
    id = store.newId(type);
    b.ids.set(k, id);
  }
  return id;
};

/** Created/modified times of an app, bumped whenever any of its components changes. */
const stamp = (store: OrgStore, key: string, components: unknown[]): { created: Date; modified: Date } => {
  const b = book(store);
  const hash = JSON.stringify(components);
  const now = store.now();
  const prev = b.stamps.get(key);
  if (!prev) {
    const s = { created: now, modified: now, hash };
    b.stamps.set(key, s);
    return s;
  }
  if (prev.hash !== hash) {
    prev.modified = now;
    prev.hash = hash;
  }
  return prev;
};

/**
 * Marks every app as created/modified an hour before the org's clock at the latest, past the longest propagation
 * window (2 to 10 minutes), so apps given in a fixture have propagated; never makes an app younger. An hour, not the
 * epoch: CreatedDate is also how old an app's consumer secret is when nothing else tells (credential age), and a
 * fixture's healthy app is not decades old. An app meant to be old is created with emulator.now set back.
 */
export const agePropagation = (store: OrgStore): void => {
  const settled = store.now().getTime() - 3_600_000;
  for (const s of book(store).stamps.values()) {
    s.created = new Date(Math.min(s.created.getTime(), settled));
    s.modified = new Date(Math.min(s.modified.getTime(), settled));
  }
  // The records SOQL sees (CreatedDate / LastModifiedDate of ExternalClientApplication, ...) carry the same dates.
  store.recomputeDerived();
};

const byApp = (store: OrgStore, type: string, appName: string): MetadataComponent | undefined =>
  store.listMetadata(type).find((c) => c.externalClientApplication === appName);
/** The component of an ECA part type that names the app. */
export const byAppName = byApp;

const permissionSetIdByName = (store: OrgStore, name: string): string | undefined =>
  store.all('PermissionSet').find((p) => p.Name === name && p.IsOwnedByProfile !== true)?.Id;

/**
 * A commaSeparatedPermissionSet entry: a permission set Id (what the type page says) or its API name (what
 * Salesforce's own sample and metadata retrieved from real orgs use; eca-deploy.md §5). API names compare
 * case-insensitively, as Salesforce resolves them.
 */
export const permissionSetByReference = (store: OrgStore, ref: string): SRecord | undefined => {
  if (ID_15_18.test(ref)) {
    const ps = store.get(ref);
    if (ps && store.typeOf(ps.Id) === 'PermissionSet') return ps;
  }
  const lower = ref.toLowerCase();
  return store.all('PermissionSet').find((p) => String(p.Name).toLowerCase() === lower && p.IsOwnedByProfile !== true);
};

/** The form retrieve and readMetadata answer commaSeparatedPermissionSet in (`emulator.permissionSetReferences`). */
export const permissionSetReferencesOut = (store: OrgStore, value: unknown): string =>
  csv(value)
    .map((ref) => {
      const ps = permissionSetByReference(store, ref);
      if (!ps) return ref;
      return (store.settings.permissionSetReferences ?? 'names') === 'ids' ? ps.Id : String(ps.Name);
    })
    .join(',');

const profileIdByName = (store: OrgStore, name: string): string | undefined => store.all('Profile').find((p) => p.Name === name)?.Id;

const profileOwnedPermissionSet = (store: OrgStore, profileId: string): string | undefined =>
  store.all('PermissionSet').find((p) => p.IsOwnedByProfile === true && p.ProfileId === profileId)?.Id;

/** Maps the ECA policy enums onto the ConnectedApp spellings, so checks speak one language. */
const ecaRefreshPolicy = (pol: MetadataComponent | undefined): string => {
  const type = str(pol?.refreshTokenPolicyType) ?? 'Infinite';
  const n = str(pol?.refreshTokenValidityPeriod) ?? '1';
  const unit = (str(pol?.refreshTokenValidityUnit) ?? 'Days').toUpperCase();
  switch (type) {
    case 'Zero':
      return 'zero';
    case 'SpecificLifetime':
      return `specific_lifetime:${n}:${unit}`;
    case 'SpecificInactivity':
      return `specific_inactivity:${n}:${unit}`;
    default:
      return 'infinite';
  }
};

const ecaIpRelaxation = (pol: MetadataComponent | undefined): string =>
  ({ Enforce: 'ENFORCE', Bypass: 'BYPASS', Bypass_2factor: 'BYPASS_2FACTOR', Enforce_RelaxRefresh: 'ENFORCE_RELAXREFRESH' })[
    str(pol?.ipRelaxationPolicyType) ?? 'Enforce'
  ] ?? 'ENFORCE';

/** All apps of the org, both kinds. */
export const appViews = (store: OrgStore): EmuApp[] => {
  const apps: EmuApp[] = [];
  for (const eca of store.listMetadata('ExternalClientApplication')) {
    const name = eca.fullName;
    const settings = byApp(store, 'ExtlClntAppOauthSettings', name);
    const global = byApp(store, 'ExtlClntAppGlobalOauthSettings', name);
    const pol = byApp(store, 'ExtlClntAppOauthConfigurablePolicies', name);
    const plugin = byApp(store, 'ExtlClntAppConfigurablePolicies', name);
    const s = stamp(store, `eca:${name}`, [eca, settings, global, pol, plugin]);
    const permissionSetIds = csv(pol?.commaSeparatedPermissionSet)
      .map((ref) => permissionSetByReference(store, ref)?.Id)
      .filter((p): p is string => Boolean(p));
    const profileIds = csv(pol?.commaSeparatedProfile)
      .map((p) => (/^00e[a-zA-Z0-9]{12}/.test(p) ? store.normalizeId(p) : profileIdByName(store, p)))
      .filter((p): p is string => Boolean(p));
    apps.push({
      kind: 'ExternalClientApplication',
      id: stableId(store, 'ExternalClientApplication', name),
      fullName: name,
      label: str(eca.label) ?? name,
      consumerKey: str(global?.consumerKey),
      consumerSecret: str(global?.consumerSecret),
      certificate: str(global?.certificate),
      // Both halves must be on: the developer's global setting and the admin's policy (reference §2.2 mapping).
      clientCredentialsEnabled: bool(global?.isClientCredentialsFlowEnabled) && bool(pol?.isClientCredentialsFlowEnabled),
      clientCredentialsUser: str(pol?.clientCredentialsFlowUser),
      permittedUsers: (str(pol?.permittedUsersPolicyType) as PermittedUsers | undefined) ?? 'AllSelfAuthorized',
      permissionSetIds,
      profileIds,
      refreshTokenPolicy: ecaRefreshPolicy(pol),
      ipRelaxation: ecaIpRelaxation(pol),
      scopes: csv(settings?.commaSeparatedOauthScopes),
      // isPkceRequired defaults to true on ECAs (reference §2.2).
      pkceRequired: global?.isPkceRequired === undefined ? true : bool(global.isPkceRequired),
      namedUserJwt: bool(global?.isNamedUserJwtEnabled),
      enabled: plugin ? bool(plugin.isEnabled) && plugin.isOauthPluginEnabled !== 'false' && plugin.isOauthPluginEnabled !== false : Boolean(pol),
      createdDate: s.created,
      lastModifiedDate: s.modified,
    });
  }
  for (const ca of store.listMetadata('ConnectedApp')) {
    const cfg = (ca.oauthConfig ?? {}) as Record<string, unknown>;
    const pol = (ca.oauthPolicy ?? {}) as Record<string, unknown>;
    const s = stamp(store, `ca:${ca.fullName}`, [ca]);
    const permissionSetIds = list(ca.permissionSetName)
      .map((n) => permissionSetIdByName(store, n))
      .filter((p): p is string => Boolean(p));
    const profileIds = list(ca.profileName)
      .map((n) => profileIdByName(store, n))
      .filter((p): p is string => Boolean(p));
    apps.push({
      kind: 'ConnectedApp',
      id: stableId(store, 'ConnectedApplication', ca.fullName),
      fullName: ca.fullName,
      label: str(ca.label) ?? ca.fullName,
      consumerKey: str(cfg.consumerKey),
      consumerSecret: str(cfg.consumerSecret),
      certificate: str(cfg.certificate),
      clientCredentialsEnabled: bool(cfg.isClientCredentialEnabled),
      clientCredentialsUser: str(cfg.oauthClientCredentialUser),
      permittedUsers: bool(cfg.isAdminApproved) ? 'AdminApprovedPreAuthorized' : 'AllSelfAuthorized',
      permissionSetIds,
      profileIds,
      refreshTokenPolicy: str(pol.refreshTokenPolicy) ?? 'infinite',
      ipRelaxation: str(pol.ipRelaxation) ?? 'ENFORCE',
      scopes: list(cfg.scopes),
      pkceRequired: bool(cfg.isPkceRequired),
      namedUserJwt: bool(cfg.isNamedUserJwtEnabled),
      enabled: true,
      createdDate: s.created,
      lastModifiedDate: s.modified,
    });
  }
  return apps;
};

const iso = (d: Date): string => d.toISOString().replace('Z', '+0000');

/** Rebuilds every record derived from app metadata. */
const rebuild = (store: OrgStore): void => {
  const apps = appViews(store);
  const appIds = new Set(apps.map((a) => a.id));
  const audit = (a: EmuApp): Record<string, unknown> => ({
    CreatedDate: iso(a.createdDate),
    LastModifiedDate: iso(a.lastModifiedDate),
    SystemModstamp: iso(a.lastModifiedDate),
  });

  // An org without an object (emulator.absentObjects) has no rows of it to derive.
  const replace = (type: string, rows: () => SRecord[]): void => {
    if (!store.isAbsent(type)) store.replaceDerived(type, rows());
  };
  replace('ExternalClientApplication', () =>
    apps
      .filter((a) => a.kind === 'ExternalClientApplication')
      .map((a) => {
        const eca = store.getMetadata('ExternalClientApplication', a.fullName) ?? { fullName: a.fullName };
        return {
          Id: a.id,
          DeveloperName: a.fullName,
          MasterLabel: a.label,
          DistributionState: str(eca.distributionState) ?? 'Local',
          ContactEmail: str(eca.contactEmail) ?? null,
          OrgScopedExternalApp: str(eca.orgScopedExternalApp) ?? `${store.orgId}:${a.fullName}`,
          ...audit(a),
        };
      })
  );

  const policyRows: SRecord[] = [];
  for (const a of store.isAbsent('ExtlClntAppOauthPlcyCnfg') ? [] : apps.filter((x) => x.kind === 'ExternalClientApplication')) {
    const pol = byApp(store, 'ExtlClntAppOauthConfigurablePolicies', a.fullName);
    if (!pol) continue;
    policyRows.push({
      Id: stableId(store, 'ExtlClntAppOauthPlcyCnfg', pol.fullName),
      ExternalClientApplicationId: a.id,
      DeveloperName: pol.fullName,
      PermittedUsersPolicyType: str(pol.permittedUsersPolicyType) ?? 'AllSelfAuthorized',
      IpRelaxationPolicyType: str(pol.ipRelaxationPolicyType) ?? 'Enforce',
      RefreshTokenPolicyType: str(pol.refreshTokenPolicyType) ?? 'Infinite',
      RefreshTokenValidityPeriod: pol.refreshTokenValidityPeriod === undefined ? null : Number(pol.refreshTokenValidityPeriod),
      RefreshTokenValidityUnit: str(pol.refreshTokenValidityUnit) ?? null,
      RequiredSessionLevel: str(pol.requiredSessionLevel) ?? null,
      IsClientCredentialsFlowEnabled: bool(pol.isClientCredentialsFlowEnabled),
      ClientCredentialsFlowUser: str(pol.clientCredentialsFlowUser) ?? null,
      ...audit(a),
    });
  }
  replace('ExtlClntAppOauthPlcyCnfg', () => policyRows);

  replace('ConnectedApplication', () =>
    apps
      .filter((a) => a.kind === 'ConnectedApp')
      .map((a) => {
        const m = /^specific_(lifetime|inactivity):(\d+):/.exec(a.refreshTokenPolicy);
        return {
          Id: a.id,
          // Name is the label ("Connected App Name"); the API name is the Tooling API's DeveloperName.
          Name: a.label,
          DeveloperName: a.fullName,
          OptionsAllowAdminApprovedUsersOnly: a.permittedUsers === 'AdminApprovedPreAuthorized',
          OptionsRefreshTokenValidityMetric: m?.[1] === 'inactivity',
          RefreshTokenValidityPeriod: m ? Number(m[2]) : null,
          OptionsHasSessionLevelPolicy: false,
          OptionsIsInternal: false,
          StartUrl: null,
          ...audit(a),
        };
      })
  );

  replace('AppMenuItem', () =>
    apps.map((a) => ({
      Id: stableId(store, 'AppMenuItem', a.id),
      ApplicationId: a.id,
      Name: a.fullName,
      Label: a.label,
      Type: a.kind === 'ConnectedApp' ? 'ConnectedApplication' : 'ExternalClientApplication',
      IsUsingAdminAuthorization: a.permittedUsers === 'AdminApprovedPreAuthorized',
      IsVisible: true,
    }))
  );

  // SetupEntityAccess rows for apps: keep the Ids of rows that still apply (a client may hold them).
  const existing = new Map(
    store
      .all('SetupEntityAccess')
      .filter((r) => appIds.has(String(r.SetupEntityId)))
      .map((r) => [`${String(r.ParentId)}:${String(r.SetupEntityId)}`, r])
  );
  store.removeWhere('SetupEntityAccess', (r) => appIds.has(String(r.SetupEntityId)));
  const ts = store.timestamp();
  for (const a of apps) {
    const parents = new Set<string>(a.permissionSetIds);
    for (const p of a.profileIds) {
      const owned = profileOwnedPermissionSet(store, p);
      if (owned) parents.add(owned);
    }
    for (const parentId of parents) {
      if (!store.get(parentId)) continue;
      const prev = existing.get(`${parentId}:${a.id}`);
      store.putDerivedRow('SetupEntityAccess', {
        Id: prev?.Id ?? store.newId('SetupEntityAccess'),
        ParentId: parentId,
        SetupEntityId: a.id,
        SetupEntityType: a.kind === 'ConnectedApp' ? 'ConnectedApplication' : 'ExternalClientApplication',
        SystemModstamp: prev?.SystemModstamp ?? ts,
      });
    }
  }
};

/**
 * REST writes to SetupEntityAccess that name an app change the app's metadata (the Setup UI's "Manage
 * Permission Sets" on an app writes the same rows). Returns true when the row belongs to an app.
 */
export const applyAppAccessChange = (store: OrgStore, parentId: string, setupEntityId: string, op: 'add' | 'remove'): boolean => {
  const app = appViews(store).find((a) => a.id === setupEntityId);
  if (!app) return false;
  const ps = store.get(parentId);
  if (!ps) return true;
  if (app.kind === 'ConnectedApp') {
    const ca = structuredClone(store.getMetadata('ConnectedApp', app.fullName)!);
    if (ps.IsOwnedByProfile === true) {
      const profile = store.get(String(ps.ProfileId));
      const names = new Set(list(ca.profileName));
      if (op === 'add') names.add(String(profile?.Name));
      else names.delete(String(profile?.Name));
      ca.profileName = [...names];
    } else {
      const names = new Set(list(ca.permissionSetName));
      if (op === 'add') names.add(String(ps.Name));
      else names.delete(String(ps.Name));
      ca.permissionSetName = [...names];
    }
    store.putMetadata('ConnectedApp', ca, { system: true });
  } else {
    const pol = byApp(store, 'ExtlClntAppOauthConfigurablePolicies', app.fullName);
    if (!pol) return true;
    const next = structuredClone(pol);
    if (ps.IsOwnedByProfile === true) {
      const ids = new Set(csv(next.commaSeparatedProfile));
      if (op === 'add') ids.add(String(ps.ProfileId));
      else for (const p of [...ids]) if (store.normalizeId(p) === ps.ProfileId) ids.delete(p);
      next.commaSeparatedProfile = [...ids].join(',');
    } else {
      // The org keeps Ids (retrieve answers them in the form of emulator.permissionSetReferences).
      const ids = new Set(csv(next.commaSeparatedPermissionSet).map((ref) => permissionSetByReference(store, ref)?.Id ?? ref));
      if (op === 'add') ids.add(ps.Id);
      else ids.delete(ps.Id);
      next.commaSeparatedPermissionSet = [...ids].join(',');
    }
    store.putMetadata('ExtlClntAppOauthConfigurablePolicies', next, { system: true });
  }
  return true;
};

export const findAppByConsumerKey = (store: OrgStore, consumerKey: string): EmuApp | undefined =>
  appViews(store).find((a) => a.consumerKey !== undefined && a.consumerKey === consumerKey);

/** Installed into the store: derivation after every metadata change, and write-back of app access rows. */
export const deriveAppRecords: StoreDeriver = {
  derive: rebuild,
  appAccess: applyAppAccessChange,
};

// ======================================================================================================
// Writing apps through the Metadata API: what a real org checks, mints and refuses. metadata.ts parses
// envelopes and zips; the rules live here, once, for deploy and for the CRUD calls alike.
// Sources: ../shared/reference/eca-deploy.md (§n below), salesforce-facts.md §2.1/§2.2, the type pages'
// "Special Access Rules". Problem texts not seen in a real org are marked `unconfirmed`.
// ======================================================================================================

/** The External Client App family: written only through deploy() (eca-deploy.md §1). */
export const isEcaType = (type: string): boolean => (ECA_TYPES as readonly string[]).includes(type);

/** Store key of the org's External Client App settings (Settings type, member `ExternalClientApp`). */
export const ECA_SETTINGS_TYPE = 'ExternalClientAppSettings';
export const ECA_SETTINGS_NAME = 'ExternalClientApp';

/** Types the emulator can write through the Metadata API. */
export const WRITABLE_TYPES = [...ECA_TYPES, 'ConnectedApp', ECA_SETTINGS_TYPE] as const;

export const ecaSettings = (store: OrgStore): MetadataComponent =>
  store.getMetadata(ECA_SETTINGS_TYPE, ECA_SETTINGS_NAME) ?? { fullName: ECA_SETTINGS_NAME };

/** A user holds a system permission through the profile or any assigned permission set. */
export const userHasPermission = (store: OrgStore, userId: string, permission: string): boolean => {
  const user = store.get(userId);
  if (!user) return false;
  const field = `Permissions${permission}`;
  if (bool(store.get(String(user.ProfileId ?? ''))?.[field])) return true;
  return store
    .all('PermissionSetAssignment')
    .some((a) => a.AssigneeId === user.Id && bool(store.get(String(a.PermissionSetId))?.[field]));
};

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._';

/** Org-minted consumer key in Salesforce's shape: 85 characters starting with `3MVG9`. */
export const mintConsumerKey = (): string =>
  '3MVG9' + [...randomBytes(80)].map((b) => KEY_ALPHABET.charAt(b % KEY_ALPHABET.length)).join('');

/** Org-minted consumer secret: 64 upper-case hex characters (current Salesforce format). */
export const mintConsumerSecret = (): string => randomBytes(32).toString('hex').toUpperCase();

/** One component offered to the org by deploy() or a CRUD call. `body` holds the fields (no fullName needed). */
export type IncomingComponent = { type: string; fullName: string; fileName: string; body: Record<string, unknown> };

export type ComponentOutcome = {
  incoming: IncomingComponent;
  created: boolean;
  /** Set when the component is refused; the text a DeployMessage.problem / Error.message carries. */
  problem?: string;
  /** Error statusCode for CRUD results. */
  statusCode?: string;
  /** The component as the org would store it (generated values filled in). */
  toWrite?: MetadataComponent;
};

export type ChangeContext = {
  userId: string;
  /** API version of the request, e.g. 66. */
  apiVersion: number;
  /** Names of ExternalClientApplication components offered in the same deploy. */
  ecaNamesInRequest: Set<string>;
};

/*
 * Element names, element types and enumerations (PermittedUsersPolicyType, RefreshTokenPolicyType, PolicyAction,
 * SessionSecurityLevel, ExtlClntAppDistState, ConnectedAppOauthAccessScope, ...) come from the published Metadata
 * API types (vocabulary.ts). The fields below are plain strings in the WSDL, with the values the type pages document:
 * checked here, with a text that does not pretend they are enumerations (unconfirmed).
 */
const DOCUMENTED_VALUES: Record<string, Record<string, RegExp | string[]>> = {
  ExtlClntAppOauthConfigurablePolicies: {
    ipRelaxationPolicyType: ['Enforce', 'Bypass', 'Bypass_2factor', 'Enforce_RelaxRefresh'],
    refreshTokenValidityUnit: ['Days', 'Hours', 'Months'],
  },
};

const CONNECTED_APP_IP_RELAXATION = ['ENFORCE', 'BYPASS_2FACTOR', 'BYPASS', 'ENFORCE_RELAXREFRESH'];
const CONNECTED_APP_REFRESH_POLICY = /^(zero|infinite|specific_(lifetime|inactivity):\d+:(HOURS|DAYS|MONTHS))$/;

const badValue = (field: string, value: string): string => `'${value}' is not a valid value for ${field}` /* text unconfirmed */;

const documentedValue = (field: string, value: string | undefined, allowed: RegExp | string[]): string | undefined =>
  value === undefined || (Array.isArray(allowed) ? allowed.includes(value) : allowed.test(value)) ? undefined : badValue(field, value);

/**
 * Component names of the External Client App family are at most 40 characters: the policies' DeveloperName
 * (ExtlClntAppOauthPlcyCnfg) is documented so; that the other ECA types share the limit is unconfirmed
 * (published-vocabulary.md). Text unconfirmed.
 */
const ECA_NAME_MAX = 40;

const ID_15_18 = /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/;

/** The client-credentials run-as user must exist, be active and have API Only (type docs: "must have the API Only
 * permission"). Problem text as given by the lead's brief (unconfirmed as a Metadata API message). */
const badRunAsUser = (store: OrgStore, username: string): boolean => {
  const user = store.all('User').find((u) => String(u.Username).toLowerCase() === username.toLowerCase());
  return !user || user.IsActive === false || !userHasPermission(store, user.Id, 'ApiUserOnly');
};
const RUN_AS_PROBLEM = 'Enter a valid execution user for the OAuth client credentials flow.';

/** Permission the deploying user needs per ECA type ("Special Access Rules" of each type page). */
const ECA_TYPE_PERMISSION: Record<string, { permission: string; label: string } | undefined> = {
  ExtlClntAppOauthSettings: { permission: 'ViewClientSecret', label: 'View External Client Apps Consumer Secrets in Metadata' },
  ExtlClntAppGlobalOauthSettings: { permission: 'ViewClientSecret', label: 'View External Client Apps Consumer Secrets in Metadata' },
  ExtlClntAppOauthConfigurablePolicies: {
    permission: 'ExternalClientAppAdmin',
    label: 'View all External Client Apps, view their settings, and edit their policies',
  },
  ExtlClntAppConfigurablePolicies: {
    permission: 'ExternalClientAppAdmin',
    label: 'View all External Client Apps, view their settings, and edit their policies',
  },
};

/**
 * "Allow Access to OAuth Consumer Secrets via Metadata API" (ExternalClientAppSettings.enableConsumerSecretApiAccess).
 * Decision: the type pages of API v59-v65 say the OAuth settings types need it; the v66.0 (release 260) settings page
 * marks the field DEPRECATED, and a real-org report (2026) deployed all ECA types without it. So the emulator requires
 * it for deploys made at API version < 66.0 only; at every version it decides whether consumerSecret is exposed on
 * retrieve/read ("Metadata secrets protection", help xcloud.shr_external_client_apps.htm).
 */
export const SECRET_SETTING_DEPRECATED_FROM = 66;
const SECRET_SETTING_TYPES = ['ExtlClntAppOauthSettings', 'ExtlClntAppGlobalOauthSettings'];

/** Whether consumerSecret may leave the org through the Metadata API (retrieve/readMetadata). */
export const metadataSecretsExposed = (store: OrgStore, userId: string): boolean =>
  bool(ecaSettings(store).enableConsumerSecretApiAccess) && userHasPermission(store, userId, 'ViewClientSecret');

const existingChild = (store: OrgStore, type: string, appName: string, fullName: string): MetadataComponent | undefined =>
  store.getMetadata(type, fullName) ?? byApp(store, type, appName);

/** The oauthLink the org generates for an app's OAuth settings ("<orgId>:<...>", eca-deploy.md §6; the part after
 * the colon is unconfirmed; the app name is used). */
const oauthLinkFor = (store: OrgStore, appName: string): string => `${store.orgId}:${appName}`;

const checkEca = (store: OrgStore, c: IncomingComponent, ctx: ChangeContext): Pick<ComponentOutcome, 'problem' | 'toWrite' | 'created'> => {
  const settings = ecaSettings(store);
  const existing = store.getMetadata(c.type, c.fullName);
  const created = !existing;
  // Org gate (type page ExternalClientApplication: "requires orgs to enable the Opt in to External Client Apps
  // permission"). How the opt-in appears in metadata is unconfirmed, so it is an org setting of the emulator
  // (emulator.externalClientAppsOptIn), not a metadata field. Text unconfirmed.
  if (store.settings.externalClientAppsOptIn === false) {
    return { created, problem: 'External client apps are not enabled in this org. Turn on "Opt in to External Client Apps" in Setup, External Client App Settings.' };
  }
  if (c.fullName.length > ECA_NAME_MAX) {
    return { created, problem: `The name ${c.fullName} is too long for ${c.type}: use at most ${ECA_NAME_MAX} characters.` };
  }
  const perm = ECA_TYPE_PERMISSION[c.type];
  if (perm && !userHasPermission(store, ctx.userId, perm.permission)) {
    // Text unconfirmed.
    return { created, problem: `You need the "${perm.label}" user permission to deploy ${c.type} components.` };
  }
  if (SECRET_SETTING_TYPES.includes(c.type) && ctx.apiVersion < SECRET_SETTING_DEPRECATED_FROM && !bool(settings.enableConsumerSecretApiAccess)) {
    // Text unconfirmed.
    return { created, problem: 'Access to OAuth consumer secrets via Metadata API is not allowed in this org. Turn on "Allow Access to OAuth Consumer Secrets via Metadata API" (ExternalClientAppSettings.enableConsumerSecretApiAccess).' };
  }
  for (const [field, allowed] of Object.entries(DOCUMENTED_VALUES[c.type] ?? {})) {
    const problem = documentedValue(field, str(c.body[field]), allowed);
    if (problem) return { created, problem };
  }
  const out: MetadataComponent = { ...structuredClone(c.body), fullName: c.fullName };

  if (c.type === 'ExternalClientApplication') {
    if (!str(c.body.label)) return { created, problem: 'Required field is missing: label' } /* text unconfirmed */;
    if (!str(c.body.contactEmail)) return { created, problem: 'Required field is missing: contactEmail' } /* text unconfirmed */;
    // orgScopedExternalApp is generated as "[org ID]:[external client app name]" on the first deploy (type page).
    // A value naming another org or app is refused like a stale oauthLink (unconfirmed).
    const scoped = `${store.orgId}:${c.fullName}`;
    const given = str(c.body.orgScopedExternalApp);
    if (given !== undefined && given !== scoped && given !== str(existing?.orgScopedExternalApp)) {
      return { created, problem: `The orgScopedExternalApp value ${given} doesn't match this org's external client app ${scoped}.` };
    }
    out.orgScopedExternalApp = str(existing?.orgScopedExternalApp) ?? scoped;
    out.distributionState = str(c.body.distributionState) ?? 'Local';
    return { created, toWrite: out };
  }

  const appName = str(c.body.externalClientApplication);
  if (!appName) return { created, problem: 'Required field is missing: externalClientApplication' } /* text unconfirmed */;
  if (!store.getMetadata('ExternalClientApplication', appName) && !ctx.ecaNamesInRequest.has(appName)) {
    // eca-deploy.md §6: expected to fail on the child file naming the missing app; text unconfirmed.
    return { created, problem: `No ExternalClientApplication named ${appName} found in the org or in this deployment.` };
  }
  const prior = existingChild(store, c.type, appName, c.fullName);

  if (c.type === 'ExtlClntAppOauthSettings') {
    // Help "Deploy an External Client App with a New Global OAuth Settings File": "Deployment fails if there's an OAuth
    // link field in the settings file with incorrect information. If the field doesn't exist, it's generated."
    const expected = str(prior?.oauthLink) ?? oauthLinkFor(store, appName);
    const given = str(c.body.oauthLink);
    if (given !== undefined && given !== expected) {
      return { created, problem: `The OAuth link ${given} is incorrect for external client app ${appName}. Remove the oauthLink field to have it generated.` } /* text unconfirmed */;
    }
    out.oauthLink = expected;
    return { created, toWrite: out };
  }

  if (c.type === 'ExtlClntAppGlobalOauthSettings') {
    // The org mints key and secret (eca-deploy.md §3); a deployer-chosen key is refused (choice: refuse rather than
    // silently ignore, unconfirmed). On later deploys the values must match or be omitted; rotation goes through
    // shouldRotateConsumerKey / shouldRotateConsumerSecret.
    const givenKey = str(c.body.consumerKey);
    const givenSecret = str(c.body.consumerSecret);
    const priorKey = str(prior?.consumerKey);
    const priorSecret = str(prior?.consumerSecret);
    if (givenKey !== undefined && givenKey !== priorKey) {
      return { created, problem: priorKey ? 'You cannot change the consumer key of an external client app. Use shouldRotateConsumerKey to rotate it.' : 'You cannot provide a consumer key for a new external client app. The org generates the consumer key and secret.' } /* texts unconfirmed */;
    }
    if (givenSecret !== undefined && givenSecret !== priorSecret) {
      return { created, problem: priorSecret ? 'You cannot change the consumer secret of an external client app. Use shouldRotateConsumerSecret to rotate it.' : 'You cannot provide a consumer secret for a new external client app. The org generates the consumer key and secret.' } /* texts unconfirmed */;
    }
    out.consumerKey = priorKey && !bool(c.body.shouldRotateConsumerKey) ? priorKey : mintConsumerKey();
    out.consumerSecret = priorSecret && !bool(c.body.shouldRotateConsumerSecret) ? priorSecret : mintConsumerSecret();
    out.shouldRotateConsumerKey = false;
    out.shouldRotateConsumerSecret = false;
    return { created, toWrite: out };
  }

  if (c.type === 'ExtlClntAppOauthConfigurablePolicies') {
    // "Permission set IDs in a comma-separated list" (type page), but Salesforce's sample and metadata from real orgs
    // use API names (eca-deploy.md §5): both are accepted; the org keeps Ids, and answers retrieves in the form of
    // emulator.permissionSetReferences. An entry naming no permission set is refused (text unconfirmed).
    const ids: string[] = [];
    for (const ref of csv(c.body.commaSeparatedPermissionSet)) {
      const ps = permissionSetByReference(store, ref);
      if (!ps) return { created, problem: `commaSeparatedPermissionSet: ${ref} is not the ID of a permission set in this org, nor the API name of one.` };
      ids.push(ps.Id);
    }
    if (c.body.commaSeparatedPermissionSet !== undefined) out.commaSeparatedPermissionSet = [...new Set(ids)].join(',');
    for (const p of csv(c.body.commaSeparatedProfile)) {
      const ok = ID_15_18.test(p) ? store.typeOf(store.normalizeId(p)) === 'Profile' && Boolean(store.get(p)) : Boolean(profileIdByName(store, p));
      if (!ok) return { created, problem: `commaSeparatedProfile: ${p} is not a profile in this org.` } /* text unconfirmed */;
    }
    const runAs = str(c.body.clientCredentialsFlowUser);
    if ((runAs !== undefined && badRunAsUser(store, runAs)) || (runAs === undefined && bool(c.body.isClientCredentialsFlowEnabled))) {
      return { created, problem: RUN_AS_PROBLEM };
    }
    return { created, toWrite: out };
  }

  // ExtlClntAppConfigurablePolicies: isEnabled is required (type page).
  if (c.body.isEnabled === undefined) return { created, problem: 'Required field is missing: isEnabled' } /* text unconfirmed */;
  return { created, toWrite: out };
};

const checkConnectedApp = (store: OrgStore, c: IncomingComponent): Pick<ComponentOutcome, 'problem' | 'toWrite' | 'created'> => {
  const existing = store.getMetadata('ConnectedApp', c.fullName);
  const created = !existing;
  // KB 005228017 (Spring '26): "Connected App creation via APIs (including the Metadata API) is blocked in the same
  // way as the UI"; edits and deletes of existing apps are unaffected (eca-deploy.md §8). Text unconfirmed.
  if (created && !store.settings.allowConnectedAppCreation) {
    return { created, problem: 'You can no longer create connected apps in this org. Create an external client app instead.' };
  }
  if (!str(c.body.label)) return { created, problem: 'Required field is missing: label' } /* text unconfirmed */;
  if (!str(c.body.contactEmail)) return { created, problem: 'Required field is missing: contactEmail' } /* text unconfirmed */;
  const cfg = (c.body.oauthConfig && typeof c.body.oauthConfig === 'object' ? c.body.oauthConfig : undefined) as Record<string, unknown> | undefined;
  const pol = (c.body.oauthPolicy && typeof c.body.oauthPolicy === 'object' ? c.body.oauthPolicy : undefined) as Record<string, unknown> | undefined;
  const priorCfg = (existing?.oauthConfig ?? {}) as Record<string, unknown>;
  const out: MetadataComponent = { ...structuredClone(c.body), fullName: c.fullName };
  if (cfg) {
    if (!str(cfg.callbackUrl)) return { created, problem: 'Required field is missing: oauthConfig.callbackUrl' } /* text unconfirmed */;
    // "You cannot provide a Consumer Key" (trailheadapps/ready-to-fly#29, real). consumerKey is settable only at
    // creation (type page); the emulator applies the creation block above first, and refuses a changed key on update.
    const givenKey = str(cfg.consumerKey);
    if (givenKey !== undefined && givenKey !== str(priorCfg.consumerKey)) return { created, problem: 'You cannot provide a Consumer Key' };
    const runAs = str(cfg.oauthClientCredentialUser);
    if (runAs !== undefined && badRunAsUser(store, runAs)) return { created, problem: RUN_AS_PROBLEM };
    const outCfg = out.oauthConfig as Record<string, unknown>;
    outCfg.consumerKey = str(priorCfg.consumerKey) ?? mintConsumerKey();
    outCfg.consumerSecret = str(priorCfg.consumerSecret) ?? mintConsumerSecret();
  }
  if (pol) {
    // Plain strings in the WSDL with documented values (ConnectedAppOauthPolicy type page).
    const problem =
      documentedValue('ipRelaxation', str(pol.ipRelaxation), CONNECTED_APP_IP_RELAXATION) ??
      documentedValue('refreshTokenPolicy', str(pol.refreshTokenPolicy), CONNECTED_APP_REFRESH_POLICY);
    if (problem) return { created, problem };
  }
  const profiles = list(c.body.profileName);
  const permSets = list(c.body.permissionSetName);
  // Type page: profileName / permissionSetName need oauthConfig.isAdminApproved = true. Text unconfirmed.
  if ((profiles.length || permSets.length) && !bool(cfg?.isAdminApproved)) {
    return { created, problem: 'Profiles and permission sets can only be assigned when oauthConfig.isAdminApproved is true.' };
  }
  for (const p of profiles) if (!profileIdByName(store, p)) return { created, problem: `No Profile named ${p} found` } /* text unconfirmed */;
  for (const p of permSets) if (!permissionSetIdByName(store, p)) return { created, problem: `No PermissionSet named ${p} found` } /* text unconfirmed */;
  return { created, toWrite: out };
};

/** Checks one component against the org; generated values are filled into `toWrite`. Nothing is written here. */
export const checkComponent = (store: OrgStore, c: IncomingComponent, ctx: ChangeContext): ComponentOutcome => {
  // Every element, its type and the required ones, against the published Metadata API type (WSDL): a violation fails
  // the component before anything else is looked at.
  if (metadataTypes().types.has(c.type)) {
    const problem = validateComponent(c.type, c.body);
    if (problem) return { incoming: c, created: !store.getMetadata(c.type, c.fullName), problem };
  }
  if (isEcaType(c.type)) return { incoming: c, ...checkEca(store, c, ctx) };
  if (c.type === 'ConnectedApp') return { incoming: c, ...checkConnectedApp(store, c) };
  if (c.type === ECA_SETTINGS_TYPE) {
    const existing = store.getMetadata(ECA_SETTINGS_TYPE, c.fullName);
    if (c.fullName !== ECA_SETTINGS_NAME) return { incoming: c, created: true, problem: `No settings named ${c.fullName}` } /* unconfirmed */;
    return { incoming: c, created: !existing, toWrite: { ...(existing ?? {}), ...structuredClone(c.body), fullName: c.fullName } };
  }
  // Emulator limit, not Salesforce behaviour: other types are not modelled.
  return { incoming: c, created: false, problem: `The org emulator does not model metadata type ${c.type}.` };
};

/** Write order inside one deploy: settings, then the app header, then the parts that name it. */
export const WRITE_ORDER = [ECA_SETTINGS_TYPE, 'ExternalClientApplication', 'ExtlClntAppOauthSettings', 'ExtlClntAppGlobalOauthSettings', 'ExtlClntAppOauthConfigurablePolicies', 'ExtlClntAppConfigurablePolicies', 'ConnectedApp'];

/** The Id a FileProperties / DeployMessage reports for a component (the derived record's Id where there is one). */
export const componentId = (store: OrgStore, type: string, fullName: string): string => {
  if (type === 'ConnectedApp') return appViews(store).find((a) => a.kind === 'ConnectedApp' && a.fullName === fullName)?.id ?? '';
  if (type === 'ExternalClientApplication') return appViews(store).find((a) => a.kind === 'ExternalClientApplication' && a.fullName === fullName)?.id ?? '';
  if (type === 'ExtlClntAppOauthConfigurablePolicies') return store.all('ExtlClntAppOauthPlcyCnfg').find((r) => r.DeveloperName === fullName)?.Id ?? '';
  return '';
};
