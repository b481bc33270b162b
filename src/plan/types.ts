/*
 * A plan is data: steps, each with a subject, its changes (message keys and values: the words are in
 * messages/plan.md, rendered by render.ts) and its writes (operations). Pure functions build plans from a desired
 * state and a snapshot (plan.ts, local.ts); one apply performs every plan (apply.ts), with a journal of what it
 * wrote and a partial result; one renderer prints them. create, doctor --fix and the commands to come (revoke,
 * rotate, migrate) differ only in the desired state they plan from.
 */
import type { AppChange, AppKind, Flow, TokenHosts } from '../org/index.js';

export type StepId =
  | 'license'
  | 'certificate'
  | 'user'
  | 'permission-set-license'
  | 'permission-set'
  | 'object-permissions'
  | 'field-permissions'
  | 'permission-set-assignment'
  | 'app'
  | 'verify'
  | 'documents'
  | 'block-app'
  | 'freeze-user'
  | 'deactivate-user'
  | 'revoke-tokens'
  /** rotate: the key pair the app trusted before, proved refused and removed. */
  | 'previous-key'
  /** rotate: a new consumer key and secret staged, promoted, and the previous set kept or deleted. */
  | 'staged-credentials'
  // migrate: the old user's permission sets unassigned (in place), its tokens revoked, the old user deactivated
  | 'old-permission-sets'
  | 'old-tokens'
  | 'old-user'
  /** rotate --retire: the old app removed from the org (a destructive deploy). */
  | 'retire-app';

export type StepAction = 'create' | 'update' | 'delete' | 'unchanged' | 'skip';

/** What a step ended as, in a command's result: created / updated / deleted / unchanged / skipped, or failed / pending. */
export type StepStatus = 'created' | 'updated' | 'deleted' | 'unchanged' | 'skipped' | 'failed' | 'pending';

/** One difference a step makes, as a key of messages/plan.md and the values of its %s tokens. */
export type Change = { key: string; values?: Array<string | number> };

/**
 * A value known only once an earlier operation ran: the Id of a record it created (user, permissionSet), what the
 * key-pair step generated (certificate, privateKey, certificateExpires), what was read back from the app
 * (consumerKey, consumerSecret), the app's Id once it exists (appId). Secrets among them stay in memory: they never reach a result, a journal or a log.
 */
export type RefName =
  | 'user'
  | 'permissionSet'
  | 'certificate'
  | 'privateKey'
  | 'certificateExpires'
  | 'consumerKey'
  | 'consumerSecret'
  | 'appId'
  /** rotate: the key the app trusted before the rotation, and the new certificate's SHA-256 fingerprint. */
  | 'previousPrivateKey'
  | 'certificateFingerprint'
  /** rotate (client credentials): the consumer key and the staged credentials' Id in the slot. */
  | 'stagedId';

export type Ref = { ref: RefName };

export type FieldValue = string | number | boolean | null | Ref;

/** Text with values filled in at apply time: the runbook names a consumer key the org mints during the run. */
export type Text = Array<string | Ref>;

/** Record writes: sent in REST composite requests, all or none. */
export type RecordOperation =
  | { kind: 'create'; sobject: string; fields: Record<string, FieldValue>; saveAs?: 'user' | 'permissionSet' }
  | { kind: 'update'; sobject: string; id: string | Ref; fields: Record<string, FieldValue> }
  | { kind: 'delete'; sobject: string; id: string };

