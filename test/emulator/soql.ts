/*
 * SOQL over the org store, and the query resources: /query, /queryAll, /tooling/query and their paging.
 *
 * Queries are parsed by the real SOQL parser (@jetstreamapp/soql-parser-js) and compiled once into closures
 * (field getters, a WHERE predicate, sort keys, a projection), then run in one linear pass over the object's
 * rows. The executed result sits behind a query locator so later pages are slices, never re-evaluations.
 *
 * Behaviour follows the SOQL and SOSL Reference and the REST API Developer Guide; shapes follow the captured
 * responses in ../shared/reference/wire/ (rest-query-*.json, rest-composite-query-error-invalid-type.json).
 * Where Salesforce's behaviour is undocumented, the choice is marked `unconfirmed`.
 */
import {
  parseQuery,
  type Condition,
  type FieldFunctionExpression,
  type FieldType as SelectField,
  type GroupByClause,
  type OrderByClause,
  type Query,
  type Subquery,
  type ValueQueryCondition,
  type WhereClause,
} from '@jetstreamapp/soql-parser-js';
import { json, requireApiVersion, type EmuRequest, type EmuResponse, type Route } from './http.js';
import { columnMetadata } from './soql-columns.js';
import {
  findChildRelationship,
  findField,
  findObject,
  findRelationship,
  type FieldDef,
  type ObjectDef,
} from './schema.js';
import { ApiError, idSuffix, type OrgStore, type SRecord } from './store.js';

export type QueryApi = 'data' | 'tooling';
export type QueryOptions = { api?: QueryApi; version?: string };
export type JsonRecord = Record<string, unknown>;
export type QueryResult = { totalSize: number; done: boolean; nextRecordsUrl?: string; records: JsonRecord[] };

/** An executed query: its size and a way to render any slice of its rows. */
export type Executed = {
  totalSize: number;
  rowCount: number;
  /** Rows per page this object allows at most (OauthToken: 500), when smaller than the batch size. */
  maxBatch?: number;
  page(from: number, to: number): JsonRecord[];
};

/**
 * OauthToken (Object Reference, OauthToken, API 34.0 and later): "A query() call returns up to 500 rows. A
 * queryMore() call returns 500 more, up to 2500 total. No more records are returned after 2500."
 * (governance-facts.md §1). totalSize keeps the number of matching rows (unconfirmed: the doc is silent on it), so
 * a client can tell it was cut off; the last page answers done = true.
 */
const OAUTH_TOKEN_PAGE = 500;
const OAUTH_TOKEN_CAP = 2500;

type Scope = { store: OrgStore; api: QueryApi; version: string; text: string; now: Date };
type Getter = (r: SRecord) => unknown;
type Pred = (r: SRecord) => boolean;
type Path = { field: FieldDef; owner: ObjectDef; rels: Array<{ ref: FieldDef; target: ObjectDef }>; get: Getter };

/** Default and maximum batch size of a query page (REST API Developer Guide, "Query Options Header"). */
const MAX_BATCH = 2000;
const MIN_BATCH = 200;
/** "The maximum offset is 2,000 rows" (SOQL reference, OFFSET). */
const MAX_OFFSET = 2000;

// ---- errors -----------------------------------------------------------------------------------------------

/**
 * Salesforce frames SOQL errors with the offending line, a caret and "ERROR at Row:R:Column:C"
 * (wire/rest-composite-query-error-invalid-type.json). The parser reports no positions, so the position is
 * found by scanning the query's identifiers (string literals skipped) for the name the error is about.
 * For multi-line queries the framed line is the offending one (unconfirmed).
 */
const scanIdentifiers = (text: string): Array<{ word: string; at: number }> => {
  const out: Array<{ word: string; at: number }> = [];
  let i = 0;
  const isWord = (c: string): boolean => /[A-Za-z0-9_.:]/.test(c);
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === "'") {
      i++;
      while (i < text.length && text.charAt(i) !== "'") i += text.charAt(i) === '\\' ? 2 : 1;
      i++;
    } else if (isWord(c)) {
      const start = i;
      while (i < text.length && isWord(text.charAt(i))) i++;
      out.push({ word: text.slice(start, i), at: start });
    } else i++;
  }
  return out;
};

/** Where: 'from' = the name right after FROM; 'where' = the first occurrence after WHERE; else the first. */
type Near = 'from' | 'where' | undefined;
const locate = (text: string, name: string, near: Near): number | undefined => {
  const words = scanIdentifiers(text);
  const lower = name.toLowerCase();
  const whereAt = near === 'where' ? words.findIndex((w) => w.word.toUpperCase() === 'WHERE') : -1;
  const hit = words.find(
    (w, i) => w.word.toLowerCase() === lower && i > whereAt && (near !== 'from' || words[i - 1]?.word.toUpperCase() === 'FROM')
  );
  return hit?.at;
};

const framed = (text: string, at: number | undefined, detail: string): string => {
  if (at === undefined) return detail;
  const before = text.slice(0, at);
  const row = before.split('\n').length;
  const column = at - (before.lastIndexOf('\n') + 1) + 1;
  const line = text.split('\n')[row - 1] ?? '';
  return `\n${line}\n${' '.repeat(column - 1)}^\nERROR at Row:${row}:Column:${column}\n${detail}`;
};

const soqlError = (s: Scope, code: string, detail: string, name?: string, near?: Near): ApiError =>
  new ApiError(code, framed(s.text, name === undefined ? undefined : locate(s.text, name, near), detail), 400);

const invalidType = (s: Scope, name: string): ApiError =>
  soqlError(
    s,
    'INVALID_TYPE',
    `sObject type '${name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
    name,
    'from'
  );

const noSuchColumn = (s: Scope, raw: string, column: string, entity: string): ApiError =>
  soqlError(
    s,
    'INVALID_FIELD',
    `No such column '${column}' on entity '${entity}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
    raw
  );

