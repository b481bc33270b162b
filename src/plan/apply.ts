/*
 * One apply for every plan. Record writes of consecutive steps go to the org together in composite requests with
 * allOrNone (the org applies all or none of each), app writes through src/org's one entry, local files through
 * src/credentials, the live check through src/org's token exchange. Transient Salesforce errors are retried inside
 * the transport; any other failure stops the run: steps before it are done, the failing one is `failed`, the rest
 * `pending`. Every operation is written to the journal (and the debug log) as it ends. Running the same command
 * again re-diffs against the org and finishes the job: the exit-68 rule below.
 */
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Logger, Messages } from '@salesforce/core';
import { explainError } from '../checks/errors.js';
import { sanitizeEcho } from '../cli/sanitize.js';
import {
  CERTIFICATE_FILE,
  createCertificate,
  generateKeyPair,
  inspectCertificate,
  PRIVATE_KEY_FILE,
  writeKeyFiles,
  writePublicFile,
  writeSecretFile,
} from '../credentials/index.js';
import {
  deleteApp,
  deleteStaged,
  exchangeToken,
  listStaged,
  readConsumerCredentials,
  revokeToken,
  rotateStaged,
  stageCredentials,
  stagedTarget,
  writeApp,
  type AppChange,
  type AppPatch,
  type CompositeSubrequest,
  type Transport,
} from '../org/index.js';
import { PENDING_PERMISSION_SET } from './plan.js';
import {
  isOrgWrite,
  isRef,
  type ApplyOutcome,
  type FieldValue,
  type JournalEntry,
  type Operation,
  type Plan,
  type RecordOperation,
  type Ref,
  type RefName,
  type Step,
  type StepId,
  type StepResult,
  type StepStatus,
  type Text,
} from './types.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'plan');

export type ApplyOptions = {
  /** Values known before the run: Ids of records that exist, a private key read from disk. */
  values?: Partial<Record<RefName, string>>;
  /** Pause between live-exchange attempts while an app propagates (tests shorten it). */
  retryIntervalMs?: number;
  /** Revocations in flight at once (default 8): each is one request, and orgs limit concurrent requests. */
  concurrency?: number;
  onStepStart?(name: StepId): void;
  onStepEnd?(result: StepResult): void;
  /** Every journal entry as it is recorded (a Ctrl-C handler prints what reached the org). */
  onJournal?(entry: JournalEntry): void;
  /** Counts as revocations end: how many of how many. */
  onProgress?(done: number, total: number): void;
};

const STATUS_OF = { create: 'created', update: 'updated', delete: 'deleted', unchanged: 'unchanged', skip: 'skipped' } as const;
const isRecordOp = (op: Operation): op is RecordOperation => op.kind === 'create' || op.kind === 'update' || op.kind === 'delete';
const isRecordStep = (s: Step): boolean => s.ops.length > 0 && s.ops.every(isRecordOp);
const isRevokeStep = (s: Step): boolean => s.ops.length > 0 && s.ops.every((op) => op.kind === 'revoke-token');
const COMPOSITE_LIMIT = 25;

/** Where an operation writes, for the journal: never a field value, a file's content or a token. */
const targetOf = (op: Operation, resolve: (v: string | Ref) => string): string => {
  switch (op.kind) {
    case 'create':
      return op.sobject;
    case 'update':
    case 'delete':
      return `${op.sobject} ${resolve(op.id)}`;
    case 'deploy-app':
    case 'patch-app':
    case 'read-credentials':
    case 'delete-app':
      return `${op.app.kind} ${op.app.name}`;
    case 'generate-key-pair':
      return op.dir;
    case 'write-file':
      return op.path;
    case 'verify':
      return `${op.flow} ${op.username}`;
    case 'revoke-token':
      return op.label;
    case 'remove-files':
      return op.paths.join(', ');
    case 'move-file':
      return `${op.from} → ${op.to}`;
    case 'staged-credentials':
      return `${op.app.kind} ${op.app.name} staged ${op.command}`;
  }
};

