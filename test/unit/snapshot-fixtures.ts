/*
 * A healthy integration as plain data: an org set up exactly as seed 001 says (user on the Salesforce
 * Integration license with the API-only profile, a permission set on the Salesforce API Integration license
 * assigned without expiry plus its permission set license, an External Client App with a valid RSA 2048 /
 * SHA-256 certificate, api + refresh_token scopes, PKCE and named-user JWT off, admin-approved with the
 * permission set selected, refresh tokens valid until revoked, relaxed IP) and a context in which every check
 * passes. Tests break one fact at a time.
 */
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import type { AppConfig, OrgInfo, OrgSnapshot, PermissionSetInfo, UserInfo } from '../../src/org/types.js';
import type { CheckContext, DesiredAccess } from '../../src/checks/types.js';

export const NOW = new Date('2027-03-01T12:00:00.000Z');

export const daysFrom = (date: Date, days: number): Date => new Date(date.getTime() + days * 24 * 60 * 60 * 1000);
export const minutesBefore = (date: Date, minutes: number): string =>
  new Date(date.getTime() - minutes * 60 * 1000).toISOString();

export const IDS = {
  org: '00DTt0000000001MAA',
  user: '005Tt0000000001AAA',
  profile: '00eTt0000000002AAA',
  profileSet: '0PSTt0000000002AAA',
  permissionSet: '0PSTt0000000001AAA',
  otherSet: '0PSTt0000000003AAA',
  assignment: '0PaTt0000000001AAA',
  app: '0xITt0000000001AAA',
};

export const USERNAME = 'hubspot.integration@acme.com';
export const CONSUMER_KEY = '3MVG9xxxxxxxxxxxxxxxxxxxxHubSpotIntegration';
export const INTEGRATION_SET = 'HubSpot_Integration';
export const INTEGRATION_PROFILE = 'Minimum Access - API Only Integrations';

const keyCache = new Map<number, { publicKey: string; privateKey: string }>();
const keyPair = (bits: number): { publicKey: string; privateKey: string } => {
  const cached = keyCache.get(bits);
  if (cached) return cached;
  const pair = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  keyCache.set(bits, pair);
  return pair;
};

export type CertificateOptions = { notBefore?: Date; notAfter?: Date; bits?: number; digest?: 'sha256' | 'sha1' | 'sha512' };

