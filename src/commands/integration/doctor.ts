import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Interfaces } from '@oclif/core';
import { Messages, Org } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { asBadInput, badInput, errorCodesSection } from '../../cli/exit-codes.js';
// The domain and the renderers load only when the command runs, so --help stays fast.
import type { DoctorOptions, FixOptions } from '../../doctor/run.js';
import type { Plan } from '../../plan/types.js';
import type { DoctorResult, OrgFailure, OrgReport } from '../../doctor/types.js';
import type { LoadedSpecFile } from '../../desired/index.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'integration.doctor');

export type { DoctorResult, OrgReport } from '../../doctor/types.js';

/**
 * The orgs to check: each --target-org, or the default org. An org name nobody logged in to is bad input (exit 2),
 * like a misspelt flag, and is refused before any org is read; an org that is known but cannot be reached is that
 * org's outcome (checkOrgs).
 */
const resolveOrgs = async (targets: string[] | undefined): Promise<Array<{ org: Org; name: string }>> => {
  const names = targets?.length ? targets : [undefined];
  try {
    return await Promise.all(
      names.map(async (aliasOrUsername) => {
        const org = await Org.create({ aliasOrUsername });
        return { org, name: aliasOrUsername ?? org.getUsername() ?? '' };
      })
    );
  } catch (e) {
    if (!targets?.length) return badInput(messages.createError('error.NoOrg'));
    return badInput(e);
  }
};

/**
 * Every org checked concurrently; over several orgs each keeps its outcome: a report, or the error that stopped it.
 * One org alone throws its error, as a single-org command does.
 */
const checkOrgs = async (
  orgs: Array<{ org?: Org; name: string; error?: unknown }>,
  diagnose: (org: Org, name: string) => Promise<OrgReport>
): Promise<{ reports: OrgReport[]; orgFailures: OrgFailure[] }> => {
  const outcomes = await Promise.all(
    orgs.map(({ org, name, error }) =>
      (error || !org ? Promise.reject(error) : diagnose(org, name)).then(
        (report: OrgReport) => ({ report }),
        (e: unknown) => ({ failure: e, name })
      )
    )
  );
  const single = outcomes.length === 1 ? outcomes[0] : undefined;
  if (single && 'failure' in single) throw single.failure;
  return {
    reports: outcomes.flatMap((o) => ('report' in o ? [o.report] : [])),
    orgFailures: outcomes.flatMap((o) => ('failure' in o ? [orgFailure(o.name, o.failure)] : [])),
  };
};

/** An org's error as its outcome in the result: 69 means unreachable. */
const orgFailure = (targetOrg: string, e: unknown): OrgFailure => {
  const err = e as { name?: unknown; message?: unknown; exitCode?: unknown; actions?: unknown };
  return {
    targetOrg,
    unreachable: err?.exitCode === 69,
    error: typeof err?.name === 'string' ? err.name : 'Error',
    message: typeof err?.message === 'string' ? err.message : String(e),
    ...(Array.isArray(err?.actions) && err.actions.length ? { actions: err.actions.map(String) } : {}),
  };
};

/** 69 when an org could not be reached, else 68 when a repair stopped half way, else 1 when anything failed. */
const exitCodeOf = (orgFailures: OrgFailure[], partial: boolean, failed: boolean): number | undefined => {
  if (orgFailures.some((f) => f.unreachable)) return 69;
  if (partial) return 68;
  return failed ? 1 : process.exitCode === undefined ? undefined : Number(process.exitCode);
};

/** An org that could not be checked, in words: its error and what to do. */
const orgFailureLines = (failure: OrgFailure): string[] => [
  messages.getMessage(failure.unreachable ? 'info.orgUnreachable' : 'info.orgFailed', [failure.message]),
  ...(failure.actions ?? []).map((a) => `  ${a}`),
];

