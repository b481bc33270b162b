/*
 * Credential age through the real sf CLI against the emulator (OWASP NHI7 Long-Lived Secrets): a client-credentials
 * integration created more than 365 days ago (the org's clock set back while create ran) warns in doctor and audit,
 * its consumer secret dated by the app's CreatedDate; after `sf integration rotate` doctor reads the rotation from
 * the runbook (where rotate writes it, or --runbook) and no longer warns. A JWT app whose runbook logs a rotation but
 * whose certificate in the org is old (replaced since, outside the plugin) shows the certificate's own age. A
 * --runbook that cannot be read is refused (exit 2) before the org is read.
 */
import { X509Certificate } from 'node:crypto';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import forge from 'node-forge';
import type { AuditResult } from '../../src/audit/types.js';
import type { CheckResult } from '../../src/checks/types.js';
import type { CreateResult } from '../../src/create/run.js';
import type { DoctorResult } from '../../src/doctor/types.js';
import type { RotateResult } from '../../src/rotate/run.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { defaultFixture } from '../helpers/fixtures.js';
import { newSfHome, PROJECT_ROOT, type SfHome } from '../helpers/sf.js';

type Envelope<T> = { status: number; result?: T; name?: string; message?: string };
type Age = { credential: string; source: string; since: string; ageDays: number };

const DAY_MS = 86_400_000;

