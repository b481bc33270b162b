/*
 * Where a command will write its files (--output-file, --output-dir), checked before any org is read or written:
 * a missing parent directory, a path that is a directory, or a directory the user cannot write fails up front
 * with the path and the reason, instead of a raw ENOENT/EISDIR after the work is done and the report is lost.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Messages, type SfError } from '@salesforce/core';
import { ExitCode } from './exit-codes.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'cli');

const unwritable = (key: string, tokens: string[]): SfError => {
  const error = messages.createError(key, tokens);
  // A precondition of the run, like a license: the command ran and could not do the job (exit 1).
  error.exitCode = ExitCode.Failure;
  return error;
};

const writable = (path: string): Promise<boolean> =>
  access(path, constants.W_OK).then(
    () => true,
    () => false
  );

/**
 * A directory the command may create and write into: it is a writable directory, or the nearest existing ancestor
 * is one (the command creates the rest).
 */
export const assertWritableDir = async (dir: string): Promise<void> => {
  const target = resolve(dir);
  for (let current = target; ; current = dirname(current)) {
    // eslint-disable-next-line no-await-in-loop
    const info = await stat(current).catch(() => undefined);
    if (info) {
      if (!info.isDirectory()) throw unwritable('error.OutputDirNotDirectory', [target, current]);
      // eslint-disable-next-line no-await-in-loop
      if (!(await writable(current))) throw unwritable('error.OutputDirUnwritable', [target, current]);
      return;
    }
    if (dirname(current) === current) return;
  }
};

/** A file the command will write: not a directory, its directory exists and can be written, the file itself too if it exists. */
export const assertWritableFile = async (file: string): Promise<void> => {
  const target = resolve(file);
  const info = await stat(target).catch(() => undefined);
  if (info?.isDirectory()) throw unwritable('error.OutputFileIsDirectory', [target]);
  const dir = dirname(target);
  const dirInfo = await stat(dir).catch(() => undefined);
  if (!dirInfo) throw unwritable('error.OutputFileNoDirectory', [target, dir]);
  if (!dirInfo.isDirectory()) throw unwritable('error.OutputDirNotDirectory', [dir, dir]);
  if (info && !(await writable(target))) throw unwritable('error.OutputFileUnwritable', [target]);
  if (!info && !(await writable(dir))) throw unwritable('error.OutputDirUnwritable', [dir, dir]);
};
