/*
 * The spec module's user-facing text (messages/spec.md) and the one way problems become an error: every
 * problem found in the inputs is collected, then thrown together as one SfError, so a user fixes everything
 * in one pass instead of one error per run.
 */
import { Messages, SfError } from '@salesforce/core';
import { LIMITS } from './defaults.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
export const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'spec');

/** One thing wrong with the inputs: an `error.<code>` message of messages/spec.md and its tokens. */
export type SpecProblem = { code: string; tokens: string[]; actionTokens?: string[] };

/** Something the user asked for that is allowed but deserves attention (privileged access, a changed username). */
export type SpecWarning = { code: string; message: string; actions?: string[] };

export const problem = (code: string, tokens: Array<string | number> = [], actionTokens: Array<string | number> = []): SpecProblem => ({
  code,
  tokens: tokens.map(String),
  actionTokens: actionTokens.map(String),
});

export const warning = (code: string, tokens: Array<string | number> = [], actionTokens: Array<string | number> = []): SpecWarning => {
  const { message, actions } = messages.createWarning(`warning.${code}`, tokens.map(String), actionTokens.map(String));
  return actions && actions.length > 0 ? { code, message, actions } : { code, message };
};

export const text = (key: string, tokens: Array<string | number> = []): string => messages.getMessage(key, tokens.map(String));

const toError = (p: SpecProblem): SfError => messages.createError(`error.${p.code}`, p.tokens, p.actionTokens ?? []);

/**
 * One SfError for all problems (exit code 1): a single problem is thrown as itself; several are listed in one
 * message with every fix in the actions. `data.problems` keeps each problem's code, message and actions for --json.
 */
export const problemsError = (problems: SpecProblem[]): SfError => {
  const errors = problems.map(toError);
  const data = { problems: errors.map((e, i) => ({ code: problems[i].code, message: e.message, actions: e.actions ?? [] })) };
  if (errors.length === 1) return errors[0].setData(data);
  // A spec with thousands of mistakes gets an error people can read: the first ones, and how many more.
  const shown = errors.slice(0, LIMITS.problemsListed).map((e) => `- ${e.message}`);
  if (errors.length > shown.length) shown.push(text('error.MoreProblems', [errors.length - shown.length]));
  const list = shown.join('\n');
  const actions = [...new Set(errors.flatMap((e) => e.actions ?? []))].slice(0, LIMITS.problemsListed);
  return new SfError(text('error.InvalidSpec', [errors.length, list]), 'InvalidSpecError', actions).setData(data);
};

/** Throw when anything was found; identical problems (same code and tokens) are reported once. */
export const throwIfProblems = (problems: SpecProblem[]): void => {
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = JSON.stringify([p.code, p.tokens, p.actionTokens]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (unique.length > 0) throw problemsError(unique);
};
