/*
 * src/report/doctor-human.ts, junit.ts, json.ts: the renderers of a doctor report, over plain data.
 */
import { expect } from 'chai';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { CheckResult } from '../../src/checks/types.js';
import type { Explanation } from '../../src/checks/errors.js';
import { summarize, type DoctorResult, type OrgReport } from '../../src/doctor/types.js';
import { humanExplanation, humanReport, statusMark } from '../../src/report/doctor-human.js';
import { jsonReport } from '../../src/report/json.js';
import { junitReport } from '../../src/report/junit.js';

/** Deliberately out of group order, to see the renderers sort them. */
const CHECKS: CheckResult[] = [
  { id: 'user-exists', group: 'user', status: 'pass', finding: 'User int@acme.com exists.' },
  { id: 'live-token-exchange', group: 'live', status: 'skip', finding: 'No --client-id given.' },
  {
    id: 'app-permission-set-associated',
    group: 'app',
    status: 'fail',
    finding: 'No permission set of int@acme.com is selected on Acme <Sync> & "Co".',
    fix: { setup: 'Setup > External Client App Manager > Acme > Policies (seed 001 step 6)', command: 'sf integration doctor --fix', autoFixable: true },
  },
  { id: 'org-login-url', group: 'org', status: 'pass', finding: 'Production org; audience https://login.salesforce.com.' },
  {
    id: 'user-license',
    group: 'user',
    status: 'warn',
    finding: 'Standard Salesforce license: costs a full seat.',
    fix: { setup: 'Setup > Users > int@acme.com > Edit: Salesforce Integration license' },
  },
  { id: 'app-exists', group: 'app', status: 'pass', finding: 'External Client App Acme exists.' },
  // A pass that carries a fix anyway: still not listed.
  { id: 'user-active', group: 'user', status: 'pass', finding: 'Active.', fix: { setup: 'nothing to do' } },
];

const report = (checks: CheckResult[] = CHECKS, extra: Partial<OrgReport> = {}): OrgReport => ({
  org: {
    id: '00D000000000001EAA',
    name: 'Acme',
    instanceUrl: 'https://acme.my.salesforce.com',
    isSandbox: false,
    loginUrl: 'https://acme.my.salesforce.com',
    audience: 'https://login.salesforce.com',
    subdomain: 'acme',
    targetOrg: 'acme-prod',
  },
  app: { id: '0xI000000000001', name: 'Acme', kind: 'external-client-app' },
  user: { id: '005000000000001AAA', username: 'int@acme.com' },
  flow: 'jwt',
  checks,
  summary: summarize(checks),
  ...extra,
});

const EXPLANATION: Explanation = {
  matched: { error: 'invalid_grant', errorDescription: "user hasn't approved this consumer" },
  entry: 'not-approved-consumer',
  causes: [
    { rank: 1, cause: 'The permission set is not selected on the app.', fix: 'Select it.', confirmingChecks: ['app-permission-set-associated'], confirmed: true },
    { rank: 2, cause: 'The app was changed minutes ago.', fix: 'Wait 10 minutes.', confirmingChecks: ['app-propagation'], confirmed: false },
    { rank: 3, cause: 'Something without a check.', fix: 'Look.', confirmingChecks: [] },
  ],
};

