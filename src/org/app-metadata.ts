/*
 * External Client Apps and Connected Apps as Metadata API components, mapped to and from the one AppConfig
 * face the rest of the plugin sees. Pure functions: XML text in, plain data out, and back.
 * Field names: Metadata API Developer Guide (ExternalClientApplication, ExtlClntApp*, ConnectedApp); see
 * ../shared/reference/salesforce-facts.md §2.
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { ecaRefreshPolicy, parseEcaIpRelaxation, parseRefreshPolicy, type IpRelaxation } from '../salesforce/policies.js';
import type { AppConfig, PermittedUsers } from './types.js';

export const METADATA_NS = 'http://soap.sforce.com/2006/04/metadata';

/**
 * ECA component names are at most 40 characters: documented for the OAuth policies' DeveloperName
 * (ExtlClntAppPlcyCnfg); the other components are held to the same length (published-vocabulary.md). A part's name is
 * the app name plus a suffix; when that is too long, the app name is cut and a short hash of the whole name keeps
 * two long apps apart. Short names are unchanged.
 */
export const ECA_COMPONENT_NAME_MAX = 40;

const hash4 = (text: string): string => {
  let h = 0;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h.toString(36).padStart(4, '0').slice(-4);
};

export const ecaMemberName = (app: string, suffix: string): string => {
  const plain = `${app}${suffix}`;
  if (plain.length <= ECA_COMPONENT_NAME_MAX) return plain;
  const stem = app.slice(0, ECA_COMPONENT_NAME_MAX - suffix.length - 5).replace(/_+$/, '');
  return `${stem}_${hash4(app)}${suffix}`;
};

/** The External Client App family: type, folder and suffix in a deploy/retrieve zip, and the component name. */
export const ECA_PARTS = [
  { type: 'ExternalClientApplication', folder: 'externalClientApps', suffix: 'eca', member: (n: string): string => n },
  { type: 'ExtlClntAppOauthSettings', folder: 'extlClntAppOauthSettings', suffix: 'ecaOauth', member: (n: string): string => ecaMemberName(n, '_oauth') },
  { type: 'ExtlClntAppGlobalOauthSettings', folder: 'extlClntAppGlobalOauthSets', suffix: 'ecaGlblOauth', member: (n: string): string => ecaMemberName(n, '_glbloauth') },
  { type: 'ExtlClntAppOauthConfigurablePolicies', folder: 'extlClntAppOauthPolicies', suffix: 'ecaOauthPlcy', member: (n: string): string => ecaMemberName(n, '_oauthPlcy') },
  { type: 'ExtlClntAppConfigurablePolicies', folder: 'extlClntAppPolicies', suffix: 'ecaPlcy', member: (n: string): string => ecaMemberName(n, '_plcy') },
] as const;

export type EcaPartType = (typeof ECA_PARTS)[number]['type'];

export type Component = Record<string, unknown>;

/** The five ECA components of one app, by type (any may be missing in an org). */
export type EcaComponents = Partial<Record<EcaPartType, Component>>;

const SCOPE_NAMES: Record<string, string[]> = {
  Api: ['api'],
  RefreshToken: ['refresh_token', 'offline_access'],
  OfflineAccess: ['refresh_token', 'offline_access'],
  Full: ['full'],
  Web: ['web'],
  Basic: ['id'],
  OpenID: ['openid'],
  Profile: ['profile'],
  Email: ['email'],
  Address: ['address'],
  Phone: ['phone'],
  Chatter: ['chatter_api'],
  CustomApplications: ['visualforce'],
  CustomPermissions: ['custom_permissions'],
  Wave: ['wave_api'],
  Eclair: ['eclair_api'],
  Pardot: ['pardot_api'],
  Lightning: ['lightning'],
  Content: ['content'],
  CDPIngest: ['cdp_ingest_api'],
  Chatbot: ['chatbot_api'],
  SFApiPlatform: ['sfap_api'],
  MCP: ['mcp_api'],
};

/** Metadata scope names (Api, RefreshToken) → the OAuth names tokens carry (api, refresh_token, offline_access). */
export const oauthScopeNames = (metadataScopes: string[]): string[] => [
  ...new Set(metadataScopes.flatMap((s) => SCOPE_NAMES[s] ?? [s.toLowerCase()])),
];

