/*
 * Behind a proxy, as users in a corporate network run the CLI: with HTTP_PROXY pointing at a forward proxy on
 * 127.0.0.1, create's live verification and doctor's live checks send their token request and their REST call
 * through it, like every other request of the CLI (jsforce honours the proxy variables; global fetch does not).
 * The proof is counted on both sides: every token request the emulator answered is one the proxy forwarded.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { startProxy, type TestProxy } from '../helpers/proxy.js';
import { newSfHome, PROJECT_ROOT, type SfHome } from '../helpers/sf.js';
import type { CreateResult } from '../../src/create/run.js';
import type { DoctorResult } from '../../src/doctor/types.js';

type Envelope<T> = { status: number; result?: T; name?: string; message?: string };

const TOKEN = '/services/oauth2/token';

describe('create and doctor behind an HTTP proxy (real CLI, emulator)', function () {
  this.timeout(300_000);
  let emu: Emulator;
  let sf: SfHome;
  let proxy: TestProxy;

  before(async () => {
    emu = await startEmulator();
    proxy = await startProxy();
    sf = await newSfHome();
    const link = await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install']);
    expect(link.code, link.stderr).to.equal(0);
    const login = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', 'emu'], { SF_ACCESS_TOKEN: emu.accessToken });
    expect(login.code, login.stderr).to.equal(0);
  });

  after(async () => {
    await emu?.close();
    await proxy?.close();
    await sf?.dispose();
  });

  // Only HTTP_PROXY, as the user set it: the emulator is a plain-HTTP origin on 127.0.0.1, and no NO_PROXY is passed.
  const behindProxy = (): NodeJS.ProcessEnv => ({ HTTP_PROXY: proxy.url, SF_INTEGRATION_RETRY_BASE_MS: '5' });
  const tokenRequests = {
    atEmulator: (): number => emu.log().entries.filter((e) => e.method === 'POST' && e.path === TOKEN).length,
    throughProxy: (): number => proxy.requests.filter((r) => r.method === 'POST' && r.path === TOKEN).length,
  };
  const restCallsThroughProxy = (): number => proxy.requests.filter((r) => r.method === 'GET' && /^\/services\/data\/v\d+\.\d+\/$/.test(r.path)).length;

  let created: CreateResult;

  it('create verifies the new integration with its token request and REST call going through the proxy', async () => {
    emu.clearLog();
    proxy.requests.length = 0;
    const r = await sf.json<Envelope<CreateResult>>(
      ['integration', 'create', '--target-org', 'emu', '--name', 'Proxied', '--object', 'Account=read', '--email', 'owner@acme.example', '--output-dir', join(sf.home, 'proxied')],
      behindProxy()
    );
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    created = r.body.result!;
    expect(created.verified).to.equal(true);
    expect(tokenRequests.atEmulator(), 'the emulator answered the token request').to.be.at.least(1);
    expect(tokenRequests.throughProxy(), 'every token request went through the proxy').to.equal(tokenRequests.atEmulator());
    expect(restCallsThroughProxy(), 'the REST call with the new token went through the proxy').to.be.at.least(1);
    // The org reads and writes of the CLI's own connection go through it too.
    expect(proxy.requests.some((p) => p.method === 'POST' && p.path.endsWith('/composite'))).to.equal(true);
  });

  it("doctor's live checks send the token request and the REST call through the proxy", async () => {
    emu.clearLog();
    proxy.requests.length = 0;
    const r = await sf.json<Envelope<DoctorResult>>(
      [
        'integration', 'doctor', '--target-org', 'emu', '--name', created.appName, '--username', created.username,
        '--client-id', created.consumerKey!, '--private-key-file', created.privateKeyFile!,
      ],
      behindProxy()
    );
    const live = r.body.result?.reports[0]?.checks.filter((c) => c.group === 'live') ?? [];
    expect(live.map((c) => `${c.id}:${c.status}`), r.stdout).to.deep.equal(['live-token-exchange:pass', 'live-api-call:pass']);
    expect(tokenRequests.atEmulator()).to.equal(1);
    expect(tokenRequests.throughProxy(), 'the token request went through the proxy').to.equal(1);
    expect(restCallsThroughProxy()).to.equal(1);
  });
});
