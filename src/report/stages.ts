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

  private constructor(private readonly opts: StagesOptions) {}

  public static async start(opts: StagesOptions): Promise<Stages> {
    const stages = new Stages(opts);
    if (opts.jsonEnabled) return stages;
    if (opts.interactive ?? isInteractive()) {
      const { MultiStageOutput: Mso } = await import('@oclif/multi-stage-output');
      stages.mso = new Mso<Record<string, unknown>>({ stages: opts.stages, title: opts.title, jsonEnabled: false });
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
