import { Messages } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { asBadInput, badInput, errorCodesSection } from '../../cli/exit-codes.js';
import { finishRun } from '../../cli/outcome.js';
// The domain (node-forge, jszip, the XML parser) loads only when the command runs, so --help stays fast.
import type { CreateResult, CreateStage, Progress } from '../../create/run.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'integration.create');

export type { CreateResult } from '../../create/run.js';

const STAGE_KEYS = ['read', 'validate', 'certificate', 'records', 'app', 'verify', 'report'] as const;
const STAGES = STAGE_KEYS.map((k) => messages.getMessage(`stage.${k}`));
const RECORD_STEPS: readonly CreateStage[] = ['user', 'permission-set-license', 'permission-set', 'object-permissions', 'field-permissions', 'permission-set-assignment'];
const stageOf = (s: CreateStage): string =>
  messages.getMessage(`stage.${RECORD_STEPS.includes(s) ? 'records' : s === 'license' ? 'validate' : s === 'documents' ? 'report' : s}`);

export default class IntegrationCreate extends SfCommand<CreateResult> {
  public static readonly summary = messages.getMessage('summary');
  public static readonly description = messages.getMessage('description');
  public static readonly examples = messages.getMessages('examples');
  public static readonly errorCodes = errorCodesSection(['Success', 'Failure', 'BadInput', 'Partial', 'Unreachable', 'Interrupted'], messages);

  public static readonly flags = {
    'target-org': Flags.requiredOrg(),
    'api-version': Flags.orgApiVersion(),
    name: Flags.string({ char: 'n', summary: messages.getMessage('flags.name.summary') }),
    flow: Flags.option({
      summary: messages.getMessage('flags.flow.summary'),
      description: messages.getMessage('flags.flow.description'),
      options: ['jwt', 'client-credentials'] as const,
    })(),
    'app-type': Flags.option({
      summary: messages.getMessage('flags.app-type.summary'),
      description: messages.getMessage('flags.app-type.description'),
      options: ['external-client-app', 'connected-app'] as const,
    })(),
    username: Flags.string({ summary: messages.getMessage('flags.username.summary') }),
    email: Flags.string({ summary: messages.getMessage('flags.email.summary') }),
    object: Flags.string({ summary: messages.getMessage('flags.object.summary'), multiple: true }),
    field: Flags.string({ summary: messages.getMessage('flags.field.summary'), multiple: true }),
    'system-permission': Flags.string({ summary: messages.getMessage('flags.system-permission.summary'), multiple: true }),
    spec: Flags.file({ summary: messages.getMessage('flags.spec.summary'), exists: true }),
    'output-dir': Flags.directory({ char: 'd', summary: messages.getMessage('flags.output-dir.summary') }),
    'private-key-file': Flags.file({ summary: messages.getMessage('flags.private-key-file.summary') }),
    'certificate-file': Flags.file({ summary: messages.getMessage('flags.certificate-file.summary') }),
    // Range checked with the rest of the desired state (src/desired), so a spec file's value is checked the same way.
    'cert-validity-days': Flags.integer({ summary: messages.getMessage('flags.cert-validity-days.summary') }),
    'key-size': Flags.option({ summary: messages.getMessage('flags.key-size.summary'), options: ['2048', '3072', '4096'] as const })(),
    'refresh-token-policy': Flags.string({ summary: messages.getMessage('flags.refresh-token-policy.summary') }),
    'ip-relaxation': Flags.string({ summary: messages.getMessage('flags.ip-relaxation.summary') }),
    'allow-privileged': Flags.boolean({ summary: messages.getMessage('flags.allow-privileged.summary') }),
    wait: Flags.integer({ char: 'w', summary: messages.getMessage('flags.wait.summary'), min: 0, max: 30, default: 0 }),
    verify: Flags.boolean({ summary: messages.getMessage('flags.verify.summary'), default: true, allowNo: true }),
    'dry-run': Flags.boolean({ summary: messages.getMessage('flags.dry-run.summary') }),
    'replace-credentials': Flags.boolean({ summary: messages.getMessage('flags.replace-credentials.summary') }),
  };

