/*
 * Writing an app: External Client Apps only through Metadata API deploy (Salesforce Help, "Deploy a Local
 * External Client App"; ../shared/reference/eca-deploy.md §1), all five components in one deploy; Connected
 * Apps through upsertMetadata. The org mints consumer keys: none is sent (eca-deploy.md §3).
 */
import JSZip from 'jszip';
import { ecaIpRelaxation, ecaRefreshFields, formatRefreshPolicy } from '../salesforce/policies.js';
import type { AppSettings } from './types.js';
import { ECA_PARTS, componentXml, packageXml, permissionSetReferenceForm, type Component } from './app-metadata.js';
import { readConnectedApp, retrieveEca } from './snapshot.js';
import { ApiCallError, failureText, writeFailure, type Transport } from './transport.js';

export type AppWrite = {
  app: AppSettings;
  /** A certificate enables the JWT bearer flow. */
  certificatePem?: string;
  /** The client-credentials flow, with runAsUsername as run-as user. */
  clientCredentials: boolean;
  /** Profiles selected on the app besides the permission sets (Ids). */
  profileIds?: string[];
  /**
   * Permission sets selected on the app, by API name: Connected Apps name them (permissionSetName); External Client
   * Apps take names or Ids in commaSeparatedPermissionSet, and names are what Salesforce's sample and metadata
   * retrieved from real orgs use (eca-deploy.md §5), so the written file reads the same in every org.
   */
  permissionSetNames: string[];
  runAsUsername?: string;
};

/** The five External Client App components for the desired app (seed 001 steps 2, 4 and 6; seed 004). */
export const ecaComponents = (w: AppWrite): Array<{ type: string; member: string; component: Component }> => {
  const { app } = w;
  const cc = w.clientCredentials;
  const [header, oauth, global, policies, plugin] = ECA_PARTS;
  const policy = app.refreshTokenPolicy;
  return [
    {
      type: header.type,
      member: header.member(app.name),
      component: { contactEmail: app.contactEmail, description: app.description, distributionState: 'Local', isProtected: false, label: app.label },
    },
    {
      type: oauth.type,
      member: oauth.member(app.name),
      component: { commaSeparatedOauthScopes: app.scopes.join(', '), externalClientApplication: app.name, label: app.label },
    },
    {
      type: global.type,
      member: global.member(app.name),
      component: {
        callbackUrl: app.callbackUrl,
        ...(w.certificatePem ? { certificate: w.certificatePem } : {}),
        externalClientApplication: app.name,
        isClientCredentialsFlowEnabled: cc,
        isConsumerSecretOptional: !cc,
        isIntrospectAllTokens: false,
        isNamedUserJwtEnabled: false,
        isPkceRequired: false,
        isSecretRequiredForRefreshToken: false,
        label: app.label,
        shouldRotateConsumerKey: false,
        shouldRotateConsumerSecret: false,
      },
    },
    {
      type: policies.type,
      member: policies.member(app.name),
      component: {
        ...(cc && w.runAsUsername ? { clientCredentialsFlowUser: w.runAsUsername } : {}),
        commaSeparatedPermissionSet: w.permissionSetNames.join(','),
        ...(w.profileIds?.length ? { commaSeparatedProfile: w.profileIds.join(',') } : {}),
        externalClientApplication: app.name,
        ipRelaxationPolicyType: ecaIpRelaxation(app.ipRelaxation),
        isClientCredentialsFlowEnabled: cc,
        label: app.label,
        permittedUsersPolicyType: 'AdminApprovedPreAuthorized',
        ...ecaRefreshFields(policy),
      },
    },
    {
      type: plugin.type,
      member: plugin.member(app.name),
      component: { externalClientApplication: app.name, isEnabled: true, isOauthPluginEnabled: true, label: app.label },
    },
  ];
};

type EcaComponent = { type: string; member: string; component: Component };

/** The zip a deploy carries: package.xml plus one file per component. */
export const ecaDeployZip = async (comps: EcaComponent[], apiVersion: string): Promise<Buffer> => {
  const zip = new JSZip();
  zip.file('package.xml', packageXml(comps.map((c) => ({ name: c.type, members: [c.member] })), apiVersion));
  for (const c of comps) {
    const part = ECA_PARTS.find((p) => p.type === c.type)!;
    zip.file(`${part.folder}/${c.member}.${part.suffix}`, componentXml(c.type, c.component));
  }
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
};

