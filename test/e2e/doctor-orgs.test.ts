/*
 * doctor over several orgs keeps every org's outcome: a report, or the error that stopped that org, in JSON, in
 * JUnit (one testsuite per org; an org that could not be reached is a failing testcase with its error) and in the
 * human output. Exit 69 when an org could not be reached, else 1 when any org failed or a check reached --fail-on.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { XMLParser } from 'fast-xml-parser';
import type { DoctorResult } from '../../src/doctor/types.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { makeKeyPair } from '../helpers/credentials.js';
import { defaultFixture, integrationFixture } from '../helpers/fixtures.js';
import { newSfHome, PROJECT_ROOT, type SfHome } from '../helpers/sf.js';

type Envelope<T> = { status: number; result?: T; name?: string; message?: string };
type Suite = { '@_name': string; '@_tests': string; '@_failures': string; testcase: Array<{ '@_name': string; '@_classname': string; failure?: { '@_message': string; '@_type': string } }> };

describe('sf integration doctor over several orgs, one of them unreachable (real CLI, emulator)', function () {
  this.timeout(600_000);
  let ok: Emulator;
  let sf: SfHome;
  let appName: string;
  const env = { SF_INTEGRATION_RETRY_BASE_MS: '5' };

  before(async () => {
    const integ = integrationFixture({ certificatePem: makeKeyPair('orgs').certificatePem });
    appName = integ.appName;
    ok = await startEmulator({ fixture: integ.fixture });
    const fx = defaultFixture();
    fx.records!.Organization[0].Id = '00DEm0000000004MAA';
    fx.records!.User[0].Username = 'admin@unreachable-org.example';
    const gone = await startEmulator({ fixture: fx });
    sf = await newSfHome();
    expect((await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install'])).code).to.equal(0);
    for (const [e, alias] of [
      [ok, 'ok'],
      [gone, 'unreachable'],
    ] as const) {
      // eslint-disable-next-line no-await-in-loop
      const login = await sf.run(['org', 'login', 'access-token', '--instance-url', e.instanceUrl, '--no-prompt', '--alias', alias], { SF_ACCESS_TOKEN: e.accessToken });
      expect(login.code, login.stderr).to.equal(0);
    }
    // Logged in, then gone: its host no longer answers.
    await gone.close();
  });

  after(async () => {
    await ok?.close();
    await sf?.dispose();
  });

  it('JUnit: both orgs as testsuites, the unreachable one a failing testcase with its error; exit 69', async () => {
    const file = join(sf.home, 'doctor.xml');
    const r = await sf.run(['integration', 'doctor', '-o', 'ok', '-o', 'unreachable', '--name', appName, '--result-format', 'junit', '--output-file', file], env);
    expect(r.code, r.stdout + r.stderr).to.equal(69);
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', isArray: (n): boolean => n === 'testsuite' || n === 'testcase' }).parse(await readFile(file, 'utf8')) as {
      testsuites: { '@_tests': string; '@_failures': string; testsuite: Suite[] };
    };
    const suites = xml.testsuites.testsuite;
    expect(suites).to.have.length(2);
    expect(suites[0]['@_name']).to.match(/^ok \(127\.0\.0\.1:\d+\)$/);
    expect(suites[0].testcase.length).to.be.greaterThan(10);
    const gone = suites[1];
    expect(gone['@_name']).to.equal('unreachable');
    expect(gone['@_tests']).to.equal('1');
    expect(gone['@_failures']).to.equal('1');
    expect(gone.testcase[0]['@_name']).to.equal('org-reachable');
    expect(gone.testcase[0]['@_classname']).to.equal('integration.doctor.org');
    expect(gone.testcase[0].failure?.['@_type']).to.equal('OrgUnreachableError');
    expect(gone.testcase[0].failure?.['@_message']).to.match(/Could not read the org unreachable: .*(fetch failed|ECONNREFUSED)/);
    // The totals count the unreachable org's failure.
    const checked = suites[0].testcase.length;
    expect(Number(xml.testsuites['@_tests'])).to.equal(checked + 1);
    expect(Number(xml.testsuites['@_failures'])).to.equal(Number(suites[0]['@_failures']) + 1);
    expect(ok.log().writes).to.equal(0);
  });

  it('--json: the reachable org report and the unreachable org error, exit 69', async () => {
    const r = await sf.json<Envelope<DoctorResult>>(['integration', 'doctor', '-o', 'ok', '-o', 'unreachable', '--name', appName], env);
    expect(r.code, r.stdout).to.equal(69);
    const result = r.body.result!;
    expect(result.reports.map((rep) => rep.org.targetOrg)).to.deep.equal(['ok']);
    expect(result.reports[0].checks.length).to.be.greaterThan(10);
    expect(result.orgFailures).to.have.length(1);
    expect(result.orgFailures![0]).to.include({ targetOrg: 'unreachable', unreachable: true, error: 'OrgUnreachableError' });
    expect(result.orgFailures![0].actions?.join(' ')).to.include('sf org display');
    expect(result.failed).to.be.true;
  });

  it('human output: the report of one org and the error of the other, exit 69', async () => {
    const r = await sf.run(['integration', 'doctor', '-o', 'unreachable', '-o', 'ok', '--name', appName], env);
    expect(r.code, r.stdout + r.stderr).to.equal(69);
    expect(r.stdout).to.match(/\d+ checks: \d+ passed/);
    expect(r.stdout).to.include('unreachable: not checked');
    expect(r.stdout).to.match(/The org could not be reached, so none of its checks ran: Could not read the org unreachable/);
  });

  it('an org alias nobody logged in to is bad input: exit 2 before any org is read, so no half report', async () => {
    const r = await sf.json<Envelope<DoctorResult>>(['integration', 'doctor', '-o', 'ok', '-o', 'no-such-alias', '--name', appName], env);
    expect(r.code, r.stdout).to.equal(2);
    expect(r.body.message).to.include('no-such-alias');
  });

  it('one org alone that cannot be reached still fails with its own error and exit 69', async () => {
    const r = await sf.json<Envelope<DoctorResult>>(['integration', 'doctor', '-o', 'unreachable', '--name', appName], env);
    expect(r.code).to.equal(69);
    expect(r.body.name).to.equal('OrgUnreachableError');
  });
});
