/*
 * The REST API of the emulated org: versions, resources, limits, describe, sObject CRUD, sObject Collections,
 * Composite and Composite Batch. Endpoint list and shapes: ../shared/reference/salesforce-facts.md §5 and the
 * captured responses in ../shared/reference/wire/ (rest-composite-*.json). Writes go through the store, which
 * validates and counts them; sub-requests of composite resources run through `req.dispatch`.
 * Where Salesforce's behaviour is undocumented, the choice is marked `unconfirmed`.
 */
import {
  json,
  notFoundError,
  readJson,
  requireApiVersion,
  toApiError,
  type EmuRequest,
  type EmuResponse,
  type Route,
} from './http.js';
import { findField, findObject, isPermissionable, type FieldDef, type ObjectDef } from './schema.js';
import { recordAttributes, servedOn, type JsonRecord } from './soql.js';
import { ApiError, type OrgStore, type SRecord, type WriteContext } from './store.js';

const V = String.raw`^\/services\/data\/v\d+\.\d`;
const route = (method: string, path: string, handler: Route['handler'], auth: Route['auth'] = 'bearer'): Route => ({
  method,
  pattern: new RegExp(`${V}${path}$`),
  auth,
  handler,
});

/** sObject Collections take up to 200 records (REST API Developer Guide, sObject Collections). */
const MAX_COLLECTION = 200;
/** Composite: up to 25 subrequests, of which up to 5 sObject Collections or query operations; Composite Batch:
 * up to 25 subrequests (REST API Developer Guide, Composite and Composite Batch). */
const MAX_SUBREQUESTS = 25;
const MAX_COMPOSITE_QUERIES = 5;
/** Objects whose supported calls exclude retrieve(): OauthToken is describe + query only (reference §1.3). */
const QUERY_ONLY = new Set(['OauthToken']);

const ctxOf = (req: EmuRequest): WriteContext => ({ userId: req.session?.userId });

const asObject = (v: unknown, what = 'request body'): Record<string, unknown> => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ApiError('JSON_PARSER_ERROR', `The ${what} must be a JSON object`);
  return v as Record<string, unknown>;
};

/** An sObject type served by the REST data API (tooling-only types are not). */
const dataObject = (store: OrgStore, type: string): ObjectDef => {
  const def = findObject(store.schema, type);
  if (!def || !servedOn(def, 'data')) throw notFoundError();
  return def;
};

/** A record of the given type by Id, or NOT_FOUND. */
const recordOf = (store: OrgStore, def: ObjectDef, id: string): SRecord => {
  const rec = /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(id) ? store.get(id) : undefined;
  if (!rec || store.typeOf(rec.Id) !== def.name || QUERY_ONLY.has(def.name)) throw notFoundError();
  return rec;
};

const fieldsOf = (def: ObjectDef, names: string[] | undefined): FieldDef[] =>
  names === undefined
    ? [...def.fields.values()].filter((f) => f.toolingOnly !== true)
    : names.map((n) => {
        const f = findField(def, n.trim());
        if (!f || f.toolingOnly === true) {
          throw new ApiError(
            'INVALID_FIELD',
            `No such column '${n.trim()}' on entity '${def.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`
          );
        }
        return f;
      });

/** A record as GET /sobjects/{Type}/{Id} answers it: attributes, then every field (or the ones asked for). */
const renderRecord = (def: ObjectDef, rec: SRecord, fields: FieldDef[], version: string): JsonRecord => {
  const out: JsonRecord = { attributes: recordAttributes(def.name, rec.Id, version) };
  for (const f of fields) out[f.name] = rec[f.name] ?? null;
  return out;
};

// ---- versions, resources, limits ---------------------------------------------------------------------------

/** Release label of an API version: v20.0 = Winter '11, three releases a year (v66.0 = Spring '26). */
const releaseLabel = (version: string): string => {
  const n = Math.floor(Number(version)) - 20;
  return `${['Winter', 'Spring', 'Summer'][n % 3]} '${11 + Math.floor(n / 3)}`;
};

