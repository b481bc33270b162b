/*
 * rotate's plan, as pure data decided before the first write, for the one apply (src/plan/apply.ts):
 *
 * JWT bearer, in place. An app holds one certificate, so there is no overlap on one app (Metadata API:
 * ConnectedApp oauthConfig.certificate, ExtlClntAppGlobalOauthSettings.certificate). The order keeps the old key
 * usable until the new one is proved: a new pair (the pair in use kept as private-key.previous.pem, 0600), the
 * app's certificate replaced, a live exchange with the new key (waiting out the propagation window), the previous
 * key proved refused, then removed, and a rotation log entry in the runbook. Every state a stopped run leaves on
 * disk and in the org is recognised by local.ts's `phase`, so running the same command again finishes the job.
 * --rollback puts the previous certificate back on the app and the previous key back in place.
 *
 * Client credentials on an External Client App: staged credentials (Connect REST), the only API that rotates a
 * consumer secret, and with an overlap: stage a new set, prove it with a live exchange, write the secret to a 0600
 * file, rotate (the previous set stays valid 30 days), and with --revoke-previous delete the previous set at once.
 */
import { join } from 'node:path';
import type { AppConfig, AppKind, OrgSnapshot } from '../org/index.js';
import { keyPairStep, textWithRefs } from '../plan/local.js';
import { step } from '../plan/plan.js';
import { planText } from '../plan/render.js';
import type { Operation, Plan, Ref, RefName, Step } from '../plan/types.js';
import { rotationLog, type RotationEntry } from './runbook.js';

export const PREVIOUS_KEY_FILE = 'private-key.previous.pem';
export const PREVIOUS_CERTIFICATE_FILE = 'cert.previous.pem';

/** Where a JWT rotation stands, from the key files and the app's certificate (local.ts reads them). */
export type JwtPhase =
  /** The key in the directory is the one the app trusts: a new rotation starts. */
  | { phase: 'start' }
  /** No key on this machine (lost, or never here): a new pair, and the previous key cannot be proved refused. */
  | { phase: 'no-key' }
  /** A new pair is on disk, the app still trusts the previous one: the app write is next. */
  | { phase: 'pair-written' }
  /** The app trusts the new pair: the proof and the clean-up are next. */
  | { phase: 'app-written' }
  /** The user brought the new pair (--private-key-file, --certificate-file). */
  | { phase: 'provided'; certificatePem: string; oldKeyKnown: boolean; appHasIt: boolean };

export type JwtRotation = {
  flow: 'jwt';
  dir: string;
  phase: JwtPhase;
  rollback: boolean;
  /** PEM of the certificate the new key belongs to, when it is on disk already (resumed or brought). */
  newCertificatePem?: string;
  /** The previous certificate on disk (rollback), to put back on the app. */
  previousCertificatePem?: string;
  keySize: 2048 | 3072 | 4096;
  validityDays: number;
  commonName: string;
  username: string;
  keepPrevious: boolean;
  /** SHA-256 fingerprint of the new certificate, when it is on disk already. */
  newFingerprint?: string;
  /** SHA-256 fingerprint of the previous certificate on disk (rollback). */
  previousFingerprint?: string;
};

export type StagedSlot = { id: string; state: string } | undefined;

export type SecretRotation = {
  flow: 'client-credentials';
  dir: string;
  /** The slot as the org holds it before the run. */
  slot: StagedSlot;
  revokePrevious: boolean;
};

export type RotatePlanInput = {
  app: AppConfig;
  snap: OrgSnapshot;
  rotation: JwtRotation | SecretRotation;
  waitMinutes: number;
  /** The runbook text as it is on disk (undefined when there is none: a new one holds only the log). */
  runbook?: string;
  /** The log entry's fixed parts: date, what, who ran it, the fingerprint or consumer key before. */
  entry: Omit<RotationEntry, 'after'>;
};

export const SECRET_FILE = 'consumer-secret.txt';
export const RUNBOOK_FILE = 'runbook.md';

const CERT_REF: Ref = { ref: 'certificate' };

const appRef = (app: AppConfig): { kind: AppKind; name: string } => ({ kind: app.kind, name: app.name });

const shortFingerprint = (fp: string | undefined): string => (fp ? `${fp.replace(/:/g, '').slice(0, 16)}…` : '?');

const readKey = (app: AppConfig): Operation => ({ kind: 'read-credentials', app: { ...appRef(app), id: app.id }, secret: false });

