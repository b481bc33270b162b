/*
 * Flags and an optional spec file → one desired state. Flags win over the file: scalars replace the file's
 * value, --object/--field replace the file's entry for the same object or field, system permissions add up.
 * Every problem of the inputs is collected and thrown as one error; nothing here touches an org.
 */
import type { FieldAccess, ObjectAccess } from '../org/index.js';
import {
  ALWAYS_SYSTEM_PERMISSIONS,
  DEFAULT_APP_KIND,
  DEFAULT_CALLBACK_URL,
  DEFAULT_CERTIFICATE,
  DEFAULT_FLOW,
  DEFAULT_IP_RELAXATION,
  DEFAULT_REFRESH_TOKEN_POLICY,
  DEFAULT_SCOPES,
  LIMITS,
  aliasFor,
  appNameFor,
  defaultUsername,
  displayName,
  permissionSetNameFor,
  sandboxSuffixOf,
} from './defaults.js';
import { fileWhere, type LoadedSpecFile, type SpecFile } from './file.js';
import { problem, text, throwIfProblems, warning, type SpecProblem, type SpecWarning } from './messages.js';
import {
  parseAppKind,
  parseFieldEntry,
  parseFlow,
  parseIpRelaxation,
  parseObjectEntry,
  parseRefreshTokenPolicy,
  parseSystemPermission,
  splitAccessFlag,
  type AccessEntry,
} from './parse.js';
import type { DesiredApp, DesiredCertificate, IntegrationSpec } from './types.js';
import { apiNameProblems, collectSpecProblems, ownerProblems, specWarnings, suggestApiName } from './validate.js';

/** The command's flag values (undefined when not given) and the spec file, when --spec was given. */
export type SpecInput = {
  name?: string;
  flow?: string;
  appType?: string;
  username?: string;
  email?: string;
  /** `Account=read,create,edit`, repeatable. */
  objects?: string[];
  /** `Account.Industry=read`, repeatable. */
  fields?: string[];
  systemPermissions?: string[];
  certValidityDays?: number;
  keySize?: number;
  privateKeyFile?: string;
  certificateFile?: string;
  /** `infinite` | `zero` | `lifetime:N:UNIT` | `inactivity:N:UNIT`, UNIT = hours | days | months. */
  refreshTokenPolicy?: string;
  /** `enforce` | `bypass` | `bypass-2fa` | `enforce-relax-refresh`. */
  ipRelaxation?: string;
  allowPrivileged?: boolean;
  specFile?: LoadedSpecFile;
};

/** What the org tells about the running admin. */
export type SpecEnv = {
  adminUsername: string;
  adminEmail?: string;
  /** Sandboxes (not scratch orgs: their usernames carry no suffix). */
  isSandbox: boolean;
  /** The sandbox name, when known (sandboxNameFromSubdomain); else the last label of the admin's username is used. */
  sandboxName?: string;
};

export type BuiltSpec = {
  spec: IntegrationSpec;
  /** Allowed but noteworthy: privileged access, a username given a sandbox suffix, an ageing refresh policy. */
  warnings: SpecWarning[];
  /** Defaults worth knowing about (IP relaxation, owner taken from the admin), for the plan and the runbook. */
  notes: string[];
  /**
   * Set by draftSpec when neither the flags nor the spec file name the owner: the owner's email, the user's email
   * and the app's contact email are empty until withOwner fills them in from the admin's.
   */
  ownerPending?: OwnerPending;
};

/** What the owner's email still decides: the default description names it. */
export type OwnerPending = { display: string; description?: string };

type Sourced<T> = { value: T; where: string; fromFile: boolean };

/** The flag's value when given, else the file's; with where it came from for messages. */
const pick = <T>(flag: T | undefined, flagName: string, file: LoadedSpecFile | undefined, fileValue: T | undefined, path: string[]): Sourced<T> | undefined => {
  if (flag !== undefined) return { value: flag, where: `${flagName} ${String(flag)}`, fromFile: false };
  if (file && fileValue !== undefined) return { value: fileValue, where: fileWhere(file, path), fromFile: true };
  return undefined;
};

