/*
 * Performs a plan. Record writes of consecutive steps go to the org together in one composite request with
 * allOrNone (one round trip; the org applies all or none of them), the key files and the app deploy run in
 * their own steps, the live check last. Transient Salesforce errors are retried inside the transport; any
 * other failure stops the run: steps before it are done, the failing one is `failed`, the rest `pending`.
 * Running the same command again re-diffs against the org and finishes the job.
 */
import type { CompositeSubrequest, Transport } from '../org/transport.js';
import { isRef, type FieldValue, type Operation, type Plan, type Ref, type Step, type StepId, type StepStatus } from './types.js';

export type StepResult = { name: StepId; subject: string; status: StepStatus; changes: string[]; error?: string };

export type ApplyHooks = {
  /** write-credentials: writes the key pair and certificate to the output directory. */
  writeCredentials(): Promise<void>;
  /** deploy-app: writes the app, with the permission set Id resolved. */
  deployApp(op: Extract<Operation, { kind: 'deploy-app' }>, permissionSetId: string): Promise<void>;
  /** verify: the live token exchange and REST call; throws with the Salesforce error on failure. */
  verify(): Promise<void>;
  /** patch-app: changes only the given settings of an existing app. */
  patchApp?(op: Extract<Operation, { kind: 'patch-app' }>): Promise<void>;
  onStepStart?(name: StepId): void;
  onStepEnd?(result: StepResult): void;
};

export type ApplyOutcome = { results: StepResult[]; failed: boolean; ids: Partial<Record<Ref['ref'], string>> };

type RecordOp = Extract<Operation, { kind: 'create' | 'update' | 'delete' }>;

const STATUS_OF = { create: 'created', update: 'updated', unchanged: 'unchanged', skip: 'skipped' } as const;
const isRecordOp = (op: Operation): op is RecordOp => op.kind === 'create' || op.kind === 'update' || op.kind === 'delete';
const isRecordStep = (s: Step): boolean => s.ops.length > 0 && s.ops.every(isRecordOp);
const COMPOSITE_LIMIT = 25;

export const applyPlan = async (plan: Plan, transport: Transport, hooks: ApplyHooks, known: Partial<Record<Ref['ref'], string>>): Promise<ApplyOutcome> => {
  const ids = { ...known };
  const results: StepResult[] = [];
  let failed = false;

  const done = (step: Step, error?: string): void => {
    const result: StepResult = error
      ? { name: step.id, subject: step.subject, status: 'failed', changes: step.changes, error }
      : { name: step.id, subject: step.subject, status: STATUS_OF[step.action], changes: step.changes };
    if (error) failed = true;
    results.push(result);
    hooks.onStepEnd?.(result);
  };

  /** The org applied none of the group's writes: the cause failed, its companions are still pending. */
  const failGroup = (group: Step[], cause: Step, error: string): void => {
    for (const s of group) {
      if (s === cause) done(s, error);
      else results.push({ name: s.id, subject: s.subject, status: 'pending', changes: s.changes });
    }
  };

  /** `@{user.id}` for a reference created in the same request, the Id for one created before. */
  const value = (v: FieldValue | string, inRequest: Set<string>): unknown => {
    if (!isRef(v)) return v;
    if (ids[v.ref]) return ids[v.ref];
    if (inRequest.has(v.ref)) return `@{${v.ref}.id}`;
    throw new Error(`internal: ${v.ref} is not known yet`);
  };

  /** One composite request for the record writes of a run of steps. */
  /** The subrequest of one record operation; references created earlier in the same request use `@{ref.id}`. */
  const subrequest = (step: Step, op: RecordOp, n: number, inRequest: Set<string>): CompositeSubrequest => {
    const referenceId = op.kind === 'create' && op.saveAs ? op.saveAs : `${step.id.replace(/-/g, '_')}_${n}`;
    const body = (fields: Record<string, FieldValue>): Record<string, unknown> =>
      Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, value(v, inRequest)]));
    if (op.kind === 'create') return { method: 'POST', path: `/sobjects/${op.sobject}`, referenceId, body: body(op.fields) };
    if (op.kind === 'update') return { method: 'PATCH', path: `/sobjects/${op.sobject}/${String(value(op.id, inRequest))}`, referenceId, body: body(op.fields) };
    return { method: 'DELETE', path: `/sobjects/${op.sobject}/${op.id}`, referenceId };
  };

  /**
   * The record writes of a run of steps, in composite requests of at most 25 subrequests, each all-or-none. A step
   * with more writes than one request holds spans several; Ids created by one request feed the next.
   */
  const writeRecords = async (steps: Step[]): Promise<void> => {
    const all = steps.flatMap((step) => (step.ops as RecordOp[]).map((op) => ({ step, op })));
    steps.forEach((s) => hooks.onStepStart?.(s.id));
    const applied = new Set<Step>();
    for (let start = 0; start < all.length; start += COMPOSITE_LIMIT) {
      const chunk = all.slice(start, start + COMPOSITE_LIMIT);
      const inRequest = new Set<string>();
      const subs = chunk.map(({ step, op }, n) => {
        const sub = subrequest(step, op, start + n, inRequest);
        if (op.kind === 'create' && op.saveAs) inRequest.add(op.saveAs);
        return { ...sub, step };
      });
      let failure: { step: Step; error: string } | undefined;
      try {
        // eslint-disable-next-line no-await-in-loop
        const answers = await transport.composite(
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
          for (const a of answers) if ((a.referenceId === 'user' || a.referenceId === 'permissionSet') && a.id) ids[a.referenceId] = a.id;
        }
      } catch (e) {
        failure = { step: subs[0].step, error: e instanceof Error ? e.message : String(e) };
      }
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

  const runOther = async (step: Step): Promise<void> => {
    hooks.onStepStart?.(step.id);
    try {
      for (const op of step.ops) {
        // eslint-disable-next-line no-await-in-loop
        if (op.kind === 'write-credentials') await hooks.writeCredentials();
        // eslint-disable-next-line no-await-in-loop
        else if (op.kind === 'deploy-app') await hooks.deployApp(op, String(value(op.permissionSet, new Set())));
        // eslint-disable-next-line no-await-in-loop
        else if (op.kind === 'verify') await hooks.verify();
        // eslint-disable-next-line no-await-in-loop
        else if (op.kind === 'patch-app') await hooks.patchApp?.(op);
      }
      done(step);
    } catch (e) {
      done(step, e instanceof Error ? e.message : String(e));
    }
  };

  let i = 0;
  while (i < plan.steps.length) {
    const step = plan.steps[i];
    if (failed) {
      results.push({ name: step.id, subject: step.subject, status: 'pending', changes: step.changes });
      i++;
      continue;
    }
    if (!step.ops.length) {
      done(step);
      i++;
      continue;
    }
    if (isRecordStep(step)) {
      // Gather the following record steps: writeRecords sends them in as few composite requests as fit.
      const group: Step[] = [];
      while (i < plan.steps.length && (isRecordStep(plan.steps[i]) || !plan.steps[i].ops.length)) group.push(plan.steps[i++]);
      const writing = group.filter((s) => s.ops.length);
      // eslint-disable-next-line no-await-in-loop
      await writeRecords(writing);
      for (const s of group.filter((g) => !g.ops.length)) {
        if (failed) results.push({ name: s.id, subject: s.subject, status: 'pending', changes: s.changes });
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
      if (results[n].status !== 'pending') results[n] = { ...results[n], status: 'pending' };
    }
  }
  return { results, failed, ids };
};