const versions = (_req: EmuRequest, _m: RegExpMatchArray, store: OrgStore): EmuResponse =>
  json(
    200,
    (store.settings.apiVersions ?? []).map((version) => ({ label: releaseLabel(version), url: `/services/data/v${version}`, version }))
  );

/** The version's resource map; lists what the emulator serves (a real org lists more). */
const resources = (req: EmuRequest, _m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  const base = `/services/data/v${requireApiVersion(store, req.path)}`;
  const names = ['composite', 'limits', 'query', 'queryAll', 'sobjects', 'tooling'];
  return json(200, Object.fromEntries(names.map((n) => [n, `${base}/${n}`])));
};

/** /limits: Max and Remaining per limit. Values are an Enterprise Edition's defaults unless the fixture sets
 * `emulator.limits` (unconfirmed values; the emulator does not count consumption). */
const DEFAULT_LIMITS: Record<string, { Max: number; Remaining: number }> = {
  DailyApiRequests: { Max: 15_000, Remaining: 15_000 },
  DailyAsyncApexExecutions: { Max: 250_000, Remaining: 250_000 },
  DailyBulkApiBatches: { Max: 15_000, Remaining: 15_000 },
  DailyBulkV2QueryJobs: { Max: 10_000, Remaining: 10_000 },
  DataStorageMB: { Max: 5, Remaining: 5 },
  FileStorageMB: { Max: 20, Remaining: 20 },
  SingleEmailMessage: { Max: 15, Remaining: 15 },
};

const limits = (req: EmuRequest, _m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  requireApiVersion(store, req.path);
  const custom = (store.settings.limits ?? {}) as Record<string, { Max: number; Remaining: number }>;
  return json(200, { ...DEFAULT_LIMITS, ...custom });
};

/** /limits/recordCount?sObjects=A,B (wire/rest-limits-recordcount.json). */
const recordCount = (req: EmuRequest, _m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  requireApiVersion(store, req.path);
  const asked = req.url.searchParams.get('sObjects')?.split(',').filter(Boolean);
  const defs = asked ? asked.map((n) => findObject(store.schema, n.trim())).filter((d): d is ObjectDef => d !== undefined) : [...store.schema.values()];
  return json(200, { sObjects: defs.map((d) => ({ count: store.all(d.name).length, name: d.name })) });
};

// ---- describe --------------------------------------------------------------------------------------------

