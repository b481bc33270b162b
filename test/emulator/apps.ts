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

/** Marks every app as created/modified long ago (fixture load: apps given in a fixture are propagated). */
export const agePropagation = (store: OrgStore): void => {
  for (const s of book(store).stamps.values()) {
    s.created = new Date(0);
    s.modified = new Date(0);
  }
};

const byApp = (store: OrgStore, type: string, appName: string): MetadataComponent | undefined =>
  store.listMetadata(type).find((c) => c.externalClientApplication === appName);

const permissionSetIdByName = (store: OrgStore, name: string): string | undefined =>
  store.all('PermissionSet').find((p) => p.Name === name && p.IsOwnedByProfile !== true)?.Id;

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
    const permissionSetIds = csv(pol?.commaSeparatedPermissionSet).map((id) => store.normalizeId(id));
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

  store.replaceDerived(
    'ExternalClientApplication',
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
  for (const a of apps.filter((x) => x.kind === 'ExternalClientApplication')) {
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
  store.replaceDerived('ExtlClntAppOauthPlcyCnfg', policyRows);

  store.replaceDerived(
    'ConnectedApplication',
    apps
      .filter((a) => a.kind === 'ConnectedApp')
      .map((a) => {
        const m = /^specific_(lifetime|inactivity):(\d+):/.exec(a.refreshTokenPolicy);
        return {
          Id: a.id,
          Name: a.fullName,
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

  store.replaceDerived(
    'AppMenuItem',
    apps.map((a) => ({
      Id: stableId(store, 'AppMenuItem', a.id),
      ApplicationId: a.id,
      Name: a.fullName,
      Label: a.label,
      Type: a.kind === 'ConnectedApp' ? 'ConnectedApplication' : 'ExternalClientApplication',
      IsUsingAdminAuthorization: a.permittedUsers === 'AdminApprovedPreAuthorized',
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
      const ids = new Set(csv(next.commaSeparatedPermissionSet).map((i) => store.normalizeId(i)));
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