/** The human report as plain text, for --output-file. */
const humanText = async (result: DoctorResult): Promise<string[]> => {
  const [{ humanExplanation, humanReport }, { stepRows }] = await Promise.all([import('../../report/doctor-human.js'), import('../../plan/render.js')]);
  const lines: string[] = [];
  for (const report of result.reports) {
    const r = humanReport(report, { unicode: false });
    lines.push(r.title, ...r.heading);
    for (const s of r.sections) lines.push('', s.title, ...s.rows.map((row) => `${row.status}  ${row.check}  ${row.finding}`), ...s.fixes);
    if (report.fixPlan) {
      lines.push('', messages.getMessage('info.fixPlanTitle'), ...stepRows(report.fixPlan).map((row) => `${row.step}  ${row.status}  ${row.subject}  ${row.changes}`));
    }
    lines.push(...r.applied, ...r.explanation, r.summary, '');
  }
  for (const failure of result.orgFailures ?? []) lines.push(messages.getMessage('info.orgFailedTitle', [failure.targetOrg]), ...orgFailureLines(failure), '');
  if (result.explanation) lines.push(...humanExplanation(result.explanation, { unicode: false }));
  return lines;
};

type Runbook = { file: string; rotations: Array<{ date: string; before: string; after: string }> };

/**
 * The runbook whose rotation log dates the app's credentials (credential-age): --runbook, else runbook.md where
 * create and rotate write it, in the first directory doctor knows of: the --spec file's or the --private-key-file's
 * (create writes the spec, the key pair and the runbook into one directory), else the one rotate uses by default
 * for --name (./NAME-integration). Only a --runbook given explicitly must exist: it is refused (exit 2) before any
 * org is read when it cannot be read.
 */
