/*
 * The spec file: a declarative YAML or JSON record of one integration (what it may do, who owns it, which
 * policies its app has). Its JSON Schema (draft-07) lives here as data, is written to
 * spec-schema/integration-spec.schema.json by scripts/spec-schema.ts, and drives the structural check of a
 * file read here (unknown keys, wrong types), so the two cannot drift apart. The values' own languages
 * (permission words, policies) are checked by the same parsers as the flags (parse.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { formatIpRelaxationWords, formatRefreshPolicyWords, IP_RELAXATION_WORDS } from '../salesforce/policies.js';
import { FLOWS, APP_KINDS, FIELD_WORDS, OBJECT_WORDS, fieldWords, objectWords } from './parse.js';
import { KEY_SIZES, LIMITS } from './defaults.js';
import { messages, problem, throwIfProblems, type SpecProblem } from './messages.js';
import type { IntegrationSpec } from './types.js';
import { nearest } from './validate.js';

/** The file format, as read from YAML or JSON (see specFileSchema for every key's meaning). */
export type SpecFile = {
  $schema?: string;
  name: string;
  description?: string;
  flow?: string;
  appType?: string;
  owner?: string;
  username?: string;
  objects?: Record<string, string[]>;
  fields?: Record<string, string[]>;
  systemPermissions?: string[];
  certificate?: { validityDays?: number; keySize?: number };
  policies?: { refreshTokenPolicy?: string; ipRelaxation?: string };
  allowPrivileged?: boolean;
};

/** A spec file as read: its path, its content, and the line of each key (`objects.Account` → 7) for messages. */
export type LoadedSpecFile = { path: string; spec: SpecFile; lines: Record<string, number> };

type JsonType = 'object' | 'array' | 'string' | 'integer' | 'boolean';
/** The subset of JSON Schema draft-07 the spec schema uses. */
export type JsonSchema = {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  type?: JsonType;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  enum?: ReadonlyArray<string | number>;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  default?: string | number | boolean;
  examples?: unknown[];
};

const SOBJECT = '[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?';
const EMAIL_PATTERN = '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$';

const wordList = (words: readonly string[], what: string): JsonSchema => ({
  type: 'array',
  minItems: 1,
  description: what,
  items: { type: 'string', enum: words },
});

export const specFileSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'integration-spec.schema.json',
  title: 'Integration spec',
  description:
    'The desired state of one Salesforce integration identity, for `sf integration create --spec FILE` (YAML or JSON) and the record `doctor` compares the org against. Flags given with --spec override the same keys of the file; --object and --field override the file per object or field.',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    $schema: { type: 'string', description: 'Path or URL of this schema, for editors. Ignored.' },
    name: {
      type: 'string',
      description: `The external system, e.g. HubSpot. An API name stem: a letter, then letters, digits and single underscores, at most ${LIMITS.name} characters. Names the user (NAME Integration), the permission set and the app (NAME_Integration).`,
      pattern: '^[A-Za-z](?:_?[A-Za-z0-9])*$',
      maxLength: LIMITS.name,
    },
    description: {
      type: 'string',
      description: 'What the integration does; the description of the permission set and the app. Default: generated from the name.',
      maxLength: LIMITS.description,
    },
    flow: { type: 'string', enum: FLOWS, default: 'jwt', description: 'OAuth flow: JWT bearer (certificate) or client credentials (consumer secret, run-as user).' },
    appType: {
      type: 'string',
      enum: APP_KINDS,
      default: 'external-client-app',
      description: "External Client App, or Connected App for orgs that still allow creating them (blocked by default since Spring '26).",
    },
    owner: {
      type: 'string',
      pattern: EMAIL_PATTERN,
      maxLength: LIMITS.email,
      description: "The named human owner's email: the integration user's email and the app's contact. Default: the running admin's email.",
    },
    username: {
      type: 'string',
      pattern: EMAIL_PATTERN,
      maxLength: LIMITS.username,
      description:
        "The integration user's username, in email form. Default: <name>.integration@<domain of the admin's username>. In a sandbox the sandbox suffix is added when missing.",
    },
    objects: {
      type: 'object',
      description:
        'Object access by object API name. create, edit and delete imply read; delete implies edit; modifyAll implies viewAll, delete and edit. viewAll and modifyAll need allowPrivileged. Objects must be on the Salesforce Integration license.',
      propertyNames: { pattern: `^${SOBJECT}$` },
      additionalProperties: wordList(OBJECT_WORDS, 'Permission words for this object.'),
      examples: [{ Account: ['read', 'create', 'edit'], Contact: ['read'] }],
    },
    fields: {
      type: 'object',
      description: 'Field-level access by Object.Field. edit implies read. The object needs object access; edit needs object create or edit.',
      propertyNames: { pattern: `^${SOBJECT}\\.${SOBJECT}$` },
      additionalProperties: wordList(FIELD_WORDS, 'Permission words for this field.'),
      examples: [{ 'Account.Industry': ['read'] }],
    },
    systemPermissions: {
      type: 'array',
      description:
        'System permissions by API name without the Permissions prefix. ApiEnabled is always included. Permissions on the dangerous tier list (ModifyAllData, ViewAllData, AuthorApex, ...) need allowPrivileged.',
      items: { type: 'string', pattern: `^${SOBJECT}$` },
    },
    certificate: {
      type: 'object',
      additionalProperties: false,
      description: 'The generated RSA key pair and self-signed certificate (JWT flow).',
      properties: {
        validityDays: {
          type: 'integer',
          minimum: LIMITS.validityDays.min,
          maximum: LIMITS.validityDays.max,
          default: 365,
          description: 'Certificate lifetime in days. Short-lived secrets are safer (OWASP Top 10 Non-Human Identities Risks - 2025); rotate before expiry.',
        },
        keySize: { type: 'integer', enum: KEY_SIZES, default: 2048, description: 'RSA key size in bits.' },
      },
    },
    policies: {
      type: 'object',
      additionalProperties: false,
      description: "The app's OAuth policies.",
      properties: {
        refreshTokenPolicy: {
          type: 'string',
          pattern: '^(infinite|zero|(lifetime|inactivity):[1-9][0-9]*:(hours|days|months))$',
          default: 'infinite',
          description:
            'infinite (valid until revoked; JWT pre-authorization needs it), zero (expire immediately), lifetime:N:UNIT (expire after N hours|days|months) or inactivity:N:UNIT (expire if unused for N hours|days|months).',
        },
        ipRelaxation: {
          type: 'string',
          enum: Object.keys(IP_RELAXATION_WORDS),
          default: 'enforce',
          description:
            'enforce (login IP ranges apply), bypass (relax IP restrictions), bypass-2fa (relax with second factor), enforce-relax-refresh (enforce, relax for refresh tokens).',
        },
      },
    },
    allowPrivileged: {
      type: 'boolean',
      default: false,
      description: 'Allow permissions on the dangerous tier list and viewAll/modifyAll: a deliberate, reviewable decision.',
    },
  },
};

