/*
 * JUnit XML of `sf integration doctor --result-format junit`, for CI: one <testsuite> per org, one <testcase> per
 * check (classname integration.doctor.<group>, name the check id). fail is a <failure>; warn passes with its finding
 * in <system-out>, or is a <failure> too when --fail-on is warn; skip is <skipped> with the reason. Built with
 * fast-xml-parser's XMLBuilder, which escapes text and attributes. An org that could not be checked is a suite of one
 * failing testcase with its error. Pure: the command writes the string.
 */
import { XMLBuilder } from 'fast-xml-parser';
import type { CheckResult } from '../checks/types.js';
import { hostOf } from '../salesforce/hosts.js';
import type { DoctorResult, OrgFailure, OrgReport } from '../doctor/types.js';
import { humanExplanation, orderChecks, reportMessages } from './doctor-human.js';

export type FailOn = 'fail' | 'warn';

export type JunitOptions = {
  /** How long the run took, for the time attributes (seconds with 3 decimals); 0 when not given. */
  durationMs?: number;
  /** When the run started, for the testsuite timestamp attribute; left out when not given. */
  timestamp?: Date;
};

type XmlNode = { [key: string]: string | number | XmlNode | XmlNode[] };

/** Characters XML 1.0 can't carry at all (control characters other than tab, LF and CR; lone surrogates). */
const INVALID_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const text = (value: string): string => value.replace(INVALID_XML, '\uFFFD');
/** Attribute values on one line: a parser normalizes newlines in attributes to spaces anyway. */
const attr = (value: string): string => text(value).replace(/\s*[\r\n]+\s*/g, ' ');

const seconds = (ms: number | undefined): string => ((ms ?? 0) / 1000).toFixed(3);

/** The fix as text: the Setup path, then the command to run. */
const fixText = (check: CheckResult): string =>
  [check.fix?.setup, check.fix?.command ? reportMessages.getMessage('junit.run', [check.fix.command]) : undefined]
    .filter((line): line is string => typeof line === 'string' && line.length > 0)
    .join('\n');

const isFailure = (check: CheckResult, failOn: FailOn): boolean =>
  check.status === 'fail' || (check.status === 'warn' && failOn === 'warn');

const testcase = (check: CheckResult, failOn: FailOn): XmlNode => {
  const node: XmlNode = { '@_name': attr(check.id), '@_classname': `integration.doctor.${check.group}`, '@_time': '0.000' };
  if (isFailure(check, failOn)) {
    node.failure = { '@_message': attr(check.finding), '@_type': check.status, '#text': text(fixText(check) || check.finding) };
  } else if (check.status === 'skip') {
    node.skipped = { '@_message': attr(check.finding) };
  } else if (check.status === 'warn') {
    node['system-out'] = text([reportMessages.getMessage('junit.warn', [check.finding]), fixText(check)].filter(Boolean).join('\n'));
  }
  return node;
};

const counts = (checks: readonly CheckResult[], failOn: FailOn): { tests: number; failures: number; skipped: number } => ({
  tests: checks.length,
  failures: checks.filter((c) => isFailure(c, failOn)).length,
  skipped: checks.filter((c) => c.status === 'skip').length,
});

const properties = (report: OrgReport): XmlNode => {
  const entries: Array<[string, string | undefined]> = [
    ['target-org', report.org.targetOrg],
    ['org-id', report.org.id],
    ['org-name', report.org.name],
    ['instance-url', report.org.instanceUrl],
    ['login-url', report.org.loginUrl],
    ['sandbox', String(report.org.isSandbox)],
    ['flow', report.flow],
    ['app', report.app?.name],
    ['app-kind', report.app?.kind],
    ['username', report.user?.username],
  ];
  return {
    property: entries
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([name, value]) => ({ '@_name': name, '@_value': attr(value) })),
  };
};

