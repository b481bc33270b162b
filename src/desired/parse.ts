/*
 * The small languages of the inputs, shared by flags and spec files so both say the same thing about the same
 * mistake: permission words, `Object=words` and `Object.Field=words`, refresh-token policies, IP relaxation,
 * flow and app type. Each parser reports into a problem list and returns undefined for what it can't read.
 */
import type { AppKind, FieldAccess, Flow, ObjectAccess } from '../org/index.js';
import { IP_RELAXATION_WORDS, parseRefreshPolicyWords, type IpRelaxation, type RefreshTokenPolicy } from '../salesforce/policies.js';
import { problem, type SpecProblem } from './messages.js';

/** Words for object access, in the order Setup shows them. */
export const OBJECT_WORDS = ['read', 'create', 'edit', 'delete', 'viewAll', 'modifyAll'] as const;
export type ObjectWord = (typeof OBJECT_WORDS)[number];
export const FIELD_WORDS = ['read', 'edit'] as const;
export type FieldWord = (typeof FIELD_WORDS)[number];

/** What Setup checks along with a box: create/edit/delete need read, delete needs edit, modifyAll needs all. */
const OBJECT_IMPLIES: Record<ObjectWord, ObjectWord[]> = {
  read: [],
  create: ['read'],
  edit: ['read'],
  delete: ['edit', 'read'],
  viewAll: ['read'],
  modifyAll: ['viewAll', 'delete', 'edit', 'read'],
};

export const FLOWS: readonly Flow[] = ['jwt', 'client-credentials'];
export const APP_KINDS: readonly AppKind[] = ['external-client-app', 'connected-app'];

/** One `Target=words` request, from a flag or a spec file entry; `where` names it in messages. */
export type AccessEntry = { target: string; words: string[]; where: string };

const API_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
/** Object or field API name: custom ones end in __c and may carry a namespace (ns__Thing__c). */
export const isSObjectName = (name: string): boolean => API_NAME.test(name) && !name.endsWith('_');

/** `Account=read,create` → { target: 'Account', words: ['read', 'create'] }; undefined when there is no `=`. */
export const splitAccessFlag = (value: string, flag: string): AccessEntry | undefined => {
  const at = value.indexOf('=');
  if (at < 0) return undefined;
  return {
    target: value.slice(0, at).trim(),
    words: value
      .slice(at + 1)
      .split(',')
      .map((w) => w.trim())
      .filter((w) => w.length > 0),
    where: `${flag} ${value}`,
  };
};

const matchWord = <W extends string>(word: string, known: readonly W[]): W | undefined =>
  known.find((k) => k.toLowerCase() === word.toLowerCase());

const readWords = <W extends string>(entry: AccessEntry, known: readonly W[], code: string, problems: SpecProblem[]): W[] | undefined => {
  if (entry.words.length === 0) {
    problems.push(problem(`${code}Missing`, [entry.where]));
    return undefined;
  }
  const words = entry.words.map((w) => matchWord(w, known));
  const unknown = entry.words.filter((_w, i) => words[i] === undefined);
  if (unknown.length > 0) {
    problems.push(problem(code, [entry.where, unknown.join(', ')]));
    return undefined;
  }
  return words.filter((w): w is W => w !== undefined);
};

const withImplied = (words: ObjectWord[]): Set<ObjectWord> => new Set(words.flatMap((w) => [w, ...OBJECT_IMPLIES[w]]));

export const objectAccess = (object: string, words: ObjectWord[]): ObjectAccess => {
  const set = withImplied(words);
  return {
    object,
    read: set.has('read'),
    create: set.has('create'),
    edit: set.has('edit'),
    delete: set.has('delete'),
    viewAll: set.has('viewAll'),
    modifyAll: set.has('modifyAll'),
  };
};

export const fieldAccess = (field: string, words: FieldWord[]): FieldAccess => {
  const edit = words.includes('edit');
  return { field, read: edit || words.includes('read'), edit };
};

/** The words an access grants, implied ones included, in Setup order. */
export const objectWords = (access: ObjectAccess): ObjectWord[] => OBJECT_WORDS.filter((w) => access[w]);
export const fieldWords = (access: FieldAccess): FieldWord[] => FIELD_WORDS.filter((w) => access[w]);

export const parseObjectEntry = (entry: AccessEntry, problems: SpecProblem[]): ObjectAccess | undefined => {
  if (!isSObjectName(entry.target)) {
    problems.push(problem('InvalidObjectName', [entry.where, entry.target]));
    return undefined;
  }
  const words = readWords(entry, OBJECT_WORDS, 'UnknownObjectWord', problems);
  return words ? objectAccess(entry.target, words) : undefined;
};

export const parseFieldEntry = (entry: AccessEntry, problems: SpecProblem[]): FieldAccess | undefined => {
  const parts = entry.target.split('.');
  if (parts.length !== 2 || !parts.every(isSObjectName)) {
    problems.push(problem('InvalidFieldName', [entry.where, entry.target]));
    return undefined;
  }
  const words = readWords(entry, FIELD_WORDS, 'UnknownFieldWord', problems);
  return words ? fieldAccess(entry.target, words) : undefined;
};

/** `infinite`, `zero`, `lifetime:8:hours`, `inactivity:30:days` (case-insensitive). */
export const parseRefreshTokenPolicy = (value: string, where: string, problems: SpecProblem[]): RefreshTokenPolicy | undefined => {
  const policy = parseRefreshPolicyWords(value);
  if (!policy) problems.push(problem('InvalidRefreshTokenPolicy', [where, value]));
  return policy;
};

export const parseIpRelaxation = (value: string, where: string, problems: SpecProblem[]): IpRelaxation | undefined => {
  const ip = IP_RELAXATION_WORDS[value.trim().toLowerCase()];
  if (ip === undefined) problems.push(problem('InvalidIpRelaxation', [where, value]));
  return ip;
};

export const parseFlow = (value: string, where: string, problems: SpecProblem[]): Flow | undefined => {
  const flow = FLOWS.find((f) => f === value.trim().toLowerCase());
  if (flow === undefined) problems.push(problem('InvalidFlow', [where, value]));
  return flow;
};

export const parseAppKind = (value: string, where: string, problems: SpecProblem[]): AppKind | undefined => {
  const kind = APP_KINDS.find((k) => k === value.trim().toLowerCase());
  if (kind === undefined) problems.push(problem('InvalidAppType', [where, value]));
  return kind;
};

/** `PermissionsViewSetup` and `ViewSetup` name the same permission; the spec keeps the short form. */
export const parseSystemPermission = (value: string, where: string, problems: SpecProblem[]): string | undefined => {
  const name = value.trim().replace(/^Permissions(?=[A-Z])/, '');
  if (!isSObjectName(name) || name.includes('__')) {
    problems.push(problem('InvalidSystemPermission', [where, value]));
    return undefined;
  }
  return name;
};
