/*
 * runbook.md: what an admin records about an integration (user, app, certificate location and expiry, object
 * access, owner), how to rotate and revoke it, and the values the external system needs. Every section cites the
 * Salesforce Help or developer guide page (title and URL) that a reader can open to check or redo it by hand.
 */
import { base64Commands } from '../credentials/index.js';
import type { IntegrationSpec } from '../desired/types.js';

const help = (id: string): string => `https://help.salesforce.com/s/articleView?id=${id}&type=5`;
/** Pages the runbook cites, as markdown links. */
const SOURCES = {
  integrationUser: `[Give Integration Users API Only Access](${help('platform.integration_user.htm')})`,
  createEca: `[Create an External Client App](${help('xcloud.create_a_local_external_client_app.htm')})`,
  ecaPolicies: `[Configure OAuth Policies](${help('xcloud.external_client_app_oauth_policies_configuration.htm')})`,
  connectedAppPolicies: `[Manage OAuth Access Policies for a Connected App](${help('xcloud.connected_app_manage_oauth.htm')})`,
  preauthorize: `[Preauthorize User App Access Through External Client App Policies](${help('xcloud.preauth_user_app_access_through_eca.htm')})`,
  ecaUsage: `[Manage External Client App OAuth Usage](${help('xcloud.manage_external_client_app_usage.htm')})`,
  connectedAppUsage: `[Manage Current OAuth Connected App Sessions](${help('xcloud.connected_app_manage_current_sessions.htm')})`,
  jwtFlow: `[OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration](${help('xcloud.remoteaccess_oauth_jwt_flow.htm')})`,
  ecaJwt: `[Configure a JWT Bearer Flow](${help('xcloud.configure_oauth_jwt_flow_external_client_apps.htm')})`,
  clientCredentials: `[OAuth 2.0 Client Credentials Flow for Server-to-Server Integration](${help('xcloud.remoteaccess_oauth_client_credentials_flow.htm')})`,
  keyAndCert:
    '[Create a Private Key and Self-Signed Digital Certificate](https://developer.salesforce.com/docs/atlas.en-us.sfdx_dev.meta/sfdx_dev/sfdx_dev_auth_key_and_cert.htm) (Salesforce DX Developer Guide)',
  owaspNhi: '[OWASP Top 10 Non-Human Identities Risks - 2025](https://owasp.org/www-project-non-human-identities-top-10/2025/top-10-2025)',
};

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

/** The pages each runbook section cites, for this app kind and flow. */
const citations = (eca: boolean, jwt: boolean): Record<'setup' | 'values' | 'rotate' | 'stop' | 'tokens', string> => ({
  setup: `${SOURCES.integrationUser}; ${eca ? `${SOURCES.createEca}, ${SOURCES.ecaPolicies}, ${SOURCES.preauthorize}` : SOURCES.connectedAppPolicies}`,
  values: jwt ? SOURCES.jwtFlow : SOURCES.clientCredentials,
  rotate: jwt
    ? `${SOURCES.keyAndCert}; ${eca ? SOURCES.ecaJwt : SOURCES.jwtFlow}`
    : eca
    ? `${SOURCES.ecaPolicies}: "Stage, Rotate, and Delete OAuth Credentials for an External Client App"`
    : 'Salesforce Help: "View and Rotate the Consumer Key and Consumer Secret of a Connected App"',
  stop: eca ? SOURCES.preauthorize : SOURCES.connectedAppPolicies,
  tokens: eca ? `Setup > External Client Apps > OAuth Usage (${SOURCES.ecaUsage})` : `Setup > Connected Apps OAuth Usage (${SOURCES.connectedAppUsage})`,
});

export const renderRunbook = (r: RunbookInput): string => {
  const { spec, values } = r;
  const jwt = spec.flow === 'jwt';
  const key = values.privateKeyFile ?? 'private-key.pem';
  const cite = citations(spec.app.kind === 'external-client-app', jwt);
  return [
    `# ${spec.name} integration`,
    '',
    `Set up by \`sf integration create\` on ${r.createdAt} in org ${r.orgId} (${values.instanceUrl}).`,
    `Owner: ${spec.ownerEmail}. Review this integration's access every quarter and whenever its owner changes (${SOURCES.owaspNhi}: NHI1 Improper Offboarding, NHI5 Overprivileged NHI).`,
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
    `Salesforce Help for each item: ${cite.setup}.`,
    '',
    '## Access',
    '',
    ...access(spec),
    '',
    `Least privilege: grant only what the integration needs (${SOURCES.integrationUser}).`,
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
    `How the external system uses these values: ${cite.values}.`,
    '',
    ...(jwt
      ? ['Base64 of the private key, one line:', '', ...base64Commands(key).map((c) => `- ${c.label}: \`${c.command}\``), '']
      : []),
    '## Rotate',
    '',
    jwt
      ? `Before ${r.certificateExpires ?? 'the certificate expires'}, and at least once a year: \`sf integration rotate --target-org ${r.targetOrg} --name ${spec.app.name} --output-dir <this directory> --wait 10\` generates a new key pair, replaces the app's certificate, proves the new key and that the old one is refused, and logs the rotation below; then hand the new key to the external system (${cite.rotate}).`
      : spec.app.kind === 'external-client-app'
      ? `\`sf integration rotate --target-org ${r.targetOrg} --name ${spec.app.name} --output-dir <this directory>\` stages a new consumer key and secret, proves them, writes the secret to consumer-secret.txt and keeps the previous set valid for 30 days (${cite.rotate}).`
      : `Rotate the consumer secret in Setup (App Manager > the app > Manage Consumer Details) and hand the new secret to the external system (${cite.rotate}).`,
    '',
    '## Revoke',
    '',
    `- Stop the integration at once: deactivate ${values.username} (Setup > Users), or remove ${spec.permissionSet.name} from the app's selected permission sets (${cite.stop}).`,
    `- Revoke its tokens: ${cite.tokens}.`,
    `- Check it afterwards: \`sf integration doctor --target-org ${r.targetOrg} --name ${spec.app.name} --username ${values.username}\`.`,
    '',
  ].join('\n');
};
