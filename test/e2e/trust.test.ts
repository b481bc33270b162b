/*
 * Trust in pipelines, through the real sf CLI against the emulator, stdin from /dev/null as in a CI job: no false
 * green (doctor --fix without a terminal), no silent takeover of a live app's credentials, every precondition
 * checked before the first write, exit codes by what reached the org, transient errors retried, untrusted text
 * sanitized, spec files bounded, and Ctrl-C answered with the step table.
 */
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import type { CreateResult } from '../../src/create/run.js';
import type { DoctorResult } from '../../src/doctor/types.js';
import { agePropagation } from '../emulator/apps.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { defaultFixture } from '../helpers/fixtures.js';
import { newSfHome, PROJECT_ROOT, SF_BIN, type SfHome } from '../helpers/sf.js';

type Envelope<T> = { status: number; result?: T; name?: string; message?: string; actions?: string[]; warnings?: string[] };
type Run = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

const missing = (path: string): Promise<boolean> =>
  stat(path).then(
    () => false,
    () => true
  );

describe('trust in pipelines (real CLI, emulator, stdin from /dev/null)', function () {
  this.timeout(600_000);
  let emu: Emulator;
  let sf: SfHome;
  const env = { SF_INTEGRATION_RETRY_BASE_MS: '5' };

  /** The real sf CLI with stdin from /dev/null (stdio 'ignore'), as a CI job runs it; `onStdout` may signal it. */
  const run = (args: string[], opts: { onStdout?: (text: string, child: ReturnType<typeof spawn>) => void; extraEnv?: NodeJS.ProcessEnv } = {}): Promise<Run> =>
    new Promise((resolve) => {
      const child = spawn(SF_BIN, args, { env: { ...sf.env, ...env, ...opts.extraEnv }, cwd: sf.home, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        opts.onStdout?.(stdout, child);
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
  const json = async <T>(args: string[]): Promise<Run & { body: Envelope<T> }> => {
    const r = await run([...args, '--json']);
    try {
      return { ...r, body: JSON.parse(r.stdout) as Envelope<T> };
    } catch {
      throw new Error(`sf ${args.join(' ')} printed no JSON (exit ${String(r.code)}):\n${r.stdout}\n${r.stderr}`);
    }
  };
  const create = (args: string[]): Promise<Run & { body: Envelope<CreateResult> }> => json<CreateResult>(['integration', 'create', '--target-org', 'emu', ...args]);
  const doctor = (args: string[]): Promise<Run & { body: Envelope<DoctorResult> }> => json<DoctorResult>(['integration', 'doctor', ...args]);
  const users = (prefix: string): number => emu.store.all('User').filter((u) => String(u.Username).startsWith(prefix)).length;

  /** Salesforce's own token endpoint, as the external system calls it with the first key. */
  const jwtLogin = async (result: CreateResult): Promise<number> => {
    const r = await run(['org', 'login', 'jwt', '--client-id', result.consumerKey!, '--jwt-key-file', result.privateKeyFile!, '--username', result.username, '--instance-url', emu.instanceUrl, '--json']);
    return r.code ?? -1;
  };

  before(async () => {
    const fx = defaultFixture();
    fx.records!.UserLicense.find((l) => l.Name === 'Salesforce Integration')!.TotalLicenses = 20;
    fx.records!.PermissionSetLicense[0].TotalLicenses = 20;
    emu = await startEmulator({ fixture: fx });
    sf = await newSfHome();
    expect((await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install'])).code).to.equal(0);
    const login = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', 'emu'], { SF_ACCESS_TOKEN: emu.accessToken });
    expect(login.code, login.stderr).to.equal(0);
  });

  after(async () => {
    await emu?.close();
    await sf?.dispose();
  });

  describe('1. doctor --fix without a terminal', () => {
    let created: CreateResult;
    before(async () => {
      const r = await create(['--name', 'Pipeline', '--object', 'Account=read', '--output-dir', join(sf.home, 'pipeline')]);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      created = r.body.result!;
    });

    it('exits 2 with the --no-prompt hint, writes its JUnit report and nothing to the org; with --no-prompt it repairs and exits 0', async () => {
      const access = emu.store.all('SetupEntityAccess').find((a) => emu.store.get(String(a.ParentId))?.Name === created.permissionSetName)!;
      emu.store.remove('SetupEntityAccess', access.Id);
      agePropagation(emu.store);
      const args = ['integration', 'doctor', '--target-org', 'emu', '--name', created.appName, '--username', created.username];
      const report = join(sf.home, 'doctor-fix.xml');
      emu.clearLog();
      const refused = await run([...args, '--fix', '--result-format', 'junit', '--output-file', report]);
      expect(refused.code, refused.stdout + refused.stderr).to.equal(2);
      expect(refused.stderr).to.include('--no-prompt').and.match(/no terminal/i);
      expect(emu.log().writes).to.equal(0);
      const xml = await readFile(report, 'utf8');
      expect(xml).to.include('<testsuite').and.include('app-permission-set-associated').and.include('<failure');

      const fixed = await run([...args, '--fix', '--no-prompt']);
      expect(fixed.code, fixed.stdout + fixed.stderr).to.equal(0);
      expect(emu.store.all('SetupEntityAccess').some((a) => emu.store.get(String(a.ParentId))?.Name === created.permissionSetName)).to.be.true;
    });

    it('exits 2 for every input error, before any org is read', async () => {
      const notPem = join(sf.home, 'not-a-key.pem');
      await writeFile(notPem, 'hello');
      const encrypted = join(sf.home, 'encrypted.pem');
      await writeFile(encrypted, '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n');
      const badSpec = join(sf.home, 'bad-spec.yaml');
      await writeFile(badSpec, 'name: [unclosed\n');
      const cases: Array<{ args: string[]; message: RegExp }> = [
        { args: ['--target-org', 'emu'], message: /--name|--username|--error/ },
        { args: ['--target-org', 'emu', '--name', 'X', '--client-secret-env', 'NOT_SET_ANYWHERE'], message: /NOT_SET_ANYWHERE/ },
        { args: ['--target-org', 'emu', '--name', 'X', '--private-key-file', notPem], message: /not-a-key\.pem|PEM/ },
        { args: ['--target-org', 'emu', '--name', 'X', '--private-key-file', encrypted], message: /encrypt/i },
        { args: ['--target-org', 'emu', '--name', 'X', '--spec', badSpec], message: /bad-spec\.yaml/ },
        { args: ['--target-org', 'nobody-logged-in-as-this', '--name', 'X'], message: /nobody-logged-in-as-this/ },
        { args: ['--target-org', 'emu', '--name', 'X', '--result-format', 'xml'], message: /xml|result-format/ },
        { args: ['--target-org', 'emu', '--name', 'X', '--fix', '--error', 'invalid_grant'], message: /--error/ },
      ];
      for (const c of cases) {
        emu.clearLog();
        // eslint-disable-next-line no-await-in-loop
        const r = await doctor(c.args);
        expect(r.code, `${c.args.join(' ')}: ${r.stdout}`).to.equal(2);
        expect(`${r.body.message ?? ''}`, c.args.join(' ')).to.match(c.message);
        expect(emu.log().entries.length, `${c.args.join(' ')} read the org`).to.equal(0);
      }
    });

    it('warns that --no-prompt means nothing without --fix', async () => {
      const r = await doctor(['--target-org', 'emu', '--name', created.appName, '--no-prompt']);
      expect(r.body.warnings?.join(' ')).to.include('--no-prompt');
    });

    it('checks --output-file before any org is read: a missing directory or a directory exits 1 with the path', async () => {
      for (const file of [join(sf.home, 'no-such-dir', 'report.xml'), sf.home]) {
        emu.clearLog();
        // eslint-disable-next-line no-await-in-loop
        const r = await doctor(['--target-org', 'emu', '--name', created.appName, '--result-format', 'junit', '--output-file', file]);
        expect(r.code, r.stdout).to.equal(1);
        expect(r.body.message).to.include(file);
        expect(r.body.message).to.not.match(/ENOENT|EISDIR/);
        expect(emu.log().entries.length).to.equal(0);
      }
    });
  });

  describe('2. ownership of an app credentials', () => {
    let first: CreateResult;
    before(async () => {
      const r = await create(['--name', 'Owned', '--object', 'Account=read', '--output-dir', join(sf.home, 'owned-a')]);
      expect(r.code, r.stdout).to.equal(0);
      first = r.body.result!;
    });

    it('refuses a second create from another directory before any write (exit 1), names the app and its certificate, and the first key still works', async () => {
      for (const extra of [[], ['--dry-run']]) {
        emu.clearLog();
        // eslint-disable-next-line no-await-in-loop
        const r = await create(['--name', 'Owned', '--object', 'Account=read', '--output-dir', join(sf.home, 'owned-b'), ...extra]);
        expect(r.code, r.stdout).to.equal(1);
        expect(r.body.name).to.equal('CertificateNotHeldError');
        expect(r.body.message).to.include('Owned_Integration').and.match(/([0-9A-F]{2}:){31}[0-9A-F]{2}/);
        expect(r.body.actions?.join(' ')).to.include('sf integration rotate').and.include('--replace-credentials');
        expect(emu.log().writes).to.equal(0);
        // eslint-disable-next-line no-await-in-loop
        expect(await missing(join(sf.home, 'owned-b')), 'no key pair written').to.be.true;
      }
      expect(await jwtLogin(first)).to.equal(0);
    });

    it('refuses to turn a JWT app into a client-credentials one (its certificate would go)', async () => {
      emu.clearLog();
      const r = await create(['--name', 'Owned', '--flow', 'client-credentials', '--object', 'Account=read', '--output-dir', join(sf.home, 'owned-cc')]);
      expect(r.code, r.stdout).to.equal(1);
      expect(r.body.name).to.equal('FlowTakesCertificateError');
      expect(emu.log().writes).to.equal(0);
    });

    it('replaces the certificate with --replace-credentials, when that is intended', async () => {
      const r = await create(['--name', 'Owned', '--object', 'Account=read', '--output-dir', join(sf.home, 'owned-b'), '--replace-credentials']);
      expect(r.code, r.stdout).to.equal(0);
      expect(r.body.result!.steps.find((s) => s.name === 'app')?.status).to.equal('updated');
    });

    it('never lets two concurrent creates of one integration both succeed', async () => {
      const args = (dir: string): string[] => ['integration', 'create', '--target-org', 'emu', '--name', 'Racer', '--object', 'Account=read', '--output-dir', join(sf.home, dir), '--json'];
      const [a, b] = await Promise.all([run(args('racer-a')), run(args('racer-b'))]);
      const codes = [a.code, b.code];
      expect(codes.filter((c) => c === 0).length, `${a.stdout}\n${b.stdout}`).to.be.at.most(1);
      const loser = a.code === 0 ? b : a;
      expect(loser.code).to.not.equal(0);
      expect(users('racer.integration')).to.equal(1);
      if (codes.includes(0)) {
        // The winner's key is the one the app holds.
        const winner = JSON.parse((a.code === 0 ? a : b).stdout) as Envelope<CreateResult>;
        expect(await jwtLogin(winner.result!)).to.equal(0);
      }
    });
  });

  describe('3. preconditions before the first write', () => {
    it('refuses a Connected App in an org that blocks their creation: exit 1, nothing written (--dry-run says the same)', async () => {
      for (const extra of [['--dry-run'], []]) {
        emu.clearLog();
        // eslint-disable-next-line no-await-in-loop
        const r = await create(['--name', 'Legacy', '--app-type', 'connected-app', '--object', 'Account=read', '--output-dir', join(sf.home, 'legacy'), ...extra]);
        expect(r.code, r.stdout).to.equal(1);
        expect(r.body.name).to.equal('ConnectedAppCreationBlockedError');
        expect(r.body.actions?.join(' ')).to.include('--app-type external-client-app');
        expect(emu.log().writes).to.equal(0);
      }
      expect(users('legacy.integration')).to.equal(0);
      expect(await missing(join(sf.home, 'legacy'))).to.be.true;
    });

    it('refuses when the running user lacks Manage Users: exit 1, nothing written', async () => {
      const adminProfile = emu.store.all('Profile').find((p) => p.Name === 'System Administrator')!;
      const adminSet = emu.store.all('PermissionSet').find((p) => p.ProfileId === adminProfile.Id)!;
      emu.store.update('PermissionSet', adminSet.Id, { PermissionsManageUsers: false, PermissionsManageInternalUsers: false }, { system: true });
      emu.clearLog();
      const r = await create(['--name', 'NoRights', '--object', 'Account=read', '--output-dir', join(sf.home, 'norights')]);
      emu.store.update('PermissionSet', adminSet.Id, { PermissionsManageUsers: true, PermissionsManageInternalUsers: true }, { system: true });
      expect(r.code, r.stdout).to.equal(1);
      expect(r.body.message).to.include('Manage Users').and.include('admin@emulated-org.example');
      expect(emu.log().writes).to.equal(0);
      expect(await missing(join(sf.home, 'norights'))).to.be.true;
    });

    it('refuses an --output-dir that is a file before any write', async () => {
      const file = join(sf.home, 'a-file');
      await writeFile(file, 'x');
      emu.clearLog();
      const r = await create(['--name', 'FileDir', '--object', 'Account=read', '--output-dir', file]);
      expect(r.code, r.stdout).to.equal(1);
      expect(r.body.message).to.include(file);
      expect(emu.log().writes).to.equal(0);
    });
  });

  describe('4-5. exit codes by what reached the org; the live check retried', () => {
    it('exits 1, not 68, when the first composite fails with 500 and only the local key pair was written', async () => {
      emu.injectFault({ method: 'POST', path: '/composite$', status: 500, errorCode: 'UNKNOWN_EXCEPTION', message: 'An unexpected error occurred.', times: 10 });
      const r = await create(['--name', 'Fivehundred', '--object', 'Account=read', '--output-dir', join(sf.home, 'fivehundred')]);
      emu.clearFaults();
      expect(r.code, r.stdout).to.equal(1);
      expect(users('fivehundred.integration')).to.equal(0);
    });

    it('retries transient answers of the token endpoint and the REST call, and succeeds in the same run', async () => {
      emu.injectFault({ method: 'POST', path: '/services/oauth2/token$', status: 503, times: 2 });
      emu.injectFault({ method: 'GET', path: String.raw`/services/data/v\d+\.\d+/?$`, status: 503, times: 1 });
      const r = await create(['--name', 'Flaky', '--object', 'Account=read', '--output-dir', join(sf.home, 'flaky')]);
      emu.clearFaults();
      expect(r.code, r.stdout).to.equal(0);
      expect(r.body.result!.verified).to.be.true;
    });

    it('reports Salesforce’s own answer and says the failure was transient when the token endpoint never recovers', async () => {
      emu.injectFault({ method: 'POST', path: '/services/oauth2/token$', status: 503, errorCode: 'SERVER_UNAVAILABLE', message: 'Maintenance window', times: 20 });
      const r = await create(['--name', 'Down', '--object', 'Account=read', '--output-dir', join(sf.home, 'down')]);
      emu.clearFaults();
      expect(r.code, r.stdout).to.equal(68);
      const verify = r.body.result!.steps.find((s) => s.name === 'verify')!;
      expect(verify.status).to.equal('failed');
      expect(verify.error).to.match(/transient/).and.include('Maintenance window');
      expect(verify.error).to.not.include('API Enabled');
    });
  });

  describe('6. flags, pasted errors, specs, interruptions', () => {
    it('refuses conflicting flags (exit 2) and warns where harmless', async () => {
      emu.clearLog();
      const cc = await create(['--name', 'Conflict', '--flow', 'client-credentials', '--key-size', '4096', '--output-dir', join(sf.home, 'conflict')]);
      expect(cc.code, cc.stdout).to.equal(2);
      expect(cc.body.message).to.include('--key-size');
      for (const args of [
        ['--flow', 'saml'],
        ['--wait', '31'],
      ]) {
        // eslint-disable-next-line no-await-in-loop
        const r = await create(['--name', 'Conflict', ...args]);
        expect(r.code, `${args.join(' ')}: ${r.stdout}`).to.equal(2);
      }
      const unknownOrg = await run(['integration', 'create', '--target-org', 'nobody-logged-in-as-this', '--name', 'Conflict', '--json']);
      expect(unknownOrg.code, unknownOrg.stdout).to.equal(2);
      expect(emu.log().writes).to.equal(0);
      const dry = await create(['--name', 'Conflict', '--object', 'Account=read', '--no-verify', '--wait', '10', '--dry-run', '--output-dir', join(sf.home, 'conflict')]);
      expect(dry.code, dry.stdout).to.equal(0);
      expect(dry.body.warnings?.join(' ')).to.include('--wait');
    });

    it('suggests the object meant for an unknown one', async () => {
      const r = await create(['--name', 'Typo', '--object', 'Acount=read', '--output-dir', join(sf.home, 'typo')]);
      expect(r.code, r.stdout).to.equal(2);
      expect(`${r.body.message ?? ''} ${(r.body.actions ?? []).join(' ')}`).to.include('Account');
    });

    it('strips terminal escapes from a pasted error, caps the echo, and lists real causes for an unknown one', async () => {
      const hostile = '\u001b]0;pwned\u0007\u001b[2J\u001b[31minvalid_client: something odd' + 'A'.repeat(100_000);
      const r = await run(['integration', 'doctor', '--error', hostile]);
      const printed = r.stdout + r.stderr;
      for (const raw of ['\u001b]', '\u001b[2J', '\u0007']) expect(printed).to.not.include(raw);
      expect(r.stdout.length).to.be.below(20_000);
      const unknown = await doctor(['--error', 'weird_error: nobody has seen this']);
      const causes = unknown.body.result!.explanation!.causes.map((c) => c.cause);
      expect(causes.length).to.be.greaterThan(3);
      expect(causes.join(' ')).to.match(/permission set/i);
    });

    it('bounds spec files: an alias bomb, a JSON error at its line and column, 20,000 objects (exit 2, the org not read)', async () => {
      const bomb = join(sf.home, 'bomb.yaml');
      const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
      for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
      await writeFile(bomb, `name: Bomb\n${levels.join('\n')}\n`);
      const badJson = join(sf.home, 'bad.json');
      await writeFile(badJson, '{\n  "name": "Json",\n  "objects": { "Account" ["read"] }\n}\n');
      const huge = join(sf.home, 'huge.yaml');
      await writeFile(huge, `name: Huge\nobjects:\n${Array.from({ length: 20_000 }, (_, i) => `  Obj${i}__c: [read]`).join('\n')}\n`);
      const cases: Array<{ file: string; message: RegExp }> = [
        { file: bomb, message: /bomb\.yaml.*alias|alias.*bomb\.yaml/is },
        { file: badJson, message: /bad\.json.*line 3, column \d+/ },
        { file: huge, message: /huge\.yaml|bytes|more than/ },
      ];
      for (const c of cases) {
        emu.clearLog();
        // eslint-disable-next-line no-await-in-loop
        const r = await create(['--spec', c.file]);
        expect(r.code, `${c.file}: ${r.stdout}`).to.equal(2);
        expect(r.body.message, c.file).to.match(c.message);
        expect(r.body.message!.length).to.be.below(2000);
        expect(emu.log().entries.length).to.equal(0);
      }
    });

    it('answers Ctrl-C with the step table and exit 130, without a stack trace', async () => {
      emu.injectFault({ soapOperation: 'deploy', delayMs: 20_000 });
      let sent = false;
      const r = await run(
        ['integration', 'create', '--target-org', 'emu', '--name', 'Interrupted', '--object', 'Account=read', '--output-dir', join(sf.home, 'interrupted')],
        {
          onStdout: (text, child) => {
            // Once the app is being written (records are in the org), press Ctrl-C.
            if (!sent && text.includes('▶ App')) {
              sent = true;
              setTimeout(() => child.kill('SIGINT'), 300);
            }
          },
        }
      );
      emu.clearFaults();
      expect(sent, r.stdout).to.be.true;
      expect(r.code, r.stdout + r.stderr).to.equal(130);
      expect(r.stderr).to.include('Interrupted').and.match(/user\s+created/).and.match(/app\s+interrupted/).and.match(/verify\s+pending/);
      expect(r.stderr).to.match(/reached the org/);
      expect(r.stderr).to.not.match(/\n\s+at .+:\d+:\d+/);
    });
  });

  it('lists exit code 130 under ERROR CODES of create', async () => {
    const r = await sf.run(['integration', 'create', '--help']);
    expect(r.stdout).to.include('(130)');
  });
});
