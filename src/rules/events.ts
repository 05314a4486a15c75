/**
 * The event rows a rule matches: one SELECT over one lake table, restricted to the rule's log
 * sources, a time range and the compiled detection. Correlations and baselines build on it.
 */
import { TABLE_NAMES } from '../core/tables';
import type { LogTarget } from './logsources';
import { ident, join, param, sql, windowParam, type Frag, type WindowValue } from './sql';

/** Columns every event SELECT carries for hits: who, from where, on what. */
export const EVENT_COLUMNS = 'time, event_id, actor_id, session_id, src_ip, account, region, resources';

/**
 * A text key that orders events by time, then id (the same order on both engines): max_by over it
 * picks one well-defined last event when several share a timestamp.
 */
export function orderKey(time: string, id: string): string {
  return `concat(lpad(CAST(CAST(to_unixtime(${time}) * 1000 AS BIGINT) AS VARCHAR), 15, '0'), '|', ${id})`;
}

export function tableRef(target: LogTarget): Frag {
  return ident(target.table, TABLE_NAMES);
}

/** WHERE clause: partitions and time of the range, the sources, then the rule's own condition. */
export function eventWhere(target: LogTarget, condition: Frag, start: 'from' | 'lookbackFrom'): Frag {
  const startDay: WindowValue = start === 'from' ? 'fromDay' : 'lookbackFromDay';
  const sources = join(
    target.sources.map((s) => param(s)),
    ', ',
  );
  return sql`day BETWEEN CAST(${windowParam(startDay)} AS DATE) AND CAST(${windowParam('toDay')} AS DATE) AND time >= ${windowParam(start)} AND time < ${windowParam('to')} AND source IN (${sources}) AND ${condition}`;
}

/** One hit per matching event (a plain Sigma rule). */
export function eventHits(target: LogTarget, condition: Frag): Frag {
  return sql`SELECT time AS first_time, time AS last_time, actor_id AS actor, session_id AS session, src_ip AS ip, account, region, resources, ARRAY[event_id] AS evidence, CAST(1 AS BIGINT) AS event_count, event_id AS group_key FROM ${tableRef(target)} WHERE ${eventWhere(target, condition, 'from')}`;
}
