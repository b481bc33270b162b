/*
 * The emulated org's state: records by sObject type, metadata components by type, sessions, settings.
 * Every write made on a client's behalf goes through insert/update/remove here, which apply Salesforce's
 * validations (required fields, restricted picklists, references, unique Username, license capacity) and
 * count the write. Salesforce's own bookkeeping (LoginHistory rows, derived app records) is written with
 * `system: true` and is not counted: the write count is "what clients changed".
 */
import { randomBytes } from 'node:crypto';
import {
  buildSchema,
  findField,
  findObject,
  isPermissionable,
  objectForKeyPrefix,
  STANDARD_DATA_OBJECTS,
  type FieldDef,
  type ObjectDef,
  type Schema,
} from './schema.js';

export type SRecord = Record<string, unknown> & { Id: string };

export type MetadataComponent = Record<string, unknown> & { fullName: string };

export type EmulatorSettings = {
  /** Any other setting a fixture carries is kept (and dumped) as it is. */
  [key: string]: unknown;
  /** Fixed access token of the first active System Administrator (else generated). */
  adminAccessToken?: string;
  /** An app created or changed less than this many seconds ago refuses token requests. */
  propagationSeconds?: number;
  /** The org's My Domain URL, accepted as JWT audience beside the instance URL. */
  myDomainUrl?: string;
  /** Spring '26: new Connected Apps cannot be created unless Support re-enabled it (eca-deploy.md §8). */
  allowConnectedAppCreation?: boolean;
  /** API versions the org serves; the highest is the current release. */
  apiVersions?: string[];
  /** Faults to inject, see faults.ts. */
  faults?: unknown[];
  /** Fixed "now" for reproducible fixtures (ISO date-time); default: the wall clock. */
  now?: string;
  /** Login IP Ranges per Profile Name (Setup > Profiles > Login IP Ranges); see oauth.ts. */
  loginIpRanges?: Record<string, Array<{ start: string; end: string; description?: string }>>;
  /** The client address token requests are seen from (LoginHistory.SourceIp); default 127.0.0.1. See oauth.ts. */
  sourceIp?: string;
  /**
   * Whether JWT bearer and client credentials logins leave OauthToken rows (unconfirmed: these flows issue no refresh
   * token). Default false, the reading an inventory must survive. See tokens.ts.
   */
  serverToServerOauthTokens?: boolean;
  /** OauthToken.AppMenuItemId of External Client App tokens: 'null' (default; often null in real orgs) or 'linked'. */
  ecaTokenAppMenuItem?: 'null' | 'linked';
  /** Which External Client Apps GET /apps/oauth/usage lists: 'withTokens' (default) or 'all'. See usage.ts. */
  oauthUsageApps?: 'withTokens' | 'all';
  /** A staged credential past its 30 days: 'listedAsExpired' (default, still occupies the slot) or 'removed'. */
  stagedCredentialsAfterExpiry?: 'listedAsExpired' | 'removed';
  /** A replaced certificate during the propagation window: 'previousCertificate' (default) or 'appUnavailable'. */
  certificatePropagation?: 'previousCertificate' | 'appUnavailable';
  /**
   * Fields this org does not have, by object (edition- or feature-dependent fields, e.g.
   * `{ "PermissionSet": ["PermissionsBypassMFAForUiLogins"] }`): describe omits them, SOQL and writes naming them
   * answer INVALID_FIELD as a real org does.
   */
  absentFields?: Record<string, string[]>;
  /** Objects this org does not have (e.g. `["ExternalClientApplication"]`): INVALID_TYPE in SOQL, NOT_FOUND on REST. */
  absentObjects?: string[];
  /**
   * How retrieve and readMetadata spell ExtlClntAppOauthConfigurablePolicies.commaSeparatedPermissionSet. The type
   * page says "Permission set IDs"; Salesforce's own sample and source-tracked metadata from real orgs use API names
   * (eca-deploy.md §5). Deploys accept both; this picks the reading under test. Default "names".
   */
  permissionSetReferences?: 'names' | 'ids';
  /**
   * Setup > External Client App Settings > "Opt in to External Client Apps" (type page ExternalClientApplication).
   * How the opt-in appears in metadata is unconfirmed (no published ExternalClientAppSettings field): an org setting
   * here, default on.
   */
  externalClientAppsOptIn?: boolean;
  /**
   * Objects on which each license lets a permission set grant object permissions, by UserLicense Name or
   * PermissionSetLicense DeveloperName ("*" = every object). A user may hold object permissions allowed by the user
   * license or by a permission set license assigned to the user. Licenses not listed allow every object. Help,
   * "Salesforce Integration user license": object access comes from the Salesforce API Integration permission set
   * license (integration_user.htm; governance-facts.md §5).
   */
  licenseObjects?: Record<string, string[] | '*'>;
  /**
   * Which user licenses a user may be moved to by changing ProfileId, by UserLicense Name ("*" = any). A change of
   * profile to one of another license moves the user to that license (Help, "Change a User's License"; practitioners
   * move integration users to the Salesforce Integration license by assigning "Minimum Access - API Only
   * Integrations", governance-facts.md §5, third-party). Which pairs Salesforce accepts is not published as a table:
   * unlisted licenses allow any change (unconfirmed); a fixture can refuse a pair to test the other reading.
   */
  licenseChanges?: Record<string, string[] | '*'>;
};

export type Fixture = {
  records?: Record<string, Array<Record<string, unknown>>>;
  metadata?: Record<string, MetadataComponent[]>;
  emulator?: EmulatorSettings;
};

