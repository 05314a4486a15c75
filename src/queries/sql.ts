/** Small helpers shared by the API's SQL. Values always travel as `?` parameters. */
import { placeholders, sqlString } from '../core/sql';
import type { NodeType, Relation } from '../core/tables';
import type { SqlParam } from '../engine/types';

export { placeholders } from '../core/sql';

export interface Statement {
  sql: string;
  params: SqlParam[];
  /** Which query this is, for stats and logs. */
  label: string;
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

/** `account IN (…)` restriction for callers limited to some accounts; nothing for callers who see all. */
export function accountRestriction(column: string, allowed: readonly string[] | '*'): { sql: string; params: SqlParam[] } {
  if (allowed === '*') return { sql: '', params: [] };
  if (allowed.length === 0) return { sql: ' AND false', params: [] };
  return { sql: ` AND ${column} IN (${placeholders(allowed.length)})`, params: [...allowed] };
}

/** A relation name of the contract as an SQL literal: a constant of the code, checked by the compiler. */
export function relationSql(relation: Relation): string {
  return sqlString(relation);
}

/** A node type of the contract as an SQL literal. */
export function nodeTypeSql(type: NodeType): string {
  return sqlString(type);
}
