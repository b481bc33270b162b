/*
 * Progress for multi-step work. On a terminal: MultiStageOutput, redrawn in place. Without one (a pipe, `| tee`,
 * a CI log) or under CI=true: one plain line as each stage starts and one as it ends, never a redraw frame or a
 * cursor escape, so a log reads top to bottom. Nothing at all with --json.
 */
import type { MultiStageOutput } from '@oclif/multi-stage-output';

export type StagesOptions = {
  title: string;
  stages: string[];
  jsonEnabled: boolean;
  /** Defaults to the process's stdout and environment. */
  interactive?: boolean;
  /** Words for the plain lines: `start`, `done` and `failed` take the stage title (and `done` its duration). */
  lines: { start(stage: string): string; done(stage: string, duration: string): string; failed(stage: string): string };
  /** A count shown under one stage (revocations done of all): redrawn on a terminal, a line per tenth without one. */
  counter?: { stage: string; label: string; line(done: number, total: number): string };
  /** Where plain lines go (the command's stdout). */
  write(line: string): void;
};

const truthy = (v: string | undefined): boolean => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';

/** A terminal that can be redrawn: stdout is a TTY and this is not a CI run. */
export const isInteractive = (env: NodeJS.ProcessEnv = process.env, tty = Boolean(process.stdout.isTTY)): boolean =>
  tty && !truthy(env.CI) && !truthy(env.CONTINUOUS_INTEGRATION);

export const formatDuration = (ms: number): string => (ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(2)}s`);

export class Stages {
  private mso?: MultiStageOutput<Record<string, unknown>>;
  private current?: { stage: string; since: number };
  private stopped = false;
  private lastTenth = -1;

  private constructor(private readonly opts: StagesOptions) {}

  public static async start(opts: StagesOptions): Promise<Stages> {
    const stages = new Stages(opts);
    if (opts.jsonEnabled) return stages;
    if (opts.interactive ?? isInteractive()) {
      const { MultiStageOutput: Mso } = await import('@oclif/multi-stage-output');
      stages.mso = new Mso<Record<string, unknown>>({
        stages: opts.stages,
        title: opts.title,
        jsonEnabled: false,
        ...(opts.counter
          ? { stageSpecificBlock: [{ stage: opts.counter.stage, type: 'dynamic-key-value' as const, label: opts.counter.label, get: (d?: Record<string, unknown>): string | undefined => d?.count as string | undefined }] }
          : {}),
      });
    } else {
      opts.write(opts.title);
    }
    return stages;
  }

  /** Moves to `stage` (stages in between are skipped); the stage before it ends as done. */
  public goTo(stage: string): void {
    if (this.stopped || this.current?.stage === stage) return;
    this.endCurrent('done');
    this.current = { stage, since: performance.now() };
    if (this.mso) this.mso.skipTo(stage);
    else if (!this.opts.jsonEnabled) this.opts.write(this.opts.lines.start(stage));
  }

  /** Moves the counter: `done` of `total`. Without a terminal, one line at the start, at each tenth and at the end. */
  public count(done: number, total: number): void {
    if (this.stopped || !this.opts.counter || this.opts.jsonEnabled) return;
    if (this.mso) {
      this.mso.updateData({ count: `${done}/${total}` });
      return;
    }
    const tenth = (n: number): number => (total ? Math.floor((n * 10) / total) : 10);
    if (done === 0 || done === total || tenth(done) !== this.lastTenth) this.opts.write(this.opts.counter.line(done, total));
    this.lastTenth = tenth(done);
  }

  public stop(status: 'completed' | 'failed'): void {
    if (this.stopped) return;
    this.endCurrent(status === 'completed' ? 'done' : 'failed');
    this.stopped = true;
    this.mso?.stop(status);
  }

  public error(): void {
    this.stop('failed');
  }

  private endCurrent(how: 'done' | 'failed'): void {
    const c = this.current;
    this.current = undefined;
    if (!c || this.mso !== undefined || this.opts.jsonEnabled) return;
    const { lines } = this.opts;
    this.opts.write(how === 'done' ? lines.done(c.stage, formatDuration(performance.now() - c.since)) : lines.failed(c.stage));
  }
}
