/** Small helpers shared by the API's SQL. Values always travel as `?` parameters. */
import type { KeyedRead } from '../core/lookup-index';
import { sqlString } from '../core/sql';
import type { NodeType, Relation } from '../core/tables';
import type { SqlParam } from '../engine/types';
import type { AccountScope } from './scope';

export { placeholders } from '../core/sql';

export interface Statement {
  sql: string;
  params: SqlParam[];
  /** Which query this is, for stats and logs. */
  label: string;
  /** The accounts the statement was built for (and filters by); the loaders run it only for that scope. */
  scope: AccountScope;
  /**
   * heavy: reads every event of a window (unkeyed pages and counts, aggregates, coverage); light:
   * graph lookups, pivots, and events of given entities (an identity's or session's timeline). The
   * API's pool keeps connections for light statements so heavy ones cannot take them all.
   */
  weight: 'light' | 'heavy';
  /**
   * First and last day every table this statement names is read on: set only where every read of
   * every table in the SQL carries `day BETWEEN`/`day =` filters within these days, so an engine may
   * read those days' files alone (QueryOptions.days). Absent: the engine reads through its views.
   */
  days?: readonly [string, string];
  /**
   * With `days`: the tables whose every read in the SQL keeps only rows holding one of these keys
   * (an identity's, session's or address's events), so an engine may skip files whose lookup index
   * lacks them (QueryOptions.keyed). Absent: every file of the window is read.
   */
  keyed?: KeyedRead;
}

/** A time window [from, to): every statement that reads events or graph days takes one. */
export interface Window {
  from: Date;
  to: Date;
}

/** First and last day (YYYY-MM-DD) a [from, to) window touches: the partition range to read. */
export function dayRange(window: Window): [string, string] {
  const last = new Date(window.to.getTime() - 1);
  return [window.from.toISOString().slice(0, 10), last.toISOString().slice(0, 10)];
}

/** A relation name of the contract as an SQL literal: a constant of the code, checked by the compiler. */
export function relationSql(relation: Relation): string {
  return sqlString(relation);
}

/** A node type of the contract as an SQL literal. */
export function nodeTypeSql(type: NodeType): string {
  return sqlString(type);
}
