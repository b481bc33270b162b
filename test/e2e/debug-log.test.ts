/*
 * The sf log (SF_LOG_LEVEL=debug or trace, in ~/.sf/sf-<date>.log) has a debug line for each request and retry the
 * plugin makes to the org (method, path, outcome, attempt), for the token endpoint too, and never a token, a key
 * or a secret: through the real sf CLI, create runs with a transient failure on a read and on the record write.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { startEmulator, type Emulator } from '../emulator/index.js';
import type { CreateResult } from '../../src/create/run.js';
import { newSfHome, PROJECT_ROOT, type SfHome } from '../helpers/sf.js';

type Envelope<T> = { status: number; result?: T };

describe('debug lines in the sf log (real CLI, emulator)', function () {
  this.timeout(600_000);
  let emu: Emulator;
  let sf: SfHome;

  before(async () => {
    emu = await startEmulator();
    sf = await newSfHome();
    expect((await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install'])).code).to.equal(0);
    const login = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', 'emu'], { SF_ACCESS_TOKEN: emu.accessToken });
    expect(login.code, login.stderr).to.equal(0);
  });

  after(async () => {
    await emu?.close();
    await sf?.dispose();
  });

  const sfLog = async (): Promise<string> => {
    const dir = join(sf.home, '.sf');
    const files = (await readdir(dir)).filter((f) => /^sf.*\.log$/.test(f));
    expect(files, `log files in ${dir}`).to.not.be.empty;
    return (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('\n');
  };

  it('create with SF_LOG_LEVEL=trace logs each request, retry and the token exchange, and no secret', async () => {
    emu.injectFault({ method: 'POST', path: '/composite/batch$', status: 503 });
    emu.injectFault({ method: 'POST', path: '/composite$', status: 403, errorCode: 'REQUEST_LIMIT_EXCEEDED' });
    const out = join(sf.home, 'logged');
    const r = await sf.json<Envelope<CreateResult>>(['integration', 'create', '--target-org', 'emu', '--name', 'Logged', '--object', 'Account=read', '--output-dir', out], {
      SF_LOG_LEVEL: 'trace',
      SF_INTEGRATION_RETRY_BASE_MS: '5',
    });
    expect(r.code, r.stdout).to.equal(0);
    expect(r.body.result!.verified).to.be.true;
    const log = await sfLog();

    // Each request with its outcome and attempt; each retry with why.
    expect(log).to.match(/POST \/services\/data\/v\d+\.\d\/composite\/batch failed \(attempt 1\): SERVER_UNAVAILABLE/);
    expect(log).to.match(/POST \/services\/data\/v\d+\.\d\/composite\/batch retry 2 in \d+ ms after SERVER_UNAVAILABLE/);
    expect(log).to.match(/POST \/services\/data\/v\d+\.\d\/composite\/batch ok \(attempt 2\)/);
    expect(log).to.match(/POST \/composite failed \(attempt 1\): REQUEST_LIMIT_EXCEEDED/);
    expect(log).to.match(/POST \/composite ok \(attempt 2\)/);
    expect(log).to.match(/SOAP deploy ok \(attempt 1\)/);
    expect(log).to.match(/SOAP checkDeployStatus ok \(attempt 1\)/);
    expect(log).to.match(/GET \/services\/data\/v\d+\.\d\/apps\/oauth\/credentials\/[^ ]+ ok/);
    expect(log).to.match(/POST http:\/\/127\.0\.0\.1:\d+\/services\/oauth2\/token \(jwt-bearer\) ok/);
    expect(log).to.match(/GET \/services\/data\/v\d+\.\d\/ with the new token: 200/);

    // Never a token, a key or a secret.
    const privateKey = await readFile(r.body.result!.privateKeyFile!, 'utf8');
    const keyLines = privateKey.split('\n').filter((l) => l.length > 40 && !l.startsWith('-----'));
    expect(keyLines.length).to.be.greaterThan(10);
    for (const line of keyLines) expect(log.includes(line), 'a private key line in the log').to.be.false;
    expect(log).to.not.match(/PRIVATE KEY/);
    const tokens = [...emu.store.sessions.keys()];
    expect(tokens.length, 'the admin token and the one the live check was issued').to.be.at.least(2);
    for (const token of tokens) expect(log.includes(token), 'an access token in the log').to.be.false;
    // A JWT assertion (header.claims.signature) never reaches the log.
    expect(log).to.not.match(/eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{20,}/);
  });
});
