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
