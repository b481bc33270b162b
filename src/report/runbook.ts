/*
 * runbook.md: what seed 000 "Document the integration" asks an admin to record (user, app, certificate location
 * and expiry, object access, owner) and how to rotate and revoke, plus seed 001's install values.
 */
import { base64Commands } from '../credentials/index.js';
import type { IntegrationSpec } from '../desired/types.js';

export type InstallValues = {
  consumerKey?: string;
  username: string;
  privateKeyFile?: string;
  /** Client credentials: the 0600 file holding the consumer secret, when the org let us read it. */
  consumerSecretFile?: string;
  subdomain?: string;
  loginUrl: string;
  audience: string;
  instanceUrl: string;
};

export type RunbookInput = {
  spec: IntegrationSpec;
  values: InstallValues;
  orgId: string;
  certificateFile?: string;
  certificateExpires?: string;
  createdAt: string;
  targetOrg: string;
};

const access = (spec: IntegrationSpec): string[] => {
  const rows = spec.permissionSet.objects.map(
    (o) => `| ${o.object} | ${(['read', 'create', 'edit', 'delete', 'viewAll', 'modifyAll'] as const).filter((k) => o[k]).join(', ')} |`
  );
  const fields = spec.permissionSet.fields.map((f) => `| ${f.field} | ${[f.read ? 'read' : '', f.edit ? 'edit' : ''].filter(Boolean).join(', ')} |`);
  return [
    '| Object or field | Access |',
    '| --- | --- |',
    ...(rows.length || fields.length ? [...rows, ...fields] : ['| (none) | |']),
    '',
    `System permissions: ${spec.permissionSet.systemPermissions.join(', ')}.`,
  ];
};

export const renderRunbook = (r: RunbookInput): string => {
  const { spec, values } = r;
  const jwt = spec.flow === 'jwt';
  const key = values.privateKeyFile ?? 'private-key.pem';
  return [
    `# ${spec.name} integration`,
    '',
    `Set up by \`sf integration create\` on ${r.createdAt} in org ${r.orgId} (${values.instanceUrl}).`,
    `Owner: ${spec.ownerEmail}. Review this integration's access every quarter and whenever its owner changes.`,
    '',
    '## What exists in Salesforce',
    '',
    '| Item | Value |',
    '| --- | --- |',
    `| Integration user | ${values.username} (Salesforce Integration license, profile Minimum Access - API Only Integrations) |`,
    `| Permission set | ${spec.permissionSet.name} (Salesforce API Integration license, assigned without expiry) |`,
    `| ${spec.app.kind === 'external-client-app' ? 'External Client App' : 'Connected App'} | ${spec.app.name} (${spec.flow === 'jwt' ? 'JWT bearer flow' : 'client credentials flow'}, admin-approved users pre-authorized through ${spec.permissionSet.name}) |`,
    `| OAuth policies | refresh token ${spec.app.refreshTokenPolicy.type === 'infinite' ? 'valid until revoked' : spec.app.refreshTokenPolicy.type}, IP relaxation ${spec.app.ipRelaxation}, scopes ${spec.app.scopes.join(', ')} |`,
    ...(jwt
      ? [
          `| Certificate | ${r.certificateFile ?? 'cert.pem'}${r.certificateExpires ? `, expires ${r.certificateExpires}` : ''} |`,
          `| Private key | ${key} (mode 0600; never commit it) |`,
        ]
      : []),
    '',
    '## Access',
    '',
    ...access(spec),
    '',
    '## Values for the external system',
    '',
    '| Input | Value |',
    '| --- | --- |',
    `| Consumer Key | ${values.consumerKey ?? '(read it in Setup > External Client App Manager > the app > Settings > OAuth Settings)'} |`,
    `| Salesforce Username | ${values.username} |`,
    ...(jwt ? [`| Private Key | base64 of ${key} (commands below) |`] : [`| Consumer Secret | ${values.consumerSecretFile ?? 'from Setup > External Client App Manager > the app > Consumer Key and Secret'} (never in tickets or chat) |`]),
    `| Subdomain | ${values.subdomain ?? '(not a My Domain URL)'} |`,
    `| Login URL | ${values.loginUrl} |`,
    `| Audience | ${values.audience} |`,
    '',
    ...(jwt
      ? ['Base64 of the private key, one line:', '', ...base64Commands(key).map((c) => `- ${c.label}: \`${c.command}\``), '']
      : []),
    '## Rotate',
    '',
    jwt
      ? `Before ${r.certificateExpires ?? 'the certificate expires'}: generate a new key pair, upload the new certificate to the app, hand the new key to the external system, then delete the old key: \`sf integration create --target-org ${r.targetOrg} --name "${spec.name}" --output-dir <new dir>\` writes a new pair and updates the app.`
      : 'Rotate the consumer secret in Setup (External Client App Manager > the app > Consumer Key and Secret) and hand the new secret to the external system.',
    '',
    '## Revoke',
    '',
    `- Stop the integration at once: deactivate ${values.username} (Setup > Users), or remove ${spec.permissionSet.name} from the app's selected permission sets.`,
    `- Check it afterwards: \`sf integration doctor --target-org ${r.targetOrg} --name ${spec.app.name} --username ${values.username}\`.`,
    '',
  ].join('\n');
};