const parser = new XMLParser({ ignoreAttributes: true, removeNSPrefix: true, parseTagValue: false, trimValues: true });

/** Parses one metadata file (or a readMetadata record body) into its root element name and content. */
export const parseComponentXml = (xml: string): { type: string; component: Component } => {
  const doc = parser.parse(xml) as Record<string, unknown>;
  const type = Object.keys(doc).find((k) => k !== '?xml');
  if (!type) throw new Error('Empty metadata file');
  const component = doc[type];
  return { type, component: (component && typeof component === 'object' ? component : {}) as Component };
};

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, indentBy: '    ', suppressEmptyNode: false });

/** Serialises a component as a metadata file, elements in alphabetical order as Salesforce writes them. */
export const componentXml = (type: string, component: Component): string => {
  const sorted = Object.fromEntries(
    Object.entries(component)
      .filter(([k, v]) => k !== 'fullName' && v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b))
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ [type]: { '@_xmlns': METADATA_NS, ...sorted } })}`;
};

export const packageXml = (types: Array<{ name: string; members: string[] }>, version: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n${
    builder.build({
      Package: { '@_xmlns': METADATA_NS, types: types.map((t) => ({ members: t.members, name: t.name })), version },
    })
  }`;

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));
const bool = (v: unknown): boolean => v === true || v === 'true';
const list = (v: unknown): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]).filter(Boolean);
const csv = (v: unknown): string[] =>
  (str(v) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export type AppRecordFacts = { id: string; createdDate?: string; lastModifiedDate?: string };

const PERMISSION_SET_ID = /^0PS[a-zA-Z0-9]{12}([a-zA-Z0-9]{3})?$/;

/**
 * commaSeparatedPermissionSet entries as permission set Ids: the type page says "Permission set IDs", Salesforce's
 * sample and metadata retrieved from real orgs use API names (eca-deploy.md §5). Ids are kept, names resolved by the
 * caller; a name it cannot resolve is left out (the org's SetupEntityAccess rows are the truth).
 */
export const permissionSetIdsOf = (value: unknown, idByName?: (name: string) => string | undefined): string[] =>
  csv(value)
    .map((entry) => (PERMISSION_SET_ID.test(entry) ? entry : idByName?.(entry)))
    .filter((id): id is string => Boolean(id));

/** The form an org answered commaSeparatedPermissionSet in: Ids when every entry is one, else API names. */
export const permissionSetReferenceForm = (value: unknown): 'ids' | 'names' | undefined => {
  const entries = csv(value);
  if (!entries.length) return undefined;
  return entries.every((e) => PERMISSION_SET_ID.test(e)) ? 'ids' : 'names';
};

/** An External Client App's components (from a retrieve) as an AppConfig. */
export const ecaToAppConfig = (
  name: string,
  parts: EcaComponents,
  facts: AppRecordFacts,
  resolve: { permissionSetIdByName?: (n: string) => string | undefined } = {}
): AppConfig => {
  const header = parts.ExternalClientApplication ?? {};
  const settings = parts.ExtlClntAppOauthSettings;
  const global = parts.ExtlClntAppGlobalOauthSettings;
  const pol = parts.ExtlClntAppOauthConfigurablePolicies;
  return {
    kind: 'external-client-app',
    id: facts.id,
    name,
    label: str(header.label) ?? name,
    contactEmail: str(header.contactEmail),
    consumerKey: str(global?.consumerKey),
    certificate: str(global?.certificate),
    clientCredentialsEnabled: bool(global?.isClientCredentialsFlowEnabled) && bool(pol?.isClientCredentialsFlowEnabled),
    runAsUsername: str(pol?.clientCredentialsFlowUser),
    scopes: oauthScopeNames(csv(settings?.commaSeparatedOauthScopes)),
    metadataScopes: csv(settings?.commaSeparatedOauthScopes),
    callbackUrl: str(global?.callbackUrl),
    description: str(header.description),
    // isPkceRequired defaults to true on External Client Apps.
    pkceRequired: global?.isPkceRequired === undefined ? true : bool(global.isPkceRequired),
    namedUserJwt: bool(global?.isNamedUserJwtEnabled),
    permittedUsers: (str(pol?.permittedUsersPolicyType) as PermittedUsers | undefined) ?? 'AllSelfAuthorized',
    permissionSetIds: permissionSetIdsOf(pol?.commaSeparatedPermissionSet, resolve.permissionSetIdByName),
    profileIds: csv(pol?.commaSeparatedProfile),
    refreshTokenPolicy: ecaRefreshPolicy(pol),
    ipRelaxation: parseEcaIpRelaxation(pol?.ipRelaxationPolicyType),
    createdDate: facts.createdDate,
    lastModifiedDate: facts.lastModifiedDate,
    // No plugin component: the org has not switched the plugin off.
    oauthPluginEnabled: parts.ExtlClntAppConfigurablePolicies ? bool(parts.ExtlClntAppConfigurablePolicies.isEnabled) && parts.ExtlClntAppConfigurablePolicies.isOauthPluginEnabled !== 'false' : true,
  };
};

/** A ConnectedApp component (readMetadata) as an AppConfig; names of selected sets/profiles resolved by the caller. */
export const connectedAppToAppConfig = (
  component: Component,
  facts: AppRecordFacts,
  resolve: { permissionSetIdByName(n: string): string | undefined; profileIdByName(n: string): string | undefined }
): AppConfig => {
  const cfg = (component.oauthConfig ?? {}) as Component;
  const pol = (component.oauthPolicy ?? {}) as Component;
  return {
    kind: 'connected-app',
    id: facts.id,
    name: String(component.fullName),
    label: str(component.label) ?? String(component.fullName),
    contactEmail: str(component.contactEmail),
    consumerKey: str(cfg.consumerKey),
    certificate: str(cfg.certificate),
    clientCredentialsEnabled: bool(cfg.isClientCredentialEnabled),
    runAsUsername: str(cfg.oauthClientCredentialUser),
    scopes: oauthScopeNames(list(cfg.scopes)),
    metadataScopes: list(cfg.scopes),
    callbackUrl: str(cfg.callbackUrl),
    description: str(component.description),
    pkceRequired: bool(cfg.isPkceRequired),
    namedUserJwt: bool(cfg.isNamedUserJwtEnabled),
    permittedUsers: bool(cfg.isAdminApproved) ? 'AdminApprovedPreAuthorized' : 'AllSelfAuthorized',
    permissionSetIds: list(component.permissionSetName)
      .map((n) => resolve.permissionSetIdByName(n))
      .filter((x): x is string => Boolean(x)),
    profileIds: list(component.profileName)
      .map((n) => resolve.profileIdByName(n))
      .filter((x): x is string => Boolean(x)),
    refreshTokenPolicy: parseRefreshPolicy(str(pol.refreshTokenPolicy)),
    ipRelaxation: (str(pol.ipRelaxation) as IpRelaxation | undefined) ?? 'ENFORCE',
    createdDate: facts.createdDate,
    lastModifiedDate: facts.lastModifiedDate,
  };
};

/** Groups the files of a retrieve zip (already unzipped to path → text) into ECA components by app name. */
export const groupEcaFiles = (files: Record<string, string>): Record<string, EcaComponents> => {
  const byApp: Record<string, EcaComponents> = {};
  for (const [path, text] of Object.entries(files)) {
    const part = ECA_PARTS.find((p) => path.endsWith(`.${p.suffix}`) || path.endsWith(`.${p.suffix}-meta.xml`));
    if (!part) continue;
    const { component } = parseComponentXml(text);
    const fileName = path.split('/').pop() ?? path;
    const memberName = fileName.slice(0, fileName.indexOf(`.${part.suffix}`));
    const appName = part.type === 'ExternalClientApplication' ? memberName : str(component.externalClientApplication);
    if (!appName) continue;
    // The member name (file name) is the component's fullName, needed to deploy it back.
    byApp[appName] = { ...(byApp[appName] ?? {}), [part.type]: { ...component, fullName: memberName } };
  }
  return byApp;
};
