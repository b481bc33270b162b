/*
 * Reading back a composite write whose answer was lost (a dropped connection, a 5xx): which of its records the org
 * holds now. Each record the plugin creates has a key the org keeps unique, so a query by that key says whether the
 * lost request created it: a username is unique across Salesforce, a permission set name within the org, and a
 * user holds a permission set (PermissionSetAssignment), a permission set license (PermissionSetLicenseAssign) or
 * a permission set one row of access per object (ObjectPermissions) and per field (FieldPermissions) at most: a
 * second one is refused with DUPLICATE_VALUE (Object Reference for the Salesforce Platform, each object's page).
 * Updates set fields to values, so sending one again changes nothing more; a delete is done when the Id is gone.
 */
import type { CompositeSubrequest } from './types.js';

/** Queries sent together (Transport.queryBatch): each answers its rows, or the org's error in place. */
export type QueryBatch = (queries: Record<string, string>) => Promise<Record<string, Array<Record<string, unknown>> | { errorCode: string; message: string }>>;

/** The fields that identify a record the plugin creates, per sObject. */
export const UNIQUE_KEYS: Readonly<Record<string, readonly string[]>> = {
  User: ['Username'],
  PermissionSet: ['Name'],
  PermissionSetAssignment: ['AssigneeId', 'PermissionSetId'],
  PermissionSetLicenseAssign: ['AssigneeId', 'PermissionSetLicenseId'],
  ObjectPermissions: ['ParentId', 'SobjectType'],
  FieldPermissions: ['ParentId', 'Field'],
  SetupEntityAccess: ['ParentId', 'SetupEntityId'],
};

export type ReadBack = {
  /** Subrequests the org applied: their records exist (with the Id found), or their delete is done. */
  found: Array<{ referenceId: string; id?: string; label: string }>;
  /** Subrequests to send again, and how each reads in a message. */
  missing: CompositeSubrequest[];
  missingLabels: string[];
  /** Set when a subrequest cannot be read back: its outcome stays unknown and nothing is sent again. */
  unreadable?: string;
};

const REF = /^@\{(\w+)\.id\}$/;
const soql = (v: string): string => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

type Create = { sub: CompositeSubrequest; sobject: string; keys: readonly string[] };

const sobjectOf = (path: string): { sobject: string; id?: string } => {
  const m = /^\/sobjects\/(\w+)(?:\/([^/?]+))?$/.exec(path);
  return { sobject: m?.[1] ?? '', id: m?.[2] };
};

/** `User Username=x`, the words a recovery note uses for a record (field names and values the plan wrote; no secrets). */
const labelOf = (sobject: string, keys: readonly string[], values: Record<string, string>): string =>
  `${sobject} ${keys.map((k) => `${k}=${values[k]}`).join(', ')}`;

/**
 * Which of `pending` the org holds. `ids` are the Ids known for references (`@{user.id}`); records created by the
 * lost request are found first, so the records that reference them can be found by their Ids in the next round.
 * With allOrNone, the org applied the request whole or not at all: when every record it created is found, its
 * updates and deletes landed too.
 */
export const readBackComposite = async (queryBatch: QueryBatch, pending: CompositeSubrequest[], known: Record<string, string>, allOrNone: boolean): Promise<ReadBack> => {
  const ids = { ...known };
  const found: ReadBack['found'] = [];
  const missing = new Set<CompositeSubrequest>();
  const creates: Create[] = [];
  const deletes: Array<{ sub: CompositeSubrequest; sobject: string; id: string }> = [];
  const updates: CompositeSubrequest[] = [];
  for (const sub of pending) {
    const { sobject, id } = sobjectOf(sub.path);
    if (sub.method === 'POST' && !id) {
      const keys = UNIQUE_KEYS[sobject];
      if (!keys) return { found: [], missing: [], missingLabels: [], unreadable: `${sobject} records have no key to find them by.` };
      creates.push({ sub, sobject, keys });
    } else if (sub.method === 'DELETE' && id) deletes.push({ sub, sobject, id });
    else updates.push(sub);
  }

  /** The key values of a create, with references resolved; undefined while a referenced record is not known. */
  const keyValues = (c: Create): Record<string, string> | undefined => {
    const values: Record<string, string> = {};
    for (const k of c.keys) {
      const raw = String(c.sub.body?.[k] ?? '');
      const ref = REF.exec(raw)?.[1];
      if (ref && !ids[ref]) return undefined;
      values[k] = ref ? ids[ref] : raw;
    }
    return values;
  };

  // Round by round: records whose keys are known now; then those that reference what the last round found.
  let open = creates;
  while (open.length) {
    const ready = open.filter((c) => keyValues(c));
    if (!ready.length) {
      // What references a record the org does not hold cannot exist either.
      open.forEach((c) => missing.add(c.sub));
      break;
    }
    const queries: Record<string, string> = {};
    ready.forEach((c, i) => {
      const values = keyValues(c)!;
      queries[`r${i}`] = `SELECT Id FROM ${c.sobject} WHERE ${c.keys.map((k) => `${k} = ${soql(values[k])}`).join(' AND ')} LIMIT 1`;
    });
    // eslint-disable-next-line no-await-in-loop
    const rows = await queryBatch(queries);
    for (const [i, c] of ready.entries()) {
      const answer = rows[`r${i}`];
      if (!Array.isArray(answer)) return { found: [], missing: [], missingLabels: [], unreadable: `${c.sobject}: ${answer.errorCode}: ${answer.message}` };
      const id = answer[0]?.Id;
      if (typeof id === 'string') {
        found.push({ referenceId: c.sub.referenceId, id, label: labelOf(c.sobject, c.keys, keyValues(c)!) });
        ids[c.sub.referenceId] = id;
      } else missing.add(c.sub);
    }
    open = open.filter((c) => !ready.includes(c));
  }

  const allCreatesFound = creates.length > 0 && creates.every((c) => !missing.has(c.sub));
  if (allOrNone && allCreatesFound) {
    // The request was applied whole: its updates and deletes are in the org too.
    for (const u of [...updates, ...deletes.map((d) => d.sub)]) found.push({ referenceId: u.referenceId, label: `${u.method} ${u.path}` });
  } else {
    updates.forEach((u) => missing.add(u));
    if (deletes.length) {
      const queries = Object.fromEntries(deletes.map((d, i) => [`d${i}`, `SELECT Id FROM ${d.sobject} WHERE Id = ${soql(d.id)}`]));
      const rows = await queryBatch(queries);
      deletes.forEach((d, i) => {
        const answer = rows[`d${i}`];
        if (Array.isArray(answer) && answer.length === 0) found.push({ referenceId: d.sub.referenceId, label: `DELETE ${d.sobject} ${d.id}` });
        else missing.add(d.sub);
      });
    }
  }
  const stillMissing = pending.filter((s) => missing.has(s));
  return {
    found,
    missing: stillMissing,
    missingLabels: stillMissing.map((s) => {
      const { sobject } = sobjectOf(s.path);
      const keys = UNIQUE_KEYS[sobject];
      // A reference to a record created in the same request reads as that record: "(new user)".
      const value = (k: string): string => String(s.body?.[k] ?? '').replace(/^@\{(\w+)\.id\}$/, (whole, ref: string) => ids[ref] ?? `(new ${ref})`);
      return s.method === 'POST' && keys ? labelOf(sobject, keys, Object.fromEntries(keys.map((k) => [k, value(k)]))) : `${s.method} ${s.path}`;
    }),
  };
};
