/*
 * A plan is the list of steps that take the org (and the output directory) from its actual state to the
 * desired one. Steps carry their writes as plain data (operations); src/plan/apply.ts performs them. The same
 * engine serves create, doctor --fix and rotate.
 */
import type { AppPatch } from '../org/deploy.js';
import type { AppKind, Flow } from '../org/types.js';
import type { DesiredApp } from '../desired/types.js';

export type StepId =
  | 'license'
  | 'user'
  | 'permission-set-license'
  | 'permission-set'
  | 'object-permissions'
  | 'field-permissions'
  | 'permission-set-assignment'
  | 'certificate'
  | 'app'
  | 'verify';

export type StepAction = 'create' | 'update' | 'unchanged' | 'skip';

/** What a step ended as, in the command's result (issue 3: created / updated / unchanged / skipped / failed). */
export type StepStatus = 'created' | 'updated' | 'unchanged' | 'skipped' | 'failed' | 'pending';

/** A value known only once an earlier step ran (the Id of a record it created). */
export type Ref = { ref: 'user' | 'permissionSet' };

export type FieldValue = string | number | boolean | null | Ref;

export type Operation =
  | { kind: 'create'; sobject: string; fields: Record<string, FieldValue>; saveAs?: Ref['ref'] }
  | { kind: 'update'; sobject: string; id: string | Ref; fields: Record<string, FieldValue> }
  | { kind: 'delete'; sobject: string; id: string }
  /** Write the key pair and certificate to the output directory (generated or brought). */
  | { kind: 'write-credentials' }
  /** Deploy the app with the flow's settings; the certificate comes from the credentials step. */
  | { kind: 'deploy-app'; app: DesiredApp; flow: Flow; permissionSet: string | Ref; runAsUsername?: string }
  /** Change only some settings of an existing app (doctor --fix), keeping everything else it holds. */
  | { kind: 'patch-app'; app: { kind: AppKind; name: string }; patch: AppPatch }
  /** Live token exchange + one REST call (not a write). */
  | { kind: 'verify' };

export type Step = {
  id: StepId;
  action: StepAction;
  /** One line: what it is (e.g. the username, the permission set name). */
  subject: string;
  /** Human-readable differences that make it create/update (empty when unchanged). */
  changes: string[];
  ops: Operation[];
};

export type Plan = { steps: Step[]; warnings: string[] };

export const isRef = (v: unknown): v is Ref => typeof v === 'object' && v !== null && 'ref' in v;
