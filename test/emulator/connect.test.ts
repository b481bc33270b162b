/*
 * Connect REST credential resources of External Client Apps, and a client we did not write (jsforce through
 * @salesforce/core) parsing our Metadata API envelopes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import JSZip from 'jszip';
import { loadFixture } from './server.js';
import type { Fixture } from './store.js';
import { startEmulator, type Emulator } from './index.js';

const NS = 'http://soap.sforce.com/2006/04/metadata';
const xmlFile = (root: string, inner: string): string => `<?xml version="1.0" encoding="UTF-8"?><${root} xmlns="${NS}">${inner}</${root}>`;

const ecaZip = async (name: string): Promise<Buffer> => {
  const zip = new JSZip();
  zip.file(
    'package.xml',
    xmlFile(
      'Package',
      `<types><members>${name}</members><name>ExternalClientApplication</name></types><types><members>${name}_glbloauth</members><name>ExtlClntAppGlobalOauthSettings</name></types><version>66.0</version>`
    )
  );
  zip.file(`externalClientApps/${name}.eca`, xmlFile('ExternalClientApplication', `<contactEmail>ops@example.com</contactEmail><label>${name}</label>`));
  zip.file(
    `extlClntAppGlobalOauthSets/${name}_glbloauth.ecaGlblOauth`,
    xmlFile('ExtlClntAppGlobalOauthSettings', `<callbackUrl>http://localhost:1717/OauthRedirect</callbackUrl><externalClientApplication>${name}</externalClientApplication><label>${name}</label>`)
  );
  return zip.generateAsync({ type: 'nodebuffer' });
};

const withSettings = async (settings: Record<string, boolean>, emulator: Fixture['emulator'] = {}): Promise<Fixture> => {
  const f = await loadFixture(undefined);
  Object.assign(f.metadata?.ExternalClientAppSettings?.[0] ?? {}, settings);
  f.emulator = { ...f.emulator, ...emulator };
  return f;
};

describe('emulator Connect REST app credentials and jsforce compatibility', () => {
  let emu: Emulator;
  afterEach(async () => emu.close());

  const get = async (path: string): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${emu.instanceUrl}${path}`, { headers: { authorization: `Bearer ${emu.accessToken}` } });
    return { status: res.status, body: await res.json() };
  };

  /** Deploys through jsforce (via @salesforce/core) and returns the connection. */
  const jsforceDeploy = async (name: string): Promise<{ conn: import('@salesforce/core').Connection; id: string }> => {
    process.env.SF_DISABLE_TELEMETRY = 'true';
    process.env.HOME = mkdtempSync(join(tmpdir(), 'emu-home-'));
    const { AuthInfo, Connection } = await import('@salesforce/core');
    const authInfo = await AuthInfo.create({ accessTokenOptions: { accessToken: emu.accessToken, instanceUrl: emu.instanceUrl, loginUrl: emu.instanceUrl } });
    const conn = await Connection.create({ authInfo, connectionOptions: { version: '66.0' } });
    const started = await conn.metadata.deploy(await ecaZip(name), { rollbackOnError: true, singlePackage: true });
    return { conn, id: started.id };
  };

  it('jsforce deploys, checks status with details, and reads a Connected App', async () => {
    emu = await startEmulator({ fixture: await withSettings({}, { allowConnectedAppCreation: true }) });
    const { conn, id } = await jsforceDeploy('Js_ECA');
    const status = await conn.metadata.checkDeployStatus(id, true);
    expect(status).to.include({ done: true, success: true, status: 'Succeeded', numberComponentsDeployed: 2, numberComponentErrors: 0 });
    const names = status.details?.componentSuccesses?.map((s) => s.fullName);
    expect(names).to.include.members(['Js_ECA', 'Js_ECA_glbloauth', 'package.xml']);

    const up = await conn.metadata.upsert('ConnectedApp', {
      fullName: 'Js_CA',
      contactEmail: 'ops@example.com',
      label: 'Js CA',
      oauthConfig: { callbackUrl: 'http://localhost:1717/OauthRedirect', scopes: ['Api', 'RefreshToken'] },
    });
    expect(up).to.include({ success: true, created: true, fullName: 'Js_CA' });
    const ca = await conn.metadata.read('ConnectedApp', 'Js_CA');
    expect(ca).to.include({ fullName: 'Js_CA', label: 'Js CA', contactEmail: 'ops@example.com' });
    expect(String(ca.oauthConfig?.consumerKey)).to.match(/^3MVG9/);
    const missing = await conn.metadata.read('ConnectedApp', 'Nope');
    expect(missing.fullName ?? '').to.equal('');
    const failed = await conn.metadata.upsert('ExternalClientApplication', { fullName: 'X', label: 'X' }).catch((e: Error) => e);
    expect(failed).to.be.instanceOf(Error);
    expect((failed as Error).name).to.equal('sf:INVALID_TYPE');
  });

  it('lists the consumer and reads the key; the secret only with the REST secret setting', async () => {
    emu = await startEmulator();
    const { conn, id } = await jsforceDeploy('Rest_ECA');
    await conn.metadata.checkDeployStatus(id, false);
    const global = emu.store.getMetadata('ExtlClntAppGlobalOauthSettings', 'Rest_ECA_glbloauth');
    const appId = emu.store.all('ExternalClientApplication').find((a) => a.DeveloperName === 'Rest_ECA')!.Id;

    const list = await get(`/services/data/v66.0/apps/oauth/credentials/${appId}`);
    expect(list.status).to.equal(200);
    const consumers = (list.body as { consumers: Array<{ id: string; key: string; name: string }> }).consumers;
    expect(consumers).to.have.length(1);
    expect(consumers[0].key).to.equal(global?.consumerKey);
    // "OAuth Credentials by App ID": a developer name is no app identifier, so it is an unknown resource.
    const byName = await get('/services/data/v66.0/apps/oauth/credentials/Rest_ECA');
    expect(byName.status).to.equal(404);
    expect((byName.body as Array<{ errorCode: string }>)[0].errorCode).to.equal('NOT_FOUND');

    const key = await get(`/services/data/v66.0/apps/oauth/credentials/${appId}/${consumers[0].id}`);
    expect(key).to.deep.equal({ status: 200, body: { key: global?.consumerKey, secret: null } });
    const refused = await get(`/services/data/v66.0/apps/oauth/credentials/${appId}/${consumers[0].id}?part=keyandsecret`);
    expect(refused.status).to.equal(403);
    expect((refused.body as Array<{ errorCode: string }>)[0].errorCode).to.equal('INSUFFICIENT_ACCESS');
    expect((await get(`/services/data/v59.0/apps/oauth/credentials/${appId}`)).status).to.equal(404);
    expect((await get('/services/data/v66.0/apps/oauth/credentials/Nope')).status).to.equal(404);
    expect(((await get('/services/data/v66.0/apps/oauth/usage')).body as { apps: unknown[] }).apps).to.deep.equal([]);
  });

  it('returns key and secret when the org allows secrets through the REST API', async () => {
    emu = await startEmulator({ fixture: await withSettings({ enableClientSecretInRestApiAccess: true }) });
    const { conn, id } = await jsforceDeploy('Rest_ECA');
    await conn.metadata.checkDeployStatus(id, false);
    const global = emu.store.getMetadata('ExtlClntAppGlobalOauthSettings', 'Rest_ECA_glbloauth');
    const appId = emu.store.all('ExternalClientApplication').find((a) => a.DeveloperName === 'Rest_ECA')!.Id;
    const consumers = ((await get(`/services/data/v66.0/apps/oauth/credentials/${appId}`)).body as { consumers: Array<{ id: string }> }).consumers;
    const both = await get(`/services/data/v66.0/apps/oauth/credentials/${appId}/${consumers[0].id}?part=keyandsecret`);
    expect((await get(`/services/data/v66.0/apps/oauth/credentials/Rest_ECA/${consumers[0].id}?part=keyandsecret`)).status).to.equal(404);
    expect(both).to.deep.equal({ status: 200, body: { key: global?.consumerKey, secret: global?.consumerSecret } });
  });
});