export type Session = {
  token: string;
  userId: string;
  /** The app (ConnectedApplication or ExternalClientApplication Id) the session was issued to, if any. */
  appId?: string;
  scopes: string[];
  issuedAt: number;
  /**
   * Issued as a JWT-format access token because the app has "Issue JSON Web Token (JWT)-based access tokens
   * for named users" on: REST accepts it, the SOAP APIs (Metadata, Partner) and Bulk API refuse it (seed 001).
   * Set by oauth.ts; metadata.ts should refuse such sessions (see oauth.ts `isSoapUsableSession`).
   */
  namedUserJwt?: boolean;
};

/** Keeps app-derived records in step with metadata; see apps.ts. */
export type StoreDeriver = {
  derive(store: OrgStore): void;
  /**
   * A SetupEntityAccess row for an app was added/removed through the API: write it into the app's metadata.
   * Returns false when the entity is not an app.
   */
  appAccess(store: OrgStore, parentId: string, setupEntityId: string, op: 'add' | 'remove'): boolean;
};

export type WriteContext = {
  /** Salesforce's own bookkeeping: validated loosely and not counted as a client write. */
  system?: boolean;
  /** The acting user (CreatedById / LastModifiedById). */
  userId?: string;
};

/** A Salesforce API error: REST answers `[{"message","errorCode","fields"}]` with this status. */
export class ApiError extends Error {
  public constructor(
    public readonly errorCode: string,
    message: string,
    public readonly status = 400,
    public readonly fields: string[] = []
  ) {
    super(message);
    this.name = errorCode;
  }
}

const ID_SUFFIX_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The 3-character case-safe suffix that turns a 15-character Id into an 18-character one. */
export const idSuffix = (id15: string): string => {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charAt(chunk * 5 + i);
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += ID_SUFFIX_CHARS.charAt(bits);
  }
  return suffix;
};

const toBase62 = (n: number, width: number): string => {
  let s = '';
  let v = n;
  do {
    s = BASE62.charAt(v % 62) + s;
    v = Math.floor(v / 62);
  } while (v > 0);
  return s.padStart(width, '0');
};

const nowIso = (d: Date): string => d.toISOString().replace('Z', '+0000');

export class OrgStore {
  public readonly schema: Schema;
  public readonly settings: EmulatorSettings;
  public readonly sessions = new Map<string, Session>();
  /** Client writes since start (requests that changed the org on a client's behalf). */
  public writeCount = 0;
  public orgId: string;
  /** Set by the server once it listens. */
  public instanceUrl = 'http://127.0.0.1';
  private readonly records = new Map<string, Map<string, SRecord>>();
  private readonly metadata = new Map<string, Map<string, MetadataComponent>>();
  private idCounter = 1;
  private readonly keyPrefixes: Map<string, string>;
  /** Recomputes records derived from metadata (apps); installed by apps.ts so the store stays generic. */
  private deriver?: StoreDeriver;

  public constructor(fixture: Fixture, deriver?: StoreDeriver) {
    this.settings = { propagationSeconds: 0, apiVersions: defaultApiVersions(), ...(fixture.emulator ?? {}) };
    const schema = buildSchema();
    // Key prefixes of every object, also those this org lacks: Ids of app records stay mintable (apps.ts).
    this.keyPrefixes = new Map([...schema.values()].map((d) => [d.name.toLowerCase(), d.keyPrefix]));
    this.schema = withoutAbsent(schema, this.settings);
    this.deriver = deriver;
    const orgs = fixture.records?.Organization ?? [];
    this.orgId = (orgs[0]?.Id as string | undefined) ?? this.newId('Organization');
    for (const [type, rows] of Object.entries(fixture.records ?? {})) {
      // Rows of an object the org does not have are not there; nor are values of fields it lacks.
      if (this.isAbsent(type)) continue;
      const def = this.requireObject(type);
      for (const row of rows) {
        const { attributes, ...given } = row as Record<string, unknown> & { attributes?: unknown };
        void attributes;
        const fields = Object.fromEntries(Object.entries(given).filter(([f]) => f === 'Id' || findField(def, f)));
        const id = (fields.Id as string | undefined) ?? (def.name === 'Organization' ? this.orgId : this.newId(def.name));
        this.table(def.name).set(id, { ...this.defaults(def), ...fields, Id: id });
      }
    }
    for (const [type, comps] of Object.entries(fixture.metadata ?? {})) {
      for (const comp of comps) this.metadataTable(type).set(comp.fullName, structuredClone(comp));
    }
    this.recomputeDerived();
    this.recountLicenses();
    this.syncUserLogins();
  }

  // ---- time -------------------------------------------------------------------------------------------
  public now(): Date {
    return this.settings.now ? new Date(this.settings.now) : new Date();
  }

  public timestamp(): string {
    return nowIso(this.now());
  }

  // ---- ids ----------------------------------------------------------------------------------------------
  public newId(type: string): string {
    const def = findObject(this.schema, type);
    const prefix = def?.keyPrefix ?? this.keyPrefixes.get(type.toLowerCase());
    if (!prefix) throw new ApiError('NOT_FOUND', 'The requested resource does not exist', 404);
    // A store loaded from a dump already holds Ids minted by this counter: never hand one out twice.
    for (;;) {
      const id15 = `${prefix}5g${toBase62(this.idCounter++, 10)}`;
      const id = id15 + idSuffix(id15);
      if (!def || !this.records.get(def.name)?.has(id)) return id;
    }
  }

  /** Accepts a 15- or 18-character Id and answers the stored 18-character form when the record exists. */
  public normalizeId(id: string): string {
    if (id.length === 15) return id + idSuffix(id);
    return id;
  }

  // ---- records ------------------------------------------------------------------------------------------
  /** The object is one this org does not have (`emulator.absentObjects`). */
  public isAbsent(type: string): boolean {
    return (this.settings.absentObjects ?? []).some((o) => o.toLowerCase() === type.toLowerCase());
  }

