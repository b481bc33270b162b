/*
 * How every writing command ends once the plan is applied, by the exit-code rule they share (outcomeExitCode in
 * src/plan/apply.ts): 0 returns the result; 1 throws the command's error naming the step that failed (nothing of
 * the run is left half-written in the org); 68 warns that a re-run finishes the job and exits 68. An error the run
 * itself chose (`error`) is thrown as it is. The command renders its tables first: they show in every case.
 */
import type { Messages } from '@salesforce/core';
import { ExitCode } from './exit-codes.js';

/** A step as the result lists it: its name, how it ended, and the error of the one that failed. */
export type EndedStep = { name: string; status: string; error?: string };

/** What a writing command's domain call answers: its result (with the steps), the exit code, and maybe its own error. */
export type RunOutcome<R extends { steps: readonly EndedStep[] }> = { result: R; exitCode: 0 | 1 | 68; error?: Error };

export type Ending = {
  /** The command's messages: `error.StepFailed` (NAME, ERROR) and `info.partial`. */
  messages: Messages<string>;
  /** The command's warning channel (SfCommand.warn). */
  warn(message: string): void;
  /** The error for exit 1, when the command words it with other parameters than the step's name and error. */
  stepFailed?(step: EndedStep | undefined): Error;
};

/** The end of a writing command: the result on 0 and 68 (with the warning and exit code 68), the error on 1. */
export const finishRun = <R extends { steps: readonly EndedStep[] }>(outcome: RunOutcome<R>, ending: Ending): R => {
  if (outcome.error) throw outcome.error;
  if (outcome.exitCode === ExitCode.Failure) {
    const failure = outcome.result.steps.find((s) => s.status === 'failed');
    throw ending.stepFailed ? ending.stepFailed(failure) : ending.messages.createError('error.StepFailed', [failure?.name ?? '', failure?.error ?? '']);
  }
  if (outcome.exitCode === ExitCode.Partial) {
    ending.warn(ending.messages.getMessage('info.partial'));
    process.exitCode = ExitCode.Partial;
  }
  return outcome.result;
};
