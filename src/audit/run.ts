/* One org's audit: the inventory read, the findings, the baseline comparison. Multiple orgs run concurrently. */
import type { Org } from '@salesforce/core';
import { buildAudit, markNew } from './findings.js';
import type { AuditFinding, AuditOptions, AuditResult, OrgAudit, Severity } from './types.js';

export type Baseline = { orgs?: OrgAudit[]; findings?: AuditFinding[] };

export const auditOrg = async (org: Org, name: string, opts: AuditOptions & { apiVersion?: string; baseline?: Baseline }): Promise<OrgAudit> => {
  const [{ readInventory }, { Transport }] = await Promise.all([import('../org/inventory.js'), import('../org/transport.js')]);
  const conn = org.getConnection(opts.apiVersion);
  const inventory = await readInventory(new Transport(conn));
  const audit = buildAudit(name, inventory, opts);
  if (opts.baseline) {
    const before = opts.baseline.orgs?.find((o) => o.orgId === audit.orgId) ?? opts.baseline.orgs?.[0];
    markNew(audit, before ?? { findings: opts.baseline.findings });
  }
  const rank: Record<Severity, number> = { high: 0, medium: 1, low: 2 };
  audit.findings.sort((a, b) => rank[a.severity] - rank[b.severity] || a.id.localeCompare(b.id) || a.subject.localeCompare(b.subject));
  audit.summary.findings = { high: 0, medium: 0, low: 0 };
  for (const f of audit.findings) audit.summary.findings[f.severity]++;
  return audit;
};

export type FailOn = 'high' | 'medium' | 'low' | 'new';

/** Whether the findings reach --fail-on: a severity and everything above it, or any new finding. */
export const reachesFailOn = (findings: AuditFinding[], failOn: FailOn | undefined): boolean => {
  if (!failOn) return false;
  if (failOn === 'new') return findings.some((f) => f.isNew);
  const order: Severity[] = ['high', 'medium', 'low'];
  const limit = order.indexOf(failOn);
  return findings.some((f) => order.indexOf(f.severity) <= limit);
};

export const combine = (orgs: OrgAudit[], failOn: FailOn | undefined): AuditResult => {
  const findings = orgs.flatMap((o) => o.findings);
  return {
    orgs,
    apps: orgs.flatMap((o) => o.apps),
    identities: orgs.flatMap((o) => o.identities),
    connectedUsers: orgs.flatMap((o) => o.connectedUsers),
    findings,
    failed: reachesFailOn(findings, failOn),
  };
};
