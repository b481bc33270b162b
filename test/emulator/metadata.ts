/*
 * The Metadata API (SOAP, POST /services/Soap/m/{version}) for the app types of the emulated org:
 * deploy/checkDeployStatus, retrieve/checkRetrieveStatus, the CRUD calls, listMetadata and describeMetadata.
 * Envelopes are read with soap.ts (fast-xml-parser); zips with jszip. What the org accepts and generates is
 * decided in apps.ts (checkComponent); this module only speaks the protocol.
 *
 * Result shapes: Metadata API Developer Guide (AsyncResult, DeployResult/DeployDetails/DeployMessage,
 * RetrieveResult/FileProperties/RetrieveMessage, ReadResult, SaveResult, UpsertResult, DeleteResult, Error) as
 * mirrored in jsforce's WSDL-generated schema (lib/api/metadata/schema.js); elements in WSDL (alphabetical) order.
 */
import { XMLBuilder } from 'fast-xml-parser';
import JSZip from 'jszip';
import {
  appViews,
  bool,
  permissionSetReferencesOut,
  checkComponent,
  componentId,
  ECA_SETTINGS_NAME,
  ECA_SETTINGS_TYPE,
  isEcaType,
  metadataSecretsExposed,
  userHasPermission,
  WRITE_ORDER,
  type ComponentOutcome,
  type IncomingComponent,
} from './apps.js';
import { soapFault } from './faults.js';
import { apiVersionOf, resolveSession, type EmuRequest, type EmuResponse, type Route } from './http.js';
import { asArray, METADATA_NS, parseSoapRequest, parseXml, soapResponse, SoapParseError } from './soap.js';
import { idSuffix, type MetadataComponent, type OrgStore, type Session } from './store.js';
import { revokeRows, rowsOfApp } from './tokens.js';
import { registryTypes } from './vocabulary.js';

// ---- the modelled types -----------------------------------------------------------------------------------

type TypeInfo = {
  /** Name in package.xml / listMetadata / CRUD calls. */
  xmlName: string;
  folder: string;
  suffix: string;
  /** Key of the store's metadata table (differs for Settings). */
  storeType: string;
};

/* The modelled types and the store table of each. Folder and suffix of every type come from source-deploy-retrieve's
   registry (metadataRegistry.json: directoryName, suffix), the names `sf project deploy/retrieve` use, so a zip laid
   out otherwise is not read (vocabulary.ts). Settings files are <{Name}Settings> roots in settings/{Name}.settings. */
const MODELLED: Array<{ xmlName: string; storeType: string }> = [
  { xmlName: 'ExternalClientApplication', storeType: 'ExternalClientApplication' },
  { xmlName: 'ExtlClntAppOauthSettings', storeType: 'ExtlClntAppOauthSettings' },
  { xmlName: 'ExtlClntAppGlobalOauthSettings', storeType: 'ExtlClntAppGlobalOauthSettings' },
  { xmlName: 'ExtlClntAppOauthConfigurablePolicies', storeType: 'ExtlClntAppOauthConfigurablePolicies' },
  { xmlName: 'ExtlClntAppConfigurablePolicies', storeType: 'ExtlClntAppConfigurablePolicies' },
  { xmlName: 'ConnectedApp', storeType: 'ConnectedApp' },
  { xmlName: 'Settings', storeType: ECA_SETTINGS_TYPE },
];

let types: TypeInfo[] | undefined;
const TYPES = (): TypeInfo[] =>
  (types ??= MODELLED.map((m) => {
    const reg = registryTypes().get(m.xmlName);
    if (!reg?.suffix) throw new Error(`metadataRegistry.json has no folder and suffix for ${m.xmlName}`);
    return { ...m, folder: reg.directoryName, suffix: reg.suffix };
  }));
const typeByXmlName = (name: string): TypeInfo | undefined => TYPES().find((t) => t.xmlName === name);

/** The root element of a component file: the type name, or `{Member}Settings` for settings. */
const rootElement = (t: TypeInfo, fullName: string): string => (t.xmlName === 'Settings' ? `${fullName}Settings` : t.xmlName);
/** The store type of a Settings member: only ExternalClientApp is modelled. */
const storeTypeOf = (t: TypeInfo, fullName: string): string =>
  t.xmlName === 'Settings' ? (fullName === ECA_SETTINGS_NAME ? ECA_SETTINGS_TYPE : `${fullName}Settings`) : t.storeType;
/** CRUD calls and readMetadata name settings by their own type (e.g. ExternalClientAppSettings). */
const crudTypeInfo = (type: string): TypeInfo | undefined =>
  type === ECA_SETTINGS_TYPE ? TYPES().find((t) => t.xmlName === 'Settings') : typeByXmlName(type);

