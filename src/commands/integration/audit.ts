import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Messages, Org } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { ExitCode, errorCodesSection } from '../../cli/exit-codes.js';
import { pipeJson } from '../../report/json-stream.js';
import type { Baseline } from '../../audit/run.js';
import type { AuditResult, OrgAudit } from '../../audit/types.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'integration.audit');

/** Bad input: exit 2, before anything is read from an org. */
const badInput = (key: string, tokens: string[] = []): Error => {
  const err = messages.createError(key, tokens);
  err.exitCode = ExitCode.BadInput;
  return err;
};

/** Where the report goes, checked before the org is read, so a bad path does not cost the audit. */
const checkOutput = async (format: string, outputDir: string | undefined, outputFile: string | undefined): Promise<void> => {
  if (format === 'csv' && !outputDir) throw badInput('error.OutputDirRequired');
  if (format === 'html' && !outputFile) throw badInput('error.OutputFileRequired');
  if (format === 'csv' && outputFile) throw badInput('error.OutputFileWithCsv');
  const { assertWritableDir, assertWritableFile } = await import('../../cli/output.js');
  if (outputFile) await assertWritableFile(outputFile);
  if (format === 'csv' && outputDir) await assertWritableDir(outputDir);
};

/** The rotation logs of the --runbook files, read before the org is: a file that cannot be read is bad input. */
const readRotations = async (files: string[]): Promise<Array<{ date: string; before: string; after: string }>> => {
  const { rotationEntries } = await import('../../rotate/runbook.js');
  const logs = await Promise.all(
    files.map((file) =>
      readFile(file, 'utf8').then(rotationEntries, (e: Error) => {
        throw badInput('error.RunbookUnreadable', [file, e.message]);
      })
    )
  );
  return logs.flat();
};

export type { AuditResult, AuditApp, AuditFinding, AuditIdentity, ConnectedUser, OrgAudit } from '../../audit/types.js';

export default class IntegrationAudit extends SfCommand<AuditResult> {
  public static readonly summary = messages.getMessage('summary');
  public static readonly description = messages.getMessage('description');
  public static readonly examples = messages.getMessages('examples');
  public static readonly errorCodes = errorCodesSection(['Success', 'Failure', 'BadInput', 'Unreachable'], messages);

  public static readonly flags = {
    'target-org': Flags.string({ char: 'o', summary: messages.getMessage('flags.target-org.summary'), multiple: true }),
    'api-version': Flags.orgApiVersion(),
    'unused-days': Flags.integer({ summary: messages.getMessage('flags.unused-days.summary'), default: 90, min: 1 }),
    'max-credential-age': Flags.integer({ summary: messages.getMessage('flags.max-credential-age.summary'), default: 365, min: 1 }),
    baseline: Flags.file({ summary: messages.getMessage('flags.baseline.summary'), exists: true }),
    'fail-on': Flags.option({ summary: messages.getMessage('flags.fail-on.summary'), options: ['high', 'medium', 'low', 'new'] as const })(),
    'result-format': Flags.option({
      char: 'r',
      summary: messages.getMessage('flags.result-format.summary'),
      options: ['human', 'json', 'csv', 'html'] as const,
      default: 'human' as const,
    })(),
    'output-dir': Flags.directory({ summary: messages.getMessage('flags.output-dir.summary') }),
    'output-file': Flags.file({ summary: messages.getMessage('flags.output-file.summary') }),
    runbook: Flags.file({ summary: messages.getMessage('flags.runbook.summary'), multiple: true }),
  };