/** A SOQL feature the emulator does not evaluate: answered loudly rather than approximated. */
const notImplemented = (what: string): ApiError => new ApiError('UNKNOWN_EXCEPTION', `The org emulator does not implement ${what}.`, 500);

/** Syntax errors. Salesforce answers "unexpected token: 'X'" framed at the token (third-party quotes); the
 * parser's message names the token it found, so the caret goes to that token's first occurrence (unconfirmed). */
const malformed = (text: string, parserMessage: string): ApiError => {
  const found = /but found:? (?:--> )?'([^']*)'/.exec(parserMessage)?.[1];
  if (found === undefined || found === '') {
    return new ApiError('MALFORMED_QUERY', framed(text, text.length, "unexpected token: '<EOF>'"), 400);
  }
  const at = scanIdentifiers(text).find((w) => w.word === found)?.at ?? (text.includes(found) ? text.indexOf(found) : undefined);
  return new ApiError('MALFORMED_QUERY', framed(text, at, `unexpected token: '${found}'`), 400);
};

// ---- objects, paths, values ---------------------------------------------------------------------------

/** Objects with `tooling` are also on the Tooling API; `toolingOnly` ones only there. */
export const servedOn = (def: ObjectDef, api: QueryApi): boolean =>
  api === 'tooling' ? def.tooling === true || def.toolingOnly === true : def.toolingOnly !== true;

const queryableObject = (s: Scope, name: string): ObjectDef => {
  const def = findObject(s.store.schema, name);
  if (!def || !servedOn(def, s.api)) throw invalidType(s, name);
  return def;
};

/** OauthToken.Id: "Reserved for future use. Currently the value is always null." (reference §1.3). */
const fieldValue = (owner: ObjectDef, rec: SRecord, field: FieldDef): unknown =>
  owner.name === 'OauthToken' && field.name === 'Id' ? null : rec[field.name] ?? null;

const relationshipTarget = (s: Scope, ref: FieldDef): ObjectDef | undefined =>
  ref.referenceTo?.[0] ? findObject(s.store.schema, ref.referenceTo[0]) : undefined;