// ---- XML of components ----------------------------------------------------------------------------------

const fileBuilder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, indentBy: '    ', suppressEmptyNode: false, suppressBooleanAttributes: false });

/** Elements in alphabetical order, recursively, as Salesforce writes retrieved files; attributes dropped. */
const ordered = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(ordered);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).filter((key) => !key.startsWith('@_')).sort()) out[k] = ordered((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
};

const fieldsOf = (comp: MetadataComponent): Record<string, unknown> => {
  const { fullName, ...rest } = comp;
  void fullName;
  return rest;
};

const componentFile = (t: TypeInfo, comp: MetadataComponent): string =>
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  String(fileBuilder.build({ [rootElement(t, comp.fullName)]: { '@_xmlns': METADATA_NS, ...(ordered(fieldsOf(comp)) as Record<string, unknown>) } }));

/** Parsed content of a component element without attributes (xmlns, xsi:type). */
const stripAttributes = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(stripAttributes);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) if (!k.startsWith('@_')) out[k] = stripAttributes(val);
    return out;
  }
  return v;
};

/** What leaves the org: secrets removed where Salesforce withholds them. */
const outbound = (store: OrgStore, session: Session, storeType: string, comp: MetadataComponent): MetadataComponent => {
  const copy = structuredClone(comp);
  if (storeType === 'ExtlClntAppGlobalOauthSettings' && !metadataSecretsExposed(store, session.userId)) delete copy.consumerSecret;
  // ConnectedApp: consumerSecret is not returned on read (salesforce-facts.md §2.1).
  if (storeType === 'ConnectedApp' && copy.oauthConfig && typeof copy.oauthConfig === 'object') delete (copy.oauthConfig as Record<string, unknown>).consumerSecret;
  // The org keeps permission set Ids; it answers them as API names or Ids (emulator.permissionSetReferences).
  if (storeType === 'ExtlClntAppOauthConfigurablePolicies' && copy.commaSeparatedPermissionSet !== undefined) {
    copy.commaSeparatedPermissionSet = permissionSetReferencesOut(store, copy.commaSeparatedPermissionSet);
  }
  return copy;
};

// ---- async jobs -------------------------------------------------------------------------------------------

type DeployJob = { kind: 'deploy'; result: Record<string, unknown>; details: Record<string, unknown> };
type RetrieveJob = { kind: 'retrieve'; result: Record<string, unknown> };
const jobs = new WeakMap<OrgStore, Map<string, DeployJob | RetrieveJob>>();
const jobsOf = (store: OrgStore): Map<string, DeployJob | RetrieveJob> => {
  let m = jobs.get(store);
  if (!m) jobs.set(store, (m = new Map<string, DeployJob | RetrieveJob>()));
  return m;
};
let jobCounter = 1;
/** Deploy requests have key prefix 0Af, retrieve requests 09S (as in real AsyncResult ids). */
const jobId = (prefix: string): string => {
  const id15 = `${prefix}5g${String(jobCounter++).padStart(10, '0')}`;
  return id15 + idSuffix(id15);
};

const asyncResult = (id: string): Record<string, unknown> => ({ done: false, id, state: 'Queued' });

// ---- faults -------------------------------------------------------------------------------------------------

const soapXml = (status: number, body: string): EmuResponse => ({ status, headers: { 'content-type': 'text/xml;charset=UTF-8' }, body });
const fault = (code: string, message: string): EmuResponse => soapXml(500, soapFault(code, message));

/** Thrown by an operation to answer with a SOAP fault (HTTP 500). */
class MetadataFault extends Error {
  public constructor(public readonly faultcode: string, message: string) {
    super(message);
  }
}
const invalidId = (id: string): MetadataFault => new MetadataFault('sf:INVALID_ID_FIELD', `INVALID_ID_FIELD: Invalid Id: ${id}`) /* text unconfirmed */;
/* readMetadata of a non-CRUD type answers this fault in real orgs (jsforce/jsforce#1206, ApexClass). The emulator
   answers every CRUD call on the ECA types with it (eca-deploy.md §1: ECAs only through deploy/retrieve); that the
   write calls answer the same fault rather than an Error in the SaveResult is unconfirmed. */
const crudRefused = (): MetadataFault => new MetadataFault('sf:INVALID_TYPE', 'INVALID_TYPE: This type of metadata is not available for this organization');

// ---- deploy -----------------------------------------------------------------------------------------------

type PackageManifest = { types: Array<{ name: string; members: string[] }> };

const readManifest = (xml: string, root: string): PackageManifest => {
  const doc = parseXml(xml);
  const pkg = (doc[root] ?? {}) as Record<string, unknown>;
  return {
    types: asArray(pkg.types as Record<string, unknown> | Array<Record<string, unknown>>).map((t) => ({
      name: String(t.name),
      members: asArray(t.members as string | string[]).map(String),
    })),
  };
};

