import { Messages } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { errorCodesSection } from '../../cli/exit-codes.js';
// The domain (node-forge, jszip, the XML parser) loads only when the command runs, so --help stays fast.
import type { RotateResult, RotateStage } from '../../rotate/run.js';
import type { Plan } from '../../plan/types.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'integration.rotate');

export type { RotateResult } from '../../rotate/run.js';

const STAGE_KEYS = ['read', 'validate', 'certificate', 'app', 'staged-credentials', 'verify', 'previous-key', 'revoke-tokens', 'retire-app', 'report'] as const;
const STAGES = STAGE_KEYS.map((k) => messages.getMessage(`stage.${k}`));
const stageOf = (s: RotateStage): string => messages.getMessage(`stage.${s === 'documents' ? 'report' : (STAGE_KEYS as readonly string[]).includes(s) ? s : 'validate'}`);

export default class IntegrationRotate extends SfCommand<RotateResult> {
  public static readonly summary = messages.getMessage('summary');
  public static readonly description = messages.getMessage('description');
  public static readonly examples = messages.getMessages('examples');
  public static readonly errorCodes = errorCodesSection(['Success', 'Failure', 'BadInput', 'Partial', 'Unreachable'], messages);

  public static readonly flags = {
    'target-org': Flags.requiredOrg(),
    'api-version': Flags.orgApiVersion(),
    name: Flags.string({ char: 'n', summary: messages.getMessage('flags.name.summary') }),
    'output-dir': Flags.directory({ char: 'd', summary: messages.getMessage('flags.output-dir.summary') }),
    username: Flags.string({ char: 'u', summary: messages.getMessage('flags.username.summary') }),
    'private-key-file': Flags.file({ summary: messages.getMessage('flags.private-key-file.summary'), exists: true }),
    'certificate-file': Flags.file({ summary: messages.getMessage('flags.certificate-file.summary'), exists: true }),
    'cert-validity-days': Flags.integer({ summary: messages.getMessage('flags.cert-validity-days.summary') }),
    'key-size': Flags.option({ summary: messages.getMessage('flags.key-size.summary'), options: ['2048', '3072', '4096'] as const })(),
    wait: Flags.integer({ char: 'w', summary: messages.getMessage('flags.wait.summary'), min: 0, max: 30, default: 0 }),
    rollback: Flags.boolean({ summary: messages.getMessage('flags.rollback.summary') }),
    'keep-previous': Flags.boolean({ summary: messages.getMessage('flags.keep-previous.summary') }),
    'revoke-previous': Flags.boolean({ summary: messages.getMessage('flags.revoke-previous.summary') }),
    strategy: Flags.option({ summary: messages.getMessage('flags.strategy.summary'), options: ['in-place', 'new-app'] as const, default: 'in-place' })(),
    'new-name': Flags.string({ summary: messages.getMessage('flags.new-name.summary') }),
    retire: Flags.string({ summary: messages.getMessage('flags.retire.summary') }),
    'unused-days': Flags.integer({ summary: messages.getMessage('flags.unused-days.summary'), min: 1, max: 3650, default: 30 }),
    force: Flags.boolean({ summary: messages.getMessage('flags.force.summary') }),
    'dry-run': Flags.boolean({ summary: messages.getMessage('flags.dry-run.summary') }),
    'no-prompt': Flags.boolean({ char: 'p', summary: messages.getMessage('flags.no-prompt.summary') }),
  };