/** The live exchange with the key or secret now in `values` (waiting while the new certificate propagates). */
const verifyOp = (input: RotatePlanInput, username: string, extra: Partial<Extract<Operation, { kind: 'verify' }>> = {}): Operation => ({
  kind: 'verify',
  hosts: input.snap.org,
  flow: input.rotation.flow,
  clientId: { ref: 'consumerKey' },
  username,
  waitMinutes: input.waitMinutes,
  appName: input.app.name,
  ...extra,
});

/** --rollback: the previous certificate back on the app first, proved with the previous key, then the files moved back. */
const rollbackSteps = (
  input: RotatePlanInput,
  r: JwtRotation,
  files: { keyFile: string; certFile: string; prevKey: string; prevCert: string }
): { steps: Step[]; warnings: string[]; after: string | Ref } => {
  const { app } = input;
  const { keyFile, certFile, prevKey, prevCert } = files;
  const warnings: string[] = [];
  const restore: Step = step({
    id: 'certificate',
    action: 'update',
    subject: PREVIOUS_KEY_FILE,
    changes: [{ key: 'previous-key.remove', values: [keyFile] }],
    ops: [
      { kind: 'move-file', from: prevKey, to: keyFile },
      { kind: 'move-file', from: prevCert, to: certFile },
    ],
  });
  const appStep = step({
    id: 'app',
    action: 'update',
    subject: app.name,
    changes: [{ key: 'certificate.restore', values: [shortFingerprint(input.entry.before), shortFingerprint(r.previousFingerprint)] }],
    ops: [{ kind: 'patch-app', app: appRef(app), patch: { certificate: r.previousCertificatePem } }],
  });
  // The app first, then the proof with the previous key, then the files: a stopped run leaves the previous key in place to retry with.
  const verify = step({ id: 'verify', action: 'unchanged', subject: planText('subject.verify', ['jwt']), ops: [readKey(app), verifyOp(input, r.username, { signWith: 'previousPrivateKey', awaitCertificate: true })] });
  return { steps: [appStep, verify, restore], warnings, after: r.previousFingerprint ?? '' };
};

/** The previous key proved refused, then removed (kept with --keep-previous; a brought pair's old key is the user's). */
const previousKeyStep = (input: RotatePlanInput, r: JwtRotation, oldKeyKnown: boolean, files: { keyFile: string; prevKey: string; prevCert: string }): Step => {
  const { keyFile, prevKey, prevCert } = files;
  const phase = r.phase;
  const removes = phase.phase !== 'provided' && oldKeyKnown && !r.keepPrevious;
  return oldKeyKnown
    ? step({
        id: 'previous-key',
        action: removes ? 'delete' : 'unchanged',
        subject: phase.phase === 'provided' ? keyFile : prevKey,
        changes: [
          { key: 'previous-key.refused' },
          ...(removes ? [{ key: 'previous-key.remove', values: [PREVIOUS_KEY_FILE] }] : phase.phase === 'provided' ? [] : [{ key: 'previous-key.keep', values: [PREVIOUS_KEY_FILE] }]),
        ],
        ops: [
          verifyOp(input, r.username, { signWith: 'previousPrivateKey', expect: 'refused' }),
          ...(removes ? [{ kind: 'remove-files' as const, paths: [prevKey, prevCert] }] : []),
        ],
      })
    : step({ id: 'previous-key', action: 'skip', subject: planText('subject.previous-key', ['-']) });
};

