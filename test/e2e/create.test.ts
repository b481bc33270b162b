/*
 * `sf integration create` through the real sf CLI (plugin linked into a throwaway HOME) against the emulator:
 * the integration it sets up must let the real `sf org login jwt` in, a re-run must write nothing, a dry run
 * must write nowhere, and a run broken by faults must converge when run again.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { startEmulator, type Emulator } from '../emulator/index.js';
import type { CreateResult } from '../../src/create/run.js';
import { makeKeyPair } from '../helpers/credentials.js';
import { defaultFixture } from '../helpers/fixtures.js';
import { newSfHome, PROJECT_ROOT, type SfHome } from '../helpers/sf.js';

type Envelope<T> = { status: number; result?: T; name?: string; message?: string; warnings?: string[] };

const countOf = (emu: Emulator, type: string, pred: (r: Record<string, unknown>) => boolean = (): boolean => true): number =>
  emu.store.all(type).filter(pred).length;

describe('sf integration create (real CLI, emulator)', function () {
  this.timeout(600_000);
  let emu: Emulator;
  let sf: SfHome;

  const login = async (): Promise<void> => {
    const r = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', 'emu'], { SF_ACCESS_TOKEN: emu.accessToken });
    expect(r.code, r.stderr).to.equal(0);
  };
  const create = (args: string[]): Promise<{ code: number; stdout: string; stderr: string; body: Envelope<CreateResult> }> =>
    sf.json<Envelope<CreateResult>>(['integration', 'create', '--target-org', 'emu', ...args], { SF_INTEGRATION_RETRY_BASE_MS: '5' });

  before(async () => {
    // This suite sets up more integrations than the 5 licenses a fresh org has: start from an org that bought 20.
    const fx = defaultFixture();
    fx.records!.UserLicense.find((l) => l.Name === 'Salesforce Integration')!.TotalLicenses = 20;
    fx.records!.PermissionSetLicense[0].TotalLicenses = 20;
    emu = await startEmulator({ fixture: fx });
    sf = await newSfHome();
    const link = await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install']);
    expect(link.code, link.stderr).to.equal(0);
    await login();
  });

  after(async () => {
    await emu?.close();
    await sf?.dispose();
  });

  it('creates a JWT integration that the real sf CLI can log in with', async () => {
    emu.clearLog();
    const out = join(sf.home, 'hubspot');
    const r = await create(['--name', 'HubSpot', '--object', 'Account=read,edit', '--field', 'Account.Industry=read', '--email', 'owner@acme.example', '--output-dir', out]);
    expect(r.code, r.stdout).to.equal(0);
    const result = r.body.result!;
    expect(result.verified).to.be.true;
    expect(result.username).to.equal('hubspot.integration@emulated-org.example');
    expect(result.permissionSetName).to.equal('HubSpot_Integration');
    expect(result.appType).to.equal('external-client-app');
    expect(result.consumerKey).to.match(/^3MVG9/);
    expect(result.steps.map((s) => s.status)).to.not.include('failed');
    expect(r.stdout).to.not.match(/PRIVATE KEY|BEGIN/);
    expect((await stat(result.privateKeyFile!)).mode & 0o777).to.equal(0o600);
    expect(await readFile(result.runbookFile!, 'utf8')).to.include(result.consumerKey!);
    // Salesforce sees what seed 001 asks for.
    const user = emu.store.all('User').find((u) => u.Username === result.username)!;
    const profile = emu.store.get(String(user.ProfileId))!;
    expect(profile.Name).to.equal('Minimum Access - API Only Integrations');
    const ps = emu.store.all('PermissionSet').find((p) => p.Name === 'HubSpot_Integration')!;
    expect(ps.PermissionsApiEnabled).to.be.true;
    expect(countOf(emu, 'PermissionSetAssignment', (a) => a.AssigneeId === user.Id && a.PermissionSetId === ps.Id && !a.ExpirationDate)).to.equal(1);
    expect(countOf(emu, 'SetupEntityAccess', (a) => a.ParentId === ps.Id)).to.equal(1);
    expect(emu.log().entries.length, 'round trips of a fresh JWT create').to.be.at.most(10);

    const jwt = await sf.json<Envelope<{ username: string }>>([
      'org', 'login', 'jwt', '--client-id', result.consumerKey!, '--jwt-key-file', result.privateKeyFile!, '--username', result.username, '--instance-url', emu.instanceUrl, '--alias', 'hubspot',
    ]);
    expect(jwt.code, JSON.stringify(jwt.body)).to.equal(0);
    expect(jwt.body.result?.username).to.equal(result.username);
  });

  it('re-runs with the same inputs: every step unchanged, no writes', async () => {
    emu.clearLog();
    const r = await create(['--name', 'HubSpot', '--object', 'Account=read,edit', '--field', 'Account.Industry=read', '--email', 'owner@acme.example', '--output-dir', join(sf.home, 'hubspot')]);
    expect(r.code, r.stdout).to.equal(0);
    const statuses = new Set(r.body.result!.steps.filter((s) => s.name !== 'field-permissions').map((s) => s.status));
    expect([...statuses]).to.deep.equal(['unchanged']);
    expect(emu.log().writes).to.equal(0);
    expect(countOf(emu, 'User', (u) => String(u.Username).startsWith('hubspot.integration'))).to.equal(1);
  });

  it('updates in place when the inputs change, and removes access no longer asked for', async () => {
    const r = await create(['--name', 'HubSpot', '--object', 'Contact=read', '--email', 'owner@acme.example', '--output-dir', join(sf.home, 'hubspot')]);
    expect(r.code, r.stdout).to.equal(0);
    const objects = r.body.result!.steps.find((s) => s.name === 'object-permissions')!;
    expect(objects.status).to.equal('updated');
    expect(objects.changes).to.include('Account: read,edit → none');
    expect(countOf(emu, 'PermissionSet', (p) => p.Name === 'HubSpot_Integration')).to.equal(1);
    expect(countOf(emu, 'ExternalClientApplication')).to.equal(1);
  });

  it('prints a plan with --dry-run and writes nothing to the org or to disk', async () => {
    emu.clearLog();
    const out = join(sf.home, 'zendesk');
    const r = await create(['--name', 'Zendesk', '--object', 'Case=read', '--dry-run', '--output-dir', out]);
    expect(r.code, r.stdout).to.equal(0);
    expect(r.body.result!.dryRun).to.be.true;
    expect(r.body.result!.steps.find((s) => s.name === 'user')?.status).to.equal('created');
    expect(emu.log().writes).to.equal(0);
    let missing = false;
    await stat(out).catch(() => (missing = true));
    expect(missing, 'no output directory').to.be.true;
  });

  it('creates a client-credentials integration whose secret works in a plain token request', async () => {
    // The org lets admins read consumer secrets over REST (External Client App Settings).
    const settings = emu.store.listMetadata('ExternalClientAppSettings')[0];
    emu.store.putMetadata('ExternalClientAppSettings', { ...settings, enableClientSecretInRestApiAccess: true }, { system: true });
    const r = await create(['--name', 'Billing', '--flow', 'client-credentials', '--object', 'Account=read', '--output-dir', join(sf.home, 'billing')]);
    expect(r.code, r.stdout).to.equal(0);
    const result = r.body.result!;
    expect(result.verified).to.be.true;
    expect(result.privateKeyFile).to.be.undefined;
    const secret = (await readFile(result.consumerSecretFile!, 'utf8')).trim();
    expect((await stat(result.consumerSecretFile!)).mode & 0o777).to.equal(0o600);
    expect(r.stdout).to.not.include(secret);
    const token = await fetch(`${emu.instanceUrl}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: result.consumerKey!, client_secret: secret }).toString(),
    });
    expect(token.status).to.equal(200);
  });

  // The user step is the first write to the org: when it keeps failing nothing reached the org (exit 1; the key
  // pair on disk does not count). When the app step keeps failing, the records are in the org (exit 68).
  for (const fault of [
    { step: 'user', code: 1, spec: { method: 'POST', path: '/composite$', status: 503, times: 6 } },
    { step: 'app', code: 68, spec: { soapOperation: 'deploy', status: 503, times: 6 } },
  ]) {
    it(`stops with exit ${fault.code} when the ${fault.step} step keeps failing, and a re-run converges`, async () => {
      const name = `Fault${fault.step}`;
      const args = ['--name', name, '--object', 'Lead=read', '--output-dir', join(sf.home, name)];
      emu.injectFault(fault.spec);
      const first = await create(args);
      emu.clearFaults();
      expect(first.code, first.stdout).to.equal(fault.code);
      if (fault.code === 68) {
        const statuses = first.body.result!.steps.map((s) => s.status);
        expect(statuses).to.include('failed');
        expect(statuses).to.include('pending');
      } else {
        expect(first.body.message).to.match(/Step user failed/);
      }
      const second = await create(args);
      expect(second.code, second.stdout).to.equal(0);
      expect(second.body.result!.verified).to.be.true;
      expect(countOf(emu, 'User', (u) => String(u.Username).startsWith(`${name.toLowerCase()}.integration`))).to.equal(1);
      expect(countOf(emu, 'PermissionSet', (p) => p.Name === `${name}_Integration`)).to.equal(1);
      expect(countOf(emu, 'ExternalClientApplication', (a) => a.DeveloperName === `${name}_Integration`)).to.equal(1);
      const third = await create(args);
      expect(new Set(third.body.result!.steps.filter((s) => s.name !== 'field-permissions').map((s) => s.status))).to.deep.equal(new Set(['unchanged']));
    });
  }

  it('refuses bad input with the fix, exit 2, and nothing written anywhere', async () => {
    emu.clearLog();
    const cases: Array<{ args: string[]; message: RegExp }> = [
      { args: ['--name', 'Bad Name!'], message: /name/i },
      { args: ['--name', 'Acme', '--object', 'Widget__x=read'], message: /Widget__x/ },
      { args: ['--name', 'Acme', '--object', 'Account=read', '--field', 'Account.Nope=read'], message: /Account\.Nope/ },
      { args: ['--name', 'Acme', '--system-permission', 'ModifyAllData'], message: /ModifyAllData/ },
      { args: ['--name', 'Acme', '--username', 'not-an-email'], message: /username/i },
      // API names are case-insensitive: lower case does not get past the privileged-permission refusal.
      { args: ['--name', 'Acme', '--system-permission', 'modifyalldata'], message: /ModifyAllData|modifyalldata/ },
      { args: ['--name', 'Acme', '--system-permission', 'NotARealPermission'], message: /NotARealPermission/ },
    ];
    for (const c of cases) {
      // eslint-disable-next-line no-await-in-loop
      const r = await create([...c.args, '--output-dir', join(sf.home, 'bad')]);
      expect(r.code, `${c.args.join(' ')}: ${r.stdout}`).to.equal(2);
      expect(r.body.message).to.match(c.message);
    }
    // A required field is not permissionable (describe): refused before the org would refuse the FieldPermissions row.
    const required = await create(['--name', 'Acme', '--object', 'Account=read', '--field', 'Account.Name=read', '--output-dir', join(sf.home, 'bad')]);
    expect(required.code, required.stdout).to.equal(2);
    expect(required.body.name).to.equal('FieldNotPermissionableError');
    expect(required.body.message).to.contain('Account.Name');
    expect(emu.log().writes).to.equal(0);
    let missing = false;
    await stat(join(sf.home, 'bad')).catch(() => (missing = true));
    expect(missing).to.be.true;
  });

  it('refuses bad keys and a mixed-up output directory (exit 2), no free license and no API access (exit 1), nothing written', async () => {
    const keys = join(sf.home, 'keys');
    await mkdir(keys, { recursive: true });
    const a = makeKeyPair('a');
    const b = makeKeyPair('b');
    const small = makeKeyPair('small', 1024);
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const files: Record<string, string> = { 'a.key': a.privateKeyPem, 'a.crt': a.certificatePem, 'b.crt': b.certificatePem, 'small.key': small.privateKeyPem, 'small.crt': small.certificatePem, 'ec.key': ec.privateKey };
    for (const [name, text] of Object.entries(files)) await writeFile(join(keys, name), text, { mode: 0o600 }); // eslint-disable-line no-await-in-loop
    const mixed = join(sf.home, 'mixed');
    await mkdir(mixed);
    await writeFile(join(mixed, 'private-key.pem'), a.privateKeyPem, { mode: 0o600 });
    await writeFile(join(mixed, 'cert.pem'), b.certificatePem);
    const k = (f: string): string => join(keys, f);

    const cases: Array<{ args: string[]; message: RegExp; code: number; before?: () => void; after?: () => void }> = [
      { args: ['--private-key-file', k('ec.key'), '--certificate-file', k('a.crt')], message: /RSA|EC/, code: 2 },
      { args: ['--private-key-file', k('small.key'), '--certificate-file', k('small.crt')], message: /2048/, code: 2 },
      { args: ['--private-key-file', k('a.key'), '--certificate-file', k('b.crt')], message: /match|belong/i, code: 2 },
      { args: ['--private-key-file', k('missing.key'), '--certificate-file', k('a.crt')], message: /missing\.key/, code: 2 },
      { args: ['--private-key-file', k('a.key')], message: /its certificate/, code: 2 },
      { args: ['--output-dir', mixed], message: /do not belong together/, code: 2 },
    ];
    const license = emu.store.all('UserLicense').find((l) => l.Name === 'Salesforce Integration')!;
    const adminProfile = emu.store.all('Profile').find((p) => p.Name === 'System Administrator')!;
    const adminSet = emu.store.all('PermissionSet').find((p) => p.ProfileId === adminProfile.Id)!;
    cases.push(
      {
        args: [],
        message: /No Salesforce Integration user license is free/,
        code: 1,
        before: () => emu.store.update('UserLicense', license.Id, { TotalLicenses: license.UsedLicenses }, { system: true }),
        after: () => emu.store.update('UserLicense', license.Id, { TotalLicenses: 20 }, { system: true }),
      },
      {
        args: [],
        message: /API is not enabled/,
        code: 1,
        before: () => {
          emu.store.update('Profile', adminProfile.Id, { PermissionsApiEnabled: false }, { system: true });
          emu.store.update('PermissionSet', adminSet.Id, { PermissionsApiEnabled: false }, { system: true });
        },
        after: () => {
          emu.store.update('Profile', adminProfile.Id, { PermissionsApiEnabled: true }, { system: true });
          emu.store.update('PermissionSet', adminSet.Id, { PermissionsApiEnabled: true }, { system: true });
        },
      }
    );
    emu.clearLog();
    for (const c of cases) {
      c.before?.();
      const out = join(sf.home, 'refused');
      // eslint-disable-next-line no-await-in-loop
      const r = await create(['--name', 'Refused', '--object', 'Account=read', ...(c.args.includes('--output-dir') ? [] : ['--output-dir', out]), ...c.args]);
      c.after?.();
      expect(r.code, `${c.args.join(' ')}: ${r.stdout}`).to.equal(c.code);
      expect(r.body.message, r.stdout).to.match(c.message);
      expect(r.stdout).to.not.match(/PRIVATE KEY/);
      let missing = false;
      await stat(out).catch(() => (missing = true)); // eslint-disable-line no-await-in-loop
      expect(missing, `${c.args.join(' ')} left ${out}`).to.be.true;
    }
    expect(emu.log().writes).to.equal(0);
    expect(countOf(emu, 'User', (u) => String(u.Username).startsWith('refused.'))).to.equal(0);
  });

  it('retries a transient failure once per write step and succeeds in the same run', async () => {
    emu.injectFault({ method: 'POST', path: '/composite$', status: 503 });
    emu.injectFault({ soapOperation: 'deploy', drop: true });
    emu.injectFault({ method: 'POST', path: '/composite$', status: 403, errorCode: 'REQUEST_LIMIT_EXCEEDED' });
    const r = await create(['--name', 'Transient', '--object', 'Account=read', '--output-dir', join(sf.home, 'transient')]);
    emu.clearFaults();
    expect(r.code, r.stdout).to.equal(0);
    expect(r.body.result!.verified).to.be.true;
    expect(countOf(emu, 'User', (u) => String(u.Username).startsWith('transient.integration'))).to.equal(1);
  });

  it('writes system permissions by their canonical names, and a re-run with them writes nothing', async () => {
    const args = ['--name', 'Perms', '--object', 'Account=read', '--system-permission', 'externalclientappdeveloper', '--output-dir', join(sf.home, 'perms')];
    const first = await create(args);
    expect(first.code, first.stdout).to.equal(0);
    const ps = emu.store.all('PermissionSet').find((p) => p.Name === 'Perms_Integration')!;
    expect(ps.PermissionsExternalClientAppDeveloper).to.equal(true);
    emu.clearLog();
    const again = await create(args);
    expect(again.code, again.stdout).to.equal(0);
    expect(emu.log().writes).to.equal(0);
  });

  it('lists its commands under sf integration --help', async () => {
    const r = await sf.run(['integration', '--help']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/integration create/).and.match(/integration doctor/);
  });

  it('documents its exit codes under ERROR CODES in --help, as the real sf CLI renders them', async () => {
    for (const command of ['create', 'doctor']) {
      const r = await sf.run(['integration', command, '--help']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout, command).to.include('ERROR CODES');
      for (const code of ['(0)', '(1)', '(2)', '(68)', '(69)']) expect(r.stdout, `${command} ${code}`).to.include(code);
    }
  });
});
