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

/** The date of the last rotation the log records, for the age of a credential (undefined when none). */
export const lastRotation = (runbook: string): Date | undefined => {
  const at = runbook.indexOf(ROTATION_LOG_HEADING);
  if (at < 0) return undefined;
  const dates = [...runbook.slice(at).matchAll(/^\| (\d{4}-\d{2}-\d{2}T[^ |]+) \|/gm)].map((m) => new Date(m[1])).filter((d) => !Number.isNaN(d.getTime()));
  return dates.length ? new Date(Math.max(...dates.map((d) => d.getTime()))) : undefined;
};