  public requireObject(type: string): ObjectDef {
    const def = findObject(this.schema, type);
    if (!def) throw new ApiError('NOT_FOUND', 'The requested resource does not exist', 404);
    return def;
  }

  public all(type: string): SRecord[] {
    const def = findObject(this.schema, type);
    return def ? [...this.table(def.name).values()] : [];
  }

  /** Number of rows of a type, without copying them. */
  public count(type: string): number {
    const def = findObject(this.schema, type);
    return def ? this.records.get(def.name)?.size ?? 0 : 0;
  }

  /** The user's UserLogin row (one per user, kept by Salesforce). */
  public userLoginOf(userId: string): SRecord | undefined {
    const byId = this.records.get('UserLogin')?.get(userLoginId(userId));
    if (byId?.UserId === userId) return byId;
    return this.all('UserLogin').find((r) => r.UserId === userId);
  }

  public get(id: string): SRecord | undefined {
    const full = this.normalizeId(id);
    const def = objectForKeyPrefix(this.schema, full);
    return def ? this.records.get(def.name)?.get(full) : undefined;
  }

  public typeOf(id: string): string | undefined {
    return objectForKeyPrefix(this.schema, id)?.name;
  }

  public insert(type: string, input: Record<string, unknown>, ctx: WriteContext = {}): SRecord {
    const def = this.requireObject(type);
    if (!ctx.system && (!def.createable || def.derived)) {
      throw new ApiError('INVALID_TYPE_FOR_OPERATION', `entity type ${def.name} does not support insert`, 400);
    }
    const fields = this.canonicalFields(def, input, 'create', ctx);
    const record: SRecord = { ...this.defaults(def), ...fields, Id: this.newId(def.name) };
    this.stampAudit(def, record, ctx, true);
    if (!ctx.system) this.validateRecord(def, record, undefined);
    this.table(def.name).set(record.Id, record);
    if (def.name === 'SetupEntityAccess' && !ctx.system) {
      this.deriver?.appAccess(this, String(record.ParentId), String(record.SetupEntityId), 'add');
    }
    this.afterWrite(def, ctx);
    return this.table(def.name).get(record.Id) ?? record;
  }

  public update(type: string, id: string, input: Record<string, unknown>, ctx: WriteContext = {}): SRecord {
    const def = this.requireObject(type);
    const existing = this.table(def.name).get(this.normalizeId(id));
    if (!existing) throw new ApiError('NOT_FOUND', 'The requested resource does not exist', 404);
    if (!ctx.system && (!def.updateable || def.derived)) {
      throw new ApiError('INVALID_TYPE_FOR_OPERATION', `entity type ${def.name} does not support update`, 400);
    }
    const fields = this.canonicalFields(def, input, 'update', ctx);
    const next: SRecord = { ...existing, ...fields, Id: existing.Id };
    this.stampAudit(def, next, ctx, false);
    if (!ctx.system) this.validateRecord(def, next, existing);
    this.table(def.name).set(existing.Id, next);
    this.afterWrite(def, ctx);
    return next;
  }

  public remove(type: string, id: string, ctx: WriteContext = {}): void {
    const def = this.requireObject(type);
    const full = this.normalizeId(id);
    if (!this.table(def.name).has(full)) {
      throw new ApiError('ENTITY_IS_DELETED', 'entity is deleted', 404);
    }
    if (!ctx.system && (!def.deletable || def.derived)) {
      throw new ApiError('INVALID_TYPE_FOR_OPERATION', `entity type ${def.name} does not support delete`, 400);
    }
    const existing = this.table(def.name).get(full)!;
    this.table(def.name).delete(full);
    if (def.name === 'SetupEntityAccess' && !ctx.system) {
      this.deriver?.appAccess(this, String(existing.ParentId), String(existing.SetupEntityId), 'remove');
    }
    this.afterWrite(def, ctx);
  }

  // ---- metadata -----------------------------------------------------------------------------------------
  public getMetadata(type: string, fullName: string): MetadataComponent | undefined {
    return this.metadata.get(type)?.get(fullName);
  }

  public listMetadata(type: string): MetadataComponent[] {
    return [...(this.metadata.get(type)?.values() ?? [])];
  }

  public metadataTypes(): string[] {
    return [...this.metadata.keys()];
  }

  public putMetadata(type: string, comp: MetadataComponent, ctx: WriteContext = {}): void {
    this.metadataTable(type).set(comp.fullName, comp);
    if (!ctx.system) this.writeCount++;
    this.recomputeDerived();
  }

  public deleteMetadata(type: string, fullName: string, ctx: WriteContext = {}): boolean {
    const removed = this.metadata.get(type)?.delete(fullName) ?? false;
    if (removed && !ctx.system) this.writeCount++;
    if (removed) this.recomputeDerived();
    return removed;
  }

  public recomputeDerived(): void {
    this.deriver?.derive(this);
  }

  /** Adds or replaces one row of a derived relationship (the deriver's own bookkeeping). */
  public putDerivedRow(type: string, row: SRecord): void {
    this.table(this.requireObject(type).name).set(row.Id, row);
  }

  /** Replaces all rows of a derived type (used by the deriver); keeps Ids stable by the caller's choice. */
  public replaceDerived(type: string, rows: SRecord[]): void {
    const def = this.requireObject(type);
    const table = this.table(def.name);
    table.clear();
    for (const row of rows) table.set(row.Id, row);
  }

  /** Removes rows of any type that match a predicate, without counting a write (derived bookkeeping). */
  public removeWhere(type: string, pred: (r: SRecord) => boolean): void {
    const table = this.records.get(this.requireObject(type).name);
    if (!table) return;
    for (const [id, r] of table) if (pred(r)) table.delete(id);
  }