type ZipContents = { files: Map<string, string>; base: string };

const readZip = async (b64: string): Promise<ZipContents> => {
  const zip = await JSZip.loadAsync(Buffer.from(b64, 'base64'));
  const files = new Map<string, string>();
  for (const [name, entry] of Object.entries(zip.files)) if (!entry.dir) files.set(name, await entry.async('string'));
  const manifest = [...files.keys()].filter((n) => n === 'package.xml' || n.endsWith('/package.xml')).sort((a, b) => a.length - b.length)[0];
  if (!manifest) throw new Error('No package.xml found');
  return { files, base: manifest.slice(0, -'package.xml'.length) };
};

const message = (o: ComponentOutcome | undefined, fields: { componentType: string; fullName: string; fileName: string; id?: string }, now: string, problem?: string): Record<string, unknown> => {
  const failed = Boolean(problem ?? o?.problem);
  return {
    changed: !failed && !o?.created,
    componentType: fields.componentType,
    created: !failed && Boolean(o?.created),
    createdDate: now,
    deleted: false,
    fileName: fields.fileName,
    fullName: fields.fullName,
    ...(fields.id ? { id: fields.id } : {}),
    ...(failed ? { problem: problem ?? o?.problem, problemType: 'Error' } : {}),
    success: !failed,
  };
};

/*
 * destructiveChanges.xml, destructiveChangesPre.xml and destructiveChangesPost.xml next to package.xml: the members
 * they name are deleted by the deploy (Metadata API Developer Guide, "Deleting Components from an Organization").
 * A member the org does not hold is answered with Salesforce's warning "No <Type> named: <name> found", which fails
 * the deploy unless ignoreWarnings (DeployOptions: "deployments with warnings complete successfully (true) or not
 * (false)"). Deleting an External Client App while a settings or policy component still names it, and is not
 * deleted with it, is refused (the child would name nothing; text unconfirmed).
 */
const DESTRUCTIVE_FILES = ['destructiveChangesPre.xml', 'destructiveChanges.xml', 'destructiveChangesPost.xml'];

const destructiveChanges = (
  store: OrgStore,
  zip: ZipContents,
  now: string,
  failures: Array<Record<string, unknown>>,
  ignoreWarnings: boolean
): Array<{ storeType: string; fullName: string; message: Record<string, unknown> }> => {
  const out: Array<{ storeType: string; fullName: string; message: Record<string, unknown> }> = [];
  for (const file of DESTRUCTIVE_FILES) {
    const text = zip.files.get(`${zip.base}${file}`);
    if (text === undefined) continue;
    const fileName = `${zip.base}${file}`;
    for (const entry of readManifest(text, 'Package').types) {
      const t = typeByXmlName(entry.name);
      if (!registryTypes().get(entry.name)) {
        failures.push(message(undefined, { componentType: '', fullName: file, fileName }, now, `Unknown type name '${entry.name}' specified in ${file}`));
        continue;
      }
      for (const member of entry.members) {
        if (!t) {
          // Emulator limit, not Salesforce behaviour: the type exists but the emulated org does not model it.
          failures.push(message(undefined, { componentType: entry.name, fullName: member, fileName }, now, `The org emulator does not model metadata type ${entry.name}.`));
          continue;
        }
        const storeType = storeTypeOf(t, member);
        if (!store.getMetadata(storeType, member)) {
          if (!ignoreWarnings) failures.push({ ...message(undefined, { componentType: entry.name, fullName: member, fileName }, now, `No ${entry.name} named: ${member} found`), problemType: 'Warning' });
          continue;
        }
        out.push({
          storeType,
          fullName: member,
          message: { changed: false, componentType: entry.name, created: false, createdDate: now, deleted: true, fileName, fullName: member, success: true },
        });
      }
    }
  }
  const deleting = (type: string, name: string): boolean => out.some((d) => d.storeType === type && d.fullName === name);
  for (const d of out.filter((x) => x.storeType === 'ExternalClientApplication')) {
    for (const type of WRITE_ORDER.filter((w) => w.startsWith('ExtlClntApp'))) {
      for (const child of store.listMetadata(type)) {
        if (child.externalClientApplication === d.fullName && !deleting(type, child.fullName)) {
          failures.push(message(undefined, { componentType: 'ExternalClientApplication', fullName: d.fullName, fileName: d.message.fileName as string }, now, `Cannot delete this External Client App: ${type} ${child.fullName} refers to it.`) /* unconfirmed text */);
        }
      }
    }
  }
  return out;
};

