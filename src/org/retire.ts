/*
 * Removing an app from the org: a destructive deploy (Metadata API Developer Guide, "Deleting Components from an
 * Organization": an empty package.xml plus destructiveChanges.xml naming the members). An External Client App is
 * its header and the settings and policies that name it (ExternalClientApplication, ExtlClntAppOauthSettings,
 * ExtlClntAppGlobalOauthSettings, ExtlClntAppOauthConfigurablePolicies, ExtlClntAppConfigurablePolicies: the
 * type names of source-deploy-retrieve's registry), all deleted in one deploy; a Connected App is one ConnectedApp
 * member. The members of an ECA are the ones the org holds (retrieved), whatever they were named when created.
 */
import JSZip from 'jszip';
import { ECA_PARTS, packageXml } from './app-metadata.js';
import { deployZip } from './deploy.js';
import { readConnectedApp, retrieveEca } from './snapshot.js';
import { soqlString, type Transport } from './transport.js';
import type { AppKind } from './types.js';

type Members = Array<{ name: string; members: string[] }>;

/** The metadata members the app is made of in the org now (none when it is gone). */
const membersOf = async (transport: Transport, app: { kind: AppKind; name: string }): Promise<Members> => {
  if (app.kind === 'connected-app') return (await readConnectedApp(transport, app.name)) ? [{ name: 'ConnectedApp', members: [app.name] }] : [];
  const parts = await retrieveEca(transport, app.name);
  if (!parts.ExternalClientApplication) return [];
  return ECA_PARTS.flatMap((p) => {
    const fullName = parts[p.type]?.fullName;
    return typeof fullName === 'string' && fullName ? [{ name: p.type, members: [fullName] }] : [];
  });
};

/** The deploy zip that deletes the members: package.xml names nothing, destructiveChanges.xml the members. */
export const destructiveZip = async (members: Members, apiVersion: string): Promise<Buffer> => {
  const zip = new JSZip();
  zip.file('package.xml', packageXml([], apiVersion));
  zip.file('destructiveChanges.xml', packageXml(members, apiVersion));
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
};

/** Deletes the app (every member in one deploy). Answers the members deleted; an app already gone deletes nothing. */
export const deleteApp = async (transport: Transport, app: { kind: AppKind; name: string }): Promise<{ deleted: string[] }> => {
  const members = await membersOf(transport, app);
  if (!members.length) return { deleted: [] };
  const labels = members.flatMap((m) => m.members.map((n) => `${m.name} ${n}`));
  const zip = await destructiveZip(members, transport.apiVersion);
  // A lost answer: the app gone means the deploy landed.
  await deployZip(transport, zip, labels, async () => (await membersOf(transport, app)).length === 0);
  return { deleted: labels };
};

/**
 * The latest successful login through an app (LoginHistory.Application is the app's label), for the question
 * "is it still used": JWT bearer and client-credentials logins need not leave an OauthToken row, a LoginHistory row
 * they always leave (Object Reference, LoginHistory). `readable: false` when the org refused the query.
 */
export const lastAppLogin = async (transport: Transport, labels: string[]): Promise<{ readable: boolean; last?: string }> => {
  const { logins } = await transport.queryBatch({
    logins: `SELECT Application, MAX(LoginTime) lastLogin FROM LoginHistory WHERE Status = 'Success' AND Application IN (${labels.map(soqlString).join(', ')}) GROUP BY Application`,
  });
  if (!Array.isArray(logins)) return { readable: false };
  const times = logins.map((r) => String(r.lastLogin ?? '')).filter(Boolean).sort();
  return { readable: true, last: times.at(-1) };
};
