/*
 * doctor --fix patches apps: it changes only what a failing check names and keeps everything else the org holds
 * (profiles selected on the app, the client-credentials flow beside a certificate), for both app kinds.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Org } from '@salesforce/core';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { makeKeyPair } from '../helpers/credentials.js';
import { integrationFixture } from '../helpers/fixtures.js';

describe('patchApp (doctor --fix) keeps what it does not change', function () {
  this.timeout(120_000);
  const home = process.env.HOME;
  let emu: Emulator;

  before(() => {
    process.env.HOME = mkdtempSync(join(tmpdir(), 'patch-app-'));
    process.env.SF_DISABLE_TELEMETRY = 'true';
  });
  after(() => {
    process.env.HOME = home;
  });
  afterEach(async () => emu?.close());

  const orgFor = async (): Promise<Org> => {
    const core = await import('@salesforce/core');
    const authInfo = await core.AuthInfo.create({ accessTokenOptions: { accessToken: emu.accessToken, instanceUrl: emu.instanceUrl, loginUrl: emu.instanceUrl } });
    return core.Org.create({ connection: await core.Connection.create({ authInfo, connectionOptions: { version: '66.0' } }) });
  };

  it('External Client App: deploys only the changed components, keeping profiles, client credentials and the certificate', async () => {
    const integ = integrationFixture({ certificatePem: makeKeyPair('patch').certificatePem, clientCredentials: true });
    const policies = integ.fixture.metadata!.ExtlClntAppOauthConfigurablePolicies[0];
    const profileId = String(integ.fixture.records!.Profile.find((p) => p.Name === 'Standard User')!.Id);
    Object.assign(policies, { commaSeparatedProfile: profileId, refreshTokenPolicyType: 'SpecificLifetime', refreshTokenValidityPeriod: '1', refreshTokenValidityUnit: 'Days' });
    Object.assign(integ.fixture.metadata!.ExtlClntAppGlobalOauthSettings[0], { isPkceRequired: 'true' });
    emu = await startEmulator({ fixture: integ.fixture });
    const { patchApp } = await import('../../src/org/deploy.js');
    const { Transport } = await import('../../src/org/transport.js');
    const transport = new Transport((await orgFor()).getConnection());
    emu.clearLog();
    await patchApp(transport, { kind: 'external-client-app', name: integ.appName }, { pkceOff: true, refreshValidUntilRevoked: true });
    expect(emu.log().entries.filter((e) => e.soapOperation === 'deploy')).to.have.length(1);
    const after = emu.store.listMetadata('ExtlClntAppOauthConfigurablePolicies')[0];
    expect(after).to.include({ refreshTokenPolicyType: 'Infinite', commaSeparatedProfile: profileId, commaSeparatedPermissionSet: integ.permissionSetId, clientCredentialsFlowUser: integ.username });
    expect(after).to.not.have.property('refreshTokenValidityPeriod');
    const global = emu.store.listMetadata('ExtlClntAppGlobalOauthSettings')[0];
    expect(String(global.isPkceRequired)).to.equal('false');
    expect(String(global.isClientCredentialsFlowEnabled)).to.equal('true');
    expect(String(global.certificate)).to.include('BEGIN CERTIFICATE');
    expect(global.consumerKey).to.equal(integ.consumerKey);
    expect(global.consumerSecret).to.equal(integ.consumerSecret);
  });

  it('Connected App: upserts the record it read, with only the patched fields changed', async () => {
    const integ = integrationFixture({ certificatePem: makeKeyPair('patch').certificatePem, appKind: 'connected-app' });
    const app = integ.fixture.metadata!.ConnectedApp[0];
    Object.assign(app, { profileName: ['Standard User'], oauthPolicy: { ipRelaxation: 'ENFORCE', refreshTokenPolicy: 'zero' } });
    emu = await startEmulator({ fixture: integ.fixture });
    const { patchApp } = await import('../../src/org/deploy.js');
    const { Transport } = await import('../../src/org/transport.js');
    await patchApp(new Transport((await orgFor()).getConnection()), { kind: 'connected-app', name: integ.appName }, { relaxIp: true, refreshValidUntilRevoked: true });
    const after = emu.store.listMetadata('ConnectedApp')[0] as unknown as Record<string, unknown> & { oauthPolicy: Record<string, unknown>; oauthConfig: Record<string, unknown> };
    expect(after.oauthPolicy).to.include({ ipRelaxation: 'BYPASS', refreshTokenPolicy: 'infinite' });
    expect([after.profileName].flat()).to.deep.equal(['Standard User']);
    expect([after.permissionSetName].flat()).to.deep.equal([integ.permissionSetName]);
    expect(String(after.oauthConfig.certificate)).to.include('BEGIN CERTIFICATE');
    expect(after.oauthConfig.consumerKey).to.equal(integ.consumerKey);
  });

  for (const form of ['ids', 'names'] as const) {
    it(`External Client App: a permission set added by --fix is written in the form the org answered (${form})`, async () => {
      const integ = integrationFixture({ certificatePem: makeKeyPair('patch').certificatePem });
      integ.fixture.emulator = { ...integ.fixture.emulator, permissionSetReferences: form };
      const extraId = '0PSTt0000000009AAA';
      integ.fixture.records!.PermissionSet.push({ Id: extraId, Name: 'Extra_Access', Label: 'Extra Access', IsOwnedByProfile: false, IsCustom: true, Type: 'Regular' });
      emu = await startEmulator({ fixture: integ.fixture });
      const { patchApp } = await import('../../src/org/deploy.js');
      const { Transport } = await import('../../src/org/transport.js');
      const conn = (await orgFor()).getConnection();
      const deployed: Buffer[] = [];
      const original = conn.metadata.deploy.bind(conn.metadata);
      conn.metadata.deploy = ((zip: Buffer, options: Parameters<typeof original>[1]) => {
        deployed.push(zip);
        return original(zip, options);
      }) as typeof conn.metadata.deploy;
      await patchApp(new Transport(conn), { kind: 'external-client-app', name: integ.appName }, { addPermissionSets: { [extraId]: 'Extra_Access' } });
      expect(deployed).to.have.length(1);
      const { default: JSZip } = await import('jszip');
      const zip = await JSZip.loadAsync(deployed[0]);
      const file = await zip.file(`extlClntAppOauthPolicies/${integ.appName}_oauthPlcy.ecaOauthPlcy`)!.async('string');
      const expected = form === 'ids' ? `${integ.permissionSetId},${extraId}` : `${integ.permissionSetName},Extra_Access`;
      expect(file).to.contain(`<commaSeparatedPermissionSet>${expected}</commaSeparatedPermissionSet>`);
      // Either way the org now selects both sets.
      expect(emu.store.all('SetupEntityAccess').filter((a) => a.ParentId === extraId)).to.have.length(1);
    });
  }
});
