/*
 * The desired state of one integration: what `create` makes the org look like, what `doctor --spec` compares
 * the org with, and what a spec file records durably. Built from flags or a spec file by src/desired/, validated
 * before any write.
 */
import type { AppSettings, FieldAccess, Flow, ObjectAccess } from '../org/index.js';

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

/** The app as create owns it: every setting the plugin writes (src/org/ writes it to either kind of app). */
export type DesiredApp = AppSettings;

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

/**
 * The certificate the app should carry: one already on disk (its PEM), or the one this run generates, or none
 * (client credentials).
 */
export type DesiredAppCertificate = { pem: string } | { generated: true };

/** App settings a repair or a rotation changes, and nothing else: every setting left out stays as the org has it. */
export type AppSettingsChange = {
  pkceRequired?: false;
  namedUserJwt?: false;
  permittedUsers?: 'AdminApprovedPreAuthorized';
  /** Only "valid until revoked" can be asked for: anything shorter ages out the pre-authorization. */
  refreshTokenPolicy?: { type: 'infinite' };
  /** Only "relax IP restrictions" can be asked for (the headless integration answers no second factor). */
  ipRelaxation?: 'BYPASS';
  /** Permission sets to select on the app besides those it selects now: Id → name. */
  preAuthorize?: Record<string, string>;
  /**
   * The desired permission set selected on the app besides those it selects now, whether it exists or this plan
   * creates it (a migration's new permission set): its name.
   */
  preAuthorizeDesired?: string;
  /** Client credentials: the run-as user (a migration re-points it). */
  runAsUsername?: string;
};

/** A permission set the user should hold without expiry: the desired permission set itself, or an existing one. */
export type DesiredAssignment = { managed: true } | { permissionSetId: string; name: string };

/**
 * One change to an org as the planner reads it (src/plan/plan.ts). Every part is optional: a part left out stays
 * as the org has it. create fills every part from an IntegrationSpec (desiredState); doctor --fix fills only the
 * parts its failed checks repair; revoke, rotate and migrate fill theirs.
 */
export type DesiredState = {
  /** The integration user: on the Salesforce Integration license, active, with these names and email. */
  user?: DesiredUser;
  /** The user holds the Salesforce API Integration permission set license. */
  permissionSetLicense?: true;
  /** A permission set with exactly this access, on the Salesforce API Integration license. */
  permissionSet?: DesiredPermissionSet;
  /** Permission sets the user holds, each without expiry. */
  assignments?: DesiredAssignment[];
  /**
   * The app. `owned`: every setting the plugin manages, written whole (create owns the app). `change`: only the
   * settings named, everything else the org holds is kept (doctor --fix; rotate's certificate, migrate's run-as).
   */
  app?:
    | { owned: DesiredApp; flow: Flow; runAsUsername?: string; certificate?: DesiredAppCertificate; permissionSetName: string }
    | { change: AppSettingsChange };
};