type DeployFailure = { componentType?: string; fullName?: string; problem?: string; problemType?: string };
type DeploySuccess = { componentType?: string; fullName?: string; id?: string };

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * Deploys the whole External Client App (create's desired state). Answers the app's ExternalClientApplication Id
 * when the deploy result names it (DeployMessage.id of the ExternalClientApplication component), so the
 * credentials can be read by app Id without another query.
 */
export const deployEca = async (transport: Transport, w: AppWrite): Promise<{ appId?: string }> => {
  const successes = await deployComponents(transport, ecaComponents(w));
  const header = successes.find((c) => c.componentType === 'ExternalClientApplication' && c.fullName === w.app.name);
  const id = typeof header?.id === 'string' && /^0xI[a-zA-Z0-9]{12}([a-zA-Z0-9]{3})?$/.test(header.id) ? header.id : undefined;
  return { appId: id };
};

/** A retrieved value and a written one mean the same: booleans and numbers as text, a certificate whatever its line breaks. */
const sameValue = (key: string, retrieved: unknown, written: unknown): boolean => {
  const norm = (v: unknown): string => (key === 'certificate' ? String(v ?? '').replace(/\s+/g, '') : String(v ?? '').trim().toLowerCase());
  if (key === 'commaSeparatedPermissionSet' && permissionSetReferenceForm(retrieved) === 'ids') {
    // The org may answer the sets it selects by Id (eca-deploy.md §5): as many as written is what can be told.
    return csvOf(retrieved).length === csvOf(written).length;
  }
  if (key.startsWith('commaSeparated')) return csvOf(norm(retrieved)).sort().join(',') === csvOf(norm(written)).sort().join(',');
  return norm(retrieved) === norm(written);
};

/**
 * After a deploy whose answer was lost: does the org hold the External Client App as written? It is retrieved by
 * name, and every setting of every component deployed must read back as written. Answers what was found.
 */
const ecaInOrg = async (transport: Transport, comps: EcaComponent[]): Promise<boolean> => {
  const header = comps.find((c) => c.type === 'ExternalClientApplication');
  if (!header) return false;
  const parts = await retrieveEca(transport, header.member);
  return comps.every((c) => {
    const held = parts[c.type];
    return held !== undefined && Object.entries(c.component).every(([k, v]) => sameValue(k, held[k], v));
  });
};

/**
 * Starts a deploy and waits for the result; component failures become one ApiCallError. The deploy call is a write:
 * when its answer is lost (a dropped connection, a 5xx), the app is read back by name first, and the deploy is sent
 * again only when the org does not hold what it carried, so the org never gets it twice.
 */
const deployComponents = async (transport: Transport, comps: EcaComponent[]): Promise<DeploySuccess[]> => {
  const zip = await ecaDeployZip(comps, transport.apiVersion);
  const labels = comps.map((c) => `${c.type} ${c.member}`);
  const landed = await deployZip(transport, zip, labels, () => ecaInOrg(transport, comps));
  // The org holds every component as written: the lost deploy did it (Ids are read by name later).
  return landed ?? comps.map((c) => ({ componentType: c.type, fullName: c.member }));
};

/**
 * Sends one deploy zip and waits for its result; component failures become one ApiCallError. When the deploy's
 * answer is lost, `landed` asks the org whether it holds the outcome already: then the deploy is not sent again and
 * undefined is answered (no details to tell).
 */
export const deployZip = async (transport: Transport, zip: Buffer, labels: string[], landed: () => Promise<boolean>): Promise<DeploySuccess[] | undefined> => {
  let started: { id: string } | undefined;
  for (let attempt = 1; !started; attempt++) {
    try {
      // jsforce's deploy() answers a locator; awaiting it yields the AsyncResult with the deploy Id.
      // eslint-disable-next-line no-await-in-loop
      started = await transport.writeOnce('SOAP deploy', attempt, async (metadata) => (await metadata.deploy(zip, { rollbackOnError: true, singlePackage: true })) as unknown as { id: string });
    } catch (e) {
      const kind = writeFailure(e);
      if (kind === 'final') throw e;
      if (kind === 'unknown') {
        // eslint-disable-next-line no-await-in-loop
        const done = await landed();
        transport.noteRecovery({ write: 'deploy', cause: failureText(e), found: done ? labels : [], resent: done || attempt >= transport.writeAttempts ? [] : labels });
        if (done) return undefined;
      }
      if (attempt >= transport.writeAttempts) throw e;
      // eslint-disable-next-line no-await-in-loop
      await transport.pauseBeforeRetry('SOAP deploy', attempt, e);
    }
  }
  const deployId = started.id;
  for (let attempt = 0; ; attempt++) {
    // eslint-disable-next-line no-await-in-loop
    const result = await transport.metadataCall((metadata) => metadata.checkDeployStatus(deployId, true), 'checkDeployStatus');
    if (String(result.done) === 'true') {
      const details = (result.details ?? {}) as { componentFailures?: DeployFailure | DeployFailure[]; componentSuccesses?: DeploySuccess | DeploySuccess[] };
      if (String(result.success) === 'true') return asArray(details.componentSuccesses);
      const failures = asArray(details.componentFailures);
      const text = failures.map((f) => `${f.componentType ?? ''} ${f.fullName ?? ''}: ${f.problem ?? ''}`.trim()).join('\n');
      throw new ApiCallError('DEPLOY_FAILED', text || `Deploy ${deployId} failed: ${String(result.status)}`);
    }
    if (attempt > 120) throw new ApiCallError('DEPLOY_TIMEOUT', `Deploy ${deployId} did not finish.`);
    // eslint-disable-next-line no-await-in-loop
    await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
  }
};

/** A Connected App with the flow's settings (ConnectedApp metadata; names, not Ids, select permission sets). */
export const connectedAppComponent = (w: AppWrite, permissionSetNames: string[]): Component => {
  const cc = w.clientCredentials;
  return {
    fullName: w.app.name,
    contactEmail: w.app.contactEmail,
    description: w.app.description,
    label: w.app.label,
    oauthConfig: {
      callbackUrl: w.app.callbackUrl,
      ...(w.certificatePem ? { certificate: w.certificatePem } : {}),
      isAdminApproved: true,
      isClientCredentialEnabled: cc,
      isConsumerSecretOptional: !cc,
      isIntrospectAllTokens: false,
      isNamedUserJwtEnabled: false,
      isPkceRequired: false,
      ...(cc && w.runAsUsername ? { oauthClientCredentialUser: w.runAsUsername } : {}),
      scopes: w.app.scopes,
    },
    oauthPolicy: { ipRelaxation: w.app.ipRelaxation, refreshTokenPolicy: formatRefreshPolicy(w.app.refreshTokenPolicy) },
    permissionSetName: permissionSetNames,
  };
};

/** Creates or updates a Connected App through upsertMetadata. */
export const upsertConnectedApp = (transport: Transport, w: AppWrite, permissionSetNames: string[] = w.permissionSetNames): Promise<void> =>
  upsertConnectedAppComponent(transport, connectedAppComponent(w, permissionSetNames));

/** upsertMetadata of one ConnectedApp; a failed save result becomes an ApiCallError. */
const upsertConnectedAppComponent = async (transport: Transport, component: Component): Promise<void> => {
  // upsertMetadata creates or updates by fullName: sent again after a lost answer, it leaves the same one app.
  const result = await transport.metadataCall(
    (metadata) => metadata.upsert('ConnectedApp', component as unknown as Parameters<typeof metadata.upsert>[1]),
    'upsertMetadata'
  );
  const first = (Array.isArray(result) ? result[0] : result) as { success?: unknown; errors?: unknown };
  if (String(first?.success) !== 'true') {
    const errors = asArray(first?.errors as { message?: string; statusCode?: string } | Array<{ message?: string; statusCode?: string }>);
    throw new ApiCallError(errors[0]?.statusCode ?? 'UPSERT_FAILED', errors.map((e) => e.message ?? '').join('\n') || 'upsertMetadata failed');
  }
};

/** What doctor --fix (and rotate) change on an app, and nothing else. `Id` as in AppChange: a plan may carry a reference. */
export type AppPatch<Id = string> = {
  pkceOff?: boolean;
  namedUserJwtOff?: boolean;
  adminApproved?: boolean;
  refreshValidUntilRevoked?: boolean;
  relaxIp?: boolean;
  /** Permission sets to add to the selected ones: Id → name (Connected Apps select by name). */
  addPermissionSets?: Record<string, string>;
  /** revoke --block: permission sets taken off the app, Id → name (either form is matched). */
  removePermissionSets?: Record<string, string>;
  /** revoke --block: profiles taken off the app, Id → name (either form is matched). */
  removeProfiles?: Record<string, string>;
  /** revoke --block: an External Client App's OAuth plugin switched off (ExtlClntAppConfigurablePolicies.isOauthPluginEnabled). */
  oauthPluginOff?: boolean;
  /** revoke --block: the client credentials flow switched off (a Connected App's run-as user mints tokens otherwise). */
  clientCredentialsOff?: boolean;
  /** rotate: the certificate (PEM) that replaces the one the app verifies JWT assertions with. */
  certificate?: Id;
  /** Client credentials: the user the app runs as (a migration re-points it to the new user). */
  runAsUsername?: string;
};

/** The entries of a list that name none of `removed` (Ids or names, case-insensitive). */
const without = (entries: string[], removed: Record<string, string> | undefined): string[] => {
  if (!removed) return entries;
  const gone = new Set(Object.entries(removed).flatMap(([id, name]) => [id.toLowerCase(), id.slice(0, 15).toLowerCase(), name.toLowerCase()]));
  return entries.filter((e) => !gone.has(e.toLowerCase()) && !gone.has(e.slice(0, 15).toLowerCase()));
};

const csvOf = (v: unknown): string[] =>
  String(v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Patches an app in place: reads what the org holds and changes only the fields of the patch, so settings this
 * plugin does not model (profiles, IP ranges, custom attributes, session policies, SAML) survive. External
 * Client Apps: retrieve, then deploy only the changed components; Connected Apps: readMetadata, then upsert.
 */
export const patchApp = async (transport: Transport, app: { kind: 'external-client-app' | 'connected-app'; name: string }, patch: AppPatch): Promise<void> => {
  if (app.kind === 'connected-app') {
    const current = await readConnectedApp(transport, app.name);
    if (!current) throw new ApiCallError('NOT_FOUND', `Connected App ${app.name} not found`);
    const cfg = { ...((current.oauthConfig ?? {}) as Component) };
    const pol = { ...((current.oauthPolicy ?? {}) as Component) };
    if (patch.pkceOff) cfg.isPkceRequired = false;
    if (patch.namedUserJwtOff) cfg.isNamedUserJwtEnabled = false;
    if (patch.adminApproved) cfg.isAdminApproved = true;
    if (patch.refreshValidUntilRevoked) pol.refreshTokenPolicy = 'infinite';
    if (patch.relaxIp) pol.ipRelaxation = 'BYPASS';
    if (patch.clientCredentialsOff) cfg.isClientCredentialEnabled = false;
    if (patch.certificate) cfg.certificate = patch.certificate;
    if (patch.runAsUsername) cfg.oauthClientCredentialUser = patch.runAsUsername;
    const names = new Set([...asArray(current.permissionSetName as string | string[] | undefined), ...Object.values(patch.addPermissionSets ?? {})]);
    const profiles = without(asArray(current.profileName as string | string[] | undefined), patch.removeProfiles);
    await upsertConnectedAppComponent(transport, {
      ...current,
      oauthConfig: cfg,
      oauthPolicy: pol,
      permissionSetName: without([...names], patch.removePermissionSets),
      ...(patch.removeProfiles ? { profileName: profiles } : {}),
    });
    return;
  }
  const parts = await retrieveEca(transport, app.name);
  const changed: EcaComponent[] = [];
  /** Applies changes (undefined removes a field) and keeps the component when something really changed. */
  const edit = (type: string, changes: (c: Component) => Record<string, unknown>): void => {
    const current = parts[type];
    const member = String(current?.fullName ?? '');
    if (!current || !member) return;
    const next: Component = { ...current };
    for (const [k, v] of Object.entries(changes(current))) {
      if (v === undefined) delete next[k];
      else next[k] = v;
    }
    if (JSON.stringify(next) !== JSON.stringify(current)) changed.push({ type, member, component: next });
  };
  edit('ExtlClntAppGlobalOauthSettings', () => ({
    ...(patch.pkceOff ? { isPkceRequired: false } : {}),
    ...(patch.namedUserJwtOff ? { isNamedUserJwtEnabled: false } : {}),
    ...(patch.certificate ? { certificate: patch.certificate } : {}),
  }));
  edit('ExtlClntAppOauthConfigurablePolicies', (c) => {
    // Added sets are written in the form the org answered (Ids or API names); API names when it held none.
    const form = permissionSetReferenceForm(c.commaSeparatedPermissionSet) ?? 'names';
    const added = Object.entries(patch.addPermissionSets ?? {}).map(([id, name]) => (form === 'ids' ? id : name));
    const entries = csvOf(c.commaSeparatedPermissionSet);
    const lower = new Set(entries.map((e) => e.toLowerCase()));
    const refs = without([...entries, ...added.filter((a) => !lower.has(a.toLowerCase()))], patch.removePermissionSets);
    const profiles = without(csvOf(c.commaSeparatedProfile), patch.removeProfiles);
    return {
      ...(patch.adminApproved ? { permittedUsersPolicyType: 'AdminApprovedPreAuthorized' } : {}),
      ...(patch.refreshValidUntilRevoked ? { refreshTokenPolicyType: 'Infinite', refreshTokenValidityPeriod: undefined, refreshTokenValidityUnit: undefined } : {}),
      ...(patch.relaxIp ? { ipRelaxationPolicyType: 'Bypass' } : {}),
      ...(patch.runAsUsername ? { clientCredentialsFlowUser: patch.runAsUsername } : {}),
      ...(refs.length || patch.removePermissionSets ? { commaSeparatedPermissionSet: refs.length ? refs.join(',') : undefined } : {}),
      ...(patch.removeProfiles ? { commaSeparatedProfile: profiles.length ? profiles.join(',') : undefined } : {}),
    };
  });
  if (patch.oauthPluginOff) edit('ExtlClntAppConfigurablePolicies', () => ({ isOauthPluginEnabled: false }));
  if (changed.length) await deployComponents(transport, changed);
};