/** A self-signed certificate; by default RSA 2048, SHA-256, valid from a year before NOW to a year after. */
export const makeCertificate = (options: CertificateOptions = {}): string => {
  const { publicKey, privateKey } = keyPair(options.bits ?? 2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = '01a2b3c4d5';
  cert.validity.notBefore = options.notBefore ?? daysFrom(NOW, -365);
  cert.validity.notAfter = options.notAfter ?? daysFrom(NOW, 365);
  const attrs = [{ name: 'commonName', value: 'salesforce-jwt-integration' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md[options.digest ?? 'sha256'].create());
  return forge.pki.certificateToPem(cert);
};

/** An ECDSA P-256 certificate (openssl, valid 2026-11-23 to 2126): Salesforce refuses EC keys for JWT bearer. */
export const EC_CERTIFICATE = `-----BEGIN CERTIFICATE-----
MIIBezCCASGgAwIBAgIUN/HX55juBELbthzZPTiC4UhWudgwCgYIKoZIzj0EAwIw
EjEQMA4GA1UEAwwHZWMtdGVzdDAgFw0yNjExMjMwMjM0MjNaGA8yMTI2MTAzMDAy
MzQyM1owEjEQMA4GA1UEAwwHZWMtdGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABBiyOagARN7xG0PxAF3aSr1wyPsqYogBzCyfsDwUzwO8TFHNSefrtczhg0PD
n/wPxTAhac+34fOYmmF2SMUguPajUzBRMB0GA1UdDgQWBBTlkv8ssEDyYqwPJ51S
5giTJ/3NljAfBgNVHSMEGDAWgBTlkv8ssEDyYqwPJ51S5giTJ/3NljAPBgNVHRMB
Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCICcNRmtQ/sdONpcl24JCZ6qo2hlM
AXRqYJCUcQ9KuO/wAiEAlhGyJyi+c0816q5FmR8bwyJPQucGshjLoeRd4K+FQms=
-----END CERTIFICATE-----`;

let healthyCertificate: string | undefined;

export const productionOrg = (): OrgInfo => ({
  id: IDS.org,
  name: 'Acme',
  organizationType: 'Enterprise Edition',
  isSandbox: false,
  isScratch: false,
  instanceUrl: 'https://acme.my.salesforce.com',
  subdomain: 'acme',
  loginUrl: 'https://acme.my.salesforce.com',
  audience: 'https://login.salesforce.com',
});

/** A sandbox `dev` of acme on enhanced domains (seed 001 step 7). */
export const sandboxOrg = (): OrgInfo => ({
  ...productionOrg(),
  isSandbox: true,
  organizationType: 'Enterprise Edition',
  instanceUrl: 'https://acme--dev.sandbox.my.salesforce.com',
  subdomain: 'acme--dev.sandbox',
  loginUrl: 'https://test.salesforce.com',
  audience: 'https://test.salesforce.com',
});

export const permissionSet = (patch: Partial<PermissionSetInfo> = {}): PermissionSetInfo => ({
  id: IDS.permissionSet,
  name: INTEGRATION_SET,
  label: 'HubSpot Integration',
  licenseName: 'Salesforce API Integration',
  isOwnedByProfile: false,
  systemPermissions: { ApiEnabled: true },
  objects: [
    { object: 'Account', read: true, create: true, edit: true, delete: false, viewAll: false, modifyAll: false },
    { object: 'Contact', read: true, create: false, edit: false, delete: false, viewAll: false, modifyAll: false },
  ],
  fields: [{ field: 'Account.Industry', read: true, edit: true }],
  ...patch,
});

export const profileSet = (patch: Partial<PermissionSetInfo> = {}): PermissionSetInfo => ({
  id: IDS.profileSet,
  name: 'X00eTt0000000002',
  label: INTEGRATION_PROFILE,
  licenseName: 'Salesforce Integration',
  isOwnedByProfile: true,
  profileId: IDS.profile,
  profileName: INTEGRATION_PROFILE,
  systemPermissions: { ApiEnabled: true, ApiUserOnly: true },
  objects: [],
  fields: [],
  ...patch,
});

export const integrationUser = (patch: Partial<UserInfo> = {}): UserInfo => ({
  id: IDS.user,
  username: USERNAME,
  name: 'HubSpot Integration',
  email: 'integration-owner@acme.com',
  isActive: true,
  profileId: IDS.profile,
  profileName: INTEGRATION_PROFILE,
  userLicenseName: 'Salesforce Integration',
  profilePermissionSetId: IDS.profileSet,
  assignments: [{ id: IDS.assignment, permissionSetId: IDS.permissionSet }],
  permissionSetLicenses: ['SalesforceAPIIntegrationPsl'],
  ...patch,
});

export const jwtApp = (patch: Partial<AppConfig> = {}): AppConfig => {
  healthyCertificate ??= makeCertificate();
  return {
    kind: 'external-client-app',
    id: IDS.app,
    name: 'HubSpot_Integration',
    label: 'HubSpot Integration',
    contactEmail: 'integration-owner@acme.com',
    consumerKey: CONSUMER_KEY,
    certificate: healthyCertificate,
    clientCredentialsEnabled: false,
    scopes: ['api', 'refresh_token', 'offline_access'],
    metadataScopes: ['Api', 'RefreshToken'],
    callbackUrl: 'https://login.salesforce.com/services/oauth2/success',
    pkceRequired: false,
    namedUserJwt: false,
    permittedUsers: 'AdminApprovedPreAuthorized',
    permissionSetIds: [IDS.permissionSet],
    profileIds: [],
    refreshTokenPolicy: { type: 'infinite' },
    ipRelaxation: 'BYPASS',
    createdDate: daysFrom(NOW, -30).toISOString(),
    lastModifiedDate: daysFrom(NOW, -1).toISOString(),
    ...patch,
  };
};

export type SnapshotPatch = {
  org?: Partial<OrgInfo>;
  /** null removes the app. */
  app?: Partial<AppConfig> | null;
  /** null removes the user. */
  user?: Partial<UserInfo> | null;
  permissionSets?: PermissionSetInfo[];
  otherAppNames?: string[];
};

/** The healthy snapshot, with one or more facts changed. */
export const healthySnapshot = (patch: SnapshotPatch = {}): OrgSnapshot => {
  const sets = [profileSet(), permissionSet(), ...(patch.permissionSets ?? [])];
  return {
    takenAt: NOW.toISOString(),
    org: { ...productionOrg(), ...patch.org },
    integrationLicense: { id: '100Tt0000000002AAA', name: 'Salesforce Integration', total: 5, used: 1 },
    apiIntegrationPsl: {
      id: '0PLTt0000000001AAA',
      name: 'Salesforce API Integration',
      developerName: 'SalesforceAPIIntegrationPsl',
      total: 5,
      used: 1,
    },
    integrationProfile: { id: IDS.profile, name: INTEGRATION_PROFILE },
    ...(patch.app === null ? {} : { app: jwtApp(patch.app) }),
    otherAppNames: patch.otherAppNames ?? [],
    ...(patch.user === null ? {} : { user: integrationUser(patch.user) }),
    permissionSets: Object.fromEntries(sets.map((set) => [set.id, set])),
    recentLogins: [],
  };
};

/** Exactly what the healthy permission set grants, as a create spec would ask it. */
export const desiredAccess = (): DesiredAccess => ({
  objects: [
    { object: 'Account', read: true, create: true, edit: true },
    { object: 'Contact', read: true },
  ],
  fields: [{ field: 'Account.Industry', read: true, edit: true }],
  systemPermissions: ['ApiEnabled'],
});

/** Everything given: client id, matching key, successful live results, the spec. */
export const healthyContext = (patch: Partial<CheckContext> = {}): CheckContext => ({
  now: NOW,
  flow: 'jwt',
  appName: 'HubSpot_Integration',
  username: USERNAME,
  clientId: CONSUMER_KEY,
  privateKey: { path: './hubspot-integration/private-key.pem', matchesCertificate: true },
  live: {
    tokenExchange: { ok: true, loginUrl: 'https://acme.my.salesforce.com', audience: 'https://login.salesforce.com' },
    apiCall: { ok: true, status: 200 },
  },
  desired: desiredAccess(),
  ...patch,
});

/** A healthy client-credentials integration (seed 004): flow enabled, the integration user as run-as user. */
export const clientCredentialsSnapshot = (patch: SnapshotPatch = {}): OrgSnapshot =>
  healthySnapshot({
    ...patch,
    app:
      patch.app === null
        ? null
        : { certificate: undefined, clientCredentialsEnabled: true, runAsUsername: USERNAME, ...patch.app },
  });

export const clientCredentialsContext = (patch: Partial<CheckContext> = {}): CheckContext =>
  healthyContext({ flow: 'client-credentials', privateKey: undefined, ...patch });