const deploy = async (store: OrgStore, session: Session, payload: Record<string, unknown>, apiVersion: number): Promise<Record<string, unknown>> => {
  const options = (payload.DeployOptions ?? {}) as Record<string, unknown>;
  const checkOnly = bool(options.checkOnly);
  const now = store.timestamp();
  const id = jobId('0Af');
  const user = store.get(session.userId);
  const failures: Array<Record<string, unknown>> = [];
  const successes: Array<Record<string, unknown>> = [];
  const outcomes: Array<{ outcome: ComponentOutcome; t: TypeInfo }> = [];
  const deletions: Array<{ storeType: string; fullName: string; message: Record<string, unknown> }> = [];

  let zip: ZipContents | undefined;
  let zipError: string | undefined;
  try {
    zip = await readZip(String(payload.ZipFile ?? ''));
  } catch (e) {
    zipError = e instanceof Error ? e.message : String(e);
  }

  if (zip) {
    const { base, files } = zip;
    const manifest = readManifest(files.get(`${base}package.xml`) ?? '', 'Package');
    successes.push(message(undefined, { componentType: '', fullName: 'package.xml', fileName: `${zip.base}package.xml` }, now));
    const incoming: Array<{ c: IncomingComponent; t: TypeInfo }> = [];
    for (const entry of manifest.types) {
      const t = typeByXmlName(entry.name);
      const members = entry.members.includes('*') && t
        ? [...files.keys()].filter((f) => f.startsWith(`${base}${t.folder}/`) && f.endsWith(`.${t.suffix}`)).map((f) => f.slice(`${base}${t.folder}/`.length, -(t.suffix.length + 1)))
        : entry.members;
      const reg = registryTypes().get(entry.name);
      if (!reg) {
        // A type name the Metadata API does not have (source-deploy-retrieve's registry lists every one). Text as
        // commonly reported from real deploys (third-party): "Unknown type name 'X' specified in package.xml".
        failures.push(message(undefined, { componentType: '', fullName: 'package.xml', fileName: `${zip.base}package.xml` }, now, `Unknown type name '${entry.name}' specified in package.xml`));
        continue;
      }
      for (const member of members) {
        const fileName = `${zip.base}${t?.folder ?? reg.directoryName}/${member}.${t?.suffix ?? reg.suffix ?? ''}`;
        const text = zip.files.get(fileName);
        if (text !== undefined && !t) {
          // Emulator limit, not Salesforce behaviour: the type exists but the emulated org does not model it.
          failures.push(message(undefined, { componentType: entry.name, fullName: member, fileName }, now, `The org emulator does not model metadata type ${entry.name}.`));
          continue;
        }
        if (!t || text === undefined) {
          // Real text: "An object 'X' of type Y was named in package.xml, but was not found in zipped directory".
          failures.push(message(undefined, { componentType: entry.name, fullName: member, fileName: `${zip.base}package.xml` }, now, `An object '${member}' of type ${entry.name} was named in package.xml, but was not found in zipped directory`));
          continue;
        }
        const doc = parseXml(text);
        const root = rootElement(t, member);
        if (!(root in doc)) {
          failures.push(message(undefined, { componentType: entry.name, fullName: member, fileName }, now, `Error parsing file: The root element of the file must be ${root}`) /* unconfirmed text */);
          continue;
        }
        const body = (stripAttributes(doc[root]) ?? {}) as Record<string, unknown>;
        incoming.push({ c: { type: storeTypeOf(t, member), fullName: member, fileName, body: typeof body === 'object' ? body : {} }, t });
      }
    }
    deletions.push(...destructiveChanges(store, zip, now, failures, bool(options.ignoreWarnings)));
    const ecaNamesInRequest = new Set(incoming.filter((i) => i.c.type === 'ExternalClientApplication').map((i) => i.c.fullName));
    for (const { c, t } of incoming) {
      const outcome = checkComponent(store, c, { userId: session.userId, apiVersion, ecaNamesInRequest });
      outcomes.push({ outcome, t });
      const fields = { componentType: t.xmlName, fullName: c.fullName, fileName: c.fileName, id: componentId(store, c.type, c.fullName) || undefined };
      (outcome.problem ? failures : successes).push(message(outcome, fields, now));
    }
  }

  const ok = !zipError && failures.length === 0;
  // rollbackOnError: production orgs require true (DeployOptions doc); the emulated org is a production org, so every
  // deploy is all-or-nothing whatever the option says.
  if (ok && !checkOnly) {
    const writes = outcomes
      .filter((o) => o.outcome.toWrite)
      .sort((a, b) => WRITE_ORDER.indexOf(a.outcome.incoming.type) - WRITE_ORDER.indexOf(b.outcome.incoming.type));
    for (const { outcome } of writes) if (outcome.toWrite) store.putMetadata(outcome.incoming.type, outcome.toWrite, { userId: session.userId });
    // destructiveChanges.xml (and its Pre/Post forms) are applied in the same all-or-nothing deploy. An app deleted
    // takes its users' OAuth tokens with it ("Uninstalling a connected app removes every user's tokens",
    // governance-facts.md §3; the same reading for a deleted External Client App).
    const gone = appViews(store).filter((a) => deletions.some((d) => d.storeType === a.kind && d.fullName === a.fullName));
    const orphaned = gone.flatMap((a) => rowsOfApp(store, a));
    for (const d of deletions) store.deleteMetadata(d.storeType, d.fullName, { userId: session.userId });
    revokeRows(store, orphaned);
    // Ids of components that only exist now.
    for (const s of successes) if (!s.id && s.componentType) {
      const t = typeByXmlName(String(s.componentType));
      const cid = t ? componentId(store, storeTypeOf(t, String(s.fullName)), String(s.fullName)) : '';
      if (cid) s.id = cid;
    }
  }
  if (ok) successes.push(...deletions.map((d) => d.message));
  const total = outcomes.length + deletions.length + failures.filter((f) => !outcomes.some((o) => o.outcome.incoming.fullName === f.fullName)).length;
  const result: Record<string, unknown> = {
    checkOnly,
    completedDate: now,
    createdBy: session.userId,
    createdByName: String(user?.Name ?? ''),
    createdDate: now,
    done: true,
    ...(zipError ? { errorMessage: `Unable to read the zip file: ${zipError}`, errorStatusCode: 'UNKNOWN_EXCEPTION' } : {}) /* unconfirmed */,
    id,
    ignoreWarnings: bool(options.ignoreWarnings),
    lastModifiedDate: now,
    numberComponentErrors: failures.length,
    numberComponentsDeployed: successes.length - 1 > 0 ? successes.length - 1 : 0,
    numberComponentsTotal: total,
    numberTestErrors: 0,
    numberTestsCompleted: 0,
    numberTestsTotal: 0,
    rollbackOnError: true,
    runTestsEnabled: false,
    startDate: now,
    status: ok ? 'Succeeded' : 'Failed',
    success: ok,
  };
  jobsOf(store).set(id, { kind: 'deploy', result, details: { componentFailures: failures, componentSuccesses: successes } });
  return asyncResult(id);
};