  public async run(): Promise<AuditResult> {
    const { flags } = await this.parse(IntegrationAudit);
    await checkOutput(flags['result-format'], flags['output-dir'], flags['output-file']);
    // Every precondition before the first read: the baseline file parses as an audit --json result.
    let baseline: Baseline | undefined;
    if (flags.baseline) {
      try {
        const parsed = JSON.parse(await readFile(flags.baseline, 'utf8')) as { result?: Baseline } & Baseline;
        baseline = parsed.result ?? parsed;
        if (!Array.isArray(baseline.orgs) && !Array.isArray(baseline.findings)) throw new Error('no findings');
      } catch (e) {
        throw badInput('error.BadBaseline', [flags.baseline, (e as Error).message]);
      }
    }
    if (flags['fail-on'] === 'new' && !baseline) throw badInput('error.NewNeedsBaseline');
    const rotations = await readRotations(flags.runbook ?? []);
    const names = flags['target-org']?.length ? flags['target-org'] : [undefined];
    let orgs: Array<{ org: Org; name: string }>;
    try {
      orgs = await Promise.all(names.map(async (aliasOrUsername) => {
        const org = await Org.create({ aliasOrUsername });
        return { org, name: aliasOrUsername ?? org.getUsername() ?? '' };
      }));
    } catch (e) {
      if (!flags['target-org']?.length) throw messages.createError('error.NoOrg');
      throw e;
    }
    const { auditOrg, combine } = await import('../../audit/run.js');
    const opts = { unusedDays: flags['unused-days'], maxCredentialAgeDays: flags['max-credential-age'], now: new Date(), apiVersion: flags['api-version'], baseline, rotations };
    let unreachable = false;
    const audits = (
      await Promise.all(
        orgs.map(async ({ org, name }) => {
          try {
            return await auditOrg(org, name, opts);
          } catch (e) {
            unreachable = true;
            this.warn(messages.getMessage('error.OrgUnreachable', [name, (e as Error).message]));
            return undefined;
          }
        })
      )
    ).filter((a): a is OrgAudit => a !== undefined);
    const result = combine(audits, flags['fail-on']);
    await this.render(result, flags['result-format'], flags['output-dir'], flags['output-file']);
    if (unreachable) process.exitCode = ExitCode.Unreachable;
    else if (result.failed) process.exitCode = 1;
    return result;
  }

  /**
   * The --json envelope. Without a terminal there is nothing to colour, and the CLI's colouring splits the whole text
   * into one object per token (on a 50,000-token org, about 1 GB): the same text is written straight through instead,
   * in pieces as the pipe takes them, never as one 40 MB string nor as 40 MB queued on stdout.
   */
  public logJson(json: unknown): void {
    if (process.stdout.isTTY) {
      super.logJson(json);
      return;
    }
    void pipeJson(process.stdout, json);
  }

  private async render(result: AuditResult, format: 'human' | 'json' | 'csv' | 'html', outputDir: string | undefined, outputFile: string | undefined): Promise<void> {
    if (outputFile) {
      const text =
        format === 'html'
          ? (await import('../../report/audit-html.js')).auditHtml(result)
          : format === 'json'
          ? `${JSON.stringify(result, null, 2)}\n`
          : `${(await import('../../report/audit-human.js')).auditText(result.orgs)}\n`;
      await writeFile(outputFile, text);
      this.log(messages.getMessage('info.written', [outputFile]));
      return;
    }
    if (format === 'csv' && outputDir) {
      const files = (await import('../../audit/csv.js')).auditCsv(result);
      await mkdir(outputDir, { recursive: true });
      await Promise.all(Object.entries(files).map(([name, text]) => writeFile(join(outputDir, name), text)));
      this.log(messages.getMessage('info.written', [Object.keys(files).map((f) => join(outputDir, f)).join(', ')]));
      return;
    }
    if (format === 'json') {
      if (!this.jsonEnabled()) await pipeJson(process.stdout, result);
      return;
    }
    if (this.jsonEnabled()) return;
    const h = await import('../../report/audit-human.js');
    for (const a of result.orgs) {
      for (const line of h.auditSummaryLines(a)) this.log(line);
      if (a.findings.length) {
        this.styledHeader(messages.getMessage('info.findings'));
        this.table({ data: h.findingRows(a), columns: ['severity', 'id', 'nhi', 'subject', 'finding', 'fix'] });
      }
      this.styledHeader(messages.getMessage('info.apps'));
      this.table({ data: h.appRows(a), columns: ['app', 'kind', 'owner', 'flows', 'tokens', 'users', 'lastUsed'] });
      if (a.identities.length) {
        this.styledHeader(messages.getMessage('info.identities'));
        this.table({ data: h.identityRows(a), columns: ['user', 'license', 'state', 'logins', 'dangerous', 'apps'] });
      }
      for (const f of a.readFailures) this.warn(messages.getMessage('info.readFailure', [f.query, f.errorCode, f.message]));
    }
  }
}