const objectUrls = (def: ObjectDef, version: string, tooling: boolean): Record<string, string> => {
  const base = `/services/data/v${version}/${tooling ? 'tooling/' : ''}sobjects/${def.name}`;
  return { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` };
};

const globalEntry = (def: ObjectDef, version: string, tooling: boolean): JsonRecord => ({
  name: def.name,
  label: def.name /* labels are not modelled: the API name stands in (unconfirmed labels) */,
  keyPrefix: def.keyPrefix,
  custom: def.name.endsWith('__c'),
  createable: def.createable && !def.derived,
  updateable: def.updateable && !def.derived,
  deletable: def.deletable && !def.derived,
  queryable: true,
  retrieveable: !QUERY_ONLY.has(def.name),
  searchable: false,
  urls: objectUrls(def, version, tooling),
});

const onApi = (def: ObjectDef, tooling: boolean): boolean => servedOn(def, tooling ? 'tooling' : 'data');

const describeGlobal = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  const version = requireApiVersion(store, req.path);
  const tooling = Boolean(m[1]);
  const sobjects = [...store.schema.values()].filter((d) => onApi(d, tooling)).map((d) => globalEntry(d, version, tooling));
  return json(200, { encoding: 'UTF-8', maxBatchSize: 200, sobjects });
};

const describeField = (def: ObjectDef, f: FieldDef): JsonRecord => ({
  name: f.name,
  label: f.name,
  type: f.type,
  length: f.maxLength ?? (['string', 'email', 'url', 'picklist'].includes(f.type) ? 255 : f.type === 'id' || f.type === 'reference' ? 18 : 0),
  createable: !f.readOnly && f.name !== 'Id' && def.createable && !def.derived,
  updateable: !f.readOnly && !f.createOnly && f.name !== 'Id' && def.updateable && !def.derived,
  // Booleans are never nillable in Salesforce describe results; Id neither.
  nillable: !f.required && f.type !== 'boolean' && f.name !== 'Id',
  defaultedOnCreate: f.defaultValue !== undefined || f.name === 'Id',
  unique: f.unique === true,
  custom: f.name.endsWith('__c'),
  // Describe "permissionable": whether FieldPermissions can be given on the field (Object Reference, FieldPermissions).
  permissionable: isPermissionable(f) && !def.derived,
  filterable: f.type !== 'textarea',
  sortable: f.type !== 'textarea',
  groupable: !['textarea', 'double', 'datetime'].includes(f.type),
  referenceTo: f.referenceTo ?? [],
  relationshipName: f.relationshipName ?? null,
  restrictedPicklist: f.picklist !== undefined,
  picklistValues: (f.picklist ?? []).map((value) => ({ active: true, defaultValue: false, label: value, validFor: null, value })),
});

/** Every reference to this object is a child relationship; unnamed ones answer relationshipName null. */
const childRelationshipsOf = (store: OrgStore, def: ObjectDef): JsonRecord[] => {
  const out: JsonRecord[] = [];
  for (const child of store.schema.values()) {
    for (const f of child.fields.values()) {
      if (!f.referenceTo?.includes(def.name)) continue;
      const named = def.childRelationships.find((c) => c.childSObject === child.name && c.field === f.name);
      out.push({ childSObject: child.name, field: f.name, relationshipName: named?.relationshipName ?? null, cascadeDelete: false, restrictedDelete: false, deprecatedAndHidden: false });
    }
  }
  return out;
};

const describe = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  const version = requireApiVersion(store, req.path);
  const tooling = Boolean(m[1]);
  const def = findObject(store.schema, m[2]);
  if (!def || !onApi(def, tooling)) throw notFoundError();
  return json(200, {
    ...globalEntry(def, version, tooling),
    fields: [...def.fields.values()].filter((f) => tooling || f.toolingOnly !== true).map((f) => describeField(def, f)),
    childRelationships: childRelationshipsOf(store, def),
  });
};

const sobjectInfo = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  const version = requireApiVersion(store, req.path);
  const def = dataObject(store, m[1]);
  return json(200, { objectDescribe: globalEntry(def, version, false), recentItems: [] });
};

// ---- sObject CRUD ------------------------------------------------------------------------------------------

const create = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  const version = requireApiVersion(store, req.path);
  const def = dataObject(store, m[1]);
  const rec = store.insert(def.name, asObject(readJson(req)), ctxOf(req));
  return json(201, { id: rec.Id, success: true, errors: [] }, { location: `/services/data/v${version}/sobjects/${def.name}/${rec.Id}` });
};

const retrieve = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  const version = requireApiVersion(store, req.path);
  const def = dataObject(store, m[1]);
  const rec = recordOf(store, def, m[2]);
  const fields = fieldsOf(def, req.url.searchParams.get('fields')?.split(','));
  return json(200, renderRecord(def, rec, fields, version));
};

const update = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  requireApiVersion(store, req.path);
  const def = dataObject(store, m[1]);
  const rec = recordOf(store, def, m[2]);
  store.update(def.name, rec.Id, asObject(readJson(req)), ctxOf(req));
  return { status: 204 };
};

const remove = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  requireApiVersion(store, req.path);
  const def = dataObject(store, m[1]);
  const rec = recordOf(store, def, m[2]);
  store.remove(def.name, rec.Id, ctxOf(req));
  return { status: 204 };
};

// ---- sObject Collections -------------------------------------------------------------------------------------

type SaveResult = { id?: string; success: boolean; errors: Array<{ statusCode: string; message: string; fields: string[] }> };

const failure = (e: unknown, id?: string): SaveResult => {
  const err = toApiError(e);
  return { ...(id ? { id } : {}), success: false, errors: [{ statusCode: err.errorCode, message: err.message, fields: err.fields }] };
};

/** allOrNone: one failure rolls everything back; the others answer ALL_OR_NONE_OPERATION_ROLLED_BACK. */
const collection = (store: OrgStore, allOrNone: boolean, count: number, op: (i: number) => SaveResult, keepId = true): SaveResult[] => {
  if (count > MAX_COLLECTION) {
    throw new ApiError('EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${MAX_COLLECTION} records into this call`); // unconfirmed text
  }
  const restore = allOrNone ? store.snapshot() : undefined;
  const results = Array.from({ length: count }, (_, i) => op(i));
  if (!restore || results.every((r) => r.success)) return results;
  restore();
  return results.map((r) =>
    r.success
      ? {
          // A rolled-back create has no Id to report; updates and deletes name the record (unconfirmed).
          ...(keepId && r.id ? { id: r.id } : {}),
          success: false,
          errors: [
            {
              statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
              message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
              fields: [],
            },
          ],
        }
      : r
  );
};