  // ---- transactions -------------------------------------------------------------------------------------
  /**
   * Captures records, metadata and the write count; the returned function restores them. Used by all-or-none
   * requests (composite allOrNone, sObject Collections allOrNone) to roll back. Records are copied shallowly:
   * writes replace record objects, and the only in-place changes (license counts) are recomputed.
   */
  public snapshot(): () => void {
    const records = new Map([...this.records].map(([t, m]) => [t, new Map([...m].map(([id, r]) => [id, { ...r }]))]));
    const metadata = new Map([...this.metadata].map(([t, m]) => [t, new Map([...m].map(([n, c]) => [n, structuredClone(c)]))]));
    const writeCount = this.writeCount;
    return (): void => {
      this.records.clear();
      for (const [t, m] of records) this.records.set(t, m);
      this.metadata.clear();
      for (const [t, m] of metadata) this.metadata.set(t, m);
      this.writeCount = writeCount;
      this.recomputeDerived();
      this.recountLicenses();
    };
  }

  // ---- whole-state dump ---------------------------------------------------------------------------------
  public dump(): Fixture {
    const records: Record<string, Array<Record<string, unknown>>> = {};
    for (const [type, table] of this.records) {
      const def = this.schema.get(type);
      if (table.size === 0 || def?.derived) continue;
      records[type] = [...table.values()].map((r) => structuredClone(r));
    }
    const metadata: Record<string, MetadataComponent[]> = {};
    for (const [type, table] of this.metadata) {
      if (table.size) metadata[type] = [...table.values()].map((c) => structuredClone(c));
    }
    return { records, metadata, emulator: structuredClone(this.settings) };
  }

  // ---- internals ----------------------------------------------------------------------------------------
  public recountLicenses(): void {
    const users = this.all('User');
    for (const lic of this.all('UserLicense')) {
      const used = users.filter((u) => u.IsActive !== false && this.licenseOfUser(u)?.Id === lic.Id).length;
      lic.UsedLicenses = used;
    }
    const pslAssigns = this.all('PermissionSetLicenseAssign');
    for (const psl of this.all('PermissionSetLicense')) {
      psl.UsedLicenses = pslAssigns.filter((a) => a.PermissionSetLicenseId === psl.Id).length;
    }
  }

  public licenseOfUser(user: SRecord): SRecord | undefined {
    const profile = this.get(String(user.ProfileId ?? ''));
    return profile ? this.get(String(profile.UserLicenseId ?? '')) : undefined;
  }

  private table(type: string): Map<string, SRecord> {
    let t = this.records.get(type);
    if (!t) {
      t = new Map();
      this.records.set(type, t);
    }
    return t;
  }

  private metadataTable(type: string): Map<string, MetadataComponent> {
    let t = this.metadata.get(type);
    if (!t) {
      t = new Map();
      this.metadata.set(type, t);
    }
    return t;
  }

