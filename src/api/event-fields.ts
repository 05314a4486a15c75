/**
 * How the event tables of the lake contract (src/core/tables.ts) become the GraphQL `Event`
 * interface and its types: one type per table, one field per column (camelCase, the column's doc as
 * description), a link field after each column that names an entity, and the fields every event
 * has (id, class, partitions). src/codegen/graphql-events.ts writes the SDL from this and
 * src/api/resolvers/events.ts the resolvers, so a new column or table reaches the API by itself.
 */
import { CORE_COLUMNS, ENRICHMENT_COLUMNS, TABLES, TABLE_NAMES, type Column, type EntityType, type TableName } from '../core/tables';

/** `network_activity` → `networkActivity`. */
export type Camel<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;

export function camel<S extends string>(name: S): Camel<S> {
  // The template type above spells the same rule for the compiler.
  return name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()) as Camel<S>;
}

/** The GraphQL type of a table's events: `api_activity` → `ApiActivity`. */
export type EventTypeName<T extends TableName = TableName> = T extends TableName ? Capitalize<Camel<T>> : never;
/** The EventClass value of a table's events: `api_activity` → `API_ACTIVITY`. */
export type EventClassName<T extends TableName = TableName> = T extends TableName ? Uppercase<T> : never;

export function eventTypeName<T extends TableName>(table: T): EventTypeName<T> {
  const name = camel(table);
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}` as EventTypeName<T>;
}

export function eventClassName<T extends TableName>(table: T): EventClassName<T> {
  return table.toUpperCase() as EventClassName<T>;
}

export const TABLE_BY_EVENT_TYPE = new Map<string, TableName>(TABLE_NAMES.map((t) => [eventTypeName(t), t]));
const TABLE_BY_EVENT_CLASS = new Map<string, TableName>(TABLE_NAMES.map((t) => [eventClassName(t), t]));

export function tableOfClass(name: EventClassName): TableName {
  const table = TABLE_BY_EVENT_CLASS.get(name);
  if (!table) throw new Error(`no table for event class ${name}`);
  return table;
}

/**
 * Columns whose value names an entity of the graph: each gives the event a link field to it, in
 * every table that has the column. Declared once here, not per type.
 */
export const EVENT_LINKS = {
  actor_id: { field: 'actor', entity: 'Identity', doc: 'The identity that acted (`actorId`), as the graph knows it in the window.' },
  session_id: { field: 'session', entity: 'Session', doc: 'The credentials used: access key id, sign-in session…' },
  src_ip: { field: 'sourceIp', entity: 'IPAddress', doc: 'The source address (`sourceIpAddress`) as an entity.' },
  dst_ip: { field: 'destinationIp', entity: 'IPAddress', doc: 'The destination address (`dstIp`) as an entity.' },
  issued_session_id: { field: 'issuedSession', entity: 'Session', doc: 'The credentials this call issued (`issuedSessionId`).' },
  resources: {
    field: 'resources',
    entity: 'Resource',
    doc: 'The resources the event touched (`resourceIds`); one the graph lacks comes back with only its id.',
  },
} as const satisfies Record<string, { field: string; entity: EntityType; doc: string }>;
export type LinkColumn = keyof typeof EVENT_LINKS;

/** Column fields named other than their column's camelCase (the link field took the natural name). */
export const RENAMED_COLUMNS = { src_ip: 'sourceIpAddress', resources: 'resourceIds' } as const;

/** Columns with no field of their own, and why. */
export const UNEXPOSED_COLUMNS = {
  class_uid: 'the `class` field gives it as an EventClass',
  session_id: 'the `session` link carries it',
  actor_account: 'not in the API yet: adding it is a schema change of its own',
} as const;

/** The partition columns an event shows (`day` is in `time`). */
export const EVENT_PARTITION_FIELDS = {
  source: 'Source id of the log the event came from: cloudtrail, vpcflow, s3access…',
  account: 'Account, tenant or project the event belongs to; `unknown` when the log names none.',
  region: 'Region or location the event was logged in (`global` for global services); `unknown` when the log names none.',
} as const;
export type EventPartitionField = keyof typeof EVENT_PARTITION_FIELDS;

export const EVENT_INTERFACE_DOC = 'One log record, normalized to its OCSF class.';

export type EventField =
  | { kind: 'id'; name: 'id'; doc: string }
  | { kind: 'class'; name: 'class'; doc: string }
  | { kind: 'partition'; name: EventPartitionField; doc: string }
  | { kind: 'column'; name: string; column: Column; doc: string }
  | { kind: 'link'; name: string; column: Column; entity: EntityType; doc: string };

function isLinkColumn(name: string): name is LinkColumn {
  return name in EVENT_LINKS;
}

function fieldNameOf(column: string): string {
  return column in RENAMED_COLUMNS ? RENAMED_COLUMNS[column as keyof typeof RENAMED_COLUMNS] : camel(column);
}

/** The fields of these columns, in column order, each followed by its link field if it has one. */
function columnFields(columns: readonly Column[]): EventField[] {
  const fields: EventField[] = [];
  for (const column of columns) {
    if (!(column.name in UNEXPOSED_COLUMNS)) fields.push({ kind: 'column', name: fieldNameOf(column.name), column, doc: column.doc });
    if (isLinkColumn(column.name)) {
      const link = EVENT_LINKS[column.name];
      fields.push({ kind: 'link', name: link.field, column, entity: link.entity, doc: link.doc });
    }
  }
  return fields;
}

/** The fields every event has: those of the `Event` interface. */
export function coreEventFields(): EventField[] {
  return [
    { kind: 'id', name: 'id', doc: 'Global id: `node(id)` fetches the event again.' },
    { kind: 'class', name: 'class', doc: 'The OCSF class, i.e. the table the event is kept in.' },
    ...Object.entries(EVENT_PARTITION_FIELDS).map(([name, doc]) => ({
      kind: 'partition' as const,
      name: name as EventPartitionField,
      doc,
    })),
    // Every event has the ingest's enrichment columns too (they follow each table's own in the files).
    ...columnFields([...CORE_COLUMNS, ...ENRICHMENT_COLUMNS]),
  ];
}

/** Every field of one table's event type: the core ones, then the table's own. */
export function eventFields(table: TableName): EventField[] {
  const own = TABLES[table].columns.slice(CORE_COLUMNS.length, TABLES[table].columns.length - ENRICHMENT_COLUMNS.length);
  return [...coreEventFields(), ...columnFields(own)];
}