const checkDeployStatus = (store: OrgStore, payload: Record<string, unknown>): Record<string, unknown> => {
  const id = String(payload.asyncProcessId ?? '');
  const job = jobsOf(store).get(store.normalizeId(id));
  if (!job || job.kind !== 'deploy') throw invalidId(id);
  // DeployResult.details only with includeDetails=true (checkDeployStatus doc). Element order as in the WSDL.
  const { id: rid, ignoreWarnings, lastModifiedDate, ...rest } = job.result;
  const withDetails = bool(payload.includeDetails) ? { details: job.details } : {};
  const ordered0: Record<string, unknown> = {};
  const all: Record<string, unknown> = { ...rest, ...withDetails, id: rid, ignoreWarnings, lastModifiedDate };
  for (const k of Object.keys(all).sort()) ordered0[k] = all[k];
  return ordered0;
};

// ---- retrieve -----------------------------------------------------------------------------------------------

const fileProperties = (store: OrgStore, session: Session, t: TypeInfo, fullName: string, fileName: string): Record<string, unknown> => {
  const user = store.get(session.userId);
  const storeType = storeTypeOf(t, fullName);
  const app = appViews(store).find((a) => a.fullName === (storeType === 'ConnectedApp' || storeType === 'ExternalClientApplication' ? fullName : String(store.getMetadata(storeType, fullName)?.externalClientApplication ?? '')));
  const created = app ? app.createdDate.toISOString().replace('Z', '+0000') : store.timestamp();
  const modified = app ? app.lastModifiedDate.toISOString().replace('Z', '+0000') : store.timestamp();
  return {
    createdById: session.userId,
    createdByName: String(user?.Name ?? ''),
    createdDate: created,
    fileName,
    fullName,
    id: componentId(store, storeType, fullName),
    lastModifiedById: session.userId,
    lastModifiedByName: String(user?.Name ?? ''),
    lastModifiedDate: modified,
    manageableState: 'unmanaged',
    type: t.xmlName,
  };
};

