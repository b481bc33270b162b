import { Messages } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { errorCodesSection } from '../../cli/exit-codes.js';
import { finishRun } from '../../cli/outcome.js';
// The domain loads only when the command runs, so --help stays fast.
import type { RevokeResult, RevokeStage } from '../../revoke/run.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'integration.revoke');

export type { RevokeResult } from '../../revoke/run.js';

const STAGE_KEYS: RevokeStage[] = ['read', 'block', 'users', 'revoke', 'verify'];
const stageTitle = (s: RevokeStage): string => messages.getMessage(`stage.${s}`);
/** Rows of the human tables; --json carries every one. */
const MAX_ROWS = 50;

export default class IntegrationRevoke extends SfCommand<RevokeResult> {
  public static readonly summary = messages.getMessage('summary');
  public static readonly description = messages.getMessage('description');
  public static readonly examples = messages.getMessages('examples');
  public static readonly errorCodes = errorCodesSection(['Success', 'Failure', 'BadInput', 'Partial', 'Unreachable'], messages);

  public static readonly flags = {
    'target-org': Flags.requiredOrg(),
    'api-version': Flags.orgApiVersion(),
    app: Flags.string({ char: 'a', summary: messages.getMessage('flags.app.summary'), multiple: true }),
    user: Flags.string({ char: 'u', summary: messages.getMessage('flags.user.summary'), multiple: true }),
    // No default: without the flag, last use does not narrow the selection.
    // eslint-disable-next-line sf-plugin/flag-min-max-default
    'unused-days': Flags.integer({ summary: messages.getMessage('flags.unused-days.summary'), min: 0 }),
    'not-installed': Flags.boolean({ summary: messages.getMessage('flags.not-installed.summary') }),
    block: Flags.boolean({ summary: messages.getMessage('flags.block.summary') }),
    'freeze-user': Flags.boolean({ summary: messages.getMessage('flags.freeze-user.summary') }),
    'deactivate-user': Flags.boolean({ summary: messages.getMessage('flags.deactivate-user.summary') }),
    'dry-run': Flags.boolean({ summary: messages.getMessage('flags.dry-run.summary') }),
    'no-prompt': Flags.boolean({ summary: messages.getMessage('flags.no-prompt.summary') }),
    concurrency: Flags.integer({ summary: messages.getMessage('flags.concurrency.summary'), min: 1, max: 25, default: 8 }),
  };

  public async run(): Promise<RevokeResult> {
    const { flags } = await this.parse(IntegrationRevoke);
    const [{ runRevoke, assertSelection }, { Stages }, render, { assertCanPrompt }] = await Promise.all([
      import('../../revoke/run.js'),
      import('../../report/stages.js'),
      import('../../plan/render.js'),
      import('../../cli/prompt.js'),
    ]);
    const opts = {
      selection: { apps: flags.app ?? [], users: flags.user ?? [], unusedDays: flags['unused-days'], notInstalled: flags['not-installed'] },
      block: flags.block,
      freezeUser: flags['freeze-user'],
      deactivateUser: flags['deactivate-user'],
      dryRun: flags['dry-run'],
    };
    // Before anything is read: the flags make a selection, and a prompt can be answered.
    assertSelection(opts);
    assertCanPrompt({ command: 'sf integration revoke', noPrompt: flags['no-prompt'], willAsk: !flags['dry-run'] });
    const org = flags['target-org'];
    const stagesOf = (keys: RevokeStage[]): Parameters<typeof Stages.start>[0] => ({
      stages: keys.map(stageTitle),
      title: messages.getMessage('title', [org.getUsername() ?? '']),
      jsonEnabled: this.jsonEnabled(),
      lines: {
        start: (stage) => messages.getMessage('progress.start', [stage]),
        done: (stage, duration) => messages.getMessage('progress.done', [stage, duration]),
        failed: (stage) => messages.getMessage('progress.failed', [stage]),
      },
      write: (line) => this.log(line),
      counter: { stage: stageTitle('revoke'), label: messages.getMessage('progress.countLabel'), line: (done, total) => messages.getMessage('progress.count', [done, total]) },
    });
    let mso = await Stages.start(stagesOf(STAGE_KEYS));
    let outcome;
    try {
      outcome = await runRevoke(
        org,
        {
          ...opts,
          confirm: async (prompt) => {
            if (flags['no-prompt']) return true;
            // The prompt takes the terminal: the progress of the writes starts afresh once it is answered.
            mso.stop('completed');
            const yes = await this.confirm({ message: prompt });
            if (yes) mso = await Stages.start(stagesOf(STAGE_KEYS.slice(1)));
            return yes;
          },
          targetOrg: org.getUsername() ?? '',
          apiVersion: flags['api-version'],
          concurrency: flags.concurrency,
          progress: { stage: (s) => mso.goTo(stageTitle(s)), count: (done, total) => mso.count(done, total) },
        },
        (plan) => render.planLines(plan.steps)
      );
    } catch (e) {
      mso.error();
      throw e;
    }
    mso.stop(outcome.exitCode === 0 ? 'completed' : 'failed');
    this.render(outcome.result, render);
    return finishRun(outcome, { messages, warn: (m) => this.warn(m), stepFailed: (failure) => messages.createError('error.StepFailed', [failure?.error ?? '']) });
  }

  private render(result: RevokeResult, render: typeof import('../../plan/render.js')): void {
    const s = result.summary;
    if (s.tokens === 0 && !result.steps.some((step) => step.name !== 'revoke-tokens')) {
      this.log(messages.getMessage('info.nothing'));
      return;
    }
    this.table({ data: render.stepRows(result.steps), columns: render.STEP_COLUMNS, title: messages.getMessage(result.dryRun ? 'info.planTitle' : 'info.stepsTitle') });
    if (s.tokens) {
      this.table({
        data: result.apps.map((a) => ({ app: a.app, kind: a.appKind, tokens: a.tokens, users: a.users, lastUsed: a.lastUsed?.slice(0, 10) ?? '', revoked: a.revoked, alreadyGone: a.alreadyGone, failed: a.failed })),
        columns: result.dryRun ? ['app', 'kind', 'tokens', 'users', 'lastUsed'] : ['app', 'kind', 'tokens', 'users', 'lastUsed', 'revoked', 'alreadyGone', 'failed'],
        title: messages.getMessage('info.appsTitle'),
      });
      const rows = result.connections.slice(0, MAX_ROWS).map((c) => ({ app: c.app, user: c.username, tokens: c.tokens, lastUsed: c.lastUsed?.slice(0, 10) ?? '', error: c.error ?? '' }));
      this.table({ data: rows, columns: result.dryRun || !s.failed ? ['app', 'user', 'tokens', 'lastUsed'] : ['app', 'user', 'tokens', 'lastUsed', 'error'], title: messages.getMessage('info.connectionsTitle') });
      if (result.connections.length > MAX_ROWS) this.log(messages.getMessage('info.more', [result.connections.length - MAX_ROWS]));
    }
    if (result.declined) {
      this.log(messages.getMessage('info.declined'));
      return;
    }
    if (!result.dryRun) {
      this.log(messages.getMessage('info.summary', [s.tokens, s.users, s.apps, s.revoked, s.alreadyGone, s.failed, s.pending]));
      if (s.remaining !== undefined) this.log(messages.getMessage('info.remaining', [s.remaining]));
    }
    result.notes.forEach((n) => this.log(n));
  }
}
