/*
 * `GET /query?q=...&columns=true`: the column description of a query instead of its rows. Undocumented, but the
 * Developer Console and the real `sf data query` use it (plugin-data reads `columnMetadata[].columnName`,
 * `.joinColumns`, `.aggregate`); the field set follows what those clients read, the values are unconfirmed.
 */
import { parseQuery, type FieldType as SelectField } from '@jetstreamapp/soql-parser-js';
import { findField, findObject, findRelationship, type FieldDef, type ObjectDef, type Schema } from './schema.js';

export type Column = {
  aggregate: boolean;
  apexType: string | null;
  booleanType: boolean;
  columnName: string;
  custom: boolean;
  displayName: string;
  foreignKeyName: string | null;
  insertable: boolean;
  joinColumns: Column[];
  numberType: boolean;
  textType: boolean;
  updatable: boolean;
};

const APEX_TYPES: Record<string, string> = {
  id: 'Id',
  reference: 'Id',
  boolean: 'Boolean',
  int: 'Integer',
  double: 'Double',
  date: 'Date',
  datetime: 'Datetime',
};

const column = (name: string, f?: FieldDef, joins: Column[] = [], aggregate = false): Column => ({
  aggregate,
  apexType: f ? APEX_TYPES[f.type] ?? 'String' : null,
  booleanType: f?.type === 'boolean',
  columnName: name,
  custom: name.endsWith('__c'),
  displayName: name,
  foreignKeyName: null,
  insertable: f ? !f.readOnly : false,
  joinColumns: joins,
  numberType: f?.type === 'int' || f?.type === 'double',
  textType: f ? !['boolean', 'int', 'double', 'date', 'datetime'].includes(f.type) : false,
  updatable: f ? !f.readOnly && !f.createOnly : false,
});

/** A relationship path Profile.UserLicense.Name as nested join columns. */
const pathColumn = (schema: Schema, obj: ObjectDef, rels: string[], field: string): Column => {
  if (!rels.length) return column(field, findField(obj, field));
  const ref = findRelationship(obj, rels[0]);
  const target = ref?.referenceTo?.[0] ? findObject(schema, ref.referenceTo[0]) : undefined;
  const inner = target ? pathColumn(schema, target, rels.slice(1), field) : column(field);
  return column(ref?.relationshipName ?? rels[0], undefined, [inner]);
};

const columnsOf = (schema: Schema, obj: ObjectDef, fields: SelectField[]): Column[] => {
  let expr = 0;
  return fields.map((f) => {
    switch (f.type) {
      case 'Field':
        return column(findField(obj, f.field)?.name ?? f.field, findField(obj, f.field));
      case 'FieldRelationship':
        return pathColumn(schema, obj, f.relationships, f.field);
      case 'FieldFunctionExpression':
        return column(f.alias ?? `expr${expr++}`, undefined, [], true);
      case 'FieldSubquery': {
        const sub = f.subquery;
        const childName = sub.relationshipName;
        return column(childName, undefined, columnsOf(schema, obj, sub.fields ?? []), true);
      }
      default:
        return column('unknown');
    }
  });
};

/** The columns=true answer for a query already known to be valid (the caller ran it first). */
export const columnMetadata = (schema: Schema, soql: string): Record<string, unknown> => {
  const q = parseQuery(soql);
  const obj = findObject(schema, q.sObject ?? '');
  if (!obj) return { columnMetadata: [], entityName: q.sObject ?? '', groupBy: false, idSelected: false, keyPrefix: null };
  const fields = q.fields ?? [];
  return {
    columnMetadata: columnsOf(schema, obj, fields),
    entityName: obj.name,
    groupBy: Boolean(q.groupBy),
    idSelected: fields.some((f) => f.type === 'Field' && f.field.toLowerCase() === 'id'),
    keyPrefix: obj.keyPrefix,
  };
};
