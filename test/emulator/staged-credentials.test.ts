/*
 * Staged ECA credentials through Connect REST: stage, use, rotate, keep the previous set for 30 days (the emulator's
 * clock), delete it early, and the setting, permission and version gates. The client credentials grant is the
 * witness of which key and secret the org accepts at each step.
 */
/* eslint-disable camelcase -- OAuth wire names */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from 'chai';
import { integrationFixture, type IntegrationFixture } from '../helpers/fixtures.js';
import { advance, call, type Json } from './governance-support.js';
import { STAGED_MODEL } from './staged-credentials.js';
import { USAGE_MODEL } from './usage.js';
import { startEmulator, type Emulator, type Fixture } from './index.js';

const NOW = '2026-11-02T09:00:00.000Z';
type Staged = { id: string; key: string; secret: string; state: string; url: string };

describe('emulator staged External Client App credentials', () => {
  let integ: IntegrationFixture;
  let emu: Emulator;
  let base: string;

  const start = async (edit?: (fx: Fixture) => void, settings: Record<string, unknown> = {}): Promise<Emulator> => {
    integ = integrationFixture({ clientCredentials: true });
    const fx = integ.fixture;
    fx.metadata!.ExternalClientAppSettings[0].enableClientSecretInRestApiAccess = true;
    fx.emulator = { ...fx.emulator, now: NOW, propagationSeconds: 600, ...settings };
    edit?.(fx);
    emu = await startEmulator({ fixture: fx });
    const appId = String(emu.store.all('ExternalClientApplication')[0].Id);
    const consumers = (await call(emu, 'GET', `/services/data/v65.0/apps/oauth/credentials/${appId}`)).body as { consumers: Array<Json & { id: string }> };
    expect(consumers.consumers[0].stagedCredentialsUrl).to.equal(`/services/data/v65.0/apps/oauth/credentials/${appId}/${consumers.consumers[0].id}/staged`);
    base = String(consumers.consumers[0].stagedCredentialsUrl);
    return emu;
  };

  const cc = (key: string, secret: string): Promise<number> =>
    call(emu, 'POST', '/services/oauth2/token', { token: null, form: { grant_type: 'client_credentials', client_id: key, client_secret: secret } }).then((r) => r.status);
  const stage = async (): Promise<Staged> => {
    const res = await call(emu, 'POST', base);
    expect(res.status, res.text).to.equal(STAGED_MODEL.createdStatus);
    const body = res.body as { stagedCredentials: Staged[]; url: string };
    expect(body.url).to.equal(base);
    return body.stagedCredentials[0];
  };
  const listed = async (): Promise<Staged[]> => ((await call(emu, 'GET', base)).body as { stagedCredentials: Staged[] }).stagedCredentials;
  const rotate = (s: Staged, command = 'rotate'): ReturnType<typeof call> => call(emu, 'PATCH', s.url, { json: { command } });

  afterEach(async () => emu?.close());

  it('gates on permission names Salesforce publishes (PermissionSet in @salesforce/types lib/tooling.d.ts)', () => {
    const tooling = readFileSync(createRequire(import.meta.url).resolve('@salesforce/types/tooling').replace(/tooling\.js$/, 'tooling.d.ts'), 'utf8');
    const permissionSet = /export type PermissionSet = [^{]*\{([\s\S]*?)\n\};/.exec(tooling)?.[1] ?? '';
    const gates = [...USAGE_MODEL.readPermissions, ...USAGE_MODEL.revokePermissions, 'ExternalClientAppDeveloper', 'ViewClientSecret'];
    for (const p of gates) expect(permissionSet, p).to.match(new RegExp(`\\bPermissions${p}\\?:`));
  });

  it('stages a new key and secret (state Active) that the token endpoint accepts at once, beside the main set', async () => {
    await start();
    emu.clearLog();
    const staged = await stage();
    expect(emu.log().writes).to.equal(1);
    expect(staged.state).to.equal('Active');
    expect(staged.key).to.match(/^3MVG9/).and.not.equal(integ.consumerKey);
    expect(staged.secret).to.match(/^[0-9A-F]{64}$/);
    expect(staged.url).to.equal(`${base}/${staged.id}`);
    expect(await listed()).to.deep.equal([staged]);
    expect(await cc(staged.key, staged.secret)).to.equal(200);
    expect(await cc(integ.consumerKey, integ.consumerSecret)).to.equal(200);
    expect(await cc(staged.key, integ.consumerSecret)).to.equal(400);
    const again = await call(emu, 'POST', base);
    expect(again.status, 'one staged credential per consumer').to.equal(400);
    expect((again.body as Json[])[0].errorCode).to.equal('INVALID_INPUT');
  });

  it('rotate promotes the staged set; the previous one is Rotated and keeps working for 30 days, with no propagation wait', async () => {
    await start();
    const staged = await stage();
    const res = await rotate(staged);
    expect(res.status, res.text).to.equal(200);
    const [slot] = (res.body as { stagedCredentials: Staged[] }).stagedCredentials;
    expect(slot).to.include({ id: staged.id, key: integ.consumerKey, secret: integ.consumerSecret, state: 'Rotated' });
    const global = emu.store.listMetadata('ExtlClntAppGlobalOauthSettings')[0];
    expect(global).to.include({ consumerKey: staged.key, consumerSecret: staged.secret });
    const appId = String(emu.store.all('ExternalClientApplication')[0].Id);
    const consumers = (await call(emu, 'GET', `/services/data/v65.0/apps/oauth/credentials/${appId}`)).body as { consumers: Json[] };
    expect(consumers.consumers[0].key).to.equal(staged.key);

    expect(await cc(staged.key, staged.secret), 'new set').to.equal(200);
    expect(await cc(integ.consumerKey, integ.consumerSecret), 'previous set').to.equal(200);
    expect((await rotate(slot)).status, 'a Rotated slot cannot be rotated').to.equal(400);

    advance(emu, 30 * 86_400 - 60);
    expect(await cc(integ.consumerKey, integ.consumerSecret)).to.equal(200);
    advance(emu, 120);
    const old = await call(emu, 'POST', '/services/oauth2/token', { token: null, form: { grant_type: 'client_credentials', client_id: integ.consumerKey, client_secret: integ.consumerSecret } });
    expect(old.body).to.deep.equal({ error: 'invalid_client_id', error_description: 'client identifier invalid' });
    expect(await cc(staged.key, staged.secret)).to.equal(200);
    expect((await listed())[0].state).to.equal('Expired');
    expect((await call(emu, 'POST', base)).status, 'an Expired slot still occupies the consumer').to.equal(400);
    expect((await call(emu, 'DELETE', slot.url)).status).to.equal(204);
    await stage();
  });

  it("with stagedCredentialsAfterExpiry = 'removed' an expired slot disappears", async () => {
    await start(undefined, { stagedCredentialsAfterExpiry: 'removed' });
    const staged = await stage();
    advance(emu, 31 * 86_400);
    expect(await cc(staged.key, staged.secret), 'staged and never rotated: expired too').to.equal(400);
    expect(await listed()).to.deep.equal([]);
    await stage();
  });

  it('deleting the Rotated slot revokes the previous set at once (revoke previous)', async () => {
    await start();
    const staged = await stage();
    await rotate(staged);
    emu.clearLog();
    expect((await call(emu, 'DELETE', staged.url)).status).to.equal(204);
    expect(emu.log().writes).to.equal(1);
    expect(await cc(integ.consumerKey, integ.consumerSecret)).to.equal(400);
    expect(await cc(staged.key, staged.secret)).to.equal(200);
    expect((await call(emu, 'DELETE', staged.url)).status).to.equal(404);
    expect(await listed()).to.deep.equal([]);
  });

  it('refuses other commands and unknown staged ids', async () => {
    await start();
    const staged = await stage();
    const bad = await rotate(staged, 'promote');
    expect(bad.status).to.equal(400);
    expect((bad.body as Json[])[0].message).to.equal(STAGED_MODEL.refusals.badCommand.message);
    expect((await call(emu, 'PATCH', `${base}/0Hx5g0000000099AAA`, { json: { command: 'rotate' } })).status).to.equal(404);
    expect(emu.store.listMetadata('ExtlClntAppGlobalOauthSettings')[0].consumerKey).to.equal(integ.consumerKey);
  });

  it('gates: the REST secret setting, External Client App Developer + View Client Secret, v65.0, the app Id, local apps', async () => {
    await start((fx) => void (fx.metadata!.ExternalClientAppSettings[0].enableClientSecretInRestApiAccess = false));
    // The consumer listing works without the setting; the staged resources do not.
    const off = await call(emu, 'POST', base);
    expect(off.status).to.equal(403);
    expect((off.body as Json[])[0].message).to.equal(STAGED_MODEL.refusals.settingOff.message);
    await emu.close();

    await start((fx) => {
      const admin = fx.records!.Profile.find((p) => p.Name === 'System Administrator')!;
      for (const holder of [admin, ...fx.records!.PermissionSet.filter((p) => p.ProfileId === admin.Id)]) holder.PermissionsViewClientSecret = false;
    });
    expect(((await call(emu, 'GET', base)).body as Json[])[0].message).to.equal(STAGED_MODEL.refusals.permission.message);
    await emu.close();

    await start();
    expect((await call(emu, 'GET', base.replace('v65.0', 'v64.0'))).status).to.equal(404);
    expect((await call(emu, 'GET', base.replace(/credentials\/[^/]+\//, 'credentials/HubSpot_Integration/'))).status).to.equal(404);
    expect((await call(emu, 'GET', base.replace(/\/888[^/]+\//, '/888000000000000AAA/'))).status).to.equal(404);
    const header = emu.store.listMetadata('ExternalClientApplication')[0];
    emu.store.putMetadata('ExternalClientApplication', { ...header, distributionState: 'Packaged' }, { system: true });
    expect(((await call(emu, 'POST', base)).body as Json[])[0].message).to.equal(STAGED_MODEL.refusals.notLocal.message);
    expect(emu.log().writes).to.equal(0);
  });
});
