/*
 * Which objects and fields exist, for validating a desired state before any write: one composite batch of
 * sObject describes (one round trip for up to 25 objects). An object the org does not have is simply absent.
 */
import type { Transport } from './transport.js';

export type ObjectCatalogue = Record<string, { fields: string[]; notPermissionable?: string[] }>;

/** `permissionable`: whether FieldPermissions can be given on the field (Object Reference, FieldPermissions). */
type DescribeResult = { name: string; fields: Array<{ name: string; permissionable?: boolean }> };

export const describeObjects = async (transport: Transport, objects: string[]): Promise<ObjectCatalogue> => {
  const unique = [...new Set(objects)];
  const out: ObjectCatalogue = {};
  for (let i = 0; i < unique.length; i += 25) {
    const chunk = unique.slice(i, i + 25);
    // eslint-disable-next-line no-await-in-loop
    const response = await transport.rest<{ results: Array<{ statusCode: number; result: unknown }> }>('POST', '/composite/batch', {
      haltOnError: false,
      batchRequests: chunk.map((o) => ({ method: 'GET', url: `v${transport.apiVersion}/sobjects/${encodeURIComponent(o)}/describe` })),
    });
    response.results.forEach((r) => {
      if (r.statusCode >= 400) return;
      const d = r.result as DescribeResult;
      out[d.name] = { fields: d.fields.map((f) => f.name), notPermissionable: d.fields.filter((f) => f.permissionable === false).map((f) => f.name) };
    });
  }
  return out;
};

/**
 * The catalogue a desired state is checked against, in as few round trips as the API allows: the org's object list
 * (describeGlobal) says which objects exist, and only the objects whose fields are asked for (and `alwaysDescribe`,
 * e.g. PermissionSet for the system permission names) are described, 25 subrequests per composite batch, the list
 * riding in the first. Every object of the org is in the answer (with its fields when described), so an unknown
 * object gets a "did you mean" among all of them.
 */
export const objectCatalogue = async (transport: Transport, args: { describe: string[] }): Promise<ObjectCatalogue> => {
  // API names are case-insensitive: each object once, as first spelt.
  const seen = new Set<string>();
  const toDescribe = args.describe.filter((o) => !seen.has(o.toLowerCase()) && Boolean(seen.add(o.toLowerCase())));
  const out: ObjectCatalogue = {};
  type GlobalResult = { sobjects: Array<{ name: string }> };
  const requests = [{ kind: 'global' as const, url: `v${transport.apiVersion}/sobjects` }, ...toDescribe.map((o) => ({ kind: 'describe' as const, url: '', object: o }))];
  for (let i = 0; i < requests.length; i += 25) {
    const chunk = requests.slice(i, i + 25);
    // eslint-disable-next-line no-await-in-loop
    const response = await transport.rest<{ results: Array<{ statusCode: number; result: unknown }> }>('POST', '/composite/batch', {
      haltOnError: false,
      batchRequests: chunk.map((r) => ({ method: 'GET', url: r.kind === 'global' ? r.url : `v${transport.apiVersion}/sobjects/${encodeURIComponent(r.object)}/describe` })),
    });
    response.results.forEach((res, n) => {
      if (res.statusCode >= 400) return;
      if (chunk[n].kind === 'global') {
        for (const o of (res.result as GlobalResult).sobjects ?? []) out[o.name] ??= { fields: [] };
        return;
      }
      const d = res.result as DescribeResult;
      out[d.name] = { fields: d.fields.map((f) => f.name), notPermissionable: d.fields.filter((f) => f.permissionable === false).map((f) => f.name) };
    });
  }
  return out;
};