  private defaults(def: ObjectDef): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of def.fields.values()) if (f.defaultValue !== undefined) out[f.name] = f.defaultValue;
    return out;
  }

  /** Maps field names case-insensitively to their API names and refuses unknown or read-only fields. */
  private canonicalFields(def: ObjectDef, input: Record<string, unknown>, op: 'create' | 'update', ctx: WriteContext): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(input)) {
      if (name === 'attributes') continue;
      const f = findField(def, name);
      if (!f) {
        throw new ApiError('INVALID_FIELD', `No such column '${name}' on sobject of type ${def.name}`, 400, [name]);
      }
      if (!ctx.system) {
        if (f.name === 'Id') {
          if (op === 'create') throw new ApiError('INVALID_FIELD_FOR_INSERT_UPDATE', 'Unable to create/update fields: Id. Please check the security settings of this field and verify that it is read/write for your profile or permission set.', 400, ['Id']);
          continue;
        }
        if (f.readOnly === true || (op === 'update' && f.createOnly === true)) {
          throw new ApiError(
            'INVALID_FIELD_FOR_INSERT_UPDATE',
            `Unable to create/update fields: ${f.name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
            400,
            [f.name]
          );
        }
      }
      out[f.name] = this.coerce(def, f, value);
    }
    return out;
  }

  private coerce(def: ObjectDef, f: FieldDef, value: unknown): unknown {
    if (value === null || value === undefined || value === '') return value === '' && f.type !== 'string' ? null : value;
    switch (f.type) {
      case 'boolean':
        if (typeof value === 'boolean') return value;
        if (value === 'true' || value === 'false') return value === 'true';
        break;
      case 'int':
      case 'double':
        if (typeof value === 'number') return value;
        if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
        break;
      case 'reference':
      case 'id':
        if (typeof value === 'string' && /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(value)) return this.normalizeId(value);
        throw new ApiError('MALFORMED_ID', `${def.name} ID: id value of incorrect type: ${String(value)}`, 400, [f.name]);
      case 'datetime':
      case 'date':
        if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return value;
        break;
      default:
        if (typeof value === 'string') return value;
        if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    }
    throw new ApiError('JSON_PARSER_ERROR', `Cannot deserialize instance of ${f.type} from value ${JSON.stringify(value)} for field ${f.name}`, 400, [f.name]);
  }

  private stampAudit(def: ObjectDef, record: SRecord, ctx: WriteContext, created: boolean): void {
    const ts = this.timestamp();
    if (created && def.fields.has('CreatedDate') && !record.CreatedDate) record.CreatedDate = ts;
    if (created && def.fields.has('CreatedById') && ctx.userId) record.CreatedById = ctx.userId;
    if (def.fields.has('LastModifiedDate')) record.LastModifiedDate = ts;
    if (def.fields.has('LastModifiedById') && ctx.userId) record.LastModifiedById = ctx.userId;
    if (def.fields.has('SystemModstamp')) record.SystemModstamp = ts;
  }

  /** Salesforce's validations, in the order a real save applies them. */
  private validateRecord(def: ObjectDef, record: SRecord, before: SRecord | undefined): void {
    const missing = [...def.fields.values()].filter(
      (f) => f.required && (record[f.name] === undefined || record[f.name] === null || record[f.name] === '')
    );
    if (missing.length) {
      throw new ApiError(
        'REQUIRED_FIELD_MISSING',
        `Required fields are missing: [${missing.map((f) => f.name).join(', ')}]`,
        400,
        missing.map((f) => f.name)
      );
    }
    for (const f of def.fields.values()) {
      const v = record[f.name];
      if (v === undefined || v === null) continue;
      if (f.maxLength && typeof v === 'string' && v.length > f.maxLength) {
        throw new ApiError('STRING_TOO_LONG', `${f.name}: data value too large: ${v} (max length=${f.maxLength})`, 400, [f.name]);
      }
      if (f.picklist && !f.readOnly && !f.picklist.includes(String(v))) {
        throw new ApiError('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${f.name}: bad value for restricted picklist field: ${String(v)}`, 400, [f.name]);
      }
      if (f.type === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(String(v))) {
        throw new ApiError('INVALID_EMAIL_ADDRESS', `${f.name}: invalid email address: ${String(v)}`, 400, [f.name]);
      }
      if (f.type === 'reference' && f.referenceTo && (!before || before[f.name] !== v)) {
        const target = this.get(String(v));
        const targetType = target ? this.typeOf(target.Id) : undefined;
        if (!target || !targetType || !f.referenceTo.includes(targetType)) {
          throw new ApiError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', 400, [f.name]);
        }
      }
    }
    this.validateSpecial(def, record, before);
  }

  /** Object-specific rules of real orgs. */
  private validateSpecial(def: ObjectDef, record: SRecord, before: SRecord | undefined): void {
    if (def.name === 'User') {
      const username = String(record.Username);
      // Username must look like an email address (Salesforce: "the username must be in the form of an email address").
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(username)) {
        throw new ApiError('INVALID_NEW_VALUE', `Username: invalid username: ${username}. The username must be in the form of an email address (for example, john@acme.com).`, 400, ['Username']);
      }
      const clash = this.all('User').find((u) => u.Id !== record.Id && String(u.Username).toLowerCase() === username.toLowerCase());
      if (clash) {
        throw new ApiError(
          'DUPLICATE_USERNAME',
          'Duplicate Username.<br>The username already exists in this or another Salesforce organization. Usernames must be unique across all Salesforce organizations. To resolve, use a different username (it doesn\'t need to match the user\'s email address).',
          400,
          ['Username']
        );
      }
      if (before && before.ProfileId !== record.ProfileId) this.checkLicenseChange(before, record);
      const becomesActive = record.IsActive !== false && (!before || before.IsActive === false || before.ProfileId !== record.ProfileId);
      if (becomesActive) {
        const lic = this.licenseOfUser(record);
        if (lic) {
          const used = this.all('User').filter((u) => u.Id !== record.Id && u.IsActive !== false && this.licenseOfUser(u)?.Id === lic.Id).length;
          if (used >= Number(lic.TotalLicenses ?? 0)) {
            throw new ApiError(
              'LICENSE_LIMIT_EXCEEDED',
              `License Limit Exceeded: no more ${String(lic.Name)} licenses are available`,
              400,
              []
            );
          }
        }
      }
      if (!before && !record.CommunityNickname) record.CommunityNickname = `${username.split('@')[0]}${Date.now() % 100_000}`;
      record.Name = [record.FirstName, record.LastName].filter(Boolean).join(' ');
    }
    if (def.name === 'PermissionSetAssignment' && !before) {
      const dup = this.all('PermissionSetAssignment').find(
        (a) => a.AssigneeId === record.AssigneeId && a.PermissionSetId === record.PermissionSetId
      );
      if (dup) {
        throw new ApiError('DUPLICATE_VALUE', `Duplicate PermissionSetAssignment. Assignee: ${String(record.AssigneeId)}; Permission Set: ${String(record.PermissionSetId)}`, 400, []);
      }
      this.checkPermissionSetLicense(record);
      this.checkAssignmentLicense(record);
    }
    if (def.name === 'PermissionSetLicenseAssign' && !before) {
      const dup = this.all('PermissionSetLicenseAssign').find(
        (a) => a.AssigneeId === record.AssigneeId && a.PermissionSetLicenseId === record.PermissionSetLicenseId
      );
      if (dup) throw new ApiError('DUPLICATE_VALUE', 'duplicate value found: PermissionSetLicenseAssign already exists for this user', 400, []);
      const psl = this.get(String(record.PermissionSetLicenseId));
      if (psl && Number(psl.UsedLicenses ?? 0) >= Number(psl.TotalLicenses ?? 0)) {
        throw new ApiError('LICENSE_LIMIT_EXCEEDED', `License Limit Exceeded: no more ${String(psl.MasterLabel)} permission set licenses are available`, 400);
      }
    }
    // Unique keys Salesforce enforces on the setup objects create writes (texts unconfirmed).
    if (def.name === 'PermissionSet' && (!before || before.Name !== record.Name)) {
      const clash = this.all('PermissionSet').find((p) => p.Id !== record.Id && String(p.Name).toLowerCase() === String(record.Name).toLowerCase());
      if (clash) throw new ApiError('DUPLICATE_DEVELOPER_NAME', `The API Name ${String(record.Name)} is already in use by another permission set.`, 400, ['Name']);
    }
    if ((def.name === 'ObjectPermissions' || def.name === 'FieldPermissions') && !before) {
      const key = def.name === 'ObjectPermissions' ? 'SobjectType' : 'Field';
      const dup = this.all(def.name).find((r) => r.ParentId === record.ParentId && String(r[key]).toLowerCase() === String(record[key]).toLowerCase());
      if (dup) throw new ApiError('DUPLICATE_VALUE', `duplicate value found: ${key} duplicates value on record with id: ${dup.Id}`, 400, [key]);
    }
    if (def.name === 'UserLogin' && record.IsPasswordLocked === true && before?.IsPasswordLocked !== true) {
      // "From the API, you can set this field to false, but not true" (Object Reference UserLogin). Text unconfirmed.
      throw new ApiError('FIELD_INTEGRITY_EXCEPTION', 'IsPasswordLocked can only be set to false through the API.', 400, ['IsPasswordLocked']);
    }
    if (def.name === 'SetupEntityAccess' && !before) {
      const entityType = this.typeOf(String(record.SetupEntityId));
      record.SetupEntityType = entityType;
      const dup = this.all('SetupEntityAccess').find(
        (a) => a.ParentId === record.ParentId && a.SetupEntityId === record.SetupEntityId
      );
      if (dup) throw new ApiError('DUPLICATE_VALUE', 'duplicate value found: SetupEntityId duplicates value on record with id: ' + dup.Id, 400, []);
    }
    if (def.name === 'ObjectPermissions' || def.name === 'FieldPermissions') {
      const obj = findObject(this.schema, String(record.SobjectType));
      if (!obj || obj.derived) {
        throw new ApiError('INVALID_FIELD', `Invalid sobject type: ${String(record.SobjectType)}`, 400, ['SobjectType']);
      }
      if (def.name === 'FieldPermissions') {
        // FieldPermissions.Field is a restricted picklist of the permissionable fields (Object Reference,
        // FieldPermissions; a field that cannot be given is `permissionable: false` in describe: required fields,
        // system fields). Text as real orgs answer it (salesforce.stackexchange.com/questions/97912, third-party).
        const [objName, fieldName] = String(record.Field).split('.');
        const field = fieldName ? findField(obj, fieldName) : undefined;
        if (objName.toLowerCase() !== obj.name.toLowerCase() || !field || !isPermissionable(field)) {
          throw new ApiError('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `Field Name: bad value for restricted picklist field: ${String(record.Field)}`, 400, ['Field']);
        }
      }
      if (def.name === 'ObjectPermissions') this.checkObjectPermissionLicense(record, obj);
    }
    if (def.name === 'PermissionSet') this.checkSystemPermissionLicense(record, before);
  }

  /** Objects a license lets permission sets grant (emulator.licenseObjects; unlisted licenses allow all). */
  private licenseAllows(license: SRecord | undefined, object: string): boolean {
    if (!license) return true;
    const key = String(license.Name ?? license.DeveloperName ?? '');
    const allowed = (this.settings.licenseObjects ?? DEFAULT_LICENSE_OBJECTS)[key];
    if (allowed === undefined || allowed === '*') return true;
    // Custom objects are available on the Salesforce Integration license (governance-facts.md §5).
    return object.endsWith('__c') || allowed.some((o) => o.toLowerCase() === object.toLowerCase());
  }

  /** What a user may hold on an object: their user license, or a permission set license assigned to them. */
  private userMayHold(user: SRecord, object: string): boolean {
    if (this.licenseAllows(this.licenseOfUser(user), object)) return true;
    return this.all('PermissionSetLicenseAssign')
      .filter((a) => a.AssigneeId === user.Id)
      .some((a) => {
        const psl = this.get(String(a.PermissionSetLicenseId));
        return psl !== undefined && this.licenseAllows(psl, object);
      });
  }

  /**
   * Object permissions a license does not allow (Salesforce Help 001233479, real texts): saving them on a permission
   * set assigned to a user whose license lacks them answers "Can't save permission set X, which is assigned to a user
   * with user license Y. The user license doesn't allow the permission: Read Accounts"; a set tied to a user license
   * (LicenseId) that lacks them, "The user license doesn't allow the permission: Read Accounts" (reference §1.5,
   * third-party). Status code unconfirmed. In an all-or-none request the whole request rolls back.
   */
  private checkObjectPermissionLicense(record: SRecord, obj: ObjectDef): void {
    const granted = OBJECT_PERMISSION_LABELS.filter(([field]) => record[field] === true).map(([, verb]) => verb);
    if (!granted.length) return;
    const label = `${granted[0]} ${pluralLabel(obj.name)}`;
    const ps = this.get(String(record.ParentId));
    if (!ps) return;
    const tied = ps.LicenseId ? this.get(String(ps.LicenseId)) : undefined;
    if (tied && this.typeOf(tied.Id) === 'UserLicense' && !this.licenseAllows(tied, obj.name)) {
      throw new ApiError('FIELD_INTEGRITY_EXCEPTION', `The user license doesn't allow the permission: ${label}`, 400, []);
    }
    for (const a of this.all('PermissionSetAssignment').filter((x) => x.PermissionSetId === ps.Id)) {
      const user = this.get(String(a.AssigneeId));
      if (user && !this.userMayHold(user, obj.name)) {
        throw new ApiError(
          'FIELD_INTEGRITY_EXCEPTION',
          `Can't save permission set ${String(ps.Label ?? ps.Name)}, which is assigned to a user with user license ${String(this.licenseOfUser(user)?.Name ?? '')}. The user license doesn't allow the permission: ${label}`,
          400,
          []
        );
      }
    }
  }

  /**
   * A permission set tied to a permission set license grants only the system permissions the license allows:
   * PermissionSetLicense.MaximumPermissions<Name> (Object Reference, PermissionSetLicense). A license field the
   * record does not carry allows the permission. Text as for object permissions (status code unconfirmed).
   */
  private checkSystemPermissionLicense(record: SRecord, before: SRecord | undefined): void {
    const tied = record.LicenseId ? this.get(String(record.LicenseId)) : undefined;
    if (!tied || this.typeOf(tied.Id) !== 'PermissionSetLicense') return;
    for (const [field, value] of Object.entries(record)) {
      if (!field.startsWith('Permissions') || value !== true || before?.[field] === true) continue;
      const name = field.slice('Permissions'.length);
      if (tied[`MaximumPermissions${name}`] === false) {
        throw new ApiError('FIELD_INTEGRITY_EXCEPTION', `The user license doesn't allow the permission: ${SYSTEM_PERMISSION_LABELS[name] ?? name}`, 400, []);
      }
    }
  }

  /**
   * A profile change that moves the user to another user license (governance-facts.md §5; texts third-party,
   * status code unconfirmed): a license the user may not move to answers FIELD_INTEGRITY_EXCEPTION "You can only
   * assign profiles that are compatible with the user's license"; a permission set the user holds that the new
   * license (with the permission set licenses the user holds) does not allow answers "The user license doesn't
   * allow the permission: Read Campaigns", or, for a set tied to another user license, "The user license doesn't
   * allow the permission set's license.". Nothing is changed.
   */
  private checkLicenseChange(before: SRecord, record: SRecord): void {
    const from = this.licenseOfUser(before);
    const to = this.licenseOfUser(record);
    if (from === undefined || to === undefined || from.Id === to.Id) return;
    const allowed = this.settings.licenseChanges?.[String(from.Name)] ?? '*';
    const refused = allowed === '*' ? false : !allowed.includes(String(to.Name));
    if (refused) {
      throw new ApiError('FIELD_INTEGRITY_EXCEPTION', "You can only assign profiles that are compatible with the user's license", 400, ['ProfileId']);
    }
    for (const a of this.all('PermissionSetAssignment').filter((x) => x.AssigneeId === record.Id)) {
      const ps = this.get(String(a.PermissionSetId));
      if (!ps || ps.IsOwnedByProfile === true) continue;
      if (ps.LicenseId && this.typeOf(String(ps.LicenseId)) === 'UserLicense' && ps.LicenseId !== to.Id) {
        throw new ApiError('FIELD_INTEGRITY_EXCEPTION', "The user license doesn't allow the permission set's license.", 400, ['ProfileId']);
      }
      for (const op of this.all('ObjectPermissions').filter((o) => o.ParentId === ps.Id)) {
        const granted = OBJECT_PERMISSION_LABELS.filter(([field]) => op[field] === true).map(([, verb]) => verb);
        if (granted.length && !this.userMayHold(record, String(op.SobjectType))) {
          throw new ApiError('FIELD_INTEGRITY_EXCEPTION', `The user license doesn't allow the permission: ${granted[0]} ${pluralLabel(String(op.SobjectType))}`, 400, ['ProfileId']);
        }
      }
    }
  }

  /** Assigning a permission set whose object permissions the user's licenses do not allow (Help 001233479; Veeva KB, third-party text). */
  private checkAssignmentLicense(assignment: SRecord): void {
    const ps = this.get(String(assignment.PermissionSetId));
    const user = this.get(String(assignment.AssigneeId));
    if (!ps || !user || ps.IsOwnedByProfile === true) return;
    for (const op of this.all('ObjectPermissions').filter((o) => o.ParentId === ps.Id)) {
      const granted = OBJECT_PERMISSION_LABELS.filter(([field]) => op[field] === true).map(([, verb]) => verb);
      const object = String(op.SobjectType);
      if (granted.length && !this.userMayHold(user, object)) {
        throw new ApiError(
          'FIELD_INTEGRITY_EXCEPTION',
          `Can't assign permission set ${String(ps.Label ?? ps.Name)} to user ${String(user.Username)}. The user license doesn't allow the permission: ${granted[0]} ${pluralLabel(object)}`,
          400,
          ['PermissionSetId']
        );
      }
    }
  }

  /**
   * A permission set tied to a permission set license can only be assigned to a user who holds that license;
   * one tied to a user license only to users on that license. Real text: "The user license doesn't allow the
   * permission" / permission set license missing (reference §1.5).
   */
  private checkPermissionSetLicense(assignment: SRecord): void {
    const ps = this.get(String(assignment.PermissionSetId));
    const user = this.get(String(assignment.AssigneeId));
    if (!ps || !user || !ps.LicenseId) return;
    const licType = this.typeOf(String(ps.LicenseId));
    if (licType === 'PermissionSetLicense') {
      const held = this.all('PermissionSetLicenseAssign').some(
        (a) => a.AssigneeId === user.Id && a.PermissionSetLicenseId === ps.LicenseId
      );
      if (!held) {
        const psl = this.get(String(ps.LicenseId));
        throw new ApiError(
          'FIELD_INTEGRITY_EXCEPTION',
          `The user doesn't have the ${String(psl?.MasterLabel ?? 'required')} permission set license, which this permission set requires. Assign the permission set license first.`,
          400,
          ['PermissionSetId']
        );
      }
    } else if (licType === 'UserLicense') {
      if (this.licenseOfUser(user)?.Id !== ps.LicenseId) {
        throw new ApiError('FIELD_INTEGRITY_EXCEPTION', "The user license doesn't allow the permission set's license.", 400, ['PermissionSetId']);
      }
    }
  }

  private afterWrite(def: ObjectDef, ctx: WriteContext): void {
    if (!ctx.system) this.writeCount++;
    if (def.name === 'User') {
      this.syncProfileAssignments();
      this.syncUserLogins();
    }
    if (['User', 'PermissionSetLicenseAssign', 'Profile', 'UserLicense'].includes(def.name)) this.recountLicenses();
  }

  /** Every user has one UserLogin row (Object Reference UserLogin); Salesforce creates it with the user. */
  private syncUserLogins(): void {
    const table = this.table('UserLogin');
    const have = new Set([...table.values()].map((r) => String(r.UserId)));
    for (const user of this.table('User').values()) {
      if (have.has(user.Id)) continue;
      const derived = userLoginId(user.Id);
      const id = table.has(derived) ? this.newId('UserLogin') : derived;
      table.set(id, { Id: id, UserId: user.Id, IsFrozen: false, IsPasswordLocked: false, LastModifiedDate: this.timestamp() });
    }
  }

  /**
   * Every user holds its profile's permission set through a PermissionSetAssignment that Salesforce keeps itself
   * (PermissionSet.IsOwnedByProfile; SOQL shows these rows). Kept in step when a user is created or changes profile.
   */
  private syncProfileAssignments(): void {
    const owned = new Map(this.all('PermissionSet').filter((p) => p.IsOwnedByProfile === true).map((p) => [String(p.ProfileId), p.Id]));
    const table = this.table('PermissionSetAssignment');
    const held = new Map<string, SRecord>();
    for (const a of table.values()) {
      const ps = this.get(String(a.PermissionSetId));
      if (ps?.IsOwnedByProfile === true) held.set(String(a.AssigneeId), a);
    }
    for (const user of this.all('User')) {
      const want = owned.get(String(user.ProfileId));
      const have = held.get(user.Id);
      if (have && have.PermissionSetId === want) continue;
      if (have) table.delete(have.Id);
      if (want) {
        const id = this.newId('PermissionSetAssignment');
        table.set(id, { Id: id, AssigneeId: user.Id, PermissionSetId: want, ExpirationDate: null, IsActive: true, SystemModstamp: this.timestamp() });
      }
    }
  }
}

