/**
 * Writes src/generated/events.graphql: the `Event` interface, one type per event table and the
 * EventClass enum, from the lake contract (src/core/tables.ts) through the API's field mapping
 * (src/api/event-fields.ts). Each column's doc becomes its field's description. The hand-written
 * rest of the event API (filters, connections) stays in schema/events.graphql.
 */
import { parse } from 'graphql';
import { TABLES, TABLE_NAMES, type Column, type ColumnType } from '../core/tables';
import { EVENT_INTERFACE_DOC, coreEventFields, eventClassName, eventFields, eventTypeName, type EventField } from '../api/event-fields';
import type { Generator } from './run';

/** GraphQL scalars of the column types. BIGINT is Float: counts and bytes outgrow Int's 32 bits. */
const SCALARS: Record<Exclude<ColumnType, 'VARCHAR[]'>, string> = {
  VARCHAR: 'String',
  BIGINT: 'Float',
  INTEGER: 'Int',
  DOUBLE: 'Float',
  BOOLEAN: 'Boolean',
  TIMESTAMP: 'DateTime',
};

/** A list column is never null in the API: no values is an empty list. */
function columnType(column: Column): string {
  if (column.type === 'VARCHAR[]') return '[String!]!';
  return `${SCALARS[column.type]}${column.required ? '!' : ''}`;
}

function fieldType(field: EventField): string {
  switch (field.kind) {
    case 'id':
      return 'ID!';
    case 'class':
      return 'EventClass!';
    case 'partition':
      return 'String!';
    case 'column':
      return columnType(field.column);
    case 'link':
      return field.column.type === 'VARCHAR[]' ? `[${field.entity}!]!` : field.entity;
  }
}

/** A GraphQL string literal (JSON's escapes are GraphQL's). */
const description = (text: string, indent = '') => `${indent}${JSON.stringify(text)}\n`;

function fieldLines(fields: readonly EventField[]): string {
  return fields.map((f) => `${description(f.doc, '  ')}  ${f.name}: ${fieldType(f)}\n`).join('');
}

export function eventsSdl(): string {
  let sdl =
    '# Generated from the lake contract (src/core/tables.ts) by `npm run codegen` (src/codegen/graphql-events.ts): do not edit.\n\n';
  sdl += description('The OCSF class of an event: which table of the lake holds it.');
  sdl += 'enum EventClass {\n';
  for (const table of TABLE_NAMES) sdl += `${description(TABLES[table].doc, '  ')}  ${eventClassName(table)}\n`;
  sdl += '}\n\n';
  sdl += description(EVENT_INTERFACE_DOC);
  sdl += `interface Event {\n${fieldLines(coreEventFields())}}\n`;
  for (const table of TABLE_NAMES) {
    sdl += `\n${description(TABLES[table].doc)}type ${eventTypeName(table)} implements Event & Node {\n${fieldLines(eventFields(table))}}\n`;
  }
  parse(sdl); // a syntax error here is a bug of this generator, not of the schema that uses it
  return sdl;
}

export const graphqlEvents: Generator = () => ({ 'events.graphql': eventsSdl() });