const collectionBody = (req: EmuRequest): { allOrNone: boolean; records: Array<Record<string, unknown>> } => {
  const body = asObject(readJson(req));
  if (!Array.isArray(body.records)) throw new ApiError('JSON_PARSER_ERROR', 'records must be an array'); // unconfirmed text
  return { allOrNone: body.allOrNone === true, records: body.records.map((r) => asObject(r, 'record')) };
};

const typeOfRecord = (store: OrgStore, rec: Record<string, unknown>): ObjectDef => {
  const type = (rec.attributes as { type?: unknown } | undefined)?.type;
  if (typeof type !== 'string') throw new ApiError('INVALID_TYPE', 'Must send a concrete entity type.'); // unconfirmed text
  const def = findObject(store.schema, type);
  if (!def || def.toolingOnly) throw new ApiError('INVALID_TYPE', `sObject type '${type}' is not supported.`); // unconfirmed text
  return def;
};

const collectionCreate = (req: EmuRequest, _m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  requireApiVersion(store, req.path);
  const { allOrNone, records } = collectionBody(req);
  const results = collection(store, allOrNone, records.length, (i) => {
    try {
      const rec = store.insert(typeOfRecord(store, records[i]).name, records[i], ctxOf(req));
      return { id: rec.Id, success: true, errors: [] };
    } catch (e) {
      return failure(e);
    }
  }, false);
  return json(200, results);
};

const collectionUpdate = (req: EmuRequest, _m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  requireApiVersion(store, req.path);
  const { allOrNone, records } = collectionBody(req);
  const results = collection(store, allOrNone, records.length, (i) => {
    const { Id: id, ...fields } = records[i];
    try {
      if (typeof id !== 'string') throw new ApiError('MISSING_ARGUMENT', 'Id not specified in an update call'); // unconfirmed text
      const rec = store.update(typeOfRecord(store, records[i]).name, id, fields, ctxOf(req));
      return { id: rec.Id, success: true, errors: [] };
    } catch (e) {
      return failure(e, typeof id === 'string' ? id : undefined);
    }
  });
  return json(200, results);
};

const collectionDelete = (req: EmuRequest, _m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  requireApiVersion(store, req.path);
  const ids = (req.url.searchParams.get('ids') ?? '').split(',').filter(Boolean);
  const allOrNone = req.url.searchParams.get('allOrNone') === 'true';
  const results = collection(store, allOrNone, ids.length, (i) => {
    try {
      const type = store.typeOf(ids[i]);
      if (!type || !store.get(ids[i])) throw new ApiError('ENTITY_IS_DELETED', 'entity is deleted', 404);
      store.remove(type, ids[i], ctxOf(req));
      return { id: store.normalizeId(ids[i]), success: true, errors: [] };
    } catch (e) {
      return failure(e, ids[i]);
    }
  });
  return json(200, results);
};