/** Default `emulator.licenseObjects`: the Salesforce Integration user license alone grants no standard-object access;
 * the Salesforce API Integration permission set license grants the objects of the Integration license (Help,
 * integration_user.htm; governance-facts.md §5: Account, Contact, Lead, Opportunity, Case, Task, Event, custom
 * objects, ...). The full Salesforce license allows everything. */
const DEFAULT_LICENSE_OBJECTS: Record<string, string[] | '*'> = {
  Salesforce: '*',
  'Salesforce Integration': [],
  SalesforceAPIIntegrationPsl: [...STANDARD_DATA_OBJECTS, 'ContentDocument', 'ContentVersion'],
};

/** ObjectPermissions fields and the words Salesforce uses for them in "doesn't allow the permission: Read Accounts". */
const OBJECT_PERMISSION_LABELS: Array<[field: string, verb: string]> = [
  ['PermissionsRead', 'Read'],
  ['PermissionsCreate', 'Create'],
  ['PermissionsEdit', 'Edit'],
  ['PermissionsDelete', 'Delete'],
  ['PermissionsViewAllRecords', 'View All'],
  ['PermissionsModifyAllRecords', 'Modify All'],
];

/** Plural labels of the standard objects (English UI); other objects answer their API name. */
const PLURAL_LABELS: Record<string, string> = {
  Account: 'Accounts',
  Contact: 'Contacts',
  Lead: 'Leads',
  Opportunity: 'Opportunities',
  Case: 'Cases',
  Task: 'Tasks',
  Event: 'Events',
  Campaign: 'Campaigns',
};
const pluralLabel = (object: string): string => PLURAL_LABELS[object] ?? object;