/** A certificate for the key, issued `days` ago (as an admin's old `openssl req -x509` made it). */
const oldCertificate = (privateKeyPem: string, days: number): string => {
  const key = forge.pki.privateKeyFromPem(privateKeyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = '0badc0de';
  cert.validity.notBefore = new Date(Date.now() - days * DAY_MS);
  cert.validity.notAfter = new Date(Date.now() + 30 * DAY_MS);
  const attrs = [{ name: 'commonName', value: 'HubSpot integration' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(key, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
};

describe('credential age in doctor and audit (real CLI, emulator)', function () {
  this.timeout(600_000);
  let emu: Emulator;
  let sf: SfHome;
  const env = { SF_INTEGRATION_RETRY_BASE_MS: '5' };

  const doctor = async (args: string[]): Promise<{ code: number; body: Envelope<DoctorResult>; age?: CheckResult }> => {
    const r = await sf.json<Envelope<DoctorResult>>(['integration', 'doctor', '--target-org', 'emu', ...args], env);
    return { code: r.code, body: r.body, age: r.body.result?.reports[0]?.checks.find((c) => c.id === 'credential-age') };
  };
  const audit = async (args: string[] = []): Promise<AuditResult> => {
    const r = await sf.json<Envelope<AuditResult>>(['integration', 'audit', '--target-org', 'emu', ...args], env);
    expect(r.code, r.stdout).to.equal(0);
    return r.body.result!;
  };
  const ages = (check: CheckResult | undefined): Age[] => (check?.evidence?.credentials ?? []) as Age[];
  const orgReads = (): unknown[] => emu.log().entries.filter((e) => !e.path.includes('/oauth2/'));

  before(async () => {
    emu = await startEmulator({ fixture: defaultFixture() });
    const settings = emu.store.listMetadata('ExternalClientAppSettings')[0];
    // Client-credentials create hands over the secret, and rotate stages a new one, through the REST secret access.
    emu.store.putMetadata('ExternalClientAppSettings', { ...settings, enableClientSecretInRestApiAccess: true }, { system: true });
    sf = await newSfHome();
    expect((await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install'])).code).to.equal(0);
    const login = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', 'emu'], { SF_ACCESS_TOKEN: emu.accessToken });
    expect(login.code, login.stderr).to.equal(0);
  });

  after(async () => {
    await emu?.close();
    await sf?.dispose();
  });

  it('client credentials created 400 days ago warns (secret as old as the app); after rotate, doctor reads the runbook and passes', async () => {
    // The org's clock 400 days back while create runs: the External Client App's CreatedDate is 400 days ago.
    emu.store.settings.now = new Date(Date.now() - 400 * DAY_MS).toISOString();
    // Where rotate looks by default (./NAME-integration in the working directory, sf.home here): doctor looks there too.
    const dir = join(sf.home, 'Billing-integration');
    let created: CreateResult;
    try {
      const c = await sf.json<Envelope<CreateResult>>(['integration', 'create', '--target-org', 'emu', '--name', 'Billing', '--flow', 'client-credentials', '--object', 'Account=read', '--output-dir', dir], env);
      expect(c.code, c.stdout).to.equal(0);
      created = c.body.result!;
    } finally {
      delete emu.store.settings.now;
    }
    const app = created.appName;
    const createdDate = String(emu.store.all('ExternalClientApplication').find((r) => r.DeveloperName === app)?.CreatedDate);
    expect(Date.parse(createdDate.replace(/\+0000$/, 'Z'))).to.be.below(Date.now() - 399 * DAY_MS);

    emu.clearLog();
    const before = await doctor(['--name', app]);
    expect(before.age?.status, before.age?.finding).to.equal('warn');
    expect(before.age?.finding).to.include('consumer secret').and.include('since the app was created');
    expect(before.age?.fix?.command).to.equal(`sf integration rotate --name ${app}`);
    expect(ages(before.age)[0]).to.include({ credential: 'consumer-secret', source: 'app-created' });
    expect(ages(before.age)[0].ageDays).to.be.within(399, 401);
    // create's runbook is found where it was written; it logs no rotation yet.
    expect(before.age?.evidence?.runbook).to.equal(join(dir, 'runbook.md'));
    expect(emu.log().writes, 'doctor writes nothing').to.equal(0);

    const audited = await audit();
    const label = audited.apps.find((a) => a.name === app)?.label;
    const secretOld = audited.findings.find((f) => f.id === 'AUD-SECRET-OLD' && f.subject === label);
    expect(secretOld, JSON.stringify(audited.findings.map((f) => f.id))).to.not.equal(undefined);
    expect(secretOld).to.deep.include({ severity: 'medium', nhi: ['NHI7'], fix: `sf integration rotate --name ${app}` });
    expect(secretOld?.evidence).to.include({ source: 'app-created' });

    const rotated = await sf.json<Envelope<RotateResult>>(['integration', 'rotate', '--target-org', 'emu', '--name', app, '--output-dir', dir, '--no-prompt'], env);
    expect(rotated.code, rotated.stdout).to.equal(0);
    expect(rotated.body.result!.consumerKey).to.not.equal(created.consumerKey);
    expect(await readFile(join(dir, 'runbook.md'), 'utf8')).to.include(rotated.body.result!.consumerKey!);

    // The runbook where rotate wrote it, found by default, and the same file named with --runbook.
    for (const args of [['--name', app], ['--name', app, '--runbook', join(dir, 'runbook.md')]]) {
      const after = await doctor(args);
      expect(after.age?.status, after.age?.finding).to.equal('pass');
      expect(after.age?.finding).to.include('since the rotation the runbook records');
      expect(ages(after.age)[0]).to.include({ credential: 'consumer-secret', source: 'runbook', ageDays: 0 });
    }
    // audit has no runbook unless given one: the app's creation still dates the secret; with --runbook it does not.
    expect((await audit()).findings.some((f) => f.id === 'AUD-SECRET-OLD' && f.subject === label)).to.equal(true);
    expect((await audit(['--runbook', join(dir, 'runbook.md')])).findings.some((f) => f.id === 'AUD-SECRET-OLD' && f.subject === label)).to.equal(false);
  });

  it('a JWT app whose runbook logs a rotation but whose certificate is old shows the certificate, and a --runbook that cannot be read is refused', async () => {
    const dir = join(sf.home, 'HubSpot-integration');
    const c = await sf.json<Envelope<CreateResult>>(['integration', 'create', '--target-org', 'emu', '--name', 'HubSpot', '--object', 'Account=read', '--output-dir', dir], env);
    expect(c.code, c.stdout).to.equal(0);
    const app = c.body.result!.appName;
    const rotated = await sf.json<Envelope<RotateResult>>(['integration', 'rotate', '--target-org', 'emu', '--name', app, '--output-dir', dir, '--no-prompt'], env);
    expect(rotated.code, rotated.stdout).to.equal(0);
    const runbook = join(dir, 'runbook.md');
    expect(await readFile(runbook, 'utf8')).to.include(rotated.body.result!.certificateFingerprint!);

    const fresh = await doctor(['--name', app, '--runbook', runbook]);
    expect(fresh.age?.status, fresh.age?.finding).to.equal('pass');
    expect(ages(fresh.age)[0]).to.include({ credential: 'certificate', ageDays: 0 });
    // Without --runbook, the runbook beside --spec (create writes both into one directory) is read.
    const elsewhere = join(sf.home, 'kept', 'hubspot');
    await mkdir(elsewhere, { recursive: true });
    await Promise.all(['runbook.md', 'integration.yaml'].map((f) => copyFile(join(dir, f), join(elsewhere, f))));
    const beside = await doctor(['--name', app, '--spec', join(elsewhere, 'integration.yaml')]);
    expect(beside.age?.evidence?.runbook).to.equal(join(elsewhere, 'runbook.md'));

    // Someone puts an old certificate on the app in Setup: the log's rotation was of another certificate.
    const global = emu.store.listMetadata('ExtlClntAppGlobalOauthSettings').find((g) => g.externalClientApplication === app)!;
    const old = oldCertificate(await readFile(join(dir, 'private-key.pem'), 'utf8'), 500);
    emu.store.putMetadata('ExtlClntAppGlobalOauthSettings', { ...global, certificate: old }, { system: true });
    const stale = await doctor(['--name', app, '--runbook', runbook]);
    expect(stale.age?.status, stale.age?.finding).to.equal('warn');
    expect(stale.age?.finding).to.include('certificate').and.include('since its notBefore');
    expect(ages(stale.age)[0]).to.include({ credential: 'certificate', source: 'certificate', since: new Date(new X509Certificate(old).validFrom).toISOString() });
    expect(ages(stale.age)[0].ageDays).to.be.within(499, 501);
    expect(stale.age?.fix?.command).to.equal(`sf integration rotate --name ${app}`);

    emu.clearLog();
    const missing = await doctor(['--name', app, '--runbook', join(sf.home, 'nowhere', 'runbook.md')]);
    expect(missing.code).to.equal(2);
    expect(missing.body.name).to.equal('RunbookUnreadableError');
    const refused = await sf.json<Envelope<AuditResult>>(['integration', 'audit', '--target-org', 'emu', '--runbook', join(sf.home, 'nowhere.md')], env);
    expect(refused.code).to.equal(2);
    expect(refused.body.name).to.equal('RunbookUnreadableError');
    expect(orgReads(), 'nothing read from the org').to.deep.equal([]);
  });
});
