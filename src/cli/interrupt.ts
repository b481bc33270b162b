/*
 * Ctrl-C during a command that writes. Instead of an uncaught stack trace, the step table of what is done and
 * what is pending, from apply's journal as it stood, and whether any write reached the org; then exit 130 (the
 * shell's code for SIGINT). A second Ctrl-C while the table prints exits at once. A command runs its domain call
 * inside `interruptible` (create does), which installs it and feeds it the plan, the steps as they end, and the journal.
 */
import { Messages } from '@salesforce/core';
import { ExitCode } from './exit-codes.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'cli');

type StepLike = { id: string; subject: string };
type Ended = { name: string; status: string };
type Entry = { org: boolean; outcome: 'done' | 'failed' };

export type InterruptRow = { step: string; status: string; subject: string };

/** What a run has done, as the Ctrl-C table shows it. Pure: the handler below prints it. */
export class RunTracker {
  private steps: StepLike[] = [];
  private readonly ended = new Map<string, string>();
  private running?: string;
  private orgWrites = 0;

  public plan(steps: StepLike[]): void {
    this.steps = steps;
  }
  public stepStart(id: string): void {
    this.running = id;
  }
  public stepEnd(result: Ended): void {
    this.ended.set(result.name, result.status);
    if (this.running === result.name) this.running = undefined;
  }
  public journal(entry: Entry): void {
    if (entry.org && entry.outcome === 'done') this.orgWrites++;
  }

  /** Each step: how it ended, `interrupted` for the one running, `pending` for the rest. */
  public rows(): InterruptRow[] {
    return this.steps.map((s) => ({
      step: s.id,
      status: this.ended.get(s.id) ?? (this.running === s.id ? 'interrupted' : 'pending'),
      subject: s.subject,
    }));
  }

  /** The lines printed on Ctrl-C. */
  public lines(): string[] {
    if (!this.steps.length) return [messages.getMessage('info.interruptedBeforePlan')];
    const rows = this.rows();
    const width = Math.max(...rows.map((r) => r.step.length));
    const statusWidth = Math.max(...rows.map((r) => r.status.length));
    return [
      messages.getMessage('info.interruptedTitle'),
      ...rows.map((r) => `  ${r.step.padEnd(width)}  ${r.status.padEnd(statusWidth)}  ${r.subject}`),
      this.orgWrites
        ? messages.getMessage('info.interruptedPartial', [String(this.orgWrites)])
        : messages.getMessage('info.interruptedNothing'),
    ];
  }
}

/**
 * Installs the Ctrl-C (SIGINT, and SIGTERM from a CI runner) handler for one run: prints the tracker's table to
 * stderr and exits 130. Returns the function that removes it.
 */
export const onInterrupt = (tracker: RunTracker, write: (text: string) => void = (t): void => void process.stderr.write(t)): (() => void) => {
  let fired = false;
  const handler = (): void => {
    if (fired) process.exit(ExitCode.Interrupted);
    fired = true;
    write(`\n${tracker.lines().join('\n')}\n`);
    process.exit(ExitCode.Interrupted);
  };
  // First in line: sf-plugins-core's own handler throws oclif's exit error from inside the signal, which ends
  // the process with an uncaught stack trace before any later handler runs.
  process.prependListener('SIGINT', handler);
  process.prependListener('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
};

/** What a run tells the Ctrl-C table: the plan before apply starts, then every step and journal entry as it ends. */
export type RunObserver = {
  onPlan(plan: { steps: StepLike[] }): void;
  onStepStart(id: string): void;
  onStepEnd(result: Ended): void;
  onJournal(entry: Entry): void;
};

/**
 * Runs one writing command's domain call with Ctrl-C answered by the step table and exit 130 (onInterrupt): the
 * call is handed the observer that feeds the table, and the handler is removed however the call ends.
 */
export const interruptible = async <T>(run: (observer: RunObserver) => Promise<T>, write?: (text: string) => void): Promise<T> => {
  const tracker = new RunTracker();
  const remove = onInterrupt(tracker, write);
  try {
    return await run({
      onPlan: (plan) => tracker.plan(plan.steps),
      onStepStart: (id) => tracker.stepStart(id),
      onStepEnd: (r) => tracker.stepEnd(r),
      onJournal: (e) => tracker.journal(e),
    });
  } finally {
    remove();
  }
};
