/*
 * The exit codes every command of the plugin answers with, one table for all of them (README, "Exit codes"), and
 * the ERROR CODES section of each command's --help, as plugin-deploy-retrieve documents its own. Loaded at --help
 * time: nothing heavy is imported here.
 */
import type { HelpSection } from '@oclif/core';
import { Messages } from '@salesforce/core';
import { toHelpSection } from '@salesforce/sf-plugins-core';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'cli');

export const ExitCode = {
  /** The command did what it was asked; nothing reached --fail-on. */
  Success: 0,
  /** The command ran and the outcome is a failure: a check failed, a precondition was not met, nothing could be done. */
  Failure: 1,
  /** Bad input: flags, files, specs, an unknown org. Nothing was read from or written to any org. */
  BadInput: 2,
  /** Partial: some writes are in the org; running the same command again finishes the job. */
  Partial: 68,
  /** An org could not be reached. */
  Unreachable: 69,
  /** Interrupted (Ctrl-C). */
  Interrupted: 130,
} as const;

export type ExitName = keyof typeof ExitCode;
export type ExitCodeValue = (typeof ExitCode)[ExitName];

/**
 * The ERROR CODES help section: each code the command can answer with, in the command's own words where it has
 * them (`exit.<Name>` in its messages file), else the shared ones (messages/cli.md).
 */
export const errorCodesSection = (names: ExitName[], own?: Messages<string>): HelpSection =>
  toHelpSection(
    'ERROR CODES',
    Object.fromEntries(
      names.map((name) => [
        messages.getMessage(`label.${name}`, [String(ExitCode[name])]),
        own?.messages.has(`exit.${name}`) ? own.getMessage(`exit.${name}`) : messages.getMessage(`exit.${name}`),
      ])
    )
  );

/** Marks an error as bad input (exit 2) and rethrows it: for flags, files, specs and org names refused before any org is read. */
export const badInput = (e: unknown): never => {
  if (e instanceof Error) {
    // eslint-disable-next-line no-param-reassign
    (e as Error & { exitCode?: number }).exitCode = ExitCode.BadInput;
    // oclif's own errors (a flag value not among its options) carry their exit code there, and it wins.
    const oclif = (e as { oclif?: { exit?: number } }).oclif;
    // eslint-disable-next-line no-param-reassign
    if (oclif && typeof oclif === 'object') oclif.exit = ExitCode.BadInput;
    throw e;
  }
  const error = new Error(String(e)) as Error & { exitCode?: number };
  error.exitCode = ExitCode.BadInput;
  throw error;
};

/** Runs `fn`; whatever it throws is bad input (exit 2). */
export const asBadInput = async <T>(fn: () => T | Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (e) {
    return badInput(e);
  }
};
