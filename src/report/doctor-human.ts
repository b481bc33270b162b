/*
 * The human output of `sf integration doctor`: the data of a table grouped Org / App / User / Live (status mark,
 * check id, finding), the fixes for warn/fail results, and a summary line. Pure: the command prints the rows with
 * `this.table(...)` and the strings with `this.log(...)`.
 */
import { Messages } from '@salesforce/core';
import type { CheckGroup, CheckResult, CheckStatus } from '../checks/types.js';
import type { Explanation } from '../checks/errors.js';
import type { DoctorSummary, OrgReport } from '../doctor/types.js';
import { hostOf } from '../salesforce/hosts.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
export const reportMessages = Messages.loadMessages('@integration-kit/plugin-integration', 'report');

/** The order groups are shown in. */
export const GROUP_ORDER: readonly CheckGroup[] = ['org', 'app', 'user', 'live'];

export type HumanOptions = {
  /** ANSI colors on the status marks (green, yellow, red, dim). Default false. */
  color?: boolean;
  /** Marks (✓ ! ✗ -, single-width in every terminal); false for plain-text terminals (PASS WARN FAIL SKIP). Default true. */
  unicode?: boolean;
};

export type HumanRow = {
  /** Group title: Org, App, User or Live. */
  group: string;
  /** Status mark and word, e.g. "✓ pass" (colored when asked). */
  status: string;
  /** The check id. */
  check: string;
  finding: string;
};

export type HumanColumn = { key: keyof HumanRow; name: string };

export type HumanSection = {
  group: CheckGroup;
  /** Org, App, User or Live: a table title. */
  title: string;
  rows: HumanRow[];
  /** Fix lines of this group's warn/fail results (see HumanReport.fixes). */
  fixes: string[];
};

export type HumanReport = {
  /** "<target org> (<instance host>)": a title for the whole report. */
  title: string;
  /** Org, app, user and flow, one line each. */
  heading: string[];
  /** Columns for `this.table({ data: rows, columns })`; the group column is for the flat table only. */
  columns: HumanColumn[];
  /** Every check, in group order (Org, App, User, Live), then in the order the checks ran. */
  rows: HumanRow[];
  /** The non-empty groups, in order, each with its rows and fixes: one table per section. */
  sections: HumanSection[];
  /** For each warn/fail: "check-id: setup path", then "  run: command" when the plugin has one. */
  fixes: string[];
  /** The fixes `--fix` applied, one line each (empty without --fix). */
  applied: string[];
  /** With --error: the explanation lines (humanExplanation). */
  explanation: string[];
  /** "27 checks: 24 passed, 1 warning, 1 failed, 1 skipped — org <name> (<instance>)". */
  summary: string;
};

const MARKS: Record<CheckStatus, { unicode: string; color: string }> = {
  pass: { unicode: '✓', color: '\u001b[32m' },
  warn: { unicode: '!', color: '\u001b[33m' },
  fail: { unicode: '✗', color: '\u001b[31m' },
  skip: { unicode: '-', color: '\u001b[2m' },
};
/** Message bundles trim leading spaces, so the indentation of lines under a fix or a cause is added here. */
const FIX_INDENT = '  ';
const CAUSE_INDENT = '   ';
const RESET = '\u001b[39m\u001b[22m';

const paint = (text: string, status: CheckStatus, opts: HumanOptions): string =>
  opts.color ? `${MARKS[status].color}${text}${RESET}` : text;

/** The status cell: "✓ pass" (or "PASS" without unicode), in its ANSI color when asked. */
export const statusMark = (status: CheckStatus, opts: HumanOptions = {}): string => {
  const word = reportMessages.getMessage(`status.${status}`);
  return paint(opts.unicode === false ? word.toUpperCase() : `${MARKS[status].unicode} ${word}`, status, opts);
};

export const groupTitle = (group: CheckGroup): string => reportMessages.getMessage(`group.${group}`);