/** Same permissions, whatever the spelling of the name. */
const sameAccess = (a: ObjectAccess | FieldAccess, b: ObjectAccess | FieldAccess): boolean =>
  JSON.stringify({ ...a, object: '', field: '' }) === JSON.stringify({ ...b, object: '', field: '' });

/**
 * Parsed entries by lower-cased name: one source must not name the same object twice with different access
 * (the same access twice is fine); the later source replaces the earlier one's entry.
 */
const mergeAccess = <T extends ObjectAccess | FieldAccess>(
  sources: AccessEntry[][],
  parse: (e: AccessEntry, problems: SpecProblem[]) => T | undefined,
  nameOf: (t: T) => string,
  problems: SpecProblem[]
): T[] => {
  const merged = new Map<string, T>();
  for (const entries of sources) {
    const seen = new Map<string, { access: T; where: string }>();
    for (const entry of entries) {
      const access = parse(entry, problems);
      if (!access) continue;
      const key = nameOf(access).toLowerCase();
      const before = seen.get(key);
      if (before && !sameAccess(before.access, access)) {
        problems.push(problem('ConflictingAccess', [before.where, entry.where]));
      } else if (!before) {
        seen.set(key, { access, where: entry.where });
        merged.set(key, access);
      }
    }
  }
  return [...merged.values()];
};

const fileEntries = (file: LoadedSpecFile | undefined, section: 'objects' | 'fields'): AccessEntry[] =>
  Object.entries(file?.spec[section] ?? {}).map(([target, words]) => ({ target, words, where: fileWhere(file as LoadedSpecFile, [section, target]) }));

const flagEntries = (values: string[] | undefined, flag: string, problems: SpecProblem[]): AccessEntry[] =>
  (values ?? []).flatMap((value) => {
    const entry = splitAccessFlag(value, flag);
    if (!entry) problems.push(problem('AccessFlagFormat', [flag, value]));
    return entry ? [entry] : [];
  });

const systemPermissionsOf = (input: SpecInput, problems: SpecProblem[]): string[] => {
  const file = input.specFile;
  const requested = [
    ...(file?.spec.systemPermissions ?? []).map((p) => ({ p, where: fileWhere(file as LoadedSpecFile, ['systemPermissions']) })),
    ...(input.systemPermissions ?? []).map((p) => ({ p, where: `--system-permission ${p}` })),
  ].flatMap(({ p, where }) => parseSystemPermission(p, where, problems) ?? []);
  const all = [...ALWAYS_SYSTEM_PERMISSIONS, ...requested];
  return all.filter((p, i) => all.findIndex((q) => q.toLowerCase() === p.toLowerCase()) === i);
};

/** The explicit username, with the sandbox suffix added when it lacks it (and a warning saying so). */
const usernameOf = (given: string | undefined, name: string, env: SpecEnv, warnings: SpecWarning[]): string => {
  if (given === undefined) return defaultUsername(name, env.adminUsername);
  const suffix = env.isSandbox ? sandboxSuffixOf(env.adminUsername, env.sandboxName) : '';
  if (!suffix || !given.includes('@') || given.toLowerCase().endsWith(`.${suffix}`)) return given;
  const suffixed = `${given}.${suffix}`;
  warnings.push(warning('SandboxSuffixAppended', [given, suffixed, suffix]));
  return suffixed;
};

type Context = { input: SpecInput; env: SpecEnv; file?: LoadedSpecFile; problems: SpecProblem[]; warnings: SpecWarning[]; notes: string[] };

/** A flag or file value read by its parser, or the default when neither gives one. */
const option = <T>(
  ctx: Context,
  flag: [string | undefined, string],
  fileValue: [string | undefined, string[]],
  parse: (value: string, where: string, problems: SpecProblem[]) => T | undefined,
  fallback: T
): { value: T; given: boolean } => {
  const given = pick(flag[0], flag[1], ctx.file, fileValue[0], fileValue[1]);
  return { value: (given && parse(given.value, given.where, ctx.problems)) ?? fallback, given: given !== undefined };
};

