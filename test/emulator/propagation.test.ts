/*
 * A certificate replaced on an app through the Metadata API (deploy of ExtlClntAppGlobalOauthSettings for an External
 * Client App, upsertMetadata of a ConnectedApp), written by jsforce, takes effect after emulator.propagationSeconds
 * (Salesforce Help: changes propagate in 2 to 10 minutes). Both readings of the window are served and tested:
 * 'previousCertificate' (the old key works until the new certificate is in effect) and 'appUnavailable'.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import JSZip from 'jszip';
import { makeKeyPair, type TestKeyPair } from '../helpers/credentials.js';
import { integrationFixture, type IntegrationFixture } from '../helpers/fixtures.js';
import { advance, jwtLogin, type Json } from './governance-support.js';
import { startEmulator, type Emulator } from './index.js';

const NS = 'http://soap.sforce.com/2006/04/metadata';
const WINDOW = 300;

describe('emulator certificate replacement and the propagation window', () => {
  let oldKeys: TestKeyPair;
  let newKeys: TestKeyPair;
  let integ: IntegrationFixture;
  let emu: Emulator;

  const start = async (appKind: 'eca' | 'connected-app', settings: Record<string, unknown> = {}): Promise<Emulator> => {
    integ = integrationFixture({ certificatePem: oldKeys.certificatePem, appKind });
    integ.fixture.emulator = { ...integ.fixture.emulator, now: '2026-11-02T09:00:00.000Z', propagationSeconds: WINDOW, ...settings };
    emu = await startEmulator({ fixture: integ.fixture });
    return emu;
  };

  const connection = async (): Promise<import('@salesforce/core').Connection> => {
    process.env.SF_DISABLE_TELEMETRY = 'true';
    process.env.HOME = mkdtempSync(join(tmpdir(), 'emu-home-'));
    const { AuthInfo, Connection } = await import('@salesforce/core');
    const authInfo = await AuthInfo.create({ accessTokenOptions: { accessToken: emu.accessToken, instanceUrl: emu.instanceUrl, loginUrl: emu.instanceUrl } });
    return Connection.create({ authInfo, connectionOptions: { version: '66.0' } });
  };

  /** Deploys the app's global OAuth settings as retrieved, with another certificate (what a rotation deploys). */
  const deployCertificate = async (certificatePem: string, extra = ''): Promise<void> => {
    const conn = await connection();
    const name = integ.appName;
    const zip = new JSZip();
    zip.file('package.xml', `<?xml version="1.0" encoding="UTF-8"?><Package xmlns="${NS}"><types><members>${name}_glbloauth</members><name>ExtlClntAppGlobalOauthSettings</name></types><version>66.0</version></Package>`);
    zip.file(
      `extlClntAppGlobalOauthSets/${name}_glbloauth.ecaGlblOauth`,
      `<?xml version="1.0" encoding="UTF-8"?><ExtlClntAppGlobalOauthSettings xmlns="${NS}"><callbackUrl>https://login.salesforce.com/services/oauth2/success</callbackUrl>` +
        `<certificate>${certificatePem}</certificate><externalClientApplication>${name}</externalClientApplication><isClientCredentialsFlowEnabled>false</isClientCredentialsFlowEnabled>` +
        `<isConsumerSecretOptional>false</isConsumerSecretOptional><isNamedUserJwtEnabled>false</isNamedUserJwtEnabled><isPkceRequired>false</isPkceRequired>${extra}<label>${name} Global OAuth</label></ExtlClntAppGlobalOauthSettings>`
    );
    const started = await conn.metadata.deploy(await zip.generateAsync({ type: 'nodebuffer' }), { rollbackOnError: true, singlePackage: true });
    const result = await conn.metadata.checkDeployStatus(started.id, true);
    expect(result.success, JSON.stringify(result.details)).to.equal(true);
  };

  /** Upserts the Connected App as it stands, with another certificate. */
  const upsertCertificate = async (certificatePem: string): Promise<void> => {
    const conn = await connection();
    const current = structuredClone(emu.store.getMetadata('ConnectedApp', integ.appName)!) as Json & { fullName: string; oauthConfig: Json };
    delete current.oauthConfig.consumerSecret;
    current.oauthConfig.certificate = certificatePem;
    const res = await conn.metadata.upsert('ConnectedApp', current as never);
    expect(res).to.include({ success: true, created: false });
  };

  const login = async (keys: TestKeyPair): Promise<Json> => {
    const res = await jwtLogin(emu, keys.privateKeyPem, integ.consumerKey, integ.username);
    return res.status === 200 ? { ok: true } : (res.body as Json);
  };
  const INVALID_ASSERTION = { error: 'invalid_grant', error_description: 'invalid assertion' };

  before(() => {
    oldKeys = makeKeyPair('before-rotation');
    newKeys = makeKeyPair('after-rotation');
  });
  afterEach(async () => emu?.close());

  for (const [kind, replace] of [
    ['eca', (pem: string): Promise<void> => deployCertificate(pem)],
    ['connected-app', (pem: string): Promise<void> => upsertCertificate(pem)],
  ] as const) {
    it(`${kind}: during the window the old key still works and the new one is refused; then the reverse (previousCertificate)`, async () => {
      await start(kind);
      expect(await login(oldKeys)).to.deep.equal({ ok: true });
      await replace(newKeys.certificatePem);
      expect(await login(oldKeys), 'old key inside the window').to.deep.equal({ ok: true });
      expect(await login(newKeys), 'new key inside the window').to.deep.equal(INVALID_ASSERTION);
      advance(emu, WINDOW + 1);
      expect(await login(newKeys), 'new key after the window').to.deep.equal({ ok: true });
      expect(await login(oldKeys), 'old key after the window').to.deep.equal(INVALID_ASSERTION);
    });
  }

  it("eca with certificatePropagation = 'appUnavailable': both keys refused as for an unknown app during the window", async () => {
    await start('eca', { certificatePropagation: 'appUnavailable' });
    await deployCertificate(newKeys.certificatePem);
    const notInstalled = { error: 'app_not_found', error_description: 'External client app is not installed in this org' };
    expect(await login(oldKeys)).to.deep.equal(notInstalled);
    expect(await login(newKeys)).to.deep.equal(notInstalled);
    advance(emu, WINDOW + 1);
    expect(await login(newKeys)).to.deep.equal({ ok: true });
    expect(await login(oldKeys)).to.deep.equal(INVALID_ASSERTION);
  });

  it('a change beside the certificate restarts the window for the whole app, in either reading', async () => {
    await start('eca');
    await deployCertificate(newKeys.certificatePem, '<isTokenExchangeEnabled>true</isTokenExchangeEnabled>');
    expect(await login(oldKeys)).to.have.property('error', 'app_not_found');
    advance(emu, WINDOW + 1);
    expect(await login(newKeys)).to.deep.equal({ ok: true });
  });

  it('a second replacement inside the window serves the certificate before it, never a mix', async () => {
    await start('connected-app');
    const third = makeKeyPair('third');
    await upsertCertificate(newKeys.certificatePem);
    advance(emu, 60);
    await upsertCertificate(third.certificatePem);
    expect(await login(newKeys)).to.deep.equal({ ok: true });
    expect(await login(oldKeys)).to.deep.equal(INVALID_ASSERTION);
    advance(emu, WINDOW + 1);
    expect(await login(third)).to.deep.equal({ ok: true });
    expect(await login(newKeys)).to.deep.equal(INVALID_ASSERTION);
  });
});