/** Results sorted by group (Org, App, User, Live), keeping the run order inside a group. */
export const orderChecks = (checks: readonly CheckResult[]): CheckResult[] =>
  checks
    .map((check, index) => ({ check, index, rank: GROUP_ORDER.indexOf(check.group) }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map(({ check }) => check);

/** The fix lines of one result: none for pass/skip or a result without a fix. */
export const fixLines = (check: CheckResult): string[] => {
  if ((check.status !== 'warn' && check.status !== 'fail') || !check.fix) return [];
  return [
    reportMessages.getMessage('fix.setup', [check.id, check.fix.setup]),
    ...(check.fix.command ? [`${FIX_INDENT}${reportMessages.getMessage('fix.run', [check.fix.command])}`] : []),
    ...(check.fix.autoFixable ? [`${FIX_INDENT}${reportMessages.getMessage('fix.auto')}`] : []),
  ];
};

const plural = (key: string, n: number): string => reportMessages.getMessage(`${key}.${n === 1 ? 'one' : 'other'}`, [String(n)]);

const countParts = (summary: DoctorSummary): { checks: string; counts: string } => ({
  checks: plural('count.checks', summary.total),
  counts: [
    reportMessages.getMessage('count.passed', [String(summary.pass)]),
    plural('count.warnings', summary.warn),
    reportMessages.getMessage('count.failed', [String(summary.fail)]),
    reportMessages.getMessage('count.skipped', [String(summary.skip)]),
  ].join(', '),
});

/** "27 checks: 24 passed, 1 warning, 1 failed, 1 skipped — org <name> (<instance host>)". */
export const summaryLine = (report: OrgReport): string => {
  const { checks, counts } = countParts(report.summary);
  return reportMessages.getMessage('summary', [checks, counts, report.org.name, hostOf(report.org.instanceUrl)]);
};

const headingLines = (report: OrgReport): string[] => {
  const { org, app, user } = report;
  return [
    reportMessages.getMessage('heading.org', [
      org.name,
      reportMessages.getMessage(`env.${org.isSandbox ? 'sandbox' : 'production'}`),
      org.id,
      org.loginUrl,
    ]),
    app
      ? reportMessages.getMessage('heading.app', [app.name, reportMessages.getMessage(`kind.${app.kind}`), app.label ?? app.name])
      : reportMessages.getMessage('heading.app-none'),
    user ? reportMessages.getMessage('heading.user', [user.username]) : reportMessages.getMessage('heading.user-none'),
    reportMessages.getMessage('heading.flow', [reportMessages.getMessage(`flow.${report.flow}`)]),
  ];
};

const toRow = (check: CheckResult, opts: HumanOptions): HumanRow => ({
  group: groupTitle(check.group),
  status: statusMark(check.status, opts),
  check: check.id,
  finding: check.finding,
});

/** The table data, fix lines and summary of one org's report. */
export const humanReport = (report: OrgReport, opts: HumanOptions = {}): HumanReport => {
  const ordered = orderChecks(report.checks);
  const sections: HumanSection[] = GROUP_ORDER.map((group) => {
    const checks = ordered.filter((c) => c.group === group);
    return { group, title: groupTitle(group), rows: checks.map((c) => toRow(c, opts)), fixes: checks.flatMap(fixLines) };
  }).filter((section) => section.rows.length > 0);
  const columns: HumanColumn[] = (['group', 'status', 'check', 'finding'] as const).map((key) => ({
    key,
    name: reportMessages.getMessage(`column.${key}`),
  }));
  return {
    title: reportMessages.getMessage('title', [report.org.targetOrg, hostOf(report.org.instanceUrl)]),
    heading: headingLines(report),
    columns,
    rows: sections.flatMap((s) => s.rows),
    sections,
    fixes: sections.flatMap((s) => s.fixes),
    applied: (report.fixes ?? []).map((f) =>
      f.error
        ? reportMessages.getMessage('applied.error', [f.name, f.status, f.error])
        : reportMessages.getMessage('applied.line', [f.name, f.status])
    ),
    explanation: report.explanation ? humanExplanation(report.explanation, opts) : [],
    summary: summaryLine(report),
  };
};

/**
 * A pasted error explained: the error matched, then each cause by rank ("1. cause"), confirmed ones marked, each
 * with its fix and the check ids that confirm it.
 */
export const humanExplanation = (explanation: Explanation, opts: HumanOptions = {}): string[] => {
  const { matched } = explanation;
  const lines = [
    matched
      ? reportMessages.getMessage('explain.matched', [
          matched.errorDescription ? `${matched.error}: ${matched.errorDescription}` : matched.error,
        ])
      : reportMessages.getMessage('explain.unmatched'),
  ];
  if (explanation.entry) lines.push(reportMessages.getMessage('explain.entry', [explanation.entry]));
  for (const cause of explanation.causes) {
    const mark = cause.confirmed ? `${paint(reportMessages.getMessage('explain.confirmed'), 'fail', opts)} ` : '';
    lines.push(reportMessages.getMessage('explain.cause', [String(cause.rank), `${mark}${cause.cause}`]));
    lines.push(`${CAUSE_INDENT}${reportMessages.getMessage('explain.fix', [cause.fix])}`);
    if (cause.confirmingChecks.length > 0) {
      lines.push(`${CAUSE_INDENT}${reportMessages.getMessage('explain.checks', [cause.confirmingChecks.join(', ')])}`);
    }
  }
  return lines;
};
