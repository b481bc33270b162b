/*
 * The real `sf` CLI logs in to the emulator: a client nobody here wrote checks the emulator's wire format
 * (OAuth token endpoint, userinfo, REST, SOQL) and its Salesforce error strings.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { makeKeyPair } from '../helpers/credentials.js';
import { integrationFixture, type IntegrationFixture } from '../helpers/fixtures.js';
import { newSfHome, type SfHome } from '../helpers/sf.js';

type Envelope = { status: number; result?: Record<string, unknown>; name?: string; message?: string };

describe('the real sf CLI against the emulator', function () {
  this.timeout(240_000);
  let emu: Emulator;
  let sf: SfHome;
  let integ: IntegrationFixture;
  let keyFile: string;
  let otherKeyFile: string;

  before(async () => {
    const pair = makeKeyPair('hubspot-integration');
    const other = makeKeyPair('someone-else');
    integ = integrationFixture({ certificatePem: pair.certificatePem });
    emu = await startEmulator({ fixture: integ.fixture });
    sf = await newSfHome();
    keyFile = join(sf.home, 'private-key.pem');
    otherKeyFile = join(sf.home, 'other-key.pem');
    await writeFile(keyFile, pair.privateKeyPem, { mode: 0o600 });
    await writeFile(otherKeyFile, other.privateKeyPem, { mode: 0o600 });
  });

  after(async () => {
    await emu?.close();
    await sf?.dispose();
  });

  const jwtLogin = (clientId: string, file: string, username: string, alias: string): Promise<{ code: number; body: Envelope }> =>
    sf.json<Envelope>(['org', 'login', 'jwt', '--client-id', clientId, '--jwt-key-file', file, '--username', username, '--instance-url', emu.instanceUrl, '--alias', alias]);

  it('logs in with an access token and shows the org', async () => {
    const login = await sf.json<Envelope>(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', 'emu'], {
      SF_ACCESS_TOKEN: emu.accessToken,
    });
    expect(login.code, login.stdout + login.stderr).to.equal(0);
    const display = await sf.json<Envelope>(['org', 'display', '--target-org', 'emu']);
    expect(display.code, display.stdout).to.equal(0);
    expect(display.body.result?.id).to.equal(emu.store.orgId);
    expect(display.body.result?.username).to.equal('admin@emulated-org.example');
    expect(String(display.body.result?.instanceUrl).replace(/\/$/, '')).to.equal(emu.instanceUrl);
    // The CLI stores the instance URL with a trailing slash and then asks for '//services/data': still served.
    expect(display.body.result?.connectedStatus).to.equal('Connected');
  });

  it('answers sf data query, including the column description the CLI asks for (columns=true)', async () => {
    const query = await sf.run(['data', 'query', '--target-org', 'emu', '--query', 'SELECT Username, Profile.Name FROM User WHERE IsActive = true']);
    expect(query.code, query.stderr).to.equal(0);
    expect(query.stdout).to.include('admin@emulated-org.example');
    expect(query.stdout).to.include('System Administrator');
    expect(emu.log().entries.some((e) => e.soql?.startsWith('SELECT Username, Profile.Name FROM User'))).to.be.true;
  });

  it('logs in with the JWT bearer flow as the integration user, and the token works', async () => {
    const before = emu.log().writes;
    const login = await jwtLogin(integ.consumerKey, keyFile, integ.username, 'integ');
    expect(login.code, JSON.stringify(login.body)).to.equal(0);
    expect(login.body.result?.username).to.equal(integ.username);
    expect(login.body.result?.orgId).to.equal(emu.store.orgId);
    const display = await sf.json<Envelope>(['org', 'display', '--target-org', 'integ']);
    expect(display.body.result?.username).to.equal(integ.username);
    const history = emu.store.all('LoginHistory').filter((h) => h.UserId === integ.userId);
    expect(history.map((h) => h.Status)).to.include('Success');
    expect(history[0].LoginType).to.equal('Remote Access 2.0');
    expect(emu.log().writes, 'a login is not a write').to.equal(before);
  });

  it('refuses a JWT signed with a key that does not match the certificate: invalid assertion', async () => {
    const login = await jwtLogin(integ.consumerKey, otherKeyFile, integ.username, 'bad-key');
    expect(login.code).to.not.equal(0);
    expect(login.body.message).to.match(/invalid assertion/);
  });

  it('refuses an unknown consumer key: client identifier invalid', async () => {
    const login = await jwtLogin('3MVG9unknownconsumerkey', keyFile, integ.username, 'bad-client');
    expect(login.code).to.not.equal(0);
    expect(login.body.message).to.match(/client identifier invalid/);
  });

  it('refuses a user whose permission set is not selected on the app: user is not admin approved', async () => {
    // Break one thing, as an admin would: remove the permission set from the app's selected permission sets.
    const access = emu.store.all('SetupEntityAccess').find((r) => r.ParentId === integ.permissionSetId);
    expect(access, 'the app pre-authorizes the permission set').to.exist;
    const del = await fetch(`${emu.instanceUrl}/services/data/v66.0/sobjects/SetupEntityAccess/${String(access?.Id)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${emu.accessToken}` },
    });
    expect(del.status).to.equal(204);
    const login = await jwtLogin(integ.consumerKey, keyFile, integ.username, 'not-approved');
    expect(login.code).to.not.equal(0);
    expect(login.body.message).to.match(/user is not admin approved to access this app/);
    const failed = emu.store.all('LoginHistory').filter((h) => h.UserId === integ.userId && h.Status !== 'Success');
    expect(failed.map((h) => h.Status)).to.include('Failed: Not approved for access');
  });
});
