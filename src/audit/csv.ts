/* --result-format csv: one file per table (apps, identities, connected users, findings), RFC 4180 quoting. */
import type { AuditResult } from './types.js';

const cell = (v: unknown): string => {
  const s = v === undefined || v === null ? '' : Array.isArray(v) ? v.join('; ') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

const table = (rows: Array<Record<string, unknown>>, columns: string[]): string =>
  [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n';

export const auditCsv = (result: AuditResult): Record<string, string> => {
  const withOrg = <T extends object>(pick: (o: AuditResult['orgs'][number]) => T[]): Array<Record<string, unknown>> =>
    result.orgs.flatMap((o) => pick(o).map((r) => ({ org: o.org, ...r })));
  return {
    'apps.csv': table(withOrg((o) => o.apps), ['org', 'label', 'name', 'kind', 'installed', 'owner', 'flows', 'scopes', 'permittedUsers', 'preAuthorizedUsers', 'tokens', 'connectedUsers', 'firstUsed', 'lastUsed', 'createdDate']),
    'identities.csv': table(withOrg((o) => o.identities), ['org', 'username', 'license', 'profile', 'active', 'frozen', 'lastLogin', 'loginTypes', 'apps', 'why', 'owner']),
    'connected-users.csv': table(withOrg((o) => o.connectedUsers), ['org', 'app', 'username', 'userId', 'active', 'frozen', 'privileged', 'tokens', 'firstUsed', 'lastUsed', 'useCount']),
    'findings.csv': table(withOrg((o) => o.findings), ['org', 'id', 'severity', 'nhi', 'nist', 'subject', 'message', 'fix', 'isNew', 'evidence']),
  };
};