  public async run(): Promise<CreateResult> {
    // Every flag error (an option not offered, a number out of range) is bad input: exit 2.
    const { flags } = await this.parse(IntegrationCreate).catch(badInput);
    const [{ runCreate }, { readSpecFile }, { Stages }, render, { interruptible }] = await Promise.all([
      import('../../create/run.js'),
      import('../../desired/index.js'),
      import('../../report/stages.js'),
      import('../../plan/render.js'),
      import('../../cli/interrupt.js'),
    ]);
    if (!flags.verify && flags.wait > 0) this.warn(messages.getMessage('warn.WaitWithoutVerify'));
    const specFile = flags.spec ? await asBadInput(() => readSpecFile(flags.spec as string)) : undefined;
    const org = flags['target-org'];
    const mso = await Stages.start({
      stages: STAGES,
      title: messages.getMessage('title', [flags.name ?? flags.spec ?? '']),
      jsonEnabled: this.jsonEnabled(),
      lines: {
        start: (stage) => messages.getMessage('progress.start', [stage]),
        done: (stage, duration) => messages.getMessage('progress.done', [stage, duration]),
        failed: (stage) => messages.getMessage('progress.failed', [stage]),
      },
      write: (line) => this.log(line),
    });
    const progress: Progress = {
      stage: (s) => mso.goTo(stageOf(s)),
      warn: (m) => this.warn(m),
    };
    let outcome;
    try {
      // Ctrl-C prints the step table (done / pending, and whether anything reached the org) and exits 130.
      outcome = await interruptible((observer) =>
        runCreate(org, {
          input: {
            name: flags.name,
            flow: flags.flow,
            appType: flags['app-type'],
            username: flags.username,
            email: flags.email,
            objects: flags.object,
            fields: flags.field,
            systemPermissions: flags['system-permission'],
            certValidityDays: flags['cert-validity-days'],
            keySize: flags['key-size'] ? Number(flags['key-size']) : undefined,
            privateKeyFile: flags['private-key-file'],
            certificateFile: flags['certificate-file'],
            refreshTokenPolicy: flags['refresh-token-policy'],
            ipRelaxation: flags['ip-relaxation'],
            allowPrivileged: flags['allow-privileged'],
            specFile,
          },
          outputDir: flags['output-dir'],
          dryRun: flags['dry-run'],
          verify: flags.verify,
          waitMinutes: flags.wait,
          targetOrgAlias: org.getUsername() ?? '',
          apiVersion: flags['api-version'],
          progress,
          replaceCredentials: flags['replace-credentials'],
          observer,
        })
      );
    } catch (e) {
      mso.error();
      throw e;
    }
    mso.stop(outcome.failed ? 'failed' : 'completed');
    this.table({
      data: render.stepRows(outcome.result.steps),
      columns: render.STEP_COLUMNS,
      title: messages.getMessage(outcome.result.dryRun ? 'info.planTitle' : 'info.stepsTitle'),
    });
    await this.render(outcome.result, outcome.failed);
    return finishRun(outcome, { messages, warn: (m) => this.warn(m) });
  }

  private async render(result: CreateResult, failed: boolean): Promise<void> {
    if (result.dryRun || failed) return;
    const values = [
      { input: 'Consumer Key', value: result.consumerKey ?? '' },
      { input: 'Salesforce Username', value: result.username },
      ...(result.privateKeyFile ? [{ input: 'Private Key', value: `${result.privateKeyFile} (base64, one line)` }] : []),
      ...(result.consumerSecretFile ? [{ input: 'Consumer Secret', value: `${result.consumerSecretFile} (mode 0600)` }] : []),
      { input: 'Subdomain', value: result.subdomain ?? '' },
      { input: 'Login URL', value: result.loginUrl },
      { input: 'Audience', value: result.audience },
      ...(result.runbookFile ? [{ input: 'Runbook', value: result.runbookFile }] : []),
    ];
    this.table({ data: values, columns: ['input', 'value'], title: messages.getMessage('info.valuesTitle') });
    if (result.privateKeyFile) {
      const { base64Commands } = await import('../../credentials/index.js');
      const linux = base64Commands(result.privateKeyFile).find((c) => c.platform === 'linux');
      if (linux) this.log(messages.getMessage('info.base64', [linux.command]));
    }
  }
}
