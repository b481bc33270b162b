/*
 * The one entry for writing an app, whichever its kind: an External Client App goes through Metadata API deploy,
 * a Connected App through upsertMetadata (deploy.ts). The rest of the plugin names the change, never the API.
 */
import { deployEca, patchApp, upsertConnectedApp, type AppPatch } from './deploy.js';
import { ApiCallError, soqlString, type Transport } from './transport.js';
import type { AppKind, AppSettings, Flow } from './types.js';

/**
 * A change to an app. `deploy-app` writes every setting the plugin manages (create owns the app); `patch-app`
 * changes only the named settings and keeps everything else the org holds (doctor --fix). `Id` is the type of the
 * values an earlier step may produce (a plan carries references; apply resolves them to strings).
 */
export type AppChange<Id = string> =
  | {
      kind: 'deploy-app';
      app: AppSettings;
      flow: Flow;
      /** The permission set pre-authorized on the app: its Id, and its name (Connected Apps select by name). */
      permissionSet: Id;
      permissionSetName: string;
      /** Client credentials: the run-as user. */
      runAsUsername?: string;
      /** JWT bearer: the certificate the app verifies assertions with. */
      certificate?: Id;
      /**
       * The app was not in the org when the plan was made: asked again right before the write, so a run that
       * started at the same time and created it since is not overwritten (its certificate kept).
       */
      createOnly?: boolean;
    }
  | { kind: 'patch-app'; app: { kind: AppKind; name: string }; patch: AppPatch<Id> };

/** Writes the app; an External Client App's deploy answers its Id (the credentials resource is read by Id). */
export const writeApp = async (transport: Transport, change: AppChange): Promise<{ appId?: string }> => {
  if (change.kind === 'patch-app') {
    await patchApp(transport, change.app, change.patch);
    return {};
  }
  if (change.createOnly && (await appExists(transport, change.app))) {
    throw new ApiCallError('CREATED_CONCURRENTLY', `CREATED_CONCURRENTLY: ${change.app.name} exists now, though it did not when this run read the org.`);
  }
  const write = {
    app: change.app,
    certificatePem: change.flow === 'jwt' ? change.certificate : undefined,
    clientCredentials: change.flow === 'client-credentials',
    // By API name: what real orgs accept and return for both app kinds (eca-deploy.md §5).
    permissionSetNames: [change.permissionSetName],
    runAsUsername: change.runAsUsername,
  };
  if (change.app.kind === 'external-client-app') return deployEca(transport, write);
  await upsertConnectedApp(transport, write);
  return {};
};

/** Whether an app of that kind and API name exists now (one query). */
const appExists = async (transport: Transport, app: { kind: AppKind; name: string }): Promise<boolean> => {
  if (app.kind === 'external-client-app') {
    const { eca } = await transport.queryBatch({ eca: `SELECT Id FROM ExternalClientApplication WHERE DeveloperName = ${soqlString(app.name)}` });
    return Array.isArray(eca) && eca.length > 0;
  }
  // Connected Apps by their Tooling API DeveloperName (the data API's Name is the label).
  return (await transport.toolingQuery(`SELECT Id FROM ConnectedApplication WHERE DeveloperName = ${soqlString(app.name)}`)).length > 0;
};