/** POST /composite/sobjects/{Type} {"ids","fields"}: the records in order, null for Ids that match none. */
const collectionRetrieve = (req: EmuRequest, m: RegExpMatchArray, store: OrgStore): EmuResponse => {
  const version = requireApiVersion(store, req.path);
  const def = dataObject(store, m[1]);
  const body = asObject(readJson(req));
  if (!Array.isArray(body.ids) || !Array.isArray(body.fields)) throw new ApiError('JSON_PARSER_ERROR', 'ids and fields must be arrays'); // unconfirmed text
  if (body.ids.length > 2000) throw new ApiError('EXCEEDED_ID_LIMIT', 'too many ids'); // limit 2000 per the guide; text unconfirmed
  const fields = fieldsOf(def, body.fields.map(String));
  return json(
    200,
    body.ids.map((id) => {
      const rec = typeof id === 'string' ? store.get(id) : undefined;
      return rec && store.typeOf(rec.Id) === def.name ? renderRecord(def, rec, fields, version) : null;
    })
  );
};

// ---- Composite and Composite Batch ---------------------------------------------------------------------------

type Sub = { method: string; url: string; referenceId: string; body?: unknown };
type SubResult = { body: unknown; httpHeaders: Record<string, string>; httpStatusCode: number; referenceId: string };

/** Value at `ref.a.b[0].c` in earlier responses (`@{ref.path}` notation of the Composite resource). */
const lookupReference = (refs: Map<string, unknown>, expr: string): unknown => {
  const [ref, ...rest] = expr.split('.');
  let cur: unknown = refs.get(ref);
  for (const part of rest.join('.').split(/\.|(?=\[)/).filter(Boolean)) {
    if (cur === undefined || cur === null) return undefined;
    const idx = /^\[(\d+)\]$/.exec(part);
    cur = idx ? (cur as unknown[])[Number(idx[1])] : (cur as Record<string, unknown>)[part];
  }
  return cur;
};

class UnresolvedReference extends Error {}

const substitute = (refs: Map<string, unknown>, value: unknown): unknown => {
  if (typeof value === 'string') {
    const whole = /^@\{([^}]+)\}$/.exec(value);
    const one = (expr: string): unknown => {
      const v = lookupReference(refs, expr);
      if (v === undefined) throw new UnresolvedReference(expr);
      return v;
    };
    if (whole) return one(whole[1]);
    return value.replace(/@\{([^}]+)\}/g, (_s, expr: string) => String(one(expr)));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(refs, v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(refs, v)]));
  return value;
};

const subHeaders = (r: EmuResponse): Record<string, string> => (r.headers?.location ? { Location: r.headers.location } : {});

/** Answer of a subrequest that was not run, or was rolled back (texts unconfirmed beyond the errorCode). */
const halted = (referenceId: string, message: string): SubResult => ({
  body: [{ errorCode: 'PROCESSING_HALTED', message }],
  httpHeaders: {},
  httpStatusCode: 400,
  referenceId,
});
const ROLLED_BACK = 'The transaction was rolled back since another operation in the same transaction failed.';

const COMPOSITE_URL = /^\/services\/data\/v\d+\.\d\/(sobjects\/|query\/?(\?|$)|queryAll\/?(\?|$)|query\/01g|composite\/sobjects)/;
const isQueryOrCollection = (url: string): boolean => /^\/services\/data\/v\d+\.\d\/(query|queryAll|composite\/sobjects)/.test(url);

/** Composite Batch (REST API Developer Guide): limits, sobjects, query, queryAll, search, connect, chatter, actions. */
const BATCH_RESOURCES = /^v\d+\.\d\/(limits|sobjects|query|queryAll|search|connect|chatter|actions)(\/|\?|$)/;

