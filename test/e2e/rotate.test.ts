/*
 * `sf integration rotate` through the real sf CLI against the emulator: after create, a rotation inside the
 * propagation window stops with the old key still working, and the re-run finishes once the new certificate is in
 * effect (the real `sf org login jwt` then refuses the old key with "invalid assertion" and takes the new one); a
 * fault on the deploy leaves the old key working and the re-run converges; --rollback; --dry-run writes nothing; no
 * terminal means no prompt; no key in stdout or --json.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import type { CreateResult } from '../../src/create/run.js';
import type { RotateResult } from '../../src/rotate/run.js';
import { agePropagation } from '../emulator/apps.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { defaultFixture } from '../helpers/fixtures.js';
import { newSfHome, PROJECT_ROOT, type SfHome } from '../helpers/sf.js';

type Envelope<T> = { status: number; result?: T; name?: string; message?: string };

const missing = (path: string): Promise<boolean> => stat(path).then(
  () => false,
  () => true
);

describe('sf integration rotate (real CLI, emulator)', function () {
  this.timeout(600_000);
  let emu: Emulator;
  let sf: SfHome;
  let created: CreateResult;
  let dir: string;
  const env = { SF_INTEGRATION_RETRY_BASE_MS: '5' };

  const rotate = (args: string[]): Promise<{ code: number; stdout: string; stderr: string; body: Envelope<RotateResult> }> =>
    sf.json<Envelope<RotateResult>>(['integration', 'rotate', '--target-org', 'emu', ...args], env);
  const jwtLogin = (keyFile: string): Promise<{ code: number; stdout: string; stderr: string; body: Envelope<{ username: string }> }> =>
    sf.json<Envelope<{ username: string }>>([
      'org', 'login', 'jwt', '--client-id', created.consumerKey!, '--jwt-key-file', keyFile, '--username', created.username, '--instance-url', emu.instanceUrl,
    ]);
  const keyText = (): Promise<string> => readFile(join(dir, 'private-key.pem'), 'utf8');
  const noSecrets = (out: string, ...keys: string[]): void => {
    expect(out).to.not.match(/PRIVATE KEY/);
    for (const k of keys) expect(out).to.not.include(k.split('\n')[1]);
  };

  before(async () => {
    emu = await startEmulator({ fixture: defaultFixture() });
    sf = await newSfHome();
    expect((await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install'])).code).to.equal(0);
    const login = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', 'emu'], { SF_ACCESS_TOKEN: emu.accessToken });
    expect(login.code, login.stderr).to.equal(0);
    dir = join(sf.home, 'HubSpot-integration');
    const r = await sf.json<Envelope<CreateResult>>(['integration', 'create', '--target-org', 'emu', '--name', 'HubSpot', '--object', 'Account=read', '--output-dir', dir], env);
    expect(r.code, r.stdout).to.equal(0);
    created = r.body.result!;
    agePropagation(emu.store);
  });

  after(async () => {
    await emu?.close();
    await sf?.dispose();
  });

  it('refuses to prompt without a terminal (exit 2) and --dry-run writes nothing anywhere', async () => {
    const before = await keyText();
    emu.clearLog();
    const noTty = await sf.run(['integration', 'rotate', '--target-org', 'emu', '--name', created.appName, '--output-dir', dir], env);
    expect(noTty.code, noTty.stderr).to.equal(2);
    expect(noTty.stderr).to.include('--no-prompt');
    const dry = await rotate(['--name', created.appName, '--output-dir', dir, '--dry-run']);
    expect(dry.code, dry.stdout).to.equal(0);
    expect(dry.body.result!.dryRun).to.be.true;
    expect(dry.body.result!.steps.map((s) => `${s.name}:${s.status}`)).to.include.members(['certificate:created', 'app:updated', 'previous-key:deleted']);
    expect(emu.log().writes).to.equal(0);
    expect(await keyText()).to.equal(before);
    expect(await missing(join(dir, 'private-key.previous.pem'))).to.be.true;
  });

  it('inside the propagation window: stops with exit 68, the old key still logs in; the re-run after the window converges', async () => {
    const oldKey = await keyText();
    const oldKeyFile = join(sf.home, 'old-key.pem');
    await (await import('node:fs/promises')).writeFile(oldKeyFile, oldKey, { mode: 0o600 });
    emu.store.settings.propagationSeconds = 300;
    const first = await rotate(['--name', created.appName, '--output-dir', dir, '--no-prompt']);
    expect(first.code, first.stdout).to.equal(68);
    const steps = Object.fromEntries(first.body.result!.steps.map((s) => [s.name, s.status]));
    expect(steps).to.include({ certificate: 'created', app: 'updated', verify: 'failed', 'previous-key': 'pending' });
    expect((await stat(join(dir, 'private-key.previous.pem'))).mode & 0o777).to.equal(0o600);
    expect((await stat(join(dir, 'private-key.pem'))).mode & 0o777).to.equal(0o600);
    const newKey = await keyText();
    noSecrets(first.stdout + first.stderr, oldKey, newKey);
    // The org still verifies with the previous certificate: the external system is not locked out.
    const during = await jwtLogin(oldKeyFile);
    expect(during.code, JSON.stringify(during.body)).to.equal(0);

    agePropagation(emu.store);
    const second = await rotate(['--name', created.appName, '--output-dir', dir, '--no-prompt']);
    expect(second.code, second.stdout).to.equal(0);
    const result = second.body.result!;
    expect(result.verified).to.be.true;
    expect(result.previousRefused).to.be.true;
    expect(result.certificateFingerprint).to.match(/^[0-9A-F:]+$/);
    expect(result.previousCertificateFingerprint).to.not.equal(result.certificateFingerprint);
    expect(Object.fromEntries(result.steps.map((s) => [s.name, s.status]))).to.include({ certificate: 'unchanged', app: 'unchanged', 'previous-key': 'deleted' });
    expect(await missing(join(dir, 'private-key.previous.pem'))).to.be.true;
    expect(await keyText()).to.equal(newKey);
    noSecrets(second.stdout, oldKey, newKey);
    const runbook = await readFile(join(dir, 'runbook.md'), 'utf8');
    expect(runbook).to.include('## Rotation log');
    expect(runbook.match(/^\| 20\d\d-.*certificate/gm), 'one log row').to.have.length(1);

    const old = await jwtLogin(oldKeyFile);
    expect(old.code).to.not.equal(0);
    expect(JSON.stringify(old.body)).to.match(/invalid assertion/);
    const fresh = await jwtLogin(join(dir, 'private-key.pem'));
    expect(fresh.code, JSON.stringify(fresh.body)).to.equal(0);

    const doctor = await sf.json<Envelope<unknown>>([
      'integration', 'doctor', '--target-org', 'emu', '--name', created.appName, '--username', created.username, '--client-id', created.consumerKey!, '--private-key-file', join(dir, 'private-key.pem'),
    ], env);
    expect(doctor.code, doctor.stdout).to.equal(0);
  });

  it('a fault on the deploy leaves the old key working (exit 1: no write reached the org) and the re-run converges', async () => {
    emu.store.settings.propagationSeconds = 0;
    const oldKey = await keyText();
    const oldKeyFile = join(sf.home, 'old-key-2.pem');
    await (await import('node:fs/promises')).writeFile(oldKeyFile, oldKey, { mode: 0o600 });
    emu.injectFault({ soapOperation: 'deploy', status: 503, times: 6 });
    const first = await rotate(['--name', created.appName, '--output-dir', dir, '--no-prompt']);
    emu.clearFaults();
    // The new key pair is only on disk: exit 68 is for writes that reached the org (README, exit codes).
    expect(first.code, first.stdout).to.equal(1);
    expect(first.body.name).to.equal('StepFailedError');
    expect(first.body.message).to.match(/^Step app failed: SERVER_UNAVAILABLE/);
    expect((await jwtLogin(oldKeyFile)).code, 'old key after the failed deploy').to.equal(0);

    const second = await rotate(['--name', created.appName, '--output-dir', dir, '--no-prompt']);
    expect(second.code, second.stdout).to.equal(0);
    expect(second.body.result!.previousRefused).to.be.true;
    expect(Object.fromEntries(second.body.result!.steps.map((s) => [s.name, s.status]))).to.include({ certificate: 'unchanged', app: 'updated' });
    expect((await jwtLogin(oldKeyFile)).code).to.not.equal(0);
    expect((await jwtLogin(join(dir, 'private-key.pem'))).code).to.equal(0);
  });

  it('--keep-previous keeps the previous key; --rollback puts the previous certificate and key back', async () => {
    const oldKey = await keyText();
    const kept = await rotate(['--name', created.appName, '--output-dir', dir, '--no-prompt', '--keep-previous']);
    expect(kept.code, kept.stdout).to.equal(0);
    expect(kept.body.result!.previousPrivateKeyFile).to.equal(join(dir, 'private-key.previous.pem'));
    expect(await readFile(join(dir, 'private-key.previous.pem'), 'utf8')).to.equal(oldKey);
    const back = await rotate(['--name', created.appName, '--output-dir', dir, '--no-prompt', '--rollback']);
    expect(back.code, back.stdout).to.equal(0);
    expect(back.body.result!.rolledBack).to.be.true;
    expect(await keyText()).to.equal(oldKey);
    expect(await missing(join(dir, 'private-key.previous.pem'))).to.be.true;
    expect((await jwtLogin(join(dir, 'private-key.pem'))).code).to.equal(0);
    const again = await rotate(['--name', created.appName, '--output-dir', dir, '--no-prompt', '--rollback']);
    expect(again.code).to.equal(1);
    expect(again.body.name).to.equal('NothingToRollBackError');
  });

  it('client credentials: refuses without the prerequisites; the old secret works until --revoke-previous', async () => {
    const settings = emu.store.listMetadata('ExternalClientAppSettings')[0];
    emu.store.putMetadata('ExternalClientAppSettings', { ...settings, enableClientSecretInRestApiAccess: true }, { system: true });
    const ccDir = join(sf.home, 'Billing-integration');
    const c = await sf.json<Envelope<CreateResult>>(['integration', 'create', '--target-org', 'emu', '--name', 'Billing', '--flow', 'client-credentials', '--object', 'Account=read', '--output-dir', ccDir], env);
    expect(c.code, c.stdout).to.equal(0);
    const original = { key: c.body.result!.consumerKey!, secret: (await readFile(c.body.result!.consumerSecretFile!, 'utf8')).trim() };
    const token = async (cred: { key: string; secret: string }): Promise<number> =>
      (
        await fetch(`${emu.instanceUrl}/services/oauth2/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: cred.key, client_secret: cred.secret }).toString(),
        })
      ).status;
    expect(await token(original)).to.equal(200);

    // Without View Client Secret: refused before any write, with the fix.
    const adminProfile = emu.store.all('Profile').find((p) => p.Name === 'System Administrator')!;
    const adminSet = emu.store.all('PermissionSet').find((p) => p.ProfileId === adminProfile.Id)!;
    const grant = (on: boolean): void => {
      emu.store.update('Profile', String(adminProfile.Id), { PermissionsViewClientSecret: on }, { system: true });
      emu.store.update('PermissionSet', String(adminSet.Id), { PermissionsViewClientSecret: on }, { system: true });
    };
    grant(false);
    emu.clearLog();
    const refused = await rotate(['--name', 'Billing_Integration', '--output-dir', ccDir, '--no-prompt']);
    grant(true);
    expect(refused.code, refused.stdout).to.equal(1);
    expect(refused.body.name).to.equal('StagedPrerequisitesError');
    expect(refused.body.message).to.include('View Client Secret');
    expect(emu.log().writes).to.equal(0);

    const first = await rotate(['--name', 'Billing_Integration', '--output-dir', ccDir, '--no-prompt']);
    expect(first.code, first.stdout).to.equal(0);
    const r = first.body.result!;
    expect(r.verified).to.be.true;
    expect(r.consumerKey).to.not.equal(original.key);
    expect((await stat(r.consumerSecretFile!)).mode & 0o777).to.equal(0o600);
    const rotated = { key: r.consumerKey!, secret: (await readFile(r.consumerSecretFile!, 'utf8')).trim() };
    expect(rotated.secret).to.not.equal(original.secret);
    expect(first.stdout).to.not.include(rotated.secret);
    expect(await token(rotated)).to.equal(200);
    expect(await token(original), 'the previous set stays valid').to.equal(200);

    // Rotating again while the previous set is valid would delete it: refused unless --revoke-previous.
    const twice = await rotate(['--name', 'Billing_Integration', '--output-dir', ccDir, '--no-prompt']);
    expect(twice.code).to.equal(1);
    expect(twice.body.name).to.equal('PreviousStillValidError');
    const revoke = await rotate(['--name', 'Billing_Integration', '--output-dir', ccDir, '--no-prompt', '--revoke-previous']);
    expect(revoke.code, revoke.stdout).to.equal(0);
    const latest = { key: revoke.body.result!.consumerKey!, secret: (await readFile(r.consumerSecretFile!, 'utf8')).trim() };
    expect(await token(latest)).to.equal(200);
    expect(await token(rotated), 'revoked at once').to.not.equal(200);
    expect(await token(original)).to.not.equal(200);
  });
});
