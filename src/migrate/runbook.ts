/*
 * The migration's part of runbook.md: who was moved, from which license, what the new identity holds and what was
 * dropped, and how to undo or finish it by hand, citing the Salesforce Help pages a reader can open.
 */
import type { MigrationAnalysis, Strategy } from './analyze.js';

const help = (id: string): string => `https://help.salesforce.com/s/articleView?id=${id}&type=5`;
const INTEGRATION_USER = `[Give Integration Users API Only Access](${help('platform.integration_user.htm')})`;
const DEACTIVATE = `[Deactivate Users](${help('sf.users_deactivate.htm')})`;

export type MigrationSectionInput = {
  analysis: MigrationAnalysis;
  strategy: Strategy;
  newUsername: string;
  permissionSetName: string;
  keepOldUser: boolean;
};

export const migrationSection = (m: MigrationSectionInput): string => {
  const a = m.analysis;
  const lines = [
    '## License migration',
    '',
    `- From: ${a.username} (${a.license} license, profile "${a.profile}")`,
    m.strategy === 'new-user'
      ? `- To: a new user ${m.newUsername} on the Salesforce Integration license with the permission set ${m.permissionSetName}; the external system needs only the new username.`
      : `- To: the same user (same User Id, so record ownership stays) on the Salesforce Integration license with the permission set ${m.permissionSetName}.`,
    `- App: ${a.app ? `${a.app.name} (${a.app.kind}), pre-authorized through ${a.app.preAuthorizedVia.join(', ') || 'nothing of this user'}${a.app.runAs ? ', run-as user' : ''}` : 'none found'}`,
    `- Carried: ${a.carried.objects.map((o) => o.object).join(', ') || 'no object access'}; ${a.carried.systemPermissions.join(', ')}`,
    `- Dropped: ${a.dropped.map((d) => `${d.name} (${d.reason === 'license' ? 'the Integration license does not allow it' : 'privileged, not carried'}; from ${d.via.join(', ')})`).join('; ') || 'nothing'}`,
    `- Seat freed: ${a.seatFreed ? `one ${a.seatFreed.license} license (${a.seatFreed.used} → ${a.seatFreed.after} of ${a.seatFreed.total} in use)` : 'none'}`,
    m.strategy === 'new-user'
      ? `- Old user: its ${a.tokens.length} token(s) revoked after the new user's token exchange succeeded; ${m.keepOldUser ? 'kept active (--keep-old-user): deactivate it once nothing uses it' : 'deactivated'} (${DEACTIVATE}).`
      : '- Access that came from the old profile (including app access) was re-granted through the new permission set.',
    '',
    `Source: ${INTEGRATION_USER}.`,
    '',
  ];
  return lines.join('\n');
};