describe('humanReport', () => {
  it('orders rows by group Org, App, User, Live and keeps the run order inside a group', () => {
    const human = humanReport(report());
    expect(human.rows.map((r) => r.check)).to.deep.equal([
      'org-login-url',
      'app-permission-set-associated',
      'app-exists',
      'user-exists',
      'user-license',
      'user-active',
      'live-token-exchange',
    ]);
    expect(human.rows.map((r) => r.group)).to.deep.equal(['Org', 'App', 'App', 'User', 'User', 'User', 'Live']);
    expect(human.sections.map((s) => s.title)).to.deep.equal(['Org', 'App', 'User', 'Live']);
    expect(human.sections[1].rows.map((r) => r.check)).to.deep.equal(['app-permission-set-associated', 'app-exists']);
    expect(human.columns.map((c) => c.key)).to.deep.equal(['group', 'status', 'check', 'finding']);
  });

  it('leaves out groups without checks', () => {
    const human = humanReport(report(CHECKS.filter((c) => c.group !== 'live')));
    expect(human.sections.map((s) => s.group)).to.deep.equal(['org', 'app', 'user']);
  });

  it('marks each status, with plain-text and colored variants', () => {
    const byId = new Map(humanReport(report()).rows.map((r) => [r.check, r.status]));
    expect(byId.get('org-login-url')).to.equal('✓ pass');
    expect(byId.get('user-license')).to.equal('! warn');
    expect(byId.get('app-permission-set-associated')).to.equal('✗ fail');
    expect(byId.get('live-token-exchange')).to.equal('- skip');
    expect(statusMark('fail', { unicode: false })).to.equal('FAIL');
    expect(statusMark('pass', { color: true }).startsWith('\u001b[32m✓ pass\u001b[')).to.equal(true);
    expect(humanReport(report()).rows.every((r) => !r.status.includes('\u001b'))).to.equal(true);
  });

  it('lists fixes for warn and fail results only, with the command under the setup path', () => {
    const human = humanReport(report());
    expect(human.fixes).to.deep.equal([
      'app-permission-set-associated: Setup > External Client App Manager > Acme > Policies (seed 001 step 6)',
      '  run: sf integration doctor --fix',
      '  `sf integration doctor --fix` can apply this.',
      'user-license: Setup > Users > int@acme.com > Edit: Salesforce Integration license',
    ]);
    expect(human.sections.find((s) => s.group === 'user')?.fixes).to.deep.equal([
      'user-license: Setup > Users > int@acme.com > Edit: Salesforce Integration license',
    ]);
    expect(human.fixes.join('\n')).not.to.include('user-active');
  });

  it('has no fixes when everything passes', () => {
    const passing = CHECKS.map((c) => ({ ...c, status: 'pass' as const }));
    expect(humanReport(report(passing)).fixes).to.deep.equal([]);
  });

  it('summarizes the counts with the org name and instance', () => {
    expect(humanReport(report()).summary).to.equal('7 checks: 4 passed, 1 warning, 1 failed, 1 skipped — org Acme (acme.my.salesforce.com)');
    const two = [...CHECKS, { ...CHECKS[4], id: 'user-api-only' }];
    expect(humanReport(report(two)).summary).to.match(/^8 checks: 4 passed, 2 warnings, 1 failed, 1 skipped/);
    expect(humanReport(report([CHECKS[0]])).summary).to.match(/^1 check: 1 passed, 0 warnings, 0 failed, 0 skipped/);
  });

  it('titles the report with the target org and names app, user and flow', () => {
    const human = humanReport(report());
    expect(human.title).to.equal('acme-prod (acme.my.salesforce.com)');
    expect(human.heading.join('\n')).to.include('Acme (External Client App)').and.include('int@acme.com').and.include('JWT bearer');
    const missing = humanReport(report(CHECKS, { app: undefined, user: undefined }));
    expect(missing.heading.join('\n')).to.include('App: not found').and.include('User: not found');
  });

  it('lists the fixes --fix applied and the explanation of --error', () => {
    const human = humanReport(
      report(CHECKS, {
        fixes: [
          { name: 'app', status: 'updated', subject: 'Acme', changes: ['select permission set Acme_Integration'] },
          { name: 'permission-set-assignment', status: 'failed', subject: 'Acme_Integration', changes: [], error: 'INSUFFICIENT_ACCESS' },
        ],
        explanation: EXPLANATION,
      })
    );
    expect(human.applied).to.deep.equal(['app: updated', 'permission-set-assignment: failed (INSUFFICIENT_ACCESS)']);
    expect(human.explanation[0]).to.equal("Error: invalid_grant: user hasn't approved this consumer");
    expect(humanReport(report()).applied).to.deep.equal([]);
    expect(humanReport(report()).explanation).to.deep.equal([]);
  });
});

describe('humanExplanation', () => {
  it('ranks the causes, marks the confirmed ones, and gives each fix and its checks', () => {
    const lines = humanExplanation(EXPLANATION);
    expect(lines).to.deep.equal([
      "Error: invalid_grant: user hasn't approved this consumer",
      'Known as: not-approved-consumer',
      "1. [confirmed by this org's checks] The permission set is not selected on the app.",
      '   fix: Select it.',
      '   checks: app-permission-set-associated',
      '2. The app was changed minutes ago.',
      '   fix: Wait 10 minutes.',
      '   checks: app-propagation',
      '3. Something without a check.',
      '   fix: Look.',
    ]);
  });

  it('says when the error is not in the catalogue', () => {
    const lines = humanExplanation({ matched: undefined, causes: [{ rank: 1, cause: 'Unknown.', fix: 'Run doctor.', confirmingChecks: [] }] });
    expect(lines[0]).to.match(/not in the catalogue/);
    expect(lines).to.have.length(3);
  });
});

type ParsedCase = {
  '@_name': string;
  '@_classname': string;
  failure?: { '@_message': string; '@_type': string; '#text'?: string };
  skipped?: { '@_message': string };
  'system-out'?: string;
};
type ParsedSuite = {
  '@_name': string;
  '@_tests': string;
  '@_failures': string;
  '@_skipped': string;
  '@_errors': string;
  '@_time': string;
  testcase: ParsedCase[];
  properties?: { property: Array<{ '@_name': string; '@_value': string }> };
  'system-out'?: string;
};
type Parsed = { testsuites: { '@_tests': string; '@_failures': string; '@_skipped': string; testsuite?: ParsedSuite[] } };

const parse = (xml: string): Parsed => {
  expect(XMLValidator.validate(xml), 'well-formed XML').to.equal(true);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseAttributeValue: false,
    parseTagValue: false,
    isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
  });
  return parser.parse(xml) as Parsed;
};

const result = (reports: OrgReport[], explanation?: Explanation): DoctorResult => ({
  reports,
  ...(explanation ? { explanation } : {}),
  failed: reports.some((r) => r.summary.fail > 0),
});

