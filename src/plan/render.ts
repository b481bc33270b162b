/*
 * The one renderer of plans and their outcomes: every command that writes prints its --dry-run plan, its prompt
 * and its step table with these functions, in the words of messages/plan.md.
 */
import { Messages, type SfError } from '@salesforce/core';
import type { PlanBlocked } from './plan.js';
import type { Change, Step, StepAction, StepId, StepResult, StepStatus } from './types.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'plan');
// The refusals of a plan (no license, a username that is someone else's) were first met by create and live with it.
const refusals = Messages.loadMessages('@integration-kit/plugin-integration', 'integration.create');

/** A messages/plan.md text with its %s tokens filled. */
export const planText = (key: string, values: Array<string | number> = []): string => messages.getMessage(key, values.map(String));

export const changeText = (change: Change): string => planText(`change.${change.key}`, change.values);

export const changeTexts = (changes: Change[]): string[] => changes.map(changeText);

const STATUS_OF: Record<StepAction, StepStatus> = { create: 'created', update: 'updated', delete: 'deleted', unchanged: 'unchanged', skip: 'skipped' };

/** What applying a step would make of it: a plan read as an outcome (--dry-run). */
export const plannedStatus = (step: Pick<Step, 'action'>): StepStatus => STATUS_OF[step.action];

/** A plan as the results it would have: every --dry-run prints this. */
export const plannedResults = (steps: Step[]): StepResult[] =>
  steps.map((s) => ({ name: s.id, subject: s.subject, status: plannedStatus(s), changes: s.changes }));

/** A step of a plan or an outcome in words, as results and --json carry it. */
export type RenderedStep = { name: StepId; status: StepStatus; subject: string; changes: string[]; error?: string };

export const renderSteps = (results: StepResult[]): RenderedStep[] =>
  results.map((r) => ({ name: r.name, status: r.status, subject: r.subject, changes: changeTexts(r.changes), ...(r.error ? { error: r.error } : {}) }));

export type StepRow = { step: string; status: string; subject: string; changes: string };

export const STEP_COLUMNS: Array<keyof StepRow> = ['step', 'status', 'subject', 'changes'];

/** The rows of a step table, for a plan (--dry-run) or an outcome: `this.table({ data: stepRows(...), columns: STEP_COLUMNS })`. */
export const stepRows = (steps: RenderedStep[]): StepRow[] =>
  steps.map((s) => ({ step: s.name, status: s.status, subject: s.subject, changes: s.error ?? s.changes.join('; ') }));

/** One line per step that changes something, for a confirmation prompt. */
export const planLines = (steps: Step[]): string[] =>
  steps.filter((s) => s.changes.length).map((s) => `  ${s.id} ${s.subject}: ${changeTexts(s.changes).join('; ')}`);

/** The first refusal of a blocked plan as the error a command throws (nothing was written). */
export const blockedError = (e: PlanBlocked): SfError => {
  const first = e.problems[0];
  return refusals.createError(first.key, first.tokens.map(String));
};

/**
 * What was done about writes whose answer was lost (a dropped connection, a 5xx): what the org was found to hold and
 * what was sent again. Every command that writes adds these to its warnings.
 */
export const recoveryTexts = (recoveries: ReadonlyArray<{ write: string; cause: string; found: string[]; resent: string[] }>): string[] =>
  recoveries.map((r) => {
    const list = (items: string[]): string => (items.length ? items.join('; ') : planText('recovery.nothing'));
    return planText('recovery', [r.write, r.cause, list(r.found), list(r.resent)]);
  });
