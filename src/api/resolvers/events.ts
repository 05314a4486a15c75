/**
 * The event types, one per table of the lake contract, resolved from the same field list the SDL
 * is generated from (src/api/event-fields.ts): a column field reads its column, a link field loads
 * the entity its column names. The types below spell that list for the compiler, so each field's
 * value is checked against the generated resolver types.
 */
import type { StoredRowOf, TableName } from '../../core/tables';
import type { EventClass } from '../../generated/graphql';
import type { RequestContext } from '../context';
import {
  type EVENT_LINKS,
  eventClassName,
  eventFields,
  eventTypeName,
  type Camel,
  type EventClassName,
  type EventField,
  type EventPartitionField,
  type EventTypeName,
  type LinkColumn,
  type RENAMED_COLUMNS,
  type UNEXPOSED_COLUMNS,
} from '../event-fields';
import { toGlobalId } from '../ids';
import { entityStub, type EntityModel, type EventModel } from '../models';
import { loadEntity, str, strings } from './common';

type ColumnOf<T extends TableName> = Exclude<keyof StoredRowOf<T>, 'account' | 'region'> & string;
type FieldOf<C extends string> = C extends keyof typeof RENAMED_COLUMNS ? (typeof RENAMED_COLUMNS)[C] : Camel<C>;
/** What a cell of the contract's type reads as from the engine: BIGINT as a number, a list never null. */
type Read<V> = [NonNullable<V>] extends [readonly string[]] ? string[] : V extends number | bigint ? number : V;

type ColumnResolvers<T extends TableName> = {
  [C in Exclude<ColumnOf<T>, keyof typeof UNEXPOSED_COLUMNS> as FieldOf<C>]: (e: EventModel) => Read<StoredRowOf<T>[C]>;
};
type LinkResolvers<T extends TableName> = {
  [C in ColumnOf<T> & LinkColumn as (typeof EVENT_LINKS)[C]['field']]: (
    e: EventModel,
    args: unknown,
    ctx: RequestContext,
  ) => Promise<C extends 'resources' ? EntityModel[] : EntityModel | null>;
};
type FixedResolvers = { id: (e: EventModel) => string; class: (e: EventModel) => EventClass } & {
  [P in EventPartitionField]: (e: EventModel) => string;
};
export type EventTypeResolvers<T extends TableName> = FixedResolvers & ColumnResolvers<T> & LinkResolvers<T>;

/** The EventClass enum generated from the contract is the contract's table names, upper-cased. */
const CLASSES_MATCH: [EventClass, EventClassName] extends [EventClassName, EventClass] ? true : false = true;
void CLASSES_MATCH;

type FieldResolver = (e: EventModel, args: unknown, ctx: RequestContext) => unknown;

function resolverOf(field: EventField): FieldResolver {
  switch (field.kind) {
    case 'id':
      return (e) => toGlobalId(eventTypeName(e.table), `${e.row.time_key}|${e.row.event_id}`);
    case 'class':
      return (e) => eventClassName(e.table);
    case 'partition': {
      const name = field.name;
      return (e) => e.row[name];
    }
    case 'column': {
      const { name, type } = field.column;
      return type === 'VARCHAR[]' ? (e) => e.row[name] ?? [] : (e) => e.row[name] ?? null;
    }
    case 'link': {
      const { column, entity } = field;
      if (column.type === 'VARCHAR[]') {
        return async (e, _args, ctx) => {
          const ids = strings(e.row[column.name]);
          const found = await Promise.all(ids.map((id) => loadEntity(ctx, entity, id, e.window)));
          return found.map((r, i) => r ?? entityStub(entity, ids[i], e.window));
        };
      }
      return (e, _args, ctx) => loadEntity(ctx, entity, str(e.row[column.name]), e.window);
    }
  }
}

/** The resolvers of one table's event type, field by field from the contract. */
export function eventTypeResolvers<T extends TableName>(table: T): EventTypeResolvers<T> {
  const resolvers: Record<string, FieldResolver> = {};
  for (const field of eventFields(table)) resolvers[field.name] = resolverOf(field);
  // The loop above builds, from the field list at run time, what EventTypeResolvers spells from it at compile time.
  return resolvers as EventTypeResolvers<T>;
}

/** One entry per table: a table the contract gains and this map lacks is a compile error. */
export const eventResolvers: { [T in TableName as EventTypeName<T>]: EventTypeResolvers<T> } = {
  ApiActivity: eventTypeResolvers('api_activity'),
  Authentication: eventTypeResolvers('authentication'),
  NetworkActivity: eventTypeResolvers('network_activity'),
  HttpActivity: eventTypeResolvers('http_activity'),
  DnsActivity: eventTypeResolvers('dns_activity'),
};