const compositeRequests = (req: EmuRequest): { allOrNone: boolean; subs: Sub[] } => {
  const body = asObject(readJson(req));
  if (!Array.isArray(body.compositeRequest)) throw new ApiError('JSON_PARSER_ERROR', 'compositeRequest must be an array'); // unconfirmed text
  const subs = body.compositeRequest.map((s) => asObject(s, 'subrequest'));
  if (subs.length > MAX_SUBREQUESTS) {
    throw new ApiError('LIMIT_EXCEEDED', `A composite request can have at most ${MAX_SUBREQUESTS} subrequests`); // code and text unconfirmed
  }
  const seen = new Set<string>();
  const out = subs.map((s): Sub => {
    const { method, url, referenceId } = s;
    if (typeof method !== 'string' || typeof url !== 'string' || typeof referenceId !== 'string' || !referenceId) {
      throw new ApiError('JSON_PARSER_ERROR', 'Each subrequest needs method, url and referenceId'); // unconfirmed text
    }
    if (seen.has(referenceId)) throw new ApiError('JSON_PARSER_ERROR', `Duplicate referenceId: ${referenceId}`); // unconfirmed text
    seen.add(referenceId);
    if (!COMPOSITE_URL.test(url)) throw new ApiError('INVALID_URL', `The url ${url} is not supported in a composite subrequest`); // unconfirmed
    return { method: method.toUpperCase(), url, referenceId, body: s.body };
  });
  if (out.filter((s) => isQueryOrCollection(s.url)).length > MAX_COMPOSITE_QUERIES) {
    throw new ApiError('LIMIT_EXCEEDED', `A composite request can have at most ${MAX_COMPOSITE_QUERIES} query or sObject Collections subrequests`); // unconfirmed
  }
  return { allOrNone: body.allOrNone === true, subs: out };
};

/**
 * POST /composite: subrequests in order, `@{ref.field}` references to earlier answers, allOrNone. With allOrNone
 * a failure rolls the whole request back and every other subrequest answers 400 (REST API Developer Guide,
 * Composite Subrequest Result). Without it, subrequests that reference a failed one are not run.
 */
const composite = async (req: EmuRequest, _m: RegExpMatchArray, store: OrgStore): Promise<EmuResponse> => {
  requireApiVersion(store, req.path);
  const { allOrNone, subs } = compositeRequests(req);
  const restore = allOrNone ? store.snapshot() : undefined;
  const refs = new Map<string, unknown>();
  const results: SubResult[] = [];
  for (const [i, sub] of subs.entries()) {
    let url: string;
    let body: unknown;
    try {
      url = substitute(refs, sub.url) as string;
      body = substitute(refs, sub.body);
    } catch (e) {
      if (!(e instanceof UnresolvedReference)) throw e;
      results.push(halted(sub.referenceId, `Invalid reference specified. No value for ${e.message} found in ${sub.referenceId}.`)); // unconfirmed
      if (restore) return rollBack(restore, results, subs, i);
      continue;
    }
    // eslint-disable-next-line no-await-in-loop -- subrequests run in order; later ones read earlier answers
    const r = await req.dispatch(sub.method, url, body);
    results.push({ body: r.body ?? null, httpHeaders: subHeaders(r), httpStatusCode: r.status, referenceId: sub.referenceId });
    if (r.status < 300) refs.set(sub.referenceId, r.body);
    else if (restore) return rollBack(restore, results, subs, i);
  }
  return json(200, { compositeResponse: results });
};

const rollBack = (restore: () => void, results: SubResult[], subs: Sub[], failedAt: number): EmuResponse => {
  restore();
  const all = subs.map((s, i) => (i === failedAt ? results[i] : halted(s.referenceId, ROLLED_BACK)));
  return json(200, { compositeResponse: all });
};