const retrieve = async (store: OrgStore, session: Session, payload: Record<string, unknown>): Promise<Record<string, unknown>> => {
  // WSDL names the parameter retrieveRequest; jsforce sends <request>.
  const request = (payload.retrieveRequest ?? payload.request ?? {}) as Record<string, unknown>;
  const unpackaged = (request.unpackaged ?? {}) as Record<string, unknown>;
  const singlePackage = bool(request.singlePackage);
  const base = singlePackage ? '' : 'unpackaged/';
  const id = jobId('09S');
  const zip = new JSZip();
  const props: Array<Record<string, unknown>> = [];
  const messages: Array<Record<string, unknown>> = [];
  const manifestTypes: Array<{ name: string; members: string[] }> = [];
  for (const entry of asArray(unpackaged.types as Record<string, unknown> | Array<Record<string, unknown>>)) {
    const name = String(entry.name);
    const wanted = asArray(entry.members as string | string[]).map(String);
    const t = typeByXmlName(name);
    const members: string[] = [];
    const names = t
      ? wanted.includes('*')
        ? t.xmlName === 'Settings'
          ? store.getMetadata(ECA_SETTINGS_TYPE, ECA_SETTINGS_NAME) ? [ECA_SETTINGS_NAME] : []
          : store.listMetadata(t.storeType).map((c) => c.fullName)
        : wanted
      : wanted;
    for (const member of names) {
      const comp = t ? store.getMetadata(storeTypeOf(t, member), member) : undefined;
      if (!t || !comp) {
        // Real text: "Entity of type 'ApexClass' named 'Foo' cannot be found".
        messages.push({ fileName: `${base}package.xml`, problem: `Entity of type '${name}' named '${member}' cannot be found` });
        continue;
      }
      const fileName = `${base}${t.folder}/${member}.${t.suffix}`;
      zip.file(fileName, componentFile(t, outbound(store, session, storeTypeOf(t, member), comp)));
      props.push(fileProperties(store, session, t, member, fileName));
      members.push(member);
    }
    if (members.length) manifestTypes.push({ name, members });
  }
  const version = String(request.apiVersion ?? unpackaged.version ?? '');
  const manifest =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    String(fileBuilder.build({ Package: { '@_xmlns': METADATA_NS, types: manifestTypes.map((t) => ({ members: t.members, name: t.name })), ...(version ? { version } : {}) } }));
  zip.file(`${base}package.xml`, manifest);
  const user = store.get(session.userId);
  const now = store.timestamp();
  props.push({
    createdById: session.userId,
    createdByName: String(user?.Name ?? ''),
    createdDate: now,
    fileName: `${base}package.xml`,
    fullName: `${base}package.xml`.replace(/\.xml$/, ''),
    id: '',
    lastModifiedById: session.userId,
    lastModifiedByName: String(user?.Name ?? ''),
    lastModifiedDate: now,
    manageableState: 'unmanaged',
    type: 'Package',
  });
  const zipFile = (await zip.generateAsync({ type: 'nodebuffer' })).toString('base64');
  jobsOf(store).set(id, {
    kind: 'retrieve',
    result: { done: true, fileProperties: props, id, ...(messages.length ? { messages } : {}), status: 'Succeeded', success: true, zipFile },
  });
  return asyncResult(id);
};

const checkRetrieveStatus = (store: OrgStore, payload: Record<string, unknown>): Record<string, unknown> => {
  const id = String(payload.asyncProcessId ?? '');
  const job = jobsOf(store).get(store.normalizeId(id));
  if (!job || job.kind !== 'retrieve') throw invalidId(id);
  // includeZip defaults to true (checkRetrieveStatus doc); false leaves the zip out.
  const includeZip = payload.includeZip === undefined || bool(payload.includeZip);
  const { zipFile, ...rest } = job.result;
  return includeZip ? { ...rest, zipFile } : rest;
};

// ---- CRUD calls -----------------------------------------------------------------------------------------------

type CrudError = { message: string; statusCode: string };
const errorOf = (e: CrudError): Record<string, unknown> => ({ message: e.message, statusCode: e.statusCode });

/** The type named by an xsi:type attribute ("ConnectedApp" or "tns:ConnectedApp"). */
const xsiType = (m: Record<string, unknown>): string => String(m['@_type'] ?? '').replace(/^.*:/, '');

const crudCheck = (store: OrgStore, session: Session, type: string, body: Record<string, unknown>, apiVersion: number): ComponentOutcome => {
  const fullName = String(body.fullName ?? '');
  const { fullName: _ignored, ...fields } = body;
  void _ignored;
  return checkComponent(store, { type, fullName, fileName: '', body: fields }, { userId: session.userId, apiVersion, ecaNamesInRequest: new Set() });
};

const noSuchComponent = (type: string, fullName: string): CrudError => ({
  // Real text for update/delete of a missing component: "In field: fullName - no CustomObject named Foo__c found".
  message: `In field: fullName - no ${type} named ${fullName} found`,
  statusCode: 'INVALID_CROSS_REFERENCE_KEY',
});

