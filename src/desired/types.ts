/*
 * The desired state of one integration: what `create` makes the org look like, what `doctor --spec` compares
 * the org with, and what a spec file records durably. Built from flags or a spec file by src/desired/, validated
 * before any write.
 */
import type { AppKind, FieldAccess, Flow, IpRelaxation, ObjectAccess, RefreshTokenPolicy } from '../org/types.js';

export type DesiredUser = {
  username: string;
  firstName: string;
  lastName: string;
  alias: string;
  email: string;
};

export type DesiredPermissionSet = {
  /** API name, e.g. HubSpot_Integration. */
  name: string;
  label: string;
  description: string;
  /** Object access; `edit`/`create`/`delete` imply `read` as in Setup. viewAll/modifyAll only with allowPrivileged. */
  objects: ObjectAccess[];
  fields: FieldAccess[];
  /** System permissions by API name without the `Permissions` prefix; always includes ApiEnabled. */
  systemPermissions: string[];
};

export type DesiredApp = {
  kind: AppKind;
  /** API name (fullName), e.g. HubSpot_Integration. */
  name: string;
  label: string;
  contactEmail: string;
  description: string;
  callbackUrl: string;
  /** Metadata scope names, e.g. ['Api', 'RefreshToken'] (seed 001 step 2). */
  scopes: string[];
  refreshTokenPolicy: RefreshTokenPolicy;
  ipRelaxation: IpRelaxation;
};

export type DesiredCertificate = {
  validityDays: number;
  keySize: 2048 | 3072 | 4096;
  /** Bring your own pair instead of generating one. */
  privateKeyFile?: string;
  certificateFile?: string;
};

export type IntegrationSpec = {
  /** The external system, as the user wrote it ("HubSpot"). */
  name: string;
  flow: Flow;
  /** Named human owner (seed 003): user email and app contact. */
  ownerEmail: string;
  user: DesiredUser;
  permissionSet: DesiredPermissionSet;
  app: DesiredApp;
  certificate: DesiredCertificate;
  /** Dangerous permissions were asked for and allowed explicitly (--allow-privileged). */
  allowPrivileged: boolean;
};