const testsuite = (report: OrgReport, index: number, failOn: FailOn, options: JunitOptions): XmlNode => {
  const { tests, failures, skipped } = counts(report.checks, failOn);
  const suite: XmlNode = {
    '@_name': attr(`${report.org.targetOrg} (${hostOf(report.org.instanceUrl)})`),
    '@_id': index,
    '@_hostname': attr(hostOf(report.org.instanceUrl)),
    '@_tests': tests,
    '@_failures': failures,
    '@_errors': 0,
    '@_skipped': skipped,
    '@_time': seconds(options.durationMs),
    ...(options.timestamp ? { '@_timestamp': options.timestamp.toISOString().replace(/\.\d{3}Z$/, '') } : {}),
    properties: properties(report),
    testcase: orderChecks(report.checks).map((check) => testcase(check, failOn)),
  };
  if (report.explanation) suite['system-out'] = text(humanExplanation(report.explanation).join('\n'));
  return suite;
};

/**
 * An org that could not be checked: a suite of one failing testcase (integration.doctor.org / org-reachable, or
 * org-read when reading failed otherwise) carrying the org's error, so CI shows the org as failed, not as missing.
 */
const failureSuite = (failure: OrgFailure, index: number, options: JunitOptions): XmlNode => ({
  '@_name': attr(failure.targetOrg),
  '@_id': index,
  '@_tests': 1,
  '@_failures': 1,
  '@_errors': 0,
  '@_skipped': 0,
  '@_time': seconds(options.durationMs),
  ...(options.timestamp ? { '@_timestamp': options.timestamp.toISOString().replace(/\.\d{3}Z$/, '') } : {}),
  properties: { property: [{ '@_name': 'target-org', '@_value': attr(failure.targetOrg) }] },
  testcase: [
    {
      '@_name': failure.unreachable ? 'org-reachable' : 'org-read',
      '@_classname': 'integration.doctor.org',
      '@_time': '0.000',
      failure: {
        '@_message': attr(failure.message),
        '@_type': failure.error,
        '#text': text([failure.message, ...(failure.actions ?? [])].join('\n')),
      },
    },
  ],
});

/** The explanation of `--error` run without an org: a suite with no tests whose output is the explanation. */
const explanationSuite = (result: DoctorResult, index: number, options: JunitOptions): XmlNode[] =>
  result.explanation && result.reports.length === 0
    ? [
        {
          '@_name': reportMessages.getMessage('junit.explanation'),
          '@_id': index,
          '@_tests': 0,
          '@_failures': 0,
          '@_errors': 0,
          '@_skipped': 0,
          '@_time': seconds(options.durationMs),
          'system-out': text(humanExplanation(result.explanation).join('\n')),
        },
      ]
    : [];

/**
 * The JUnit XML document of a doctor run: <testsuites> with one <testsuite> per org report, named
 * "<target org> (<instance host>)". `failOn` is the command's --fail-on: with 'warn', warnings are failures too.
 */
export const junitReport = (result: DoctorResult, failOn: FailOn = 'fail', options: JunitOptions = {}): string => {
  const failures = result.orgFailures ?? [];
  const suites = [
    ...result.reports.map((report, index) => testsuite(report, index, failOn, options)),
    ...failures.map((failure, i) => failureSuite(failure, result.reports.length + i, options)),
    ...explanationSuite(result, result.reports.length + failures.length, options),
  ];
  const checked = counts(
    result.reports.flatMap((r) => r.checks),
    failOn
  );
  const all = { ...checked, tests: checked.tests + failures.length, failures: checked.failures + failures.length };
  const document: XmlNode = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    testsuites: {
      '@_name': reportMessages.getMessage('junit.suites'),
      '@_tests': all.tests,
      '@_failures': all.failures,
      '@_errors': 0,
      '@_skipped': all.skipped,
      '@_time': seconds(options.durationMs),
      ...(suites.length > 0 ? { testsuite: suites } : {}),
    },
  };
  const builder = new XMLBuilder({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    format: true,
    indentBy: '  ',
    suppressEmptyNode: true,
    processEntities: true,
  });
  return builder.build(document);
};
