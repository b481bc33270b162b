/*
 * The desired state create plans from: every part of one integration, as an IntegrationSpec describes it.
 */
import type { DesiredAppCertificate, DesiredState, IntegrationSpec } from './types.js';

/** Every part of the integration: the user and its license, the permission set and its assignment, the app. */
export const desiredState = (spec: IntegrationSpec, certificate?: DesiredAppCertificate): DesiredState => ({
  user: spec.user,
  permissionSetLicense: true,
  permissionSet: spec.permissionSet,
  assignments: [{ managed: true }],
  app: {
    owned: spec.app,
    flow: spec.flow,
    runAsUsername: spec.flow === 'client-credentials' ? spec.user.username : undefined,
    certificate: spec.flow === 'jwt' ? certificate : undefined,
    permissionSetName: spec.permissionSet.name,
  },
});
