import { Messages } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { errorCodesSection } from '../../cli/exit-codes.js';
import { finishRun } from '../../cli/outcome.js';
import { assertCanPrompt } from '../../cli/prompt.js';
// The domain loads only when the command runs, so --help stays fast.
import type { MigrateResult, MigrateStage, MigrationAnalysis } from '../../migrate/run.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'integration.migrate');

export type { MigrateResult, MigrationAnalysis } from '../../migrate/run.js';

const STAGE_NAMES = ['read', 'analyze', 'plan', 'records', 'app', 'verify', 'documents', 'retire', 'report'] as const;
const stageOf = (s: MigrateStage): (typeof STAGE_NAMES)[number] => {
  if (s === 'read' || s === 'analyze' || s === 'plan' || s === 'app' || s === 'verify' || s === 'documents' || s === 'report') return s;
  if (s === 'old-tokens' || s === 'old-user') return 'retire';
  return 'records';
};

export default class IntegrationMigrate extends SfCommand<MigrateResult> {
  public static readonly summary = messages.getMessage('summary');
  public static readonly description = messages.getMessage('description');
  public static readonly examples = messages.getMessages('examples');
  public static readonly errorCodes = errorCodesSection(['Success', 'Failure', 'BadInput', 'Partial', 'Unreachable'], messages);

  public static readonly flags = {
    'target-org': Flags.requiredOrg(),
    'api-version': Flags.orgApiVersion(),
    'from-user': Flags.string({ summary: messages.getMessage('flags.from-user.summary'), required: true }),
    strategy: Flags.option({ summary: messages.getMessage('flags.strategy.summary'), options: ['new-user', 'in-place'] as const, default: 'new-user' as const })(),
    name: Flags.string({ char: 'n', summary: messages.getMessage('flags.name.summary') }),
    username: Flags.string({ summary: messages.getMessage('flags.username.summary') }),
    email: Flags.string({ summary: messages.getMessage('flags.email.summary') }),
    app: Flags.string({ summary: messages.getMessage('flags.app.summary') }),
    'private-key-file': Flags.file({ summary: messages.getMessage('flags.private-key-file.summary'), exists: true }),
    'keep-old-user': Flags.boolean({ summary: messages.getMessage('flags.keep-old-user.summary') }),
    'output-dir': Flags.directory({ char: 'd', summary: messages.getMessage('flags.output-dir.summary') }),
    wait: Flags.integer({ char: 'w', summary: messages.getMessage('flags.wait.summary'), min: 0, max: 30, default: 0 }),
    'dry-run': Flags.boolean({ summary: messages.getMessage('flags.dry-run.summary') }),
    'no-prompt': Flags.boolean({ char: 'p', summary: messages.getMessage('flags.no-prompt.summary') }),
  };

  public async run(): Promise<MigrateResult> {
    const { flags } = await this.parse(IntegrationMigrate);
    // --json does not answer the prompt: without a terminal, a run that writes needs --no-prompt.
    assertCanPrompt({ command: 'sf integration migrate', noPrompt: flags['no-prompt'], willAsk: !flags['dry-run'] });
    const [{ runMigrate }, { Stages }, render] = await Promise.all([import('../../migrate/run.js'), import('../../report/stages.js'), import('../../plan/render.js')]);
    const org = flags['target-org'];
    const mso = await Stages.start({
      stages: [...STAGE_NAMES],
      title: `Migrating ${flags['from-user']} (${flags.strategy})`,
      jsonEnabled: this.jsonEnabled(),
      lines: { start: (stage) => `${stage}...`, done: (stage, duration) => `${stage} done (${duration})`, failed: (stage) => `${stage} failed` },
      write: (line) => this.log(line),
    });
    let outcome;
    try {
      outcome = await runMigrate(org, {
        fromUser: flags['from-user'],
        strategy: flags.strategy,
        name: flags.name,
        username: flags.username,
        email: flags.email,
        appName: flags.app,
        privateKeyFile: flags['private-key-file'],
        keepOldUser: flags['keep-old-user'],
        outputDir: flags['output-dir'],
        dryRun: flags['dry-run'],
        waitMinutes: flags.wait,
        targetOrgAlias: org.getUsername() ?? '',
        apiVersion: flags['api-version'],
        stage: (s) => mso.goTo(stageOf(s)),
        confirm: flags['no-prompt']
          ? undefined
            : async (plan, a): Promise<boolean> => {
                mso.stop('completed');
                return this.confirm({ message: messages.getMessage('prompt.apply', [a.username, a.license, flags.strategy, render.planLines(plan.steps).join('\n')]) });
              },
      });
    } catch (e) {
      mso.error();
      throw e;
    }
    mso.stop(outcome.failed ? 'failed' : 'completed');
    this.renderAnalysis(outcome.result.analysis);
    this.table({
      data: render.stepRows(outcome.result.steps),
      columns: render.STEP_COLUMNS,
      title: messages.getMessage(outcome.result.dryRun ? 'info.planTitle' : 'info.stepsTitle'),
    });
    if (outcome.declined) {
      this.log(messages.getMessage('info.declined'));
      return outcome.result;
    }
    if (!outcome.result.dryRun && !outcome.failed) {
      const r = outcome.result;
      this.table({
        data: [
          { input: 'Consumer Key', value: r.consumerKey ?? '' },
          { input: 'Salesforce Username', value: r.username },
          { input: 'Login URL', value: r.loginUrl },
          { input: 'Audience', value: r.audience },
          ...(r.runbookFile ? [{ input: 'Runbook', value: r.runbookFile }] : []),
        ],
        columns: ['input', 'value'],
        title: messages.getMessage('info.valuesTitle'),
      });
    }
    return finishRun(outcome, { messages, warn: (m) => this.warn(m) });
  }

  private renderAnalysis(a: MigrationAnalysis): void {
    const rows = [
      ...a.objects.map((o) => ({
        access: o.object,
        grants: (['read', 'create', 'edit', 'delete', 'viewAll', 'modifyAll'] as const).filter((k) => o[k]).join(','),
        via: o.via.join(', '),
      })),
      ...a.fields.map((f) => ({ access: f.field, grants: [f.read ? 'read' : '', f.edit ? 'edit' : ''].filter(Boolean).join(','), via: f.via.join(', ') })),
      ...a.systemPermissions.map((p) => ({ access: p.name, grants: 'system permission', via: p.via.join(', ') })),
    ];
    this.table({ data: rows, columns: ['access', 'grants', 'via'], title: messages.getMessage('info.analysisTitle', [a.username, a.license, a.profile]) });
    if (a.dropped.length) {
      this.table({
        data: a.dropped.map((d) => ({ dropped: d.name, reason: d.reason === 'license' ? 'the Integration license does not allow it' : 'privileged: not carried', via: d.via.join(', ') })),
        columns: ['dropped', 'reason', 'via'],
        title: messages.getMessage('info.droppedTitle'),
      });
    } else this.log(messages.getMessage('info.nothingDropped'));
    if (a.app) {
      const tokens = a.tokens.map((t) => t.appName).join(', ') || 'none';
      this.log(messages.getMessage('info.app', [a.app.name, a.app.kind, a.app.preAuthorizedVia.join(', ') || '-', a.app.runAs ? '; run-as user' : '', tokens]));
    }
    const s = a.seatFreed;
    const i = a.integrationSeat;
    if (s) this.log(messages.getMessage('info.seat', [s.license, s.used, s.total, s.after, i?.used ?? '-', i?.total ?? '-', i?.after ?? '-']));
    else this.log(messages.getMessage('info.noSeat'));
  }
}
