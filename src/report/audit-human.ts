/* The audit as a person reads it: a summary per org, then the findings with their fixes, then the apps. */
import type { OrgAudit } from '../audit/types.js';

const day = (d: string | undefined): string => (d ? d.slice(0, 10) : '-');

export const auditSummaryLines = (a: OrgAudit): string[] => [
  `Audit of ${a.org} (${a.instanceUrl})`,
  `${a.summary.apps} apps, ${a.summary.identities} integration identities, ${a.summary.tokens} tokens, ${a.summary.connectedUsers} connected users (app, user pairs)`,
  `Findings: ${a.summary.findings.high} high, ${a.summary.findings.medium} medium, ${a.summary.findings.low} low`,
];

export const findingRows = (a: OrgAudit): Array<Record<string, string>> =>
  a.findings.map((f) => ({ severity: f.severity + (f.isNew ? ' (new)' : ''), id: f.id, nhi: f.nhi.join(', '), subject: f.subject, finding: f.message, fix: f.fix }));

export const appRows = (a: OrgAudit): Array<Record<string, string>> =>
  a.apps.map((x) => ({
    app: x.label,
    kind: x.kind,
    owner: x.owner ?? '-',
    flows: x.flows.join(', ') || '-',
    tokens: String(x.tokens),
    users: String(x.connectedUsers),
    lastUsed: day(x.lastUsed),
  }));

export const identityRows = (a: OrgAudit): Array<Record<string, string>> =>
  a.identities.map((i) => ({
    user: i.username,
    license: i.license ?? '-',
    state: !i.active ? 'inactive' : i.frozen ? 'frozen' : 'active',
    logins: i.loginTypes.join(', ') || '-',
    dangerous: [...new Set(i.dangerousPermissions.map((d) => d.permission))].join(', ') || '-',
    apps: i.apps.join(', ') || '-',
  }));

/** Plain text of the whole report (for --output-file with the human format). */
export const auditText = (audits: OrgAudit[]): string => {
  const lines: string[] = [];
  for (const a of audits) {
    lines.push(...auditSummaryLines(a), '', 'Findings');
    for (const r of findingRows(a)) lines.push(`${r.severity}  ${r.id}  [${r.nhi}]  ${r.subject}: ${r.finding}`, `    Fix: ${r.fix}`);
    lines.push('', 'Apps');
    for (const r of appRows(a)) lines.push(`${r.app}  ${r.kind}  owner ${r.owner}  ${r.tokens} tokens  ${r.users} users  last used ${r.lastUsed}`);
    lines.push('');
  }
  return lines.join('\n');
};