export type Operation =
  | RecordOperation
  /** An app write through src/org's one entry, whichever the app kind. */
  | AppChange<string | Ref>
  /** Read the app's consumer key (and, with `secret`, its consumer secret) back from the org. Not a write. */
  | { kind: 'read-credentials'; app: { kind: AppKind; name: string; id?: string | Ref }; secret: boolean }
  /** Generate an RSA key pair and a self-signed certificate into `dir` (0600 key); with `keepPrevious`, a pair already there is kept as *.previous.pem. */
  | { kind: 'generate-key-pair'; dir: string; keySize: 2048 | 3072 | 4096; validityDays: number; commonName: string; keepPrevious?: boolean }
  /** Write a local file: 0600 when `secret`, 0644 otherwise; `onlyIfChanged` leaves an identical file alone. */
  | { kind: 'write-file'; path: string; content: Text; secret: boolean; onlyIfChanged?: boolean }
  /** The live token exchange the external system makes, and one REST call with the token (not a write). */
  | {
      kind: 'verify';
      hosts: TokenHosts;
      flow: Flow;
      clientId: string | Ref;
      username: string;
      waitMinutes: number;
      appName: string;
      /** rotate: sign with another key than `privateKey` (the previous one). */
      signWith?: 'previousPrivateKey';
      /** rotate: the exchange must be refused (the previous key, once the new certificate is in effect). */
      expect?: 'refused';
      /** rotate: "invalid assertion" means the new certificate is not in effect yet: keep asking while waiting. */
      awaitCertificate?: boolean;
    }
  /** Revoke one OAuth token (POST /services/oauth2/revoke); `label` names it in the journal, never the token. */
  | { kind: 'revoke-token'; token: string; label: string }
  /** Remove local files (a previous key once a rotation is proved); missing files are fine. */
  | { kind: 'remove-files'; paths: string[] }
  /** Move a local file over another (rotate --rollback puts the previous key back). */
  | { kind: 'move-file'; from: string; to: string }
  /**
   * Staged External Client App credentials (Connect REST): `stage` a new key and secret (kept in memory as
   * consumerKey / consumerSecret, the slot's Id as stagedId), `rotate` them into use, `delete` the slot (the previous
   * set after a rotate, at once).
   */
  | { kind: 'staged-credentials'; command: 'stage' | 'rotate' | 'delete'; app: { kind: AppKind; name: string; id?: string } }
  /** Remove an app from the org (a destructive deploy of its metadata); an app already gone is done. */
  | { kind: 'delete-app'; app: { kind: AppKind; name: string } };

export type Step = {
  id: StepId;
  action: StepAction;
  /** One line: what it is (the username, the permission set name, the file). */
  subject: string;
  /** What makes it create / update / delete (empty when unchanged). */
  changes: Change[];
  ops: Operation[];
};

export type Plan = { steps: Step[]; warnings: string[] };

export const isRef = (v: unknown): v is Ref => typeof v === 'object' && v !== null && 'ref' in v;

/** Writes of the org, as opposed to local files, reads and the live check. */
export const isOrgWrite = (op: Operation): boolean =>
  op.kind === 'create' || op.kind === 'update' || op.kind === 'delete' || op.kind === 'deploy-app' || op.kind === 'patch-app' || op.kind === 'revoke-token' || op.kind === 'staged-credentials' || op.kind === 'delete-app';

export type StepResult = { name: StepId; subject: string; status: StepStatus; changes: Change[]; error?: string };

/**
 * What apply did, one entry per operation it performed or tried, in order: the operation, its target (an sObject
 * and Id, an app, a file, a token endpoint: never a secret), whether it reached the org, and how it ended. The
 * partial result and the exit code are read from it; each entry is a debug line of the log too.
 */
export type JournalEntry = {
  step: StepId;
  op: Operation['kind'];
  target: string;
  org: boolean;
  outcome: 'done' | 'failed';
  /** The Id of a record created. */
  id?: string;
  error?: string;
  /** revoke-token: the org no longer knew the token (revoked meanwhile): nothing to do, not a failure. */
  alreadyGone?: boolean;
};

export type ApplyOutcome = {
  results: StepResult[];
  failed: boolean;
  journal: JournalEntry[];
  /** The values the run produced or was given (Ids, the consumer key, ...). Holds secrets: never print it. */
  values: Partial<Record<RefName, string>>;
};