  public async run(): Promise<RotateResult> {
    const { flags } = await this.parse(IntegrationRotate);
    const { assertCanPrompt } = await import('../../cli/prompt.js');
    // Before anything is read: without a terminal, a run that would ask refuses and says to pass --no-prompt.
    assertCanPrompt({ command: 'sf integration rotate', noPrompt: flags['no-prompt'] || this.jsonEnabled(), willAsk: !flags['dry-run'] });
    const [{ runRotate }, { Stages }, render] = await Promise.all([import('../../rotate/run.js'), import('../../report/stages.js'), import('../../plan/render.js')]);
    const org = flags['target-org'];
    const mso = await Stages.start({
      stages: STAGES,
      title: messages.getMessage('title', [flags.name ?? flags.retire ?? '']),
      jsonEnabled: this.jsonEnabled(),
      lines: {
        start: (stage) => messages.getMessage('progress.start', [stage]),
        done: (stage, duration) => messages.getMessage('progress.done', [stage, duration]),
        failed: (stage) => messages.getMessage('progress.failed', [stage]),
      },
      write: (line) => this.log(line),
    });
    const confirm = async (plan: Plan): Promise<boolean> => {
      if (flags['no-prompt'] || this.jsonEnabled()) return true;
      // The progress display ends here: a prompt cannot share the terminal with it.
      mso.stop('completed');
      return this.confirm({ message: messages.getMessage('prompt.apply', [flags.retire ?? flags.name ?? '', render.planLines(plan.steps).join('\n')]) });
    };
    let outcome;
    try {
      outcome = await runRotate(org, {
        appName: flags.name ?? '',
        outputDir: flags['output-dir'],
        username: flags.username,
        privateKeyFile: flags['private-key-file'],
        certificateFile: flags['certificate-file'],
        keySize: flags['key-size'] ? Number(flags['key-size']) : undefined,
        validityDays: flags['cert-validity-days'],
        waitMinutes: flags.wait,
        rollback: flags.rollback,
        keepPrevious: flags['keep-previous'],
        revokePrevious: flags['revoke-previous'],
        strategy: flags.strategy,
        newName: flags['new-name'],
        retire: flags.retire,
        unusedDays: flags['unused-days'],
        force: flags.force,
        dryRun: flags['dry-run'],
        apiVersion: flags['api-version'],
        confirm,
        progress: { stage: (s) => mso.goTo(stageOf(s)), warn: (m) => this.warn(m) },
      });
    } catch (e) {
      mso.error();
      throw e;
    }
    mso.stop(outcome.failed ? 'failed' : 'completed');
    const result = outcome.result;
    this.table({ data: render.stepRows(result.steps), columns: render.STEP_COLUMNS, title: messages.getMessage(result.dryRun ? 'info.planTitle' : 'info.stepsTitle') });
    if (outcome.cancelled) {
      this.log(messages.getMessage('info.cancelled'));
      return result;
    }
    if (!result.dryRun && !outcome.failed) await this.summary(result);
    const { finishRun } = await import('../../cli/outcome.js');
    return finishRun(outcome, { messages, warn: (m) => this.warn(m) });
  }

  private async summary(result: RotateResult): Promise<void> {
    if (result.strategy === 'retire') {
      this.log(result.retired && result.revokedTokens === undefined ? messages.getMessage('info.retireNothing', [result.appName]) : messages.getMessage('info.retired', [result.appName, result.revokedTokens ?? 0]));
      return;
    }
    if (result.strategy === 'new-app' && result.newAppName) this.log(messages.getMessage('info.newApp', [result.newAppName, result.newConsumerKey ?? '-']));
    if (result.flow === 'jwt') {
      if (result.previousCertificateFingerprint ?? result.certificateFingerprint) {
        this.log(messages.getMessage('info.fingerprints', [result.previousCertificateFingerprint ?? '-', result.certificateFingerprint ?? '-']));
      }
      if (result.privateKeyFile && !result.rolledBack) {
        const { base64Commands } = await import('../../credentials/index.js');
        const linux = base64Commands(result.privateKeyFile).find((c) => c.platform === 'linux');
        if (linux) this.log(messages.getMessage('info.base64', [linux.command]));
      }
      if (result.previousPrivateKeyFile) this.log(messages.getMessage('info.previousKept', [result.previousPrivateKeyFile]));
      return;
    }
    if (result.consumerSecretFile) {
      this.log(messages.getMessage('info.secretFile', [result.consumerSecretFile, messages.getMessage(result.previousRevoked ? 'info.previousRevoked' : 'info.previousValid')]));
    }
  }
}