const jwtSteps = (input: RotatePlanInput, r: JwtRotation): { steps: Step[]; warnings: string[]; after: string | Ref } => {
  const { app } = input;
  const keyFile = join(r.dir, 'private-key.pem');
  const certFile = join(r.dir, 'cert.pem');
  const prevKey = join(r.dir, PREVIOUS_KEY_FILE);
  const prevCert = join(r.dir, PREVIOUS_CERTIFICATE_FILE);
  const warnings: string[] = [];
  if (r.rollback) return rollbackSteps(input, r, { keyFile, certFile, prevKey, prevCert });
  const phase = r.phase;
  const generate = phase.phase === 'start' || phase.phase === 'no-key';
  const certificate =
    phase.phase === 'provided'
      ? keyPairStep({ source: 'provided', dir: r.dir, keySize: r.keySize, validityDays: r.validityDays, commonName: r.commonName })
      : generate
      ? keyPairStep({ source: 'generate', dir: r.dir, keySize: r.keySize, validityDays: r.validityDays, commonName: r.commonName, keepPrevious: phase.phase === 'start' })
      : keyPairStep({ source: 'existing', dir: r.dir, keySize: r.keySize, validityDays: r.validityDays, commonName: r.commonName });
  const newCertificate: string | Ref = generate ? CERT_REF : r.newCertificatePem ?? '';
  const appWritten = phase.phase === 'app-written' || (phase.phase === 'provided' && phase.appHasIt);
  const appStep = appWritten
    ? step({ id: 'app', action: 'unchanged', subject: app.name })
    : step({
        id: 'app',
        action: 'update',
        subject: app.name,
        changes: [{ key: 'certificate.replace', values: [shortFingerprint(input.entry.before), generate ? planText('subject.key-pair', [r.keySize, r.validityDays]) : shortFingerprint(r.newFingerprint)] }],
        ops: [{ kind: 'patch-app', app: appRef(app), patch: { certificate: newCertificate } }],
      });
  const verify = step({
    id: 'verify',
    action: 'unchanged',
    subject: planText('subject.verify', ['jwt']),
    ops: [readKey(app), verifyOp(input, r.username, { awaitCertificate: true })],
  });
  const oldKeyKnown = phase.phase === 'provided' ? phase.oldKeyKnown : phase.phase !== 'no-key';
  if (!oldKeyKnown) warnings.push(planText('warning.previous-key-unknown'));
  const previous = previousKeyStep(input, r, oldKeyKnown, { keyFile, prevKey, prevCert });
  const after: string | Ref = generate ? { ref: 'certificateFingerprint' } : r.newFingerprint ?? '';
  return { steps: [certificate, appStep, verify, previous], warnings, after };
};

const secretSteps = (input: RotatePlanInput, r: SecretRotation): { steps: Step[]; warnings: string[]; after: string | Ref } => {
  const { app } = input;
  const target = { ...appRef(app), id: app.id };
  const reuse = r.slot?.state === 'Active';
  const ops: Operation[] = [
    // An expired set, or the previous one kept from the last rotation (--revoke-previous), makes room for the new one.
    ...(r.slot && !reuse ? [{ kind: 'staged-credentials' as const, command: 'delete' as const, app: target }] : []),
    { kind: 'staged-credentials', command: 'stage', app: target },
    verifyOp(input, ''),
    // Written before the switch: the secret the org is about to use is never only in memory.
    { kind: 'write-file', path: join(r.dir, SECRET_FILE), content: [{ ref: 'consumerSecret' }, '\n'], secret: true, onlyIfChanged: true },
    { kind: 'staged-credentials', command: 'rotate', app: target },
    ...(r.revokePrevious ? [{ kind: 'staged-credentials' as const, command: 'delete' as const, app: target }] : []),
  ];
  const staged = step({
    id: 'staged-credentials',
    action: 'update',
    subject: planText('subject.staged-credentials', [app.name]),
    changes: [
      { key: 'staged-credentials.stage' },
      { key: 'staged-credentials.rotate' },
      ...(r.revokePrevious ? [{ key: 'staged-credentials.revoke-previous' }] : []),
    ],
    ops,
  });
  return { steps: [staged], warnings: [], after: { ref: 'consumerKey' } };
};

/** The plan for one rotation. Refusals (a Connected App's secret, a mixed-up directory) are raised before, by run.ts. */
export const planRotation = (input: RotatePlanInput): Plan => {
  const r = input.rotation;
  const { steps, warnings, after } = r.flow === 'jwt' ? jwtSteps(input, r) : secretSteps(input, r);
  steps.push(rotationLogStep(r.dir, input.runbook, input.entry, after));
  return { steps, warnings };
};

/** The runbook with one more rotation log row; `after` may be a value the run produces (the new fingerprint). */
export const rotationLogStep = (dir: string, runbook: string | undefined, entry: Omit<RotationEntry, 'after'>, after: string | Ref): Step => {
  const content = textWithRefs((value: (name: RefName) => string) => rotationLog(runbook, { ...entry, after: typeof after === 'string' ? after : value(after.ref) }));
  return step({
    id: 'documents',
    action: runbook === undefined ? 'create' : 'update',
    subject: RUNBOOK_FILE,
    changes: [{ key: 'documents.rotation-log', values: [RUNBOOK_FILE] }],
    ops: [{ kind: 'write-file', path: join(dir, RUNBOOK_FILE), content, secret: false }],
  });
};