export const applyPlan = async (plan: Plan, transport: Transport, opts: ApplyOptions = {}): Promise<ApplyOutcome> => {
  const values: Partial<Record<RefName, string>> = { ...opts.values };
  const results: StepResult[] = [];
  const journal: JournalEntry[] = [];
  const logger = Logger.childFromRoot('integration:apply');
  let failed = false;
  /** Results of revocations: each stands on its own, never turned pending by a failure beside it. */
  const independent = new Set<StepResult>();

  const known = (ref: Ref): string => {
    const v = values[ref.ref];
    if (v === undefined) throw new Error(`internal: ${ref.ref} is not known yet`);
    return v;
  };
  const resolve = (v: string | Ref): string => (isRef(v) ? values[v.ref] ?? `{${v.ref}}` : v);
  /** A patch with the values this run produced: the new certificate (rotate), the permission set created earlier (migrate). */
  const resolvePatch = (patch: AppPatch<string | Ref>): AppPatch => {
    const certificate = patch.certificate === undefined ? undefined : isRef(patch.certificate) ? known(patch.certificate) : patch.certificate;
    // A permission set created earlier in this run is selected by the Id the org gave it (plan.ts PENDING_PERMISSION_SET).
    const add = patch.addPermissionSets ?? {};
    const addPermissionSets = Object.fromEntries(Object.entries(add).map(([id, name]) => [id === PENDING_PERMISSION_SET ? known({ ref: 'permissionSet' }) : id, name]));
    return { ...patch, certificate, addPermissionSets };
  };
  const record = (entry: JournalEntry): void => {
    journal.push(entry);
    opts.onJournal?.(entry);
    logger.debug(`${entry.step} ${entry.op} ${entry.target}: ${entry.outcome}${entry.id ? ` ${entry.id}` : ''}${entry.error ? ` (${entry.error})` : ''}`);
  };

  const done = (step: Step, error?: string): void => {
    const result: StepResult = error
      ? { name: step.id, subject: step.subject, status: 'failed', changes: step.changes, error }
      : { name: step.id, subject: step.subject, status: STATUS_OF[step.action], changes: step.changes };
    if (error) failed = true;
    results.push(result);
    opts.onStepEnd?.(result);
  };
  const pending = (step: Step): void => void results.push({ name: step.id, subject: step.subject, status: 'pending', changes: step.changes });

  // ---- records -------------------------------------------------------------------------------------------------

  /** `@{user.id}` for a reference created in the same request, the Id for one created before. */
  const value = (v: FieldValue | string, inRequest: Set<string>): unknown => {
    if (!isRef(v)) return v;
    if (values[v.ref]) return values[v.ref];
    if (inRequest.has(v.ref)) return `@{${v.ref}.id}`;
    return known(v);
  };

  /** The subrequest of one record operation; references created earlier in the same request use `@{ref.id}`. */
  const subrequest = (step: Step, op: RecordOperation, n: number, inRequest: Set<string>): CompositeSubrequest => {
    const referenceId = op.kind === 'create' && op.saveAs ? op.saveAs : `${step.id.replace(/-/g, '_')}_${n}`;
    const body = (fields: Record<string, FieldValue>): Record<string, unknown> =>
      Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, value(v, inRequest)]));
    if (op.kind === 'create') return { method: 'POST', path: `/sobjects/${op.sobject}`, referenceId, body: body(op.fields) };
    if (op.kind === 'update') return { method: 'PATCH', path: `/sobjects/${op.sobject}/${String(value(op.id, inRequest))}`, referenceId, body: body(op.fields) };
    return { method: 'DELETE', path: `/sobjects/${op.sobject}/${op.id}`, referenceId };
  };

  /** The org applied none of the group's writes: the cause failed, its companions are still pending. */
  const failGroup = (group: Step[], cause: Step, error: string): void => {
    for (const s of group) {
      if (s === cause) done(s, error);
      else pending(s);
    }
  };

  /**
   * The record writes of a run of steps, in composite requests of at most 25 subrequests, each all-or-none. A step
   * with more writes than one request holds spans several; Ids created by one request feed the next.
   */
  const writeRecords = async (steps: Step[]): Promise<void> => {
    const all = steps.flatMap((step) => (step.ops as RecordOperation[]).map((op) => ({ step, op })));
    steps.forEach((s) => opts.onStepStart?.(s.id));
    const applied = new Set<Step>();
    for (let start = 0; start < all.length; start += COMPOSITE_LIMIT) {
      const chunk = all.slice(start, start + COMPOSITE_LIMIT);
      const inRequest = new Set<string>();
      const subs = chunk.map(({ step, op }, n) => {
        const sub = subrequest(step, op, start + n, inRequest);
        if (op.kind === 'create' && op.saveAs) inRequest.add(op.saveAs);
        return { ...sub, step, op };
      });
      let failure: { step: Step; error: string } | undefined;
      let answers: Awaited<ReturnType<Transport['composite']>> = [];
      try {
        // eslint-disable-next-line no-await-in-loop
        answers = await transport.composite(
          subs.map((s) => ({ method: s.method, path: s.path, referenceId: s.referenceId, body: s.body })),
          true
        );
        // allOrNone: either every subrequest succeeded, or none was applied and one names the cause.
        const cause = answers.find((a) => !a.ok && a.error && !/ALL_OR_NONE_OPERATION_ROLLED_BACK|PROCESSING_HALTED/.test(a.error.name));
        if (cause ?? answers.some((a) => !a.ok)) {
          failure = {
            step: subs.find((s) => s.referenceId === cause?.referenceId)?.step ?? subs[0].step,
            error: cause?.error ? `${cause.error.name}: ${cause.error.message}` : 'The org rolled the writes back.',
          };
        } else {
          for (const a of answers) if ((a.referenceId === 'user' || a.referenceId === 'permissionSet') && a.id) values[a.referenceId] = a.id;
        }
      } catch (e) {
        failure = { step: subs[0].step, error: e instanceof Error ? e.message : String(e) };
      }
      subs.forEach((s, i) =>
        record({
          step: s.step.id,
          op: s.op.kind,
          target: targetOf(s.op, resolve),
          org: true,
          outcome: failure ? 'failed' : 'done',
          ...(answers[i]?.id && s.op.kind === 'create' ? { id: answers[i].id } : {}),
          ...(failure && failure.step === s.step ? { error: failure.error } : {}),
        })
      );
      if (failure) {
        // Steps whose every write landed in earlier requests are done; the cause failed; the rest are pending.
        const finished = steps.filter((s) => applied.has(s) && !chunk.some((c) => c.step === s));
        finished.forEach((s) => done(s));
        failGroup(
          steps.filter((s) => !finished.includes(s)),
          failure.step,
          failure.error
        );
        return;
      }
      chunk.forEach((c) => applied.add(c.step));
    }
    steps.forEach((s) => done(s));
  };

  // ---- everything else -----------------------------------------------------------------------------------------

  const text = (content: Text): string => content.map((part) => (isRef(part) ? values[part.ref] ?? '' : part)).join('');

  const writeFile = async (op: Extract<Operation, { kind: 'write-file' }>): Promise<void> => {
    const content = text(op.content);
    if (op.onlyIfChanged && (await readFile(op.path, 'utf8').catch(() => undefined)) === content) return;
    await mkdir(dirname(op.path), { recursive: true, mode: 0o700 });
    await (op.secret ? writeSecretFile(op.path, content) : writePublicFile(op.path, content));
  };

  const generateKeys = async (op: Extract<Operation, { kind: 'generate-key-pair' }>): Promise<void> => {
    const pair = await generateKeyPair(op.keySize);
    const certificate = createCertificate({ privateKeyPem: pair.privateKeyPem, commonName: op.commonName, validityDays: op.validityDays });
    if (op.keepPrevious) {
      // rotate: the pair in use stays next to the new one until the new one is proved.
      for (const [file, previous] of [
        [PRIVATE_KEY_FILE, 'private-key.previous.pem'],
        [CERTIFICATE_FILE, 'cert.previous.pem'],
      ]) {
        // eslint-disable-next-line no-await-in-loop
        if (await stat(join(op.dir, file)).catch(() => undefined)) await rename(join(op.dir, file), join(op.dir, previous));
      }
    }
    await writeKeyFiles(op.dir, { privateKeyPem: pair.privateKeyPem, certificatePem: certificate });
    values.privateKey = pair.privateKeyPem;
    values.certificate = certificate;
    const info = inspectCertificate(certificate);
    values.certificateExpires = info.notAfter;
    values.certificateFingerprint = info.sha256Fingerprint;
  };

  /** rotate (client credentials): the slot read, filled, promoted or emptied; the staged set kept in memory. */
  const staged = async (op: Extract<Operation, { kind: 'staged-credentials' }>): Promise<void> => {
    const target = await stagedTarget(transport, { name: op.app.name, id: op.app.id ?? values.appId });
    if (!target) throw messages.createError('error.NoConsumer', [op.app.name]);
    if (op.command === 'stage') {
      // A set staged by an earlier run that stopped is used as it is: one staged set per consumer.
      const slot = (await listStaged(transport, target))[0];
      const set = slot?.state === 'Active' ? slot : await stageCredentials(transport, target);
      values.consumerKey = set.key;
      values.consumerSecret = set.secret;
      values.stagedId = set.id;
      return;
    }
    const id = values.stagedId ?? (await listStaged(transport, target))[0]?.id;
    if (!id) throw messages.createError('error.NoStagedCredentials', [op.app.name]);
    if (op.command === 'rotate') await rotateStaged(transport, target, id);
    else await deleteStaged(transport, target, id);
  };

  const readCredentials = async (op: Extract<Operation, { kind: 'read-credentials' }>): Promise<void> => {
    const id = isRef(op.app.id) ? values[op.app.id.ref] : op.app.id ?? values.appId;
    const creds = await readConsumerCredentials(transport, { ...op.app, id }, { secret: op.secret });
    if (creds.consumerKey) values.consumerKey = creds.consumerKey;
    if (!op.secret) return;
    if (!creds.consumerSecret) throw messages.createError('error.SecretUnreadable', [creds.secretError ?? '']);
    values.consumerSecret = creds.consumerSecret;
  };

  const verify = async (op: Extract<Operation, { kind: 'verify' }>): Promise<void> => {
    // A consumer key the org did not answer with is an empty one: the exchange says what Salesforce makes of it.
    const clientId = isRef(op.clientId) ? values[op.clientId.ref] ?? '' : op.clientId;
    const key = values[op.signWith ?? 'privateKey'];
    if (op.flow === 'jwt' && !key) throw messages.createError('error.NoPrivateKey');
    const request =
      op.flow === 'jwt'
        ? { flow: 'jwt' as const, clientId, username: op.username, privateKeyPem: key ?? '' }
        : { flow: 'client-credentials' as const, clientId, clientSecret: values.consumerSecret ?? '' };
    if (op.expect === 'refused') return verifyRefused(op, request);
    const live = await exchangeToken(op.hosts, request, {
      apiVersion: transport.apiVersion,
      waitMinutes: op.waitMinutes,
      retryIntervalMs: opts.retryIntervalMs,
      awaitCertificate: op.awaitCertificate,
    });
    if (!live.tokenExchange?.ok) throw exchangeFailure(live.tokenExchange, op);
    const call = live.apiCall;
    if (!call?.ok) {
      const answer = sanitizeEcho(call?.error ?? `HTTP ${String(call?.status ?? '')}`);
      if (call?.transient) throw messages.createError('error.VerifyRestTransient', [answer, call.attempts ?? 0]);
      throw messages.createError('error.VerifyRestFailed', [answer]);
    }
  };

  /** A failed exchange in words: Salesforce's own answer (made safe to print), and the likely cause when the catalogue knows the error. */
  const exchangeFailure = (exchange: Awaited<ReturnType<typeof exchangeToken>>['tokenExchange'], op: Extract<Operation, { kind: 'verify' }>): Error => {
    const pair = sanitizeEcho(`${exchange?.error ?? ''}: ${exchange?.errorDescription ?? ''}`);
    if (exchange?.transient) return messages.createError('error.VerifyTransient', [pair, exchange.attempts ?? 0], [op.appName, op.username]);
    // For an error the catalogue does not know, no guess.
    const explained = explainError(pair);
    const likely = explained.entry ? explained.causes[0] : undefined;
    return messages.createError('error.VerifyFailed', [pair, likely ? `${likely.cause} ${likely.fix}` : messages.getMessage('info.noLikelyCause')], [op.appName, op.username]);
  };

  /**
   * The previous key must be refused once the new certificate is in effect: "invalid assertion" is the proof. While
   * the org still accepts it (the propagation window), it is asked again until the wait is over.
   */
  const verifyRefused = async (op: Extract<Operation, { kind: 'verify' }>, request: Parameters<typeof exchangeToken>[1]): Promise<void> => {
    const deadline = Date.now() + op.waitMinutes * 60_000;
    for (;;) {
      // eslint-disable-next-line no-await-in-loop
      const live = await exchangeToken(op.hosts, request, { apiVersion: transport.apiVersion });
      const exchange = live.tokenExchange;
      if (exchange && !exchange.ok && exchange.error !== 'connection_failed') return;
      if (exchange?.error === 'connection_failed') throw messages.createError('error.VerifyFailed', [`${exchange.error}: ${exchange.errorDescription ?? ''}`, ''], [op.appName, op.username]);
      if (Date.now() >= deadline) throw messages.createError('error.PreviousStillAccepted', [op.appName]);
      // eslint-disable-next-line no-await-in-loop
      await new Promise((r) => setTimeout(r, opts.retryIntervalMs ?? 15_000));
    }
  };

  const perform = async (op: Operation): Promise<void> => {
    switch (op.kind) {
      case 'deploy-app': {
        const present = (v: string | Ref): string => (isRef(v) ? known(v) : v);
        const write: AppChange = { ...op, permissionSet: present(op.permissionSet), certificate: op.certificate === undefined ? undefined : present(op.certificate) };
        const { appId } = await writeApp(transport, write);
        if (appId) values.appId = appId;
        return;
      }
      case 'patch-app':
        await writeApp(transport, { ...op, patch: resolvePatch(op.patch) });
        return;
      case 'read-credentials':
        return readCredentials(op);
      case 'generate-key-pair':
        return generateKeys(op);
      case 'write-file':
        return writeFile(op);
      case 'verify':
        return verify(op);
      case 'revoke-token': {
        const answer = await revokeToken(transport.instanceUrl, op.token);
        if (!answer.ok) throw messages.createError('error.RevokeFailed', [op.label, answer.error ?? '']);
        return;
      }
      case 'remove-files':
        await Promise.all(op.paths.map((path) => rm(path, { force: true })));
        return;
      case 'move-file':
        await rename(op.from, op.to);
        return;
      case 'staged-credentials':
        return staged(op);
      case 'delete-app':
        await deleteApp(transport, op.app);
        return;
      default:
        throw new Error(`internal: ${op.kind} is a record write`);
    }
  };

  /**
   * Revocations of a run of steps, in one pool of bounded concurrency. They are independent of one another, so a
   * failure does not stop the others (a security team wants every token it can revoke revoked): each is journaled, a
   * step with a failed revocation fails, and the steps after the run are pending. A token the org no longer knows
   * (`invalid_token`) is gone already: done, marked `gone`.
   */
  const revokeAll = async (steps: Step[]): Promise<void> => {
    const all = steps.flatMap((step) => step.ops.map((op) => ({ step, op: op as Extract<Operation, { kind: 'revoke-token' }> })));
    const errors = new Map<Step, string[]>();
    steps.forEach((s) => opts.onStepStart?.(s.id));
    let next = 0;
    let finished = 0;
    opts.onProgress?.(0, all.length);
    const worker = async (): Promise<void> => {
      while (next < all.length) {
        const { step, op } = all[next++];
        // eslint-disable-next-line no-await-in-loop
        const answer = await revokeToken(transport.instanceUrl, op.token);
        const base = { step: step.id, op: op.kind, target: op.label, org: true } as const;
        if (answer.ok) record({ ...base, outcome: 'done', ...(answer.gone ? { alreadyGone: true } : {}) });
        else {
          const error = messages.getMessage('error.RevokeFailed', [op.label, answer.error ?? '']);
          record({ ...base, outcome: 'failed', error });
          errors.set(step, [...(errors.get(step) ?? []), error]);
        }
        opts.onProgress?.(++finished, all.length);
      }
    };
    const width = Math.max(1, Math.min(opts.concurrency ?? 8, all.length));
    await Promise.all(Array.from({ length: width }, worker));
    for (const step of steps) {
      const failures = errors.get(step);
      done(step, failures ? (failures.length === 1 ? failures[0] : `${failures.length} of ${step.ops.length} failed; first: ${failures[0]}`) : undefined);
      independent.add(results[results.length - 1]);
    }
  };

  const runOther = async (step: Step): Promise<void> => {
    opts.onStepStart?.(step.id);
    for (const op of step.ops) {
      try {
        // eslint-disable-next-line no-await-in-loop
        await perform(op);
        record({ step: step.id, op: op.kind, target: targetOf(op, resolve), org: isOrgWrite(op), outcome: 'done' });
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        record({ step: step.id, op: op.kind, target: targetOf(op, resolve), org: isOrgWrite(op), outcome: 'failed', error });
        done(step, error);
        return;
      }
    }
    done(step);
  };

  let i = 0;
  while (i < plan.steps.length) {
    const step = plan.steps[i];
    if (failed) {
      pending(step);
      i++;
      continue;
    }
    if (!step.ops.length) {
      done(step);
      i++;
      continue;
    }
    if (isRevokeStep(step)) {
      const group: Step[] = [];
      while (i < plan.steps.length && isRevokeStep(plan.steps[i])) group.push(plan.steps[i++]);
      // eslint-disable-next-line no-await-in-loop
      await revokeAll(group);
      continue;
    }
    if (isRecordStep(step)) {
      // Gather the following record steps: writeRecords sends them in as few composite requests as fit.
      const group: Step[] = [];
      while (i < plan.steps.length && (isRecordStep(plan.steps[i]) || !plan.steps[i].ops.length)) group.push(plan.steps[i++]);
      // eslint-disable-next-line no-await-in-loop
      await writeRecords(group.filter((s) => s.ops.length));
      for (const s of group.filter((g) => !g.ops.length)) {
        if (failed) pending(s);
        else done(s);
      }
      continue;
    }
    // eslint-disable-next-line no-await-in-loop
    await runOther(step);
    i++;
  }
  // Keep the report in plan order (unchanged steps inside a write group were recorded after it).
  const order = new Map(plan.steps.map((s, n) => [s.id, n]));
  results.sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
  if (failed) {
    // Steps of a rolled-back group that were not the cause are pending, not done.
    const failedAt = results.findIndex((r) => r.status === 'failed');
    for (let n = failedAt + 1; n < results.length; n++) {
      if (results[n].status !== 'pending' && !independent.has(results[n])) results[n] = { ...results[n], status: 'pending' };
    }
  }
  return { results, failed, journal, values };
};

const WROTE: readonly StepStatus[] = ['created', 'updated', 'deleted'];

/**
 * The exit code of an applied plan, the same for every command that writes: 0 done; 68 partial (a write reached the
 * org, by the journal's `org` entries, and the rest failed or is pending: running the same command again finishes
 * the job); 1 nothing reached the org (local key files and documents do not count: a re-run redoes nothing there).
 * Without a journal (a result read back from a report), a step that created, updated or deleted counts as a write.
 */
export const outcomeExitCode = (outcome: { failed: boolean; results: Array<{ status: StepStatus }>; journal?: JournalEntry[] }): 0 | 1 | 68 => {
  if (!outcome.failed) return 0;
  const wrote = outcome.journal ? outcome.journal.some((e) => e.org && e.outcome === 'done') : outcome.results.some((r) => WROTE.includes(r.status));
  return wrote ? 68 : 1;
};
