/*
 * Checks an org makes without writing, before the first write of a run. Since Spring '26, orgs refuse new Connected
 * Apps ("Connected App creation via APIs (including the Metadata API) is blocked in the same way as the UI",
 * Salesforce Help, "New Connected Apps Can No Longer Be Created in Spring '26"); only orgs where Salesforce Support
 * re-enabled creation take one. No setting says which kind of org this is, so the org is asked the way the Metadata
 * API offers: a check-only deploy (DeployOptions.checkOnly, "validate the deployed files without saving them") of
 * the Connected App create would write. Nothing is saved either way.
 */
import JSZip from 'jszip';
import { componentXml, packageXml } from './app-metadata.js';
import { connectedAppComponent } from './deploy.js';
import type { Transport } from './transport.js';
import type { AppSettings } from './types.js';

type DeployFailure = { problem?: string };
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * Whether the org would create this Connected App: a check-only deploy of it (without the permission set it will
 * select, which does not exist yet, and without a certificate, which does not change whether it may be created).
 * Answers the org's own words when it would not.
 */
export const checkConnectedAppCreation = async (transport: Transport, app: AppSettings): Promise<{ ok: true } | { ok: false; problem: string }> => {
  const component = connectedAppComponent({ app, clientCredentials: false, permissionSetNames: [] }, []);
  delete (component as { permissionSetName?: unknown }).permissionSetName;
  const zip = new JSZip();
  zip.file('package.xml', packageXml([{ name: 'ConnectedApp', members: [app.name] }], transport.apiVersion));
  zip.file(`connectedApps/${app.name}.connectedApp`, componentXml('ConnectedApp', component));
  const body = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
  const started = await transport.metadataCall(
    async (metadata) => (await metadata.deploy(body, { checkOnly: true, rollbackOnError: true, singlePackage: true })) as unknown as { id: string }
  );
  for (let attempt = 0; attempt <= 120; attempt++) {
    // eslint-disable-next-line no-await-in-loop
    const result = await transport.metadataCall((metadata) => metadata.checkDeployStatus(started.id, true));
    if (String(result.done) === 'true') {
      if (String(result.success) === 'true') return { ok: true };
      const details = (result.details ?? {}) as { componentFailures?: DeployFailure | DeployFailure[] };
      const problem = asArray(details.componentFailures)
        .map((f) => f.problem ?? '')
        .filter(Boolean)
        .join('\n');
      return { ok: false, problem: problem || String(result.status) };
    }
    // eslint-disable-next-line no-await-in-loop
    await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
  }
  return { ok: false, problem: `The check-only deploy ${started.id} did not finish.` };
};