/** The schema file's text, as scripts/spec-schema.ts writes it. */
export const specFileSchemaText = (): string => `${JSON.stringify(specFileSchema, null, 2)}\n`;

// ---------------------------------------------------------------------------------------------------------
// Reading

type Path = Array<string | number>;
const keyPath = (path: Path): string => path.join('.');

/** Line of each key down to the second level (`objects.Account`), from the YAML document (JSON is YAML). */
const keyLines = (doc: Document, counter: LineCounter): Record<string, number> => {
  const lines: Record<string, number> = {};
  const visit = (node: unknown, prefix: string[], depth: number): void => {
    if (!isMap(node) || depth > 1) return;
    for (const pair of node.items) {
      const key = pair.key as YamlNode | null;
      if (!isScalar(key) || key.range === undefined || key.range === null) continue;
      const path = [...prefix, String(key.value)];
      lines[path.join('.')] = counter.linePos(key.range[0]).line;
      visit(pair.value, path, depth + 1);
    }
  };
  visit(doc.contents, [], 0);
  return lines;
};

const typeOf = (value: unknown): JsonType | 'null' | 'number' => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as JsonType;
};

/** Structure only (types, unknown and missing keys); the values' meaning is checked when the spec is built. */
const checkStructure = (value: unknown, schema: JsonSchema, path: Path, where: (p: Path) => string, out: SpecProblem[]): void => {
  if (schema.type && typeOf(value) !== schema.type) {
    out.push(problem('SpecWrongType', [where(path), schema.type, typeOf(value)]));
    return;
  }
  if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    value.forEach((v, i) => checkStructure(v, items, [...path, i], where, out));
  }
  if (typeOf(value) !== 'object') return;
  const obj = value as Record<string, unknown>;
  const known = Object.keys(schema.properties ?? {});
  for (const key of schema.required ?? []) if (!(key in obj)) out.push(problem('SpecKeyMissing', [where(path), key]));
  for (const [key, v] of Object.entries(obj)) {
    const sub = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    if (sub) checkStructure(v, sub, [...path, key], where, out);
    else if (schema.additionalProperties === false) {
      const near = nearest(key, known);
      out.push(near ? problem('SpecUnknownKeySuggest', [where([...path, key]), known.join(', ')], [near]) : problem('SpecUnknownKey', [where([...path, key]), known.join(', ')]));
    }
  }
};

/** "objects.Account (hubspot.yaml:7)": where a file value is, for messages. */
export const fileWhere = (file: Pick<LoadedSpecFile, 'path' | 'lines'>, path: Path): string => {
  const key = keyPath(path);
  const line = file.lines[key] ?? file.lines[keyPath(path.slice(0, 1))];
  return line === undefined ? `${key} (${basename(file.path)})` : `${key} (${basename(file.path)}:${line})`;
};