type CrudOp = 'create' | 'update' | 'upsert';

const saveOne = (store: OrgStore, session: Session, op: CrudOp, m: Record<string, unknown>, apiVersion: number): Record<string, unknown> => {
  const type = xsiType(m);
  const body = stripAttributes(m) as Record<string, unknown>;
  const fullName = String(body.fullName ?? '');
  const exists = Boolean(store.getMetadata(type, fullName));
  const result = (created: boolean, err?: CrudError): Record<string, unknown> => ({
    ...(op === 'upsert' ? { created } : {}),
    ...(err ? { errors: errorOf(err) } : {}),
    fullName,
    success: !err,
  });
  if (op === 'create' && exists) return result(false, { message: `A ${type} named ${fullName} already exists.`, statusCode: 'DUPLICATE_VALUE' }) /* text unconfirmed */;
  if (op === 'update' && !exists) return result(false, noSuchComponent(type, fullName));
  const outcome = crudCheck(store, session, type, body, apiVersion);
  if (Boolean(outcome.problem) || !outcome.toWrite) return result(false, { message: outcome.problem ?? 'Unknown error', statusCode: 'FIELD_INTEGRITY_EXCEPTION' } /* statusCode unconfirmed */);
  store.putMetadata(type, outcome.toWrite, { userId: session.userId });
  return result(outcome.created);
};

const crudTypeGuard = (type: string): void => {
  if (isEcaType(type)) throw crudRefused();
  if (!crudTypeInfo(type)) throw crudRefused() /* emulator limit: other types are not modelled */;
};

const readMetadata = (store: OrgStore, session: Session, payload: Record<string, unknown>): Record<string, unknown> => {
  const type = String(payload.type ?? '');
  crudTypeGuard(type);
  const records = asArray(payload.fullNames as string | string[]).map((n) => {
    const comp = store.getMetadata(type, String(n));
    // Missing component: <records xsi:nil="true"/>. Unconfirmed on the wire; consistent with forcedotcom/cli#1917
    // (jsforce read() of missing components answered {}) and with WSC clients receiving null array entries.
    if (!comp) return { '@_xsi:nil': 'true' };
    const out = outbound(store, session, type, comp);
    // fullName (inherited from Metadata) comes first, the type's own fields follow in WSDL order.
    return { '@_xsi:type': type, fullName: out.fullName, ...(ordered(fieldsOf(out)) as Record<string, unknown>) };
  });
  return { records };
};

const deleteMetadata = (store: OrgStore, session: Session, payload: Record<string, unknown>): Array<Record<string, unknown>> => {
  const type = String(payload.type ?? '');
  crudTypeGuard(type);
  return asArray(payload.fullNames as string | string[]).map((n) => {
    const fullName = String(n);
    if (type === ECA_SETTINGS_TYPE) return { errors: errorOf({ message: `Cannot delete ${type}`, statusCode: 'INVALID_OPERATION' }), fullName, success: false } /* unconfirmed */;
    if (!store.deleteMetadata(type, fullName, { userId: session.userId })) return { errors: errorOf(noSuchComponent(type, fullName)), fullName, success: false };
    return { fullName, success: true };
  });
};

const renameMetadata = (store: OrgStore, session: Session, payload: Record<string, unknown>, apiVersion: number): Record<string, unknown> => {
  const type = String(payload.type ?? '');
  crudTypeGuard(type);
  const oldName = String(payload.oldFullName ?? '');
  const newName = String(payload.newFullName ?? '');
  const comp = store.getMetadata(type, oldName);
  if (!comp) return { errors: errorOf(noSuchComponent(type, oldName)), fullName: newName, success: false };
  if (store.getMetadata(type, newName)) return { errors: errorOf({ message: `A ${type} named ${newName} already exists.`, statusCode: 'DUPLICATE_VALUE' }), fullName: newName, success: false } /* unconfirmed */;
  const outcome = crudCheck(store, session, type, { ...comp, fullName: oldName }, apiVersion);
  if (Boolean(outcome.problem) || !outcome.toWrite) return { errors: errorOf({ message: outcome.problem ?? 'Unknown error', statusCode: 'FIELD_INTEGRITY_EXCEPTION' }), fullName: newName, success: false };
  store.deleteMetadata(type, oldName, { system: true });
  store.putMetadata(type, { ...outcome.toWrite, fullName: newName }, { userId: session.userId });
  return { fullName: newName, success: true };
};