/** Resolves `Field`, `Rel.Field`, `Rel.Rel.Field` (and an sObject alias prefix) to a getter. */
const resolvePath = (s: Scope, obj: ObjectDef, raw: string, alias?: string): Path => {
  let segments = raw.split('.');
  if (segments.length > 1 && alias && segments[0].toLowerCase() === alias.toLowerCase()) segments = segments.slice(1);
  const rels: Path['rels'] = [];
  let owner = obj;
  for (const seg of segments.slice(0, -1)) {
    const ref = findRelationship(owner, seg);
    const target = ref ? relationshipTarget(s, ref) : undefined;
    if (!ref || !target) {
      throw soqlError(
        s,
        'INVALID_FIELD',
        `Didn't understand relationship '${seg}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
        raw
      );
    }
    rels.push({ ref, target });
    owner = target;
  }
  const last = segments[segments.length - 1];
  const field = findField(owner, last);
  // Tooling-only columns (ConnectedApplication.DeveloperName) do not exist on the data API.
  if (!field || (field.toolingOnly === true && s.api !== 'tooling')) throw noSuchColumn(s, raw, last, owner.name);
  const finalOwner = owner;
  const { store } = s;
  const get: Getter = (r) => {
    let cur: SRecord | undefined = r;
    for (const { ref } of rels) {
      const id: unknown = cur[ref.name];
      cur = typeof id === 'string' && id !== '' ? store.get(id) : undefined;
      if (!cur) return null;
    }
    return fieldValue(finalOwner, cur, field);
  };
  return { field, owner: finalOwner, rels, get };
};

const parseDateTime = (v: string): number => Date.parse(v.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
const isIdLike = (v: string): boolean => /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(v);
const fullId = (v: string): string => (v.length === 15 ? v + idSuffix(v) : v);

type Kind = 'string' | 'id' | 'boolean' | 'number' | 'datetime' | 'date';
const kindOf = (f: FieldDef): Kind => {
  switch (f.type) {
    case 'id':
    case 'reference':
      return 'id';
    case 'boolean':
      return 'boolean';
    case 'int':
    case 'double':
      return 'number';
    case 'datetime':
    case 'date':
      return f.type;
    default:
      return 'string';
  }
};

/** A stored value in comparable form: strings lower-cased (SOQL compares text case-insensitively), Ids in
 * 18-character form, date-times as epoch milliseconds. */
const comparable = (kind: Kind, v: unknown): string | number | boolean | null => {
  if (v === null || v === undefined || v === '') return null;
  switch (kind) {
    case 'string':
      return String(v).toLowerCase();
    case 'id':
      return fullId(String(v));
    case 'boolean':
      return v === true || v === 'true';
    case 'number':
      return Number(v);
    case 'datetime':
      return parseDateTime(String(v));
    case 'date':
      return String(v).slice(0, 10);
  }
};

/** The text of a string literal; escapes per the SOQL reference ("Quoted String Escape Sequences"). With
 * `like`, answers a regular expression instead (% and _ wildcards, \% and \_ literal). */
const unquote = (literal: string, like: boolean): string => {
  const inner = literal.slice(1, -1);
  const esc: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' };
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const c = inner.charAt(i);
    if (c === '\\' && i + 1 < inner.length) {
      const n = inner.charAt(++i);
      const plain = n === '%' || n === '_' ? (like ? n : `\\${n}`) : esc[n] ?? n;
      out += like ? plain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : plain;
    } else if (like && c === '%') out += '.*';
    else if (like && c === '_') out += '.';
    else out += like ? c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : c;
  }
  return out;
};

// ---- date literals --------------------------------------------------------------------------------------

type Unit = 'DAY' | 'WEEK' | 'MONTH' | 'QUARTER' | 'YEAR';

/** Start of the unit containing `d`, in UTC. Weeks start on Sunday (en_US locale); the fiscal year is the
 * calendar year (the org default). Salesforce uses the user's time zone and locale; UTC is a simplification. */
const floorUnit = (d: Date, unit: Unit): Date => {
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (unit) {
    case 'DAY':
      return new Date(Date.UTC(y, m, d.getUTCDate()));
    case 'WEEK':
      return new Date(Date.UTC(y, m, d.getUTCDate() - d.getUTCDay()));
    case 'MONTH':
      return new Date(Date.UTC(y, m, 1));
    case 'QUARTER':
      return new Date(Date.UTC(y, m - (m % 3), 1));
    case 'YEAR':
      return new Date(Date.UTC(y, 0, 1));
  }
};

const addUnits = (d: Date, unit: Unit, k: number): Date => {
  const r = new Date(d.getTime());
  if (unit === 'DAY') r.setUTCDate(r.getUTCDate() + k);
  else if (unit === 'WEEK') r.setUTCDate(r.getUTCDate() + 7 * k);
  else r.setUTCMonth(r.getUTCMonth() + k * (unit === 'MONTH' ? 1 : unit === 'QUARTER' ? 3 : 12));
  return r;
};

const unitOf = (word: string): Unit => {
  const w = word.replace('FISCAL_', '');
  if (w.startsWith('DAY')) return 'DAY';
  if (w.startsWith('WEEK')) return 'WEEK';
  if (w.startsWith('MONTH')) return 'MONTH';
  if (w.startsWith('QUARTER')) return 'QUARTER';
  return 'YEAR';
};

/**
 * [start, end) of a date literal (SOQL reference, "Date Formats and Date Literals"): TODAY etc. are one day;
 * LAST_N_DAYS:n includes today and the n days before; NEXT_N_DAYS:n starts tomorrow; LAST_N_<unit>:n are the
 * n whole units before the current one; NEXT_N_<unit>:n the n after it; N_<unit>_AGO:n one unit.
 */
const dateRange = (literal: string, n: number, now: Date): [Date, Date] => {
  const L = literal.toUpperCase().split(':')[0];
  const today = floorUnit(now, 'DAY');
  const fixed: Record<string, number> = { YESTERDAY: -1, TODAY: 0, TOMORROW: 1 };
  if (L in fixed) return [addUnits(today, 'DAY', fixed[L]), addUnits(today, 'DAY', fixed[L] + 1)];
  if (L === 'LAST_90_DAYS') return dateRange('LAST_N_DAYS', 90, now);
  if (L === 'NEXT_90_DAYS') return dateRange('NEXT_N_DAYS', 90, now);
  if (L === 'LAST_N_DAYS') return [addUnits(today, 'DAY', -n), addUnits(today, 'DAY', 1)];
  if (L === 'NEXT_N_DAYS') return [addUnits(today, 'DAY', 1), addUnits(today, 'DAY', 1 + n)];
  const m = /^(LAST|THIS|NEXT)_(?:N_)?(\w+)$/.exec(L) ?? /^N_(\w+)_AGO$/.exec(L);
  if (!m) throw notImplemented(`the date literal ${literal}`);
  if (L.endsWith('_AGO')) {
    const unit = unitOf(m[1]);
    const start = addUnits(floorUnit(now, unit), unit, -n);
    return [start, addUnits(start, unit, 1)];
  }
  const unit = unitOf(m[2]);
  const cur = floorUnit(now, unit);
  const count = L.includes('_N_') ? n : 1;
  if (m[1] === 'THIS') return [cur, addUnits(cur, unit, 1)];
  if (m[1] === 'LAST') return [addUnits(cur, unit, -count), cur];
  return [addUnits(cur, unit, 1), addUnits(cur, unit, 1 + count)];
};

// ---- WHERE ------------------------------------------------------------------------------------------------

type Operand = { kind: 'null' } | { kind: 'value'; v: string | number | boolean } | { kind: 'range'; start: number | string; end: number | string };

const typeMismatch = (s: Scope, raw: string, f: FieldDef, typeName: string, quoted: boolean): ApiError =>
  soqlError(
    s,
    'INVALID_QUERY_FILTER_OPERATOR',
    `value of filter criterion for field '${f.name}' must be of type ${typeName} and ${quoted ? 'should be' : 'should not be'} enclosed in quotes`,
    raw,
    'where'
  );

const dateLiteralOperand = (s: Scope, raw: string, f: FieldDef, value: string, dateN: number | undefined): Operand => {
  const kind = kindOf(f);
  if (kind !== 'datetime' && kind !== 'date') throw typeMismatch(s, raw, f, kind === 'number' ? 'double' : kind, kind === 'string' || kind === 'id');
  const [start, end] = dateRange(value, dateN ?? 0, s.now);
  return kind === 'date'
    ? { kind: 'range', start: start.toISOString().slice(0, 10), end: end.toISOString().slice(0, 10) }
    : { kind: 'range', start: start.getTime(), end: end.getTime() };
};

/** Per field kind: the literal type it accepts, the type name its error gives, whether that value is quoted. */
const ACCEPTS: Record<Kind, { literal: string[]; typeName: string; quoted: boolean }> = {
  string: { literal: ['STRING'], typeName: 'string', quoted: true },
  id: { literal: ['STRING'], typeName: 'id', quoted: true },
  boolean: { literal: ['BOOLEAN'], typeName: 'boolean', quoted: false },
  number: { literal: ['INTEGER', 'DECIMAL'], typeName: 'double', quoted: false },
  datetime: { literal: ['DATETIME'], typeName: 'dateTime', quoted: false },
  date: { literal: ['DATE'], typeName: 'date', quoted: false },
};

/**
 * Converts one literal for a field, refusing type mismatches as Salesforce does (the texts of the boolean,
 * dateTime and string cases are Salesforce's; the number and id cases are unconfirmed).
 */
const operand = (s: Scope, raw: string, f: FieldDef, value: string, literalType: string, dateN?: number): Operand => {
  if (literalType === 'NULL') return { kind: 'null' };
  if (literalType === 'DATE_LITERAL' || literalType === 'DATE_N_LITERAL') return dateLiteralOperand(s, raw, f, value, dateN);
  const kind = kindOf(f);
  const accepts = ACCEPTS[kind];
  if (!accepts.literal.includes(literalType)) throw typeMismatch(s, raw, f, accepts.typeName, accepts.quoted);
  switch (kind) {
    case 'string':
      return { kind: 'value', v: unquote(value, false).toLowerCase() };
    case 'id': {
      const id = unquote(value, false);
      if (!isIdLike(id)) throw soqlError(s, 'INVALID_QUERY_FILTER_OPERATOR', `invalid ID field: ${id}`, raw, 'where');
      return { kind: 'value', v: fullId(id) };
    }
    case 'boolean':
      return { kind: 'value', v: value.toUpperCase() === 'TRUE' };
    case 'number':
      return { kind: 'value', v: Number(value) };
    case 'datetime':
      return { kind: 'value', v: parseDateTime(value) };
    case 'date':
      return { kind: 'value', v: value };
  }
};

const equals = (v: string | number | boolean | null, o: Operand): boolean => {
  if (o.kind === 'null') return v === null;
  if (v === null) return false;
  if (o.kind === 'range') return v >= o.start && v < o.end;
  return v === o.v;
};

const ordered = (op: string, v: string | number | boolean | null, o: Operand): boolean => {
  if (v === null || o.kind === 'null') return false;
  const lo = o.kind === 'range' ? o.start : o.v;
  const hi = o.kind === 'range' ? o.end : o.v;
  switch (op) {
    case '<':
      return v < lo;
    case '<=':
      return o.kind === 'range' ? v < hi : v <= hi;
    case '>':
      return o.kind === 'range' ? v >= hi : v > hi;
    default:
      return v >= lo;
  }
};

const compileCondition = (s: Scope, obj: ObjectDef, alias: string | undefined, cond: Condition | ValueQueryCondition): Pred => {
  if (!('field' in cond)) throw notImplemented('functions in WHERE conditions');
  const raw = cond.field;
  const path = resolvePath(s, obj, raw, alias);
  const op = cond.operator.toUpperCase();
  if ('valueQuery' in cond) return semiJoin(s, path, raw, op, cond.valueQuery);
  const kind = kindOf(path.field);
  const values = Array.isArray(cond.value) ? cond.value : [cond.value];
  const lt = cond.literalType;
  const types: string[] = Array.isArray(lt) ? lt : values.map(() => lt ?? 'STRING');
  const ns = 'dateLiteralVariable' in cond ? cond.dateLiteralVariable : undefined;
  const nAt = (i: number): number | undefined => (Array.isArray(ns) ? ns[i] : ns);
  const get = path.get;
  if (op === 'LIKE') {
    if (kind !== 'string') throw soqlError(s, 'INVALID_QUERY_FILTER_OPERATOR', `invalid operator on ${path.field.type} field`, raw); // text unconfirmed
    if (types[0] !== 'STRING') throw typeMismatch(s, raw, path.field, 'string', true);
    const re = new RegExp(`^${unquote(values[0], true)}$`, 'is');
    return (r) => {
      const v = get(r);
      return v !== null && v !== undefined && re.test(String(v));
    };
  }
  if (op === 'INCLUDES' || op === 'EXCLUDES') throw notImplemented('INCLUDES/EXCLUDES (multi-select picklists)');
  const operands = values.map((v, i) => operand(s, raw, path.field, v, types[i] ?? 'STRING', nAt(i)));
  const value = (r: SRecord): string | number | boolean | null => comparable(kind, get(r));
  switch (op) {
    case '=':
      return (r) => equals(value(r), operands[0]);
    case '!=':
    case '<>':
      // SOQL has no three-valued logic: `X != 'a'` matches rows where X is null.
      return (r) => !equals(value(r), operands[0]);
    case 'IN':
      return (r) => {
        const v = value(r);
        return operands.some((o) => equals(v, o));
      };
    case 'NOT IN':
      return (r) => {
        const v = value(r);
        return !operands.some((o) => equals(v, o));
      };
    default:
      return (r) => ordered(op, value(r), operands[0]);
  }
};

/** `Id IN (SELECT AssigneeId FROM ...)`: the inner query runs once, into a set (SOQL reference, "Semi-Joins"). */
const semiJoin = (s: Scope, path: Path, raw: string, op: string, inner: Query): Pred => {
  if (op !== 'IN' && op !== 'NOT IN') throw soqlError(s, 'MALFORMED_QUERY', `unexpected token: '${op}'`, raw);
  if (kindOf(path.field) !== 'id') {
    throw soqlError(s, 'INVALID_FIELD', `Invalid field for semi/anti join: ${path.field.name}`, raw); // text unconfirmed
  }
  const innerObj = queryableObject(s, inner.sObject ?? '');
  const fields = inner.fields ?? [];
  const only = fields[0];
  if (fields.length !== 1 || !only || (only.type !== 'Field' && only.type !== 'FieldRelationship')) {
    throw soqlError(s, 'MALFORMED_QUERY', 'The selected field in a semi join subquery must be a single Id or reference field', raw); // unconfirmed
  }
  const innerPath = resolvePath(s, innerObj, only.type === 'Field' ? only.field : [...only.relationships, only.field].join('.'), inner.sObjectAlias);
  if (kindOf(innerPath.field) !== 'id') {
    throw soqlError(s, 'INVALID_FIELD', `Invalid field for semi/anti join: ${innerPath.field.name}`, innerPath.field.name);
  }
  const pred = compileWhere(s, innerObj, inner.sObjectAlias, inner.where);
  const ids = new Set<string>();
  for (const r of s.store.all(innerObj.name)) {
    if (!pred(r)) continue;
    const v = innerPath.get(r);
    if (typeof v === 'string' && v) ids.add(fullId(v));
  }
  const get = path.get;
  const has = (r: SRecord): boolean => {
    const v = get(r);
    return typeof v === 'string' && ids.has(fullId(v));
  };
  return op === 'IN' ? has : (r): boolean => !has(r);
};

type WhereTok = { t: '(' } | { t: ')' } | { t: 'NOT' } | { t: 'AND' } | { t: 'OR' } | { t: 'cond'; cond: Condition | ValueQueryCondition };

/** The parser answers WHERE as a right-leaning chain with paren counts on the conditions; flatten it to tokens. */
const flattenWhere = (where: WhereClause): WhereTok[] => {
  const out: WhereTok[] = [];
  let node: WhereClause | undefined = where;
  while (node) {
    const left = node.left as (Condition & { openParen?: number; closeParen?: number }) | ValueQueryCondition | null;
    const op = 'operator' in node ? node.operator : undefined;
    const negation = left === null || !('field' in left || 'fn' in left);
    for (let i = 0; i < (left?.openParen ?? 0); i++) out.push({ t: '(' });
    if (negation) out.push({ t: 'NOT' });
    else {
      out.push({ t: 'cond', cond: left });
      for (let i = 0; i < (left.closeParen ?? 0); i++) out.push({ t: ')' });
    }
    if (op === 'AND' || op === 'OR') out.push({ t: op });
    node = 'right' in node ? node.right : undefined;
  }
  return out;
};

/** Rebuilds precedence: NOT binds tighter than AND, AND tighter than OR; parentheses group. */
const compileWhere = (s: Scope, obj: ObjectDef, alias: string | undefined, where: WhereClause | undefined): Pred => {
  if (!where) return () => true;
  const toks = flattenWhere(where);
  let i = 0;
  const unary = (): Pred => {
    const tok = toks[i++];
    if (!tok) throw new ApiError('MALFORMED_QUERY', framed(s.text, s.text.length, "unexpected token: '<EOF>'"), 400);
    if (tok.t === 'NOT') {
      const inner = unary();
      return (r) => !inner(r);
    }
    if (tok.t === '(') {
      const inner = or();
      if (toks[i++]?.t !== ')') throw new ApiError('MALFORMED_QUERY', "unexpected token: '('", 400);
      return inner;
    }
    if (tok.t === 'cond') return compileCondition(s, obj, alias, tok.cond);
    throw new ApiError('MALFORMED_QUERY', `unexpected token: '${tok.t}'`, 400);
  };
  const chain = (word: 'AND' | 'OR', next: () => Pred): Pred => {
    const parts = [next()];
    while (toks[i]?.t === word) {
      i++;
      parts.push(next());
    }
    if (parts.length === 1) return parts[0];
    return word === 'AND' ? (r): boolean => parts.every((p) => p(r)) : (r): boolean => parts.some((p) => p(r));
  };
  const and = (): Pred => chain('AND', unary);
  const or = (): Pred => chain('OR', and);
  const pred = or();
  if (i !== toks.length) throw new ApiError('MALFORMED_QUERY', "unexpected token: ')'", 400);
  return pred;
};

// ---- ORDER BY -------------------------------------------------------------------------------------------

type SortKey = { get: (r: SRecord) => string | number | boolean | null; desc: boolean; nullsFirst: boolean };

const toArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** "By default, null values are sorted first"; "Sorting is case insensitive" (SOQL reference, ORDER BY). */
const sortKeys = (s: Scope, obj: ObjectDef, alias: string | undefined, orderBy: OrderByClause | OrderByClause[] | undefined): SortKey[] =>
  toArray(orderBy).map((o) => {
    if (!('field' in o) || !o.field) throw soqlError(s, 'MALFORMED_QUERY', 'Ordered field must be grouped or aggregated', undefined); // unconfirmed text
    const path = resolvePath(s, obj, o.field, alias);
    const kind = kindOf(path.field);
    return { get: (r) => comparable(kind, path.get(r)), desc: o.order?.toUpperCase() === 'DESC', nullsFirst: o.nulls?.toUpperCase() !== 'LAST' };
  });

const compareKeys = (keys: SortKey[], a: unknown[], b: unknown[]): number => {
  for (let k = 0; k < keys.length; k++) {
    const x = a[k] as string | number | boolean | null;
    const y = b[k] as string | number | boolean | null;
    if (x === y) continue;
    if (x === null) return keys[k].nullsFirst ? -1 : 1;
    if (y === null) return keys[k].nullsFirst ? 1 : -1;
    const c = x < y ? -1 : 1;
    return keys[k].desc ? -c : c;
  }
  return 0;
};

/** Sorts with precomputed keys (one evaluation per row and key). */
const sortRows = <T>(rows: T[], keys: Array<{ nullsFirst: boolean; desc: boolean }>, keyOf: (row: T) => unknown[]): T[] => {
  if (!keys.length) return rows;
  const decorated = rows.map((row) => ({ row, k: keyOf(row) }));
  decorated.sort((a, b) => compareKeys(keys as SortKey[], a.k, b.k));
  return decorated.map((d) => d.row);
};

// ---- SELECT ---------------------------------------------------------------------------------------------

type Node =
  | { t: 'field'; key: string; owner: ObjectDef; field: FieldDef }
  | { t: 'rel'; key: string; ref: FieldDef; children: Node[] }
  | { t: 'sub'; key: string; render: (parent: SRecord) => JsonRecord | null };

/** `attributes` of a record as the REST API answers it; OauthToken rows (Id always null) carry no url (unconfirmed). */
export const recordAttributes = (type: string, id: unknown, version: string, api: QueryApi = 'data'): JsonRecord =>
  typeof id === 'string' && id
    ? { type, url: `/services/data/v${version}/${api === 'tooling' ? 'tooling/' : ''}sobjects/${type}/${id}` }
    : { type };

const rawOf = (f: SelectField): string | undefined => {
  if (f.type === 'Field') return f.field;
  if (f.type === 'FieldRelationship') return [...f.relationships, f.field].join('.');
  return undefined;
};

/** Inserts a resolved path into the projection tree: relationship segments become nested objects. */
const addPath = (s: Scope, nodes: Node[], path: Path, raw: string): void => {
  let level = nodes;
  for (const { ref } of path.rels) {
    const key = ref.relationshipName ?? ref.name;
    let rel = level.find((n): n is Extract<Node, { t: 'rel' }> => n.t === 'rel' && n.key === key);
    if (!rel) {
      rel = { t: 'rel', key, ref, children: [] };
      level.push(rel);
    }
    level = rel.children;
  }
  if (level.some((n) => n.t === 'field' && n.key === path.field.name)) {
    throw soqlError(s, 'MALFORMED_QUERY', `duplicate field selected: ${raw}`, raw);
  }
  level.push({ t: 'field', key: path.field.name, owner: path.owner, field: path.field });
};

const render = (s: Scope, obj: ObjectDef, rec: SRecord, nodes: Node[]): JsonRecord => {
  const out: JsonRecord = { attributes: recordAttributes(obj.name, obj.name === 'OauthToken' ? null : rec.Id, s.version, s.api) };
  for (const n of nodes) {
    if (n.t === 'field') out[n.key] = fieldValue(n.owner, rec, n.field);
    else if (n.t === 'sub') out[n.key] = n.render(rec);
    else {
      const id = rec[n.ref.name];
      const target = typeof id === 'string' && id ? s.store.get(id) : undefined;
      const targetDef = target ? findObject(s.store.schema, s.store.typeOf(target.Id) ?? '') : undefined;
      out[n.key] = target && targetDef ? render(s, targetDef, target, n.children) : null;
    }
  }
  return out;
};

/** FIELDS(ALL|STANDARD|CUSTOM): every (standard) field; ALL and CUSTOM need LIMIT <= 200 (SOQL reference, FIELDS()). */
const expandFields = (s: Scope, obj: ObjectDef, fn: FieldFunctionExpression, limit: number | undefined): string[] => {
  const which = String(fn.parameters[0] ?? '').toUpperCase();
  if ((which === 'ALL' || which === 'CUSTOM') && (limit === undefined || limit > 200)) {
    throw soqlError(s, 'MALFORMED_QUERY', 'The SOQL FIELDS function must have a LIMIT of at most 200', 'FIELDS');
  }
  if (which === 'CUSTOM') return [...obj.fields.keys()].filter((f) => f.endsWith('__c'));
  return [...obj.fields.keys()];
};

/** Child relationship subquery: one pass over the child table builds an index by parent Id. */
const compileSubquery = (s: Scope, parent: ObjectDef, sub: Subquery): Node => {
  const rel = findChildRelationship(parent, sub.relationshipName);
  const child = rel ? findObject(s.store.schema, rel.childSObject) : undefined;
  if (!rel || !child) {
    throw soqlError(
      s,
      'INVALID_TYPE',
      `Didn't understand relationship '${sub.relationshipName}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
      sub.relationshipName,
      'from'
    );
  }
  const alias = sub.sObjectPrefix?.[0];
  const nodes = selectNodes(s, child, sub.fields ?? [], alias, sub.limit);
  const pred = compileWhere(s, child, alias, sub.where);
  const keys = sortKeys(s, child, alias, sub.orderBy);
  let index: Map<string, SRecord[]> | undefined;
  const build = (): Map<string, SRecord[]> => {
    const m = new Map<string, SRecord[]>();
    for (const r of s.store.all(child.name)) {
      const pid = r[rel.field];
      if (typeof pid !== 'string' || !pred(r)) continue;
      const list = m.get(pid) ?? [];
      list.push(r);
      m.set(pid, list);
    }
    return m;
  };
  return {
    t: 'sub',
    key: rel.relationshipName,
    render: (p): JsonRecord | null => {
      index ??= build();
      let rows = sortRows(index.get(p.Id) ?? [], keys, (r) => keys.map((k) => k.get(r)));
      rows = rows.slice(sub.offset ?? 0, sub.limit === undefined ? undefined : (sub.offset ?? 0) + sub.limit);
      // No children: the relationship answers null (wire/rest-query-child-subquery.json).
      return rows.length ? { totalSize: rows.length, done: true, records: rows.map((r) => render(s, child, r, nodes)) } : null;
    },
  };
};

const selectNodes = (s: Scope, obj: ObjectDef, fields: SelectField[], alias: string | undefined, limit: number | undefined): Node[] => {
  const nodes: Node[] = [];
  for (const f of fields) {
    if (f.type === 'FieldSubquery') nodes.push(compileSubquery(s, obj, f.subquery));
    else if (f.type === 'FieldFunctionExpression' && f.functionName.toUpperCase() === 'FIELDS') {
      for (const name of expandFields(s, obj, f, limit)) addPath(s, nodes, resolvePath(s, obj, name), name);
    } else if (f.type === 'FieldTypeof') throw notImplemented('TYPEOF');
    else if (f.type === 'FieldFunctionExpression') throw notImplemented(`${f.functionName}() in this position`);
    else {
      const raw = rawOf(f) ?? '';
      addPath(s, nodes, resolvePath(s, obj, raw, alias), raw);
    }
  }
  return nodes;
};

// ---- aggregates -------------------------------------------------------------------------------------------

const AGGREGATES = new Set(['COUNT', 'COUNT_DISTINCT', 'SUM', 'AVG', 'MIN', 'MAX']);

const aggregateOf = (s: Scope, obj: ObjectDef, alias: string | undefined, fn: { functionName?: string; parameters?: unknown[] }): ((rows: SRecord[]) => unknown) => {
  const name = (fn.functionName ?? '').toUpperCase();
  const param = fn.parameters?.[0];
  if (typeof param !== 'string') return (rows) => rows.length;
  const path = resolvePath(s, obj, param, alias);
  const kind = kindOf(path.field);
  if ((name === 'SUM' || name === 'AVG') && kind !== 'number') {
    throw soqlError(s, 'MALFORMED_QUERY', `field ${path.field.name} does not support aggregate operator ${name}`, param); // unconfirmed text
  }
  return (rows) => {
    const vals = rows.map((r) => path.get(r)).filter((v) => v !== null && v !== undefined);
    switch (name) {
      case 'COUNT':
        return vals.length;
      case 'COUNT_DISTINCT':
        return new Set(vals.map((v) => comparable(kind, v))).size;
      case 'SUM':
        return vals.length ? vals.reduce((a: number, v) => a + Number(v), 0) : null;
      case 'AVG':
        return vals.length ? vals.reduce((a: number, v) => a + Number(v), 0) / vals.length : null;
      default: {
        if (!vals.length) return null;
        const sorted = sortRows(vals, [{ desc: name === 'MAX', nullsFirst: true }], (v) => [comparable(kind, v)]);
        return sorted[0];
      }
    }
  };
};

const isAggregateQuery = (q: Query): boolean =>
  (q.fields ?? []).some((f) => f.type === 'FieldFunctionExpression' && AGGREGATES.has(f.functionName.toUpperCase())) || toArray(q.groupBy).length > 0;

/** GROUP BY and aggregate functions: AggregateResult rows, unaliased aggregates named expr0, expr1, ...
 * (wire/rest-query-aggregate-count.json); grouped fields keyed by their field name. */
const runAggregate = (s: Scope, obj: ObjectDef, q: Query, rows: SRecord[]): JsonRecord[] => {
  const alias = q.sObjectAlias;
  const groups = toArray<GroupByClause>(q.groupBy).map((g) => {
    if (!('field' in g)) throw notImplemented('GROUP BY functions');
    return { raw: g.field.toLowerCase(), path: resolvePath(s, obj, g.field, alias) };
  });
  let expr = 0;
  const columns = (q.fields ?? []).map((f) => {
    if (f.type === 'FieldFunctionExpression') {
      if (!AGGREGATES.has(f.functionName.toUpperCase())) throw notImplemented(`${f.functionName}()`);
      return { key: f.alias ?? `expr${expr++}`, agg: aggregateOf(s, obj, alias, f), get: undefined };
    }
    const raw = rawOf(f);
    if (raw === undefined) throw notImplemented('this select item in an aggregate query');
    const g = groups.find((x) => x.raw === raw.toLowerCase());
    if (!g) throw soqlError(s, 'MALFORMED_QUERY', `Field must be grouped or aggregated: ${raw}`, raw);
    return { key: ('alias' in f && typeof f.alias === 'string' && f.alias) || g.path.field.name, agg: undefined, get: g.path.get };
  });
  const buckets = new Map<string, SRecord[]>();
  if (!groups.length) buckets.set('', rows);
  for (const r of groups.length ? rows : []) {
    const k = JSON.stringify(groups.map((g) => g.path.get(r)));
    const list = buckets.get(k) ?? [];
    list.push(r);
    buckets.set(k, list);
  }
  const order = toArray(q.orderBy).map((o) => {
    const desc = o.order?.toUpperCase() === 'DESC';
    const nullsFirst = o.nulls?.toUpperCase() !== 'LAST';
    if ('fn' in o) return { desc, nullsFirst, val: aggregateOf(s, obj, alias, o.fn) };
    const g = groups.find((x) => x.raw === o.field.toLowerCase());
    if (!g) throw soqlError(s, 'MALFORMED_QUERY', `Ordered field must be grouped or aggregated: ${o.field}`, o.field);
    const kind = kindOf(g.path.field);
    return { desc, nullsFirst, val: (list: SRecord[]): unknown => comparable(kind, list.length ? g.path.get(list[0]) : null) };
  });
  const lists = sortRows([...buckets.values()], order, (list) => order.map((o) => o.val(list)));
  return lists.map((list) => {
    const out: JsonRecord = { attributes: { type: 'AggregateResult' } };
    for (const c of columns) out[c.key] = c.agg ? c.agg(list) : list.length && c.get ? c.get(list[0]) : null;
    return out;
  });
};

// ---- entry points -------------------------------------------------------------------------------------

const parse = (text: string): Query => {
  try {
    return parseQuery(text);
  } catch (e) {
    throw malformed(text, e instanceof Error ? e.message : String(e));
  }
};

const checkClauses = (q: Query): void => {
  const unsupported = [q.withDataCategory, q.for, q.update, q.usingScope, q.having].some((c) => c !== undefined);
  if (unsupported) throw notImplemented('this clause');
  if ((q.offset ?? 0) > MAX_OFFSET) {
    throw new ApiError('NUMBER_OUTSIDE_VALID_RANGE', `Maximum SOQL offset allowed is ${MAX_OFFSET}`, 400);
  }
};

/** `SELECT COUNT() FROM ...` (no field, no GROUP BY). */
const isCountOnly = (q: Query): boolean => {
  const f = q.fields?.[0];
  return q.fields?.length === 1 && f?.type === 'FieldFunctionExpression' && f.functionName.toUpperCase() === 'COUNT' && !f.parameters.length && !q.groupBy;
};

/** Parses, compiles and runs a query once; the result renders any slice of its rows. */
export const executeSoql = (store: OrgStore, text: string, options: QueryOptions = {}): Executed => {
  const s: Scope = { store, api: options.api ?? 'data', version: options.version ?? '66.0', text, now: store.now() };
  const q = parse(text);
  checkClauses(q);
  const obj = queryableObject(s, q.sObject ?? '');
  const alias = q.sObjectAlias;
  const fields = q.fields ?? [];
  const countOnly = isCountOnly(q);
  const aggregate = !countOnly && isAggregateQuery(q);
  const nodes = countOnly || aggregate ? [] : selectNodes(s, obj, fields, alias, q.limit);
  const pred = compileWhere(s, obj, alias, q.where);
  const keys = countOnly || aggregate ? [] : sortKeys(s, obj, alias, q.orderBy);
  const matched = store.all(obj.name).filter(pred);
  const window = <T>(rows: T[]): T[] =>
    rows.slice(q.offset ?? 0, q.limit === undefined ? undefined : (q.offset ?? 0) + q.limit);

  if (countOnly) {
    // COUNT(): totalSize is the count and records is empty (wire/rest-composite-query-error-invalid-type.json).
    const n = window(matched).length;
    return { totalSize: n, rowCount: 0, page: () => [] };
  }
  if (aggregate) {
    const rows = window(runAggregate(s, obj, q, matched));
    return { totalSize: rows.length, rowCount: rows.length, page: (from, to) => rows.slice(from, to) };
  }
  const rows = window(sortRows(matched, keys, (r) => keys.map((k) => k.get(r))));
  const page = (from: number, to: number): JsonRecord[] => rows.slice(from, to).map((r) => render(s, obj, r, nodes));
  if (obj.name === 'OauthToken') {
    return { totalSize: rows.length, rowCount: Math.min(rows.length, OAUTH_TOKEN_CAP), maxBatch: OAUTH_TOKEN_PAGE, page };
  }
  return { totalSize: rows.length, rowCount: rows.length, page };
};

/** Runs a query and answers every row in one result (no paging): for tests and internal callers. */
export const runSoql = (store: OrgStore, text: string, options: QueryOptions = {}): QueryResult => {
  const ex = executeSoql(store, text, options);
  return { totalSize: ex.totalSize, done: true, records: ex.page(0, ex.rowCount) };
};

// ---- query locators and routes ---------------------------------------------------------------------------

type Cursor = { executed: Executed; batch: number };
const cursors = new WeakMap<OrgStore, Map<string, Cursor>>();
let locatorCounter = 1;
/** Open locators kept per org; the oldest is dropped beyond this (real orgs expire them after inactivity). */
const MAX_CURSORS = 50;

const newLocator = (): string => {
  const id15 = `01g5g${(locatorCounter++).toString(36).toUpperCase().padStart(10, '0')}`;
  return id15 + idSuffix(id15);
};

/** Sforce-Query-Options: batchSize=N, 200..2000; values outside the range fall back to 2000 (unconfirmed). */
const batchSizeOf = (req: EmuRequest): number => {
  const h = req.headers['sforce-query-options'];
  const n = Number(/batchSize\s*=\s*(\d+)/i.exec(Array.isArray(h) ? h.join(',') : h ?? '')?.[1]);
  return Number.isInteger(n) && n >= MIN_BATCH && n <= MAX_BATCH ? n : MAX_BATCH;
};

const pageOf = (store: OrgStore, base: string, cursor: Cursor, locator: string, from: number): QueryResult => {
  const to = Math.min(from + cursor.batch, cursor.executed.rowCount);
  const done = to >= cursor.executed.rowCount;
  const records = cursor.executed.page(from, to);
  if (done) cursors.get(store)?.delete(locator);
  return { totalSize: cursor.executed.totalSize, done, ...(done ? {} : { nextRecordsUrl: `${base}/${locator}-${to}` }), records };
};

const queryRoute = (api: QueryApi) => (req: EmuRequest, match: RegExpMatchArray, store: OrgStore): EmuResponse => {
  const version = requireApiVersion(store, req.path);
  const q = req.url.searchParams.get('q');
  if (q === null || q.trim() === '') throw new ApiError('MALFORMED_QUERY', 'A query string has to be specified', 400); // unconfirmed text
  req.log.soql = q;
  const executed = executeSoql(store, q, { api, version });
  if (req.url.searchParams.get('columns') === 'true') return json(200, columnMetadata(store.schema, q));
  const cursor: Cursor = { executed, batch: Math.min(batchSizeOf(req), executed.maxBatch ?? MAX_BATCH) };
  const locator = newLocator();
  let open = cursors.get(store);
  if (!open) {
    open = new Map();
    cursors.set(store, open);
  }
  open.set(locator, cursor);
  if (open.size > MAX_CURSORS) open.delete(open.keys().next().value as string);
  const base = `/services/data/v${version}/${api === 'tooling' ? 'tooling/' : ''}${match[2]}`;
  return json(200, pageOf(store, base, cursor, locator, 0));
};

const moreRoute = (req: EmuRequest, match: RegExpMatchArray, store: OrgStore): EmuResponse => {
  const version = requireApiVersion(store, req.path);
  const [, tooling, resource, locator, from] = match;
  const cursor = cursors.get(store)?.get(locator);
  const start = Number(from);
  if (!cursor || start <= 0 || start >= cursor.executed.rowCount || start % cursor.batch !== 0) {
    throw new ApiError('INVALID_QUERY_LOCATOR', 'invalid query locator', 400);
  }
  req.log.soql = `queryMore ${locator}-${from}`;
  return json(200, pageOf(store, `/services/data/v${version}/${tooling ?? ''}${resource}`, cursor, locator, start));
};

/**
 * GET /services/data/vNN.N/query?q=, /queryAll?q= (the emulator keeps no recycle bin, so queryAll answers the
 * same rows as query), /tooling/query?q=, and the next pages at /query/01g...-2000 (nextRecordsUrl).
 */
export const soqlRoutes = (): Route[] => [
  { method: 'GET', pattern: /^\/services\/data\/v\d+\.\d\/(tooling\/)?(query)\/?$/, auth: 'bearer', handler: (r, m, s) => queryRoute(m[1] ? 'tooling' : 'data')(r, m, s) },
  { method: 'GET', pattern: /^\/services\/data\/v\d+\.\d\/()(queryAll)\/?$/, auth: 'bearer', handler: queryRoute('data') },
  { method: 'GET', pattern: /^\/services\/data\/v\d+\.\d\/(tooling\/)?(query|queryAll)\/(01g[0-9A-Za-z]{15})-(\d+)$/, auth: 'bearer', handler: moreRoute },
];
