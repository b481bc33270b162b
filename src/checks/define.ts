/*
 * The one way a check is written: `defineCheck` binds a check id to a reporter so each unit only decides the
 * status and the values it saw; the words come from messages/checks.md under keys derived from the id:
 *   <id>.pass | <id>.warn | <id>.fail  (or <id>.<variant>)  the finding
 *   <id>.fix (or <id>.fix.<variant>)                         the Setup path of the fix
 *   skip.<reason>                                             shared skip reasons
 */
import type { AppConfig, OrgSnapshot, ReadAspect, UserInfo } from '../org/index.js';
import type { Check, CheckContext, CheckGroup, CheckResult, Fix, Repair } from './types.js';
import { say, type Tokens } from './messages.js';

export type Outcome = Omit<CheckResult, 'id' | 'group'>;

export type ProblemOptions = {
  /** Message key suffix of the finding (default: the status). */
  variant?: string;
  /** Message key suffix of the fix (default: `fix`). */
  fix?: string;
  fixTokens?: Tokens;
  /** Overrides the check's default command; null removes it. */
  command?: string | null;
};

export type Reporter = {
  pass(tokens?: Tokens, variant?: string): Outcome;
  warn(tokens?: Tokens, options?: ProblemOptions): Outcome;
  fail(tokens?: Tokens, options?: ProblemOptions): Outcome;
  skip(reason: string, tokens?: Tokens): Outcome;
};

export type FixDefaults = {
  /** The plugin command that makes the change, given the snapshot (undefined when the plugin cannot). */
  command?: (snapshot: OrgSnapshot) => string;
  /** What `doctor --fix` changes to repair it, when it can. */
  repair?: Repair;
};

export type CheckSpec = {
  id: string;
  group: CheckGroup;
  fix?: FixDefaults;
  /**
   * The parts of the snapshot the check reads (default by group: app checks the app, user checks the user). When a
   * query feeding one of them failed, the check skips naming the query and Salesforce's error instead of reading
   * the gap as "not there".
   */
  reads?: ReadAspect[];
  run(snapshot: OrgSnapshot, ctx: CheckContext, report: Reporter): Outcome;
};

const DEFAULT_READS: Record<CheckGroup, ReadAspect[]> = { org: [], app: ['app'], user: ['user'], live: [] };

const buildFix = (id: string, snapshot: OrgSnapshot, defaults: FixDefaults, options: ProblemOptions): Fix => {
  const setup = say(`${id}.${options.fix ?? 'fix'}`, options.fixTokens ?? []);
  const command = options.command === null ? undefined : options.command ?? defaults.command?.(snapshot);
  const repair = command ? defaults.repair : undefined;
  return {
    setup,
    ...(command ? { command } : {}),
    ...(repair ? { autoFixable: true, repair } : {}),
  };
};

const reporterFor = (id: string, snapshot: OrgSnapshot, defaults: FixDefaults): Reporter => {
  const problem =
    (status: 'warn' | 'fail') =>
    (tokens: Tokens = [], options: ProblemOptions = {}): Outcome => ({
      status,
      finding: say(`${id}.${options.variant ?? status}`, tokens),
      fix: buildFix(id, snapshot, defaults, options),
    });
  return {
    pass: (tokens = [], variant = 'pass') => ({ status: 'pass', finding: say(`${id}.${variant}`, tokens) }),
    warn: problem('warn'),
    fail: problem('fail'),
    skip: (reason, tokens = []) => ({ status: 'skip', finding: say(`skip.${reason}`, tokens) }),
  };
};

/** A check's result with its id and group. */
export const runCheck = (check: Check, snapshot: OrgSnapshot, ctx: CheckContext): CheckResult => ({
  id: check.id,
  group: check.group,
  ...check.run(snapshot, ctx),
});

export const defineCheck = (spec: CheckSpec): Check => {
  const reads = spec.reads ?? DEFAULT_READS[spec.group];
  return {
    id: spec.id,
    group: spec.group,
    run: (snapshot: OrgSnapshot, ctx: CheckContext): Outcome => {
      const report = reporterFor(spec.id, snapshot, spec.fix ?? {});
      const failed = snapshot.readFailures?.find((f) => f.affects.some((a) => reads.includes(a)));
      if (failed) return report.skip('read-failed', [failed.object, failed.query, `${failed.errorCode}: ${failed.message}`]);
      return spec.run(snapshot, ctx, report);
    },
  };
};

/** `sf integration doctor --fix` for this app and user: the fixes the plugin applies itself. */
export const doctorFixCommand = (snapshot: OrgSnapshot): string =>
  [
    'sf integration doctor --fix',
    snapshot.app ? `--name ${snapshot.app.name}` : undefined,
    snapshot.user ? `--username ${snapshot.user.username}` : undefined,
  ]
    .filter((part): part is string => part !== undefined)
    .join(' ');

/** Joins values for a finding; an empty list reads as "none". */
export const list = (values: readonly string[]): string => (values.length > 0 ? values.join(', ') : say('none'));

type Run = CheckSpec['run'];

/** Runs only when the snapshot has an app; otherwise skip with the reason. */
export const needsApp =
  (run: (app: AppConfig, ...args: Parameters<Run>) => Outcome): Run =>
  (snapshot, ctx, report): Outcome =>
    snapshot.app ? run(snapshot.app, snapshot, ctx, report) : report.skip('no-app');

/** Runs only when the snapshot has the integration user; otherwise skip with the reason. */
export const needsUser =
  (run: (user: UserInfo, ...args: Parameters<Run>) => Outcome): Run =>
  (snapshot, ctx, report): Outcome =>
    snapshot.user ? run(snapshot.user, snapshot, ctx, report) : report.skip('no-user');

/** Runs only when the snapshot has both the app and the user. */
export const needsAppAndUser =
  (run: (app: AppConfig, user: UserInfo, ...args: Parameters<Run>) => Outcome): Run =>
  (snapshot, ctx, report): Outcome => {
    if (!snapshot.app) return report.skip('no-app');
    return snapshot.user ? run(snapshot.app, snapshot.user, snapshot, ctx, report) : report.skip('no-user');
  };

/** The worst of several statuses found by one check (fail over warn over pass). */
export const worst = (statuses: ReadonlyArray<'pass' | 'warn' | 'fail'>): 'pass' | 'warn' | 'fail' =>
  statuses.includes('fail') ? 'fail' : statuses.includes('warn') ? 'warn' : 'pass';