/** UI labels of the system permissions a license may cap (Setup > Permission Sets > System Permissions). */
const SYSTEM_PERMISSION_LABELS: Record<string, string> = {
  ApiEnabled: 'API Enabled',
  ApiUserOnly: 'API Only User',
  ModifyAllData: 'Modify All Data',
  ViewAllData: 'View All Data',
};

/** The catalogue of an org without the objects and fields the fixture says it lacks. */
const withoutAbsent = (schema: Schema, settings: EmulatorSettings): Schema => {
  const objects = new Set((settings.absentObjects ?? []).map((o) => o.toLowerCase()));
  for (const name of [...schema.keys()]) if (objects.has(name.toLowerCase())) schema.delete(name);
  for (const def of schema.values()) {
    def.childRelationships = def.childRelationships.filter((c) => !objects.has(c.childSObject.toLowerCase()));
    for (const f of def.fields.values()) if (f.referenceTo) f.referenceTo = f.referenceTo.filter((t) => !objects.has(t.toLowerCase()));
  }
  for (const [object, fields] of Object.entries(settings.absentFields ?? {})) {
    const def = findObject(schema, object);
    if (!def) continue;
    for (const field of fields) {
      const f = findField(def, field);
      if (f && f.name !== 'Id') def.fields.delete(f.name);
    }
  }
  return schema;
};

export const defaultApiVersions = (): string[] => {
  const out: string[] = [];
  for (let v = 20; v <= 66; v++) out.push(`${v}.0`);
  return out;
};

/** State a module keeps per org beside the store (made on first use, gone with the store). */
export const perStore = <T>(make: () => T): ((store: OrgStore) => T) => {
  const all = new WeakMap<OrgStore, T>();
  return (store) => {
    let v = all.get(store);
    if (v === undefined) {
      v = make();
      all.set(store, v);
    }
    return v;
  };
};

/** The Id of a user's UserLogin row: derived from the User Id so that it is stable across dumps (format unconfirmed). */
export const userLoginId = (userId: string): string => {
  const id15 = `060${userId.slice(3, 15)}`;
  return id15 + idSuffix(id15);
};

export const newAccessToken = (orgId: string): string =>
  `${orgId.slice(0, 15)}!AQ${randomBytes(48).toString('base64').replace(/[+/=]/g, '').slice(0, 90)}`;