/**
 * POST /composite/batch: independent subrequests, urls relative to /services/data ("v66.0/query?q=..."),
 * `richInput` bodies, haltOnError → later subrequests answer 412 BATCH_PROCESSING_HALTED (REST API Developer
 * Guide, Batch Request Body). Each subrequest commits on its own.
 */
const batch = async (req: EmuRequest, _m: RegExpMatchArray, store: OrgStore): Promise<EmuResponse> => {
  requireApiVersion(store, req.path);
  const body = asObject(readJson(req));
  if (!Array.isArray(body.batchRequests)) throw new ApiError('JSON_PARSER_ERROR', 'batchRequests must be an array'); // unconfirmed text
  if (body.batchRequests.length > MAX_SUBREQUESTS) {
    throw new ApiError('LIMIT_EXCEEDED', `A batch request can have at most ${MAX_SUBREQUESTS} subrequests`); // code and text unconfirmed
  }
  const subs = body.batchRequests.map((s) => {
    const { method, url, richInput } = asObject(s, 'subrequest');
    if (typeof method !== 'string' || typeof url !== 'string' || !/^v\d+\.\d\//.test(url)) {
      throw new ApiError('INVALID_BATCH_REQUEST', `Invalid subrequest url or method: ${String(url)}`); // unconfirmed
    }
    if (!BATCH_RESOURCES.test(url)) {
      // Only the documented resources batch (no Tooling API, no Connect apps/oauth resources); text unconfirmed.
      throw new ApiError('INVALID_BATCH_REQUEST', `The resource ${url} is not supported in a batch subrequest`);
    }
    return { method: method.toUpperCase(), url: `/services/data/${url}`, richInput };
  });
  const results: Array<{ statusCode: number; result: unknown }> = [];
  let halt = false;
  for (const sub of subs) {
    if (halt) {
      results.push({ statusCode: 412, result: [{ errorCode: 'BATCH_PROCESSING_HALTED', message: 'Batch processing halted per request' }] }); // text unconfirmed
      continue;
    }
    // eslint-disable-next-line no-await-in-loop -- subrequests run serially in their order (guide)
    const r = await req.dispatch(sub.method, sub.url, sub.richInput);
    results.push({ statusCode: r.status, result: r.body ?? null });
    if (r.status >= 400 && body.haltOnError === true) halt = true;
  }
  return json(200, { hasErrors: results.some((r) => r.statusCode >= 400), results });
};

// ---- routes --------------------------------------------------------------------------------------------------

export const restRoutes = (): Route[] => [
  // Versions: real orgs answer this without authentication.
  { method: 'GET', pattern: /^\/services\/data\/?$/, auth: 'none', handler: versions },
  route('GET', String.raw`\/?`, resources),
  route('GET', String.raw`\/limits\/?`, limits),
  route('GET', String.raw`\/limits\/recordCount\/?`, recordCount),
  route('GET', String.raw`\/(tooling\/)?sobjects\/?`, describeGlobal),
  route('GET', String.raw`\/(tooling\/)?sobjects\/(\w+)\/describe\/?`, describe),
  route('GET', String.raw`\/sobjects\/(\w+)\/?`, sobjectInfo),
  route('POST', String.raw`\/sobjects\/(\w+)\/?`, create),
  route('GET', String.raw`\/sobjects\/(\w+)\/(\w+)\/?`, retrieve),
  route('PATCH', String.raw`\/sobjects\/(\w+)\/(\w+)\/?`, update),
  route('DELETE', String.raw`\/sobjects\/(\w+)\/(\w+)\/?`, remove),
  route('POST', String.raw`\/composite\/sobjects\/?`, collectionCreate),
  route('PATCH', String.raw`\/composite\/sobjects\/?`, collectionUpdate),
  route('DELETE', String.raw`\/composite\/sobjects\/?`, collectionDelete),
  route('POST', String.raw`\/composite\/sobjects\/(\w+)\/?`, collectionRetrieve),
  route('POST', String.raw`\/composite\/?`, composite),
  route('POST', String.raw`\/composite\/batch\/?`, batch),
];