const readRunbook = async (
  explicit: string | undefined,
  appName: string | undefined,
  known: { specPath?: string; privateKeyFile?: string }
): Promise<Runbook | undefined> => {
  const { rotationEntries } = await import('../../rotate/runbook.js');
  if (explicit) {
    try {
      return { file: explicit, rotations: rotationEntries(await readFile(explicit, 'utf8')) };
    } catch (e) {
      return badInput(messages.createError('error.RunbookUnreadable', [explicit, (e as Error).message]));
    }
  }
  if (!appName) return undefined;
  const { defaultRotateDir } = await import('../../rotate/run.js');
  const beside = known.specPath ?? known.privateKeyFile;
  const file = join(beside ? dirname(beside) : defaultRotateDir(appName), 'runbook.md');
  const text = await readFile(file, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : { file, rotations: rotationEntries(text) };
};

export default class IntegrationDoctor extends SfCommand<DoctorResult> {
  public static readonly summary = messages.getMessage('summary');
  public static readonly description = messages.getMessage('description');
  public static readonly examples = messages.getMessages('examples');
  public static readonly errorCodes = errorCodesSection(['Success', 'Failure', 'BadInput', 'Partial', 'Unreachable'], messages);

  public static readonly flags = {
    // Repeatable, unlike Flags.requiredOrg: consultants check several orgs in one run.
    'target-org': Flags.string({ char: 'o', summary: messages.getMessage('flags.target-org.summary'), multiple: true }),
    'api-version': Flags.orgApiVersion(),
    name: Flags.string({ char: 'n', summary: messages.getMessage('flags.name.summary') }),
    username: Flags.string({ char: 'u', summary: messages.getMessage('flags.username.summary') }),
    'client-id': Flags.string({ char: 'i', summary: messages.getMessage('flags.client-id.summary') }),
    'private-key-file': Flags.file({ char: 'f', summary: messages.getMessage('flags.private-key-file.summary'), exists: true }),
    'client-secret-env': Flags.string({ summary: messages.getMessage('flags.client-secret-env.summary') }),
    flow: Flags.option({ summary: messages.getMessage('flags.flow.summary'), options: ['jwt', 'client-credentials'] as const })(),
    spec: Flags.file({ summary: messages.getMessage('flags.spec.summary'), exists: true }),
    error: Flags.string({ char: 'e', summary: messages.getMessage('flags.error.summary') }),
    'result-format': Flags.option({
      char: 'r',
      summary: messages.getMessage('flags.result-format.summary'),
      options: ['human', 'json', 'junit'] as const,
      default: 'human' as const,
    })(),
    'output-file': Flags.string({ summary: messages.getMessage('flags.output-file.summary') }),
    'fail-on': Flags.option({ summary: messages.getMessage('flags.fail-on.summary'), options: ['fail', 'warn'] as const, default: 'fail' as const })(),
    fix: Flags.boolean({ summary: messages.getMessage('flags.fix.summary') }),
    'dry-run': Flags.boolean({ summary: messages.getMessage('flags.dry-run.summary'), relationships: [{ type: 'all', flags: ['fix'] }] }),
    'no-prompt': Flags.boolean({ char: 'p', summary: messages.getMessage('flags.no-prompt.summary') }),
    'max-credential-age': Flags.integer({ summary: messages.getMessage('flags.max-credential-age.summary'), min: 1, default: 365 }),
    runbook: Flags.file({ summary: messages.getMessage('flags.runbook.summary') }),
  };

  public async run(): Promise<DoctorResult> {
    // Every flag error (an option not offered, a number out of range) is bad input: exit 2.
    const { flags } = await this.parse(IntegrationDoctor).catch(badInput);
    const started = Date.now();
    const [{ explainError }, { diagnoseOrg }, render, { outcomeExitCode }] = await Promise.all([
      import('../../checks/errors.js'),
      import('../../doctor/run.js'),
      import('../../plan/render.js'),
      import('../../plan/apply.js'),
    ]);
    const { clientSecret, spec, promptRefused, runbook } = await this.checkInputs(flags);
    const { noTerminalError } = await import('../../cli/prompt.js');

    const wantsOrg = Boolean(flags.name ?? flags.username);
    const orgs = wantsOrg ? await resolveOrgs(flags['target-org']) : [];
    const opts: DoctorOptions = {
      appName: flags.name,
      username: flags.username,
      clientId: flags['client-id'],
      privateKeyFile: flags['private-key-file'],
      clientSecret,
      flow: flags.flow,
      spec,
      error: flags.error,
      apiVersion: flags['api-version'],
      maxCredentialAgeDays: flags['max-credential-age'],
      ...(runbook ? { rotations: runbook.rotations, runbookFile: runbook.file } : {}),
    };
    // Orgs are checked concurrently, but their --fix prompts are asked one after the other.
    let prompts: Promise<unknown> = Promise.resolve();
    const ask = (plan: Plan): Promise<boolean> => {
      const answer = prompts.then(() =>
        this.confirm({ message: messages.getMessage('prompt.fix', [flags.name ?? flags.username ?? '', render.planLines(plan.steps).join('\n')]) })
      );
      prompts = answer.catch(() => undefined);
      return answer;
    };
    const fix: FixOptions | undefined = flags.fix
      ? { confirm: (plan: Plan): Promise<boolean> => (flags['no-prompt'] ? Promise.resolve(true) : ask(plan)), dryRun: flags['dry-run'] || promptRefused }
      : undefined;
    // Each org is read and checked concurrently: doctor over five orgs takes about as long as the slowest one.
    const { reports, orgFailures } = await checkOrgs(orgs, (org, name) => diagnoseOrg(org, name, opts, fix));
    const failOn = flags['fail-on'];
    // A read the org refused leaves checks unable to run: the run cannot vouch for the integration.
    const failed =
      orgFailures.length > 0 ||
      reports.some((r) => r.summary.fail > 0 || (failOn === 'warn' && r.summary.warn > 0) || Boolean(r.readFailures?.some((f) => f.skippedChecks)));
    const result: DoctorResult = {
      reports,
      ...(orgFailures.length ? { orgFailures } : {}),
      failed,
      ...(orgs.length === 0 && flags.error ? { explanation: explainError(flags.error) } : {}),
    };

    await this.render(result, flags['result-format'], flags['output-file'], failOn, Date.now() - started);
    if (promptRefused) throw noTerminalError('sf integration doctor --fix');
    // A repair that stopped half way is a partial write, exit 68 as for every command that writes.
    const partial = reports.some((r) => r.fixes && outcomeExitCode({ failed: r.fixes.some((f) => f.status === 'failed'), results: r.fixes }) === 68);
    if (partial && !orgFailures.some((f) => f.unreachable)) this.warn(messages.getMessage('info.partial'));
    process.exitCode = exitCodeOf(orgFailures, partial, failed);
    return result;
  }

  /**
   * Every input, checked before any org is read: bad input exits 2 with nothing read or written; an --output-file
   * that cannot be written exits 1. Answers the secret, the spec, and whether --fix must refuse for want of a
   * terminal (the checks still run and the report is still written, as the repair plan; then exit 2, never an
   * unanswered prompt passed off as "no").
   */
  private async checkInputs(
    flags: Interfaces.InferredFlags<typeof IntegrationDoctor.flags>
  ): Promise<{ clientSecret?: string; spec?: LoadedSpecFile; promptRefused: boolean; runbook?: Runbook }> {
    if (!flags.name && !flags.username && !flags.error) badInput(messages.createError('error.NothingToCheck'));
    if (flags.error && flags.fix) badInput(messages.createError('error.ErrorWithFix'));
    if (flags['no-prompt'] && !flags.fix) this.warn(messages.getMessage('warn.NoPromptWithoutFix'));
    const secretVar = flags['client-secret-env'];
    const clientSecret = secretVar ? process.env[secretVar] : undefined;
    if (secretVar && !clientSecret) badInput(messages.createError('error.SecretEnvMissing', [secretVar]));
    const [{ assertWritableFile }, { canPrompt }, { inspectPrivateKey, readKeyFiles }, { readSpecFile }] = await Promise.all([
      import('../../cli/output.js'),
      import('../../cli/prompt.js'),
      import('../../credentials/index.js'),
      import('../../desired/index.js'),
    ]);
    // A key that is not PEM, is encrypted or is not a private key: refused before the org is read.
    const keyFile = flags['private-key-file'];
    if (keyFile) await asBadInput(async () => inspectPrivateKey((await readKeyFiles(keyFile)).privateKeyPem));
    const specPath = flags.spec;
    const spec = specPath ? await asBadInput(() => readSpecFile(specPath)) : undefined;
    if (flags['output-file']) await assertWritableFile(flags['output-file']);
    const runbook = await readRunbook(flags.runbook, flags.name, { specPath, privateKeyFile: keyFile });
    return { clientSecret, spec, promptRefused: flags.fix && !flags['no-prompt'] && !flags['dry-run'] && !canPrompt(), runbook };
  }

  private async render(result: DoctorResult, format: 'human' | 'json' | 'junit', outputFile: string | undefined, failOn: 'fail' | 'warn', durationMs: number): Promise<void> {
    let text: string | undefined;
    if (format === 'json') text = (await import('../../report/json.js')).jsonReport(result);
    else if (format === 'junit') text = (await import('../../report/junit.js')).junitReport(result, failOn, { durationMs });
    else if (outputFile) text = (await humanText(result)).join('\n') + '\n';
    if (outputFile && text !== undefined) {
      await writeFile(outputFile, text);
      this.log(messages.getMessage('info.written', [outputFile]));
      return;
    }
    if (text !== undefined) {
      // Machine formats go to stdout as they are, and only when --json is not asked for.
      if (!this.jsonEnabled()) process.stdout.write(text);
      return;
    }
    const [{ humanExplanation, humanReport }, render] = await Promise.all([import('../../report/doctor-human.js'), import('../../plan/render.js')]);
    for (const report of result.reports) {
      const r = humanReport(report, { color: process.stdout.isTTY });
      this.styledHeader(r.title);
      r.heading.forEach((line) => this.log(line));
      for (const section of r.sections) {
        this.table({ data: section.rows, columns: r.columns.filter((c) => c.key !== 'group'), title: section.title });
        section.fixes.forEach((line) => this.log(line));
      }
      if (report.fixPlan) {
        this.table({ data: render.stepRows(report.fixPlan), columns: render.STEP_COLUMNS, title: messages.getMessage('info.fixPlanTitle') });
      }
      [...r.applied, ...r.explanation, r.summary].forEach((line) => this.log(line));
    }
    for (const failure of result.orgFailures ?? []) {
      this.styledHeader(messages.getMessage('info.orgFailedTitle', [failure.targetOrg]));
      orgFailureLines(failure).forEach((line) => this.log(line));
    }
    if (result.explanation) humanExplanation(result.explanation).forEach((line) => this.log(line));
  }
}
