/*
 * src/org/: the only code that talks to Salesforce, and its one face. One batched read of the org (readSnapshot),
 * describes for validating names, record writes in composite requests (Transport), app writes whichever the app
 * kind (writeApp), the app's credentials read back, and the live token exchange (exchangeToken), all through the
 * org's jsforce Connection or jsforce itself, so proxies, retries and logging behave as in the rest of the CLI.
 * The plain data it answers with is in types.ts.
 */
export type * from './types.js';
export { oauthScopeNames } from './app-metadata.js';
export { writeApp, type AppChange } from './apps.js';
export type { AppPatch } from './deploy.js';
export { describeObjects, objectCatalogue, type ObjectCatalogue } from './describe.js';
export { readConsumerCredentials, type ConsumerCredentials } from './oauth-credentials.js';
export { orgLoginFacts, readSnapshot, type ReadOptions, type SnapshotTarget } from './snapshot.js';
export { exchangeToken, jwtAssertion, revokeToken, tokenEndpoint, type TokenHosts, type TokenOptions, type TokenRequest } from './token.js';
export { ApiCallError, Transport, type CompositeResult, type CompositeSubrequest } from './transport.js';
export { checkConnectedAppCreation } from './preflight.js';
export { OAUTH_TOKEN_ROW_CAP, readOauthTokens, type OauthToken, type OauthTokenFilter } from './tokens.js';
export { readOrgApps, readOrgUsers, type OrgApp, type OrgUser } from './revoke-targets.js';
export {
  deleteStaged,
  listStaged,
  rotateStaged,
  stageCredentials,
  stagedTarget,
  STAGED_MIN_VERSION,
  type StagedCredential,
  type StagedState,
  type StagedTarget,
} from './staged-credentials.js';
export { readMigrationFacts, type HeldToken, type MigrationFacts } from './migration.js';
export { deleteApp, lastAppLogin } from './retire.js';
