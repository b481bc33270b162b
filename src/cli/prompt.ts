/*
 * Confirmation before a write. A command that would prompt, run without a terminal (a CI job, stdin from a file or
 * /dev/null), refuses up front with exit 2 and says to pass --no-prompt: a prompt nobody can answer must never pass
 * for "no" (nothing done, exit 0) or hang a pipeline.
 */
import { Messages, type SfError } from '@salesforce/core';
import { ExitCode } from './exit-codes.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'cli');

/** Whether a person can answer a prompt: stdin is a terminal. `isTTY` is overridable for tests. */
export const canPrompt = (stdin: { isTTY?: boolean } = process.stdin): boolean => stdin.isTTY === true;

/** The refusal of a prompt without a terminal: exit 2, naming the command and the flag that skips the prompt. */
export const noTerminalError = (command: string): SfError => {
  const error = messages.createError('error.NoTerminal', [command]);
  error.exitCode = ExitCode.BadInput;
  return error;
};

/**
 * Checked before anything is read or written: throws noTerminalError when the command would have to ask and
 * nobody can answer. With --no-prompt (or nothing to ask) it passes.
 */
export const assertCanPrompt = (args: { command: string; noPrompt: boolean; willAsk: boolean; stdin?: { isTTY?: boolean } }): void => {
  if (args.willAsk && !args.noPrompt && !canPrompt(args.stdin)) throw noTerminalError(args.command);
};
