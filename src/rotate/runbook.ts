/*
 * The rotation log of runbook.md: one row per rotation (date, what changed, the certificate fingerprints or consumer
 * keys before and after, who ran it), appended at the end of the runbook so the record of an integration stays in
 * one document. Pure text in, text out; consumer keys are not secrets, consumer secrets and keys never appear.
 */
export type RotationEntry = {
  /** ISO date-time of the run. */
  date: string;
  /** What changed: 'certificate', 'certificate rolled back', 'consumer key and secret'. */
  change: string;
  /** SHA-256 fingerprint of the certificate (or the consumer key) before. */
  before: string;
  after: string;
  /** The Salesforce username that ran the command, and the local account. */
  by: string;
};

export const ROTATION_LOG_HEADING = '## Rotation log';

const HEADER = [ROTATION_LOG_HEADING, '', '| Date | Change | Before | After | Run by |', '| --- | --- | --- | --- | --- |'];

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ');

/** The runbook with one more row in its rotation log (the section is added at the end when missing). */
export const rotationLog = (runbook: string | undefined, entry: RotationEntry): string => {
  const row = `| ${[entry.date, entry.change, entry.before, entry.after, entry.by].map(cell).join(' | ')} |`;
  const text = (runbook ?? '').replace(/\s*$/, '');
  if (text.includes(ROTATION_LOG_HEADING)) return `${text}\n${row}\n`;
  return `${text ? `${text}\n\n` : ''}${HEADER.join('\n')}\n${row}\n`;
};

/** The cells of one table row, `\|` read back as a pipe. */
const cells = (row: string): string[] =>
  row
    .replace(/^\|\s?/, '')
    .replace(/\s?\|\s*$/, '')
    .split(/\s?(?<!\\)\|\s?/)
    .map((c) => c.replace(/\\\|/g, '|').trim());

/**
 * The rows of the rotation log, oldest first, as rotationLog wrote them (rows whose date does not parse are left
 * out): what the age of a credential is read from.
 */
export const rotationEntries = (runbook: string): RotationEntry[] => {
  const at = runbook.indexOf(ROTATION_LOG_HEADING);
  if (at < 0) return [];
  const entries: RotationEntry[] = [];
  for (const m of runbook.slice(at).matchAll(/^\| \d{4}-\d{2}-\d{2}T.*\|\s*$/gm)) {
    const [date, change = '', before = '', after = '', by = ''] = cells(m[0]);
    if (!Number.isNaN(Date.parse(date))) entries.push({ date, change, before, after, by });
  }
  return entries.sort((a, b) => Date.parse(a.date) - Date.parse(b.date));
};

/** The date of the last rotation the log records, for the age of a credential (undefined when none). */
export const lastRotation = (runbook: string): Date | undefined => {
  const entries = rotationEntries(runbook);
  return entries.length ? new Date(entries[entries.length - 1].date) : undefined;
};