const listMetadata = (store: OrgStore, session: Session, payload: Record<string, unknown>): Array<Record<string, unknown>> => {
  const out: Array<Record<string, unknown>> = [];
  for (const q of asArray(payload.queries as Record<string, unknown> | Array<Record<string, unknown>>)) {
    const t = typeByXmlName(String(q.type ?? ''));
    if (!t) continue;
    const comps = t.xmlName === 'Settings' ? [store.getMetadata(ECA_SETTINGS_TYPE, ECA_SETTINGS_NAME)].filter((c): c is MetadataComponent => Boolean(c)) : store.listMetadata(t.storeType);
    for (const c of comps) out.push(fileProperties(store, session, t, c.fullName, `${t.folder}/${c.fullName}.${t.suffix}`));
  }
  return out;
};

const describeMetadata = (): Record<string, unknown> => ({
  metadataObjects: TYPES().map((t) => ({ directoryName: t.folder, inFolder: false, metaFile: false, suffix: t.suffix, xmlName: t.xmlName })),
  organizationNamespace: '',
  partialSaveAllowed: true,
  testRequired: false,
});

// ---- the route ------------------------------------------------------------------------------------------------

const JWT_SOAP_MIN_VERSION = 68;

const handle = async (req: EmuRequest, store: OrgStore): Promise<EmuResponse> => {
  let parsed: ReturnType<typeof parseSoapRequest>;
  try {
    parsed = parseSoapRequest(req.body.toString('utf8'));
  } catch (e) {
    const text = e instanceof SoapParseError ? e.message : String(e);
    return fault('soapenv:Client', `Error parsing SOAP request: ${text}`) /* unconfirmed */;
  }
  const { operation, payload } = parsed;
  req.log.soapOperation = operation;
  const apiVersion = Number(apiVersionOf(req.path) ?? '0');
  const session = resolveSession(store, parsed.sessionId);
  // wire/soap-fault-invalid-session-partner.xml. A named-user JWT access token is refused by SOAP below v68.0
  // (jsforce soap.ts comment: "SOAP API added support for JWT-based access tokens in API v68.0").
  if (!session || (session.namedUserJwt && apiVersion < JWT_SOAP_MIN_VERSION)) {
    return fault('sf:INVALID_SESSION_ID', 'INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session');
  }
  // Metadata API needs Modify All Data or Modify Metadata Through Metadata API Functions (real fault text).
  if (!userHasPermission(store, session.userId, 'ModifyAllData') && !userHasPermission(store, session.userId, 'ModifyMetadata')) {
    return fault('sf:INSUFFICIENT_ACCESS', 'INSUFFICIENT_ACCESS: use of the Metadata API requires a user with the ModifyAllData or ModifyMetadata permission');
  }
  try {
    return soapXml(200, soapResponse(operation, { result: await runOperation(store, session, operation, payload, apiVersion) }));
  } catch (e) {
    if (e instanceof MetadataFault) return fault(e.faultcode, e.message);
    throw e;
  }
};

/** The `result` content of one operation; throws MetadataFault for a SOAP fault. */
const runOperation = async (store: OrgStore, session: Session, operation: string, payload: Record<string, unknown>, apiVersion: number): Promise<unknown> => {
  switch (operation) {
    case 'deploy':
      return deploy(store, session, payload, apiVersion);
    case 'checkDeployStatus':
      return checkDeployStatus(store, payload);
    case 'retrieve':
      return retrieve(store, session, payload);
    case 'checkRetrieveStatus':
      return checkRetrieveStatus(store, payload);
    case 'checkStatus': {
      const id = String(payload.asyncProcessId ?? '');
      if (!jobsOf(store).has(store.normalizeId(id))) throw invalidId(id);
      return { done: true, id, state: 'Completed' };
    }
    case 'readMetadata':
      return readMetadata(store, session, payload);
    case 'createMetadata':
    case 'updateMetadata':
    case 'upsertMetadata': {
      const items = asArray(payload.metadata as Record<string, unknown> | Array<Record<string, unknown>>);
      for (const m of items) crudTypeGuard(xsiType(m));
      const op = operation.replace('Metadata', '') as CrudOp;
      return items.map((m) => saveOne(store, session, op, m, apiVersion));
    }
    case 'deleteMetadata':
      return deleteMetadata(store, session, payload);
    case 'renameMetadata':
      return renameMetadata(store, session, payload, apiVersion);
    case 'listMetadata':
      return listMetadata(store, session, payload);
    case 'describeMetadata':
      return describeMetadata();
    default:
      // Salesforce's answer to an unknown body element.
      throw new MetadataFault('soapenv:Client', `No operation available for request {${METADATA_NS}}${operation}`);
  }
};

export const metadataRoutes = (): Route[] => [
  { method: 'POST', pattern: /^\/services\/Soap\/m\/\d+\.\d$/, auth: 'soap', handler: (req, _m, store) => handle(req, store) },
];