const looksLikeJson = (path: string, content: string): boolean => extname(path).toLowerCase() === '.json' || /^\s*[{[]/.test(content);

/** A JSON.parse error's position as line:column (Node reports "at position N", newer ones also "line L column C"). */
/**
 * Where JSON.parse stopped, as line and column: from "(line N column M)" or "position N" in its message (the forms
 * of Node's V8), at the end of the text for "Unexpected end of JSON input", else where the YAML parser (a JSON
 * superset) stops on the same text.
 */
const jsonErrorPos = (message: string, content: string): { line: number; col: number } => {
  const lineCol = /line (\d+) column (\d+)/.exec(message);
  if (lineCol) return { line: Number(lineCol[1]), col: Number(lineCol[2]) };
  const at = (offset: number): { line: number; col: number } => {
    const before = content.slice(0, offset).split('\n');
    return { line: before.length, col: before[before.length - 1].length + 1 };
  };
  const m = /position (\d+)/.exec(message);
  if (m) return at(Number(m[1]));
  if (/end of JSON input/i.test(message)) return at(content.replace(/\s+$/, '').length);
  const yamlPos = parseDocument(content, { prettyErrors: true, lineCounter: new LineCounter() }).errors[0]?.linePos?.[0];
  return yamlPos ?? { line: 1, col: 1 };
};

const parseError = (path: string, line: number, col: number, detail: string): Error =>
  messages.createError('error.SpecFileParse', [path, line, col, detail.split('\n')[0]]);

/** Parse and structurally check a spec file's text; `path` names it in messages. Pure: no I/O. */
export const parseSpecFile = (content: string, path: string): LoadedSpecFile => {
  if (looksLikeJson(path, content)) {
    try {
      JSON.parse(content);
    } catch (e) {
      const { line, col } = jsonErrorPos((e as Error).message, content);
      throw parseError(path, line, col, (e as Error).message);
    }
  }
  const counter = new LineCounter();
  const doc = parseDocument(content, { lineCounter: counter, uniqueKeys: true, prettyErrors: true });
  const [first] = doc.errors;
  if (first) {
    const pos = first.linePos?.[0] ?? { line: 1, col: 1 };
    throw parseError(path, pos.line, pos.col, first.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, ''));
  }
  let data: unknown;
  try {
    // An alias bomb (a few lines that expand to millions of nodes) stops here, with the limit in the message.
    data = doc.toJS({ maxAliasCount: LIMITS.specAliases });
  } catch (e) {
    const detail = (e as Error).message;
    if (/alias/i.test(detail)) throw messages.createError('error.SpecTooManyAliases', [path, LIMITS.specAliases]);
    throw parseError(path, 1, 1, detail);
  }
  if (typeOf(data) !== 'object') throw messages.createError('error.SpecNotAnObject', [path]);
  const lines = keyLines(doc, counter);
  const problems: SpecProblem[] = [];
  const spec = data as SpecFile;
  for (const [key, count, limit] of [
    ['objects', Object.keys(typeOf(spec.objects) === 'object' ? spec.objects ?? {} : {}).length, LIMITS.specObjects],
    ['fields', Object.keys(typeOf(spec.fields) === 'object' ? spec.fields ?? {} : {}).length, LIMITS.specFields],
    ['systemPermissions', Array.isArray(spec.systemPermissions) ? spec.systemPermissions.length : 0, LIMITS.specSystemPermissions],
  ] as const) {
    if (count > limit) throw messages.createError('error.SpecTooMany', [fileWhere({ path, lines }, [key]), count, key, limit]);
  }
  checkStructure(data, specFileSchema, [], (p) => (p.length ? fileWhere({ path, lines }, p) : basename(path)), problems);
  throwIfProblems(problems);
  return { path, spec: data as SpecFile, lines };
};

/** Read a YAML or JSON spec file (by extension, or by content when the extension says neither). */
export const readSpecFile = async (path: string): Promise<LoadedSpecFile> => {
  let content: string;
  try {
    // Read no further than the limit allows: a spec is a page of YAML, not a data file.
    const size = (await stat(path)).size;
    if (size > LIMITS.specFileBytes) throw messages.createError('error.SpecFileTooLarge', [path, size, LIMITS.specFileBytes]);
    content = await readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof Error && e.name === 'SpecFileTooLargeError') throw e;
    const code = (e as { code?: unknown }).code;
    throw messages.createError('error.SpecFileUnreadable', [path, typeof code === 'string' ? code : (e as Error).message]);
  }
  return parseSpecFile(content, path);
};

// ---------------------------------------------------------------------------------------------------------
// Writing

/** The spec as a file: what create writes next to the runbook and doctor compares against. */
export const specToFile = (spec: IntegrationSpec): SpecFile => {
  const { permissionSet: ps, app, certificate } = spec;
  return {
    name: spec.name,
    description: ps.description,
    flow: spec.flow,
    appType: app.kind,
    owner: spec.ownerEmail,
    username: spec.user.username,
    objects: Object.fromEntries(ps.objects.map((o) => [o.object, objectWords(o)])),
    fields: Object.fromEntries(ps.fields.map((f) => [f.field, fieldWords(f)])),
    systemPermissions: [...ps.systemPermissions],
    certificate: { validityDays: certificate.validityDays, keySize: certificate.keySize },
    policies: { refreshTokenPolicy: formatRefreshPolicyWords(app.refreshTokenPolicy), ipRelaxation: formatIpRelaxationWords(app.ipRelaxation) },
    ...(spec.allowPrivileged ? { allowPrivileged: true } : {}),
  };
};