/**
 * The name as given, and the stem the derived names (username, alias, permission set, app) come from: a valid
 * stand-in when the name is missing or invalid, so one bad name is reported once, not once per derived name.
 */
const nameOf = (ctx: Context): { name: string; stem: string } => {
  const given = pick(ctx.input.name, '--name', ctx.file, ctx.file?.spec.name, ['name']);
  if (!given) ctx.problems.push(problem('NameRequired'));
  const name = given?.value ?? '';
  const valid = name !== '' && apiNameProblems('--name', name, LIMITS.name).length === 0;
  const stem = valid ? name : suggestApiName(name || 'Integration', LIMITS.name);
  return { name: given ? name : stem, stem };
};

type Said = Pick<Context, 'problems' | 'warnings' | 'notes'>;

/** The given owner, else the admin's email (said in a note); none is a problem, a masked sandbox address a warning. */
const resolveOwner = (given: string | undefined, adminEmail: string | undefined, said: Said): string => {
  const owner = given ?? adminEmail ?? '';
  if (given === undefined && adminEmail) said.notes.push(text('info.OwnerFromAdmin', [adminEmail]));
  if (!owner) said.problems.push(problem('OwnerEmailRequired'));
  else if (owner.toLowerCase().endsWith('.invalid')) said.warnings.push(warning('OwnerEmailInvalid', [owner]));
  return owner;
};

/** --email, else the file's owner, else the admin's email; undefined when the admin's is to come later (draftSpec). */
const ownerOf = (ctx: Context, later: boolean): string | undefined => {
  const given = pick(ctx.input.email, '--email', ctx.file, ctx.file?.spec.owner, ['owner']);
  return !given && later ? undefined : resolveOwner(given?.value, ctx.env.adminEmail, ctx);
};

/** The parts of the desired state the owner's email decides: the owner, the user's and the app's email, the default description. */
const ownedBy = (spec: IntegrationSpec, owner: string, parts: OwnerPending): IntegrationSpec => {
  const description = parts.description ?? text('default.Description', [parts.display, owner]);
  return {
    ...spec,
    ownerEmail: owner,
    user: { ...spec.user, email: owner },
    permissionSet: { ...spec.permissionSet, description },
    app: { ...spec.app, contactEmail: owner, description },
  };
};

const policiesOf = (ctx: Context): Pick<DesiredApp, 'refreshTokenPolicy' | 'ipRelaxation'> => {
  const p = ctx.file?.spec.policies;
  const refresh = option(ctx, [ctx.input.refreshTokenPolicy, '--refresh-token-policy'], [p?.refreshTokenPolicy, ['policies', 'refreshTokenPolicy']], parseRefreshTokenPolicy, DEFAULT_REFRESH_TOKEN_POLICY);
  const ip = option(ctx, [ctx.input.ipRelaxation, '--ip-relaxation'], [p?.ipRelaxation, ['policies', 'ipRelaxation']], parseIpRelaxation, DEFAULT_IP_RELAXATION);
  if (!ip.given) ctx.notes.push(text('info.IpRelaxationDefault'));
  return { refreshTokenPolicy: refresh.value, ipRelaxation: ip.value };
};

const certificateOf = (input: SpecInput, file: SpecFile | undefined): DesiredCertificate => ({
  validityDays: input.certValidityDays ?? file?.certificate?.validityDays ?? DEFAULT_CERTIFICATE.validityDays,
  // validateSpec refuses any other size before the spec leaves buildSpec.
  keySize: (input.keySize ?? file?.certificate?.keySize ?? DEFAULT_CERTIFICATE.keySize) as DesiredCertificate['keySize'],
  ...(input.privateKeyFile !== undefined ? { privateKeyFile: input.privateKeyFile } : {}),
  ...(input.certificateFile !== undefined ? { certificateFile: input.certificateFile } : {}),
});