describe('junitReport', () => {
  it('is one testsuite per org, named by target org and instance, with one testcase per check', () => {
    const second = report(CHECKS.slice(0, 3), {
      org: { ...report().org, name: 'Beta', targetOrg: 'beta-sandbox', instanceUrl: 'https://beta--uat.sandbox.my.salesforce.com' },
    });
    const xml = junitReport(result([report(), second]), 'fail', { durationMs: 1234 });
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).to.equal(true);
    const parsed = parse(xml);
    const suites = parsed.testsuites.testsuite ?? [];
    expect(suites.map((s) => s['@_name'])).to.deep.equal([
      'acme-prod (acme.my.salesforce.com)',
      'beta-sandbox (beta--uat.sandbox.my.salesforce.com)',
    ]);
    expect(suites[0].testcase.map((t) => t['@_name']).sort()).to.deep.equal(CHECKS.map((c) => c.id).sort());
    expect(suites[0].testcase).to.have.length(CHECKS.length);
    expect(suites[1].testcase).to.have.length(3);
    const byName = new Map(suites[0].testcase.map((t) => [t['@_name'], t]));
    expect(byName.get('app-exists')?.['@_classname']).to.equal('integration.doctor.app');
    expect(byName.get('org-login-url')?.['@_classname']).to.equal('integration.doctor.org');
    expect(byName.get('live-token-exchange')?.['@_classname']).to.equal('integration.doctor.live');
    expect(suites[0]['@_time']).to.equal('1.234');
    expect(suites[0].properties?.property.find((p) => p['@_name'] === 'username')?.['@_value']).to.equal('int@acme.com');
  });

  it('counts tests, failures and skipped per suite and overall; warn passes with its finding in system-out', () => {
    const parsed = parse(junitReport(result([report()])));
    const [suite] = parsed.testsuites.testsuite ?? [];
    expect([suite['@_tests'], suite['@_failures'], suite['@_skipped'], suite['@_errors']]).to.deep.equal(['7', '1', '1', '0']);
    expect([parsed.testsuites['@_tests'], parsed.testsuites['@_failures'], parsed.testsuites['@_skipped']]).to.deep.equal(['7', '1', '1']);
    const byName = new Map(suite.testcase.map((t) => [t['@_name'], t]));
    const fail = byName.get('app-permission-set-associated');
    expect(fail?.failure?.['@_type']).to.equal('fail');
    expect(fail?.failure?.['#text']).to.include('Setup > External Client App Manager').and.include('Run: sf integration doctor --fix');
    const warn = byName.get('user-license');
    expect(warn?.failure).to.equal(undefined);
    expect(warn?.['system-out']).to.include('Standard Salesforce license').and.include('Salesforce Integration license');
    expect(byName.get('live-token-exchange')?.skipped?.['@_message']).to.equal('No --client-id given.');
    expect(byName.get('user-exists')?.failure).to.equal(undefined);
    expect(byName.get('user-exists')?.skipped).to.equal(undefined);
  });

  it("makes warn a failure only when --fail-on is 'warn'", () => {
    const parsed = parse(junitReport(result([report()]), 'warn'));
    const [suite] = parsed.testsuites.testsuite ?? [];
    expect(suite['@_failures']).to.equal('2');
    const warn = suite.testcase.find((t) => t['@_name'] === 'user-license');
    expect(warn?.failure?.['@_type']).to.equal('warn');
    expect(warn?.failure?.['@_message']).to.equal('Standard Salesforce license: costs a full seat.');
  });

  it('escapes XML special characters in findings and fixes', () => {
    const nasty: CheckResult = {
      id: 'app-scopes',
      group: 'app',
      status: 'fail',
      finding: 'Scopes <full> & \'api\' "refresh_token" ]]> \u0001',
      fix: { setup: 'Setup > App <Acme & Co> "Policies"' },
    };
    const xml = junitReport(result([report([nasty])]));
    expect(xml).not.to.include('<full>');
    expect(xml).not.to.include('<Acme');
    expect(xml).not.to.include('\u0001');
    const [suite] = parse(xml).testsuites.testsuite ?? [];
    const [testcase] = suite.testcase;
    expect(testcase.failure?.['@_message']).to.equal('Scopes <full> & \'api\' "refresh_token" ]]> \uFFFD');
    expect(testcase.failure?.['#text']).to.equal('Setup > App <Acme & Co> "Policies"');
  });

  it('renders --error without an org as a suite with no tests whose output is the explanation', () => {
    const parsed = parse(junitReport(result([], EXPLANATION)));
    const suites = parsed.testsuites.testsuite ?? [];
    expect(suites).to.have.length(1);
    expect(suites[0]['@_tests']).to.equal('0');
    expect(suites[0]['system-out']).to.include("user hasn't approved this consumer").and.include('app-permission-set-associated');
    expect(parsed.testsuites['@_tests']).to.equal('0');
  });
});

describe('jsonReport', () => {
  it('is the DoctorResult as 2-space JSON that parses back', () => {
    const value = result([report()]);
    const text = jsonReport(value);
    expect(JSON.parse(text)).to.deep.equal(value);
    expect(text).to.match(/^\{\n {2}"reports": \[/);
  });
});
