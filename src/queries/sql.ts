/** Small helpers shared by the API's SQL. Values always travel as `?` parameters. */
import type { SqlParam } from '../engine/types';

export interface Statement {
  sql: string;
  params: SqlParam[];
  /** Which query this is, for stats and logs. */
  label: string;
}

export function placeholders(count: number): string {
  if (count < 1) throw new Error('placeholders: need at least one value');
  return Array.from({ length: count }, () => '?').join(', ');
}

/** First and last day (YYYY-MM-DD) a [from, to) window touches: the partition range to read. */
export function dayRange(window: { from: Date; to: Date }): [string, string] {
  const last = new Date(window.to.getTime() - 1);
  return [window.from.toISOString().slice(0, 10), last.toISOString().slice(0, 10)];
}

/** `account IN (…)` restriction for callers limited to some accounts; nothing for callers who see all. */
export function accountRestriction(column: string, allowed: readonly string[] | '*'): { sql: string; params: SqlParam[] } {
  if (allowed === '*') return { sql: '', params: [] };
  if (allowed.length === 0) return { sql: ' AND false', params: [] };
  return { sql: ` AND ${column} IN (${placeholders(allowed.length)})`, params: [...allowed] };
}