const build = (input: SpecInput, env: SpecEnv, ownerLater: boolean): BuiltSpec => {
  const ctx: Context = { input, env, file: input.specFile, problems: [], warnings: [], notes: [] };
  const { file, problems } = ctx;
  const f = file?.spec;
  const { name, stem } = nameOf(ctx);
  const flow = option(ctx, [input.flow, '--flow'], [f?.flow, ['flow']], parseFlow, DEFAULT_FLOW).value;
  const kind = option(ctx, [input.appType, '--app-type'], [f?.appType, ['appType']], parseAppKind, DEFAULT_APP_KIND).value;
  const policies = policiesOf(ctx);
  const owner = ownerOf(ctx, ownerLater);
  const username = usernameOf(pick(input.username, '--username', file, f?.username, ['username'])?.value, stem, env, ctx.warnings);
  const objects = mergeAccess([fileEntries(file, 'objects'), flagEntries(input.objects, '--object', problems)], parseObjectEntry, (o) => o.object, problems);
  const fields = mergeAccess([fileEntries(file, 'fields'), flagEntries(input.fields, '--field', problems)], parseFieldEntry, (x) => x.field, problems);
  const display = displayName(stem);
  const label = `${display} Integration`;
  const ownerParts: OwnerPending = { display, description: f?.description };
  const unowned: IntegrationSpec = {
    name,
    flow,
    ownerEmail: '',
    user: { username, firstName: display, lastName: 'Integration', alias: aliasFor(stem), email: '' },
    permissionSet: { name: permissionSetNameFor(stem), label, description: '', objects, fields, systemPermissions: systemPermissionsOf(input, problems) },
    app: {
      kind,
      name: appNameFor(stem),
      label,
      contactEmail: '',
      description: '',
      callbackUrl: DEFAULT_CALLBACK_URL,
      scopes: [...DEFAULT_SCOPES],
      ...policies,
    },
    certificate: certificateOf(input, f),
    allowPrivileged: input.allowPrivileged === true || f?.allowPrivileged === true,
  };
  // A pending owner's description is checked here as the shortest it can be, and again by withOwner.
  const spec = ownedBy(unowned, owner ?? '', ownerParts);
  throwIfProblems([...problems, ...collectSpecProblems(spec, owner !== undefined)]);
  const warnings = [...ctx.warnings, ...specWarnings(spec)];
  return owner === undefined ? { spec, warnings, notes: ctx.notes, ownerPending: ownerParts } : { spec, warnings, notes: ctx.notes };
};

/** Flags + spec file + what the org says about the admin → a validated desired state, or one error listing every problem. */
export const buildSpec = (input: SpecInput, env: SpecEnv): BuiltSpec => build(input, env, false);

/**
 * The desired state before the org is read (create): as buildSpec, but when neither the flags nor the spec file
 * name the owner, its email is left pending (`ownerPending`) for withOwner, since the admin's email comes with the
 * org's snapshot. Every other part is built and checked here, once: the reads need its names.
 */
export const draftSpec = (input: SpecInput, env: Omit<SpecEnv, 'adminEmail'>): BuiltSpec => build(input, env, true);

/**
 * A draft's pending owner filled in with the admin's email (said in a note), and checked; a draft whose owner was
 * given comes back as it is. Works on the spec as the draft holds it, so a spec checked against the org since
 * (validateAgainstOrg) keeps Salesforce's spelling of its names.
 */
export const withOwner = (draft: BuiltSpec, adminEmail: string | undefined): BuiltSpec => {
  const { ownerPending, ...built } = draft;
  if (!ownerPending) return draft;
  const said: Said = { problems: [], warnings: [], notes: [] };
  const spec = ownedBy(built.spec, resolveOwner(undefined, adminEmail, said), ownerPending);
  throwIfProblems([...said.problems, ...ownerProblems(spec)]);
  return { spec, warnings: [...said.warnings, ...built.warnings], notes: [...built.notes, ...said.notes] };
};
