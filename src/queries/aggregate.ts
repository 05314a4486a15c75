/**
 * Counts over events, pushed down: one statement groups the events an event list would page
 * (same pivot, keys, window, conditions, accounts; each record once) by the dimensions asked for
 * and, optionally, a time bucket, and returns the top groups with their counts, distinct counts and
 * first / last times. Many entities' aggregates batch into one statement (one ranking per pivot key).
 */
import type { SqlParam } from '../engine/types';
import { eventUnion, type EventsQuery } from './events';
import type { AccountScope } from './scope';
import type { Statement } from './sql';

/** What events can be grouped and counted by, each a column every event table has. */
export const DIMENSIONS = {
  action: 'activity',
  service: 'service',
  error_code: 'error_code',
  outcome: 'outcome',
  actor: 'actor_id',
  session: 'session_id',
  source_ip: 'src_ip',
  region: 'region',
  account: 'account',
  user_agent: 'user_agent',
  /** An event counts once for each resource it touched (events that name none are not in such groups). */
  resource: 'resource_id',
  class: 'event_table',
  source: 'source',
  /** The source address's country (the ingest's GeoIP enrichment); read only by aggregates that ask for it. */
  country: 'src_country',
} as const;
export type Dimension = keyof typeof DIMENSIONS;

export const TIME_BUCKETS = ['minute', 'hour', 'day'] as const;
export type TimeBucket = (typeof TIME_BUCKETS)[number];

/** count_desc: the busiest groups first (a burst); count_asc: the rarest first; time: by bucket, then keys. */
export type AggregateOrder = 'count_desc' | 'count_asc' | 'time';

export interface AggregateQuery {
  events: Omit<EventsQuery, 'after' | 'limit' | 'descending'>;
  groupBy: readonly Dimension[];
  bucket: TimeBucket | null;
  /** Dimensions to count distinct values of in each group. */
  distinct: readonly Dimension[];
  order: AggregateOrder;
  /** Groups returned per pivot key. */
  top: number;
}

/** A group as the statement returns it: `k0…` are the groupBy values in order, `d0…` the distinct counts. */
export interface AggregateRow {
  pivot_key: string;
  bucket: Date | null;
  n: number;
  first_seen: Date;
  last_seen: Date;
  rn: number;
  total_groups: number;
  total_events: number;
  [key: `k${number}`]: string | null;
  [key: `d${number}`]: number;
}

/** The few columns an aggregate reads, the same in every table (partitions and core columns). */
function narrowSelect(table: string, pivotExpr: string): string {
  return `${pivotExpr} AS pivot_key, '${table}' AS event_table, time, event_id, activity, service, error_code, outcome, actor_id,
      session_id, src_ip, user_agent, resources, source, account, region`;
}

/** The same, with the source country (for aggregates by country only: the others read no more than before). */
function narrowSelectWithCountry(table: string, pivotExpr: string): string {
  return `${narrowSelect(table, pivotExpr)}, src_country`;
}

/** The aggregate of the events the scope may see (the same events `eventsPage` would list). */
export function eventsAggregate(scope: AccountScope, q: AggregateQuery): Statement {
  const params: SqlParam[] = [];
  const events: EventsQuery = { ...q.events, after: null, limit: 0, descending: false };
  const byCountry = q.groupBy.includes('country') || q.distinct.includes('country');
  const union = eventUnion(scope, events, params, { withCursor: false, select: byCountry ? narrowSelectWithCountry : narrowSelect });
  const label = `aggregate:${q.events.pivot}`;
  if (union === '') return { label, sql: 'SELECT NULL AS pivot_key WHERE false', params: [], scope, weight: 'light' };
  const byResource = q.groupBy.includes('resource');
  const keys = q.groupBy.map((d, i) => `${DIMENSIONS[d]} AS k${i}`);
  const distinct = q.distinct.map((d, i) =>
    d === 'resource'
      ? // Distinct resources without multiplying the events: the group's resource lists, flattened.
        // (set_union: only the count is used, so no order to keep.)
        `COALESCE(cardinality(set_union(resources)), 0) AS d${i}`
      : `count(DISTINCT ${DIMENSIONS[d]}) AS d${i}`,
  );
  const bucket = q.bucket ? `date_trunc('${q.bucket}', time)` : 'CAST(NULL AS TIMESTAMP)';
  const groupColumns = ['pivot_key', ...q.groupBy.map((d) => DIMENSIONS[d]), ...(q.bucket ? [bucket] : [])];
  const keyOrder = [...(q.bucket ? ['bucket'] : []), ...q.groupBy.map((_d, i) => `k${i}`)];
  const tie = keyOrder.length > 0 ? `, ${keyOrder.join(', ')}` : '';
  const order =
    q.order === 'count_desc'
      ? `n DESC${tie}`
      : q.order === 'count_asc'
        ? `n ASC${tie}`
        : keyOrder.length > 0
          ? keyOrder.join(', ')
          : 'n DESC';
  // Grouped by resource, an event is in several groups: the total of events is counted apart.
  const totals = byResource ? `, totals AS (SELECT pivot_key AS total_key, count(*) AS total_events FROM u GROUP BY pivot_key)` : '';
  params.push(q.top);
  return {
    label,
    sql: `WITH u AS (
  ${union}
),
g AS (
  SELECT pivot_key, ${[...keys, `${bucket} AS bucket`].join(', ')}, count(*) AS n, min(time) AS first_seen, max(time) AS last_seen${distinct.length ? `, ${distinct.join(', ')}` : ''}
  FROM u${byResource ? ' CROSS JOIN UNNEST(u.resources) AS r(resource_id)' : ''}
  GROUP BY ${groupColumns.join(', ')}
)${totals},
ranked AS (
  SELECT g.*, row_number() OVER (PARTITION BY pivot_key ORDER BY ${order}) AS rn, count(*) OVER (PARTITION BY pivot_key) AS total_groups${
    byResource ? '' : ', sum(n) OVER (PARTITION BY pivot_key) AS total_events'
  }
  FROM g
)
SELECT ranked.*${byResource ? ', totals.total_events' : ''} FROM ranked${byResource ? ' JOIN totals ON totals.total_key = ranked.pivot_key' : ''}
WHERE rn <= ? ORDER BY pivot_key, rn`,
    params,
    scope,
    weight: 'heavy',
  };
}

/**
 * What new behaviour is looked for: a value of one of these columns the entity's events carry in
 * the window but did not in the look-back before it. ASN and country are the ingest's GeoIP
 * enrichment of the source address.
 */
export const BEHAVIOUR_DIMENSIONS = {
  source_ip: 'src_ip',
  asn: 'src_asn',
  country: 'src_country',
  region: 'region',
  user_agent: 'user_agent',
} as const;
export type BehaviourDimension = keyof typeof BEHAVIOUR_DIMENSIONS;

export interface NewBehaviourQuery {
  /** The entity's events over the look-back and the window together. */
  events: Omit<EventsQuery, 'after' | 'limit' | 'descending'>;
  /** The window's start: a value first seen at or after it is new. */
  since: Date;
  /** New values returned per pivot key and dimension (earliest first). */
  top: number;
}

/**
 * One row per (pivot key, dimension, value) returned: `rn` 1 always (it carries the counts even
 * when nothing is new), the other rows only while new and within `top`.
 */
export interface NewBehaviourRow {
  pivot_key: string;
  dimension: BehaviourDimension;
  value: string;
  first_seen: Date;
  last_seen: Date;
  /** Events with this value inside the window. */
  n: number;
  /** Distinct values over the look-back and the window. */
  seen_count: number;
  /** Of those, first seen inside the window. */
  new_count: number;
  rn: number;
}

/**
 * Values first seen in the window, against the look-back, for each dimension, pushed down: one
 * statement reads the events once (the look-back and the window), groups each dimension's values
 * with their first time, and keeps the earliest `top` values whose first time is in the window.
 */
export function newBehaviour(scope: AccountScope, q: NewBehaviourQuery): Statement {
  const params: SqlParam[] = [];
  const events: EventsQuery = { ...q.events, after: null, limit: 0, descending: false };
  const columns = Object.values(BEHAVIOUR_DIMENSIONS).join(', ');
  const union = eventUnion(scope, events, params, {
    withCursor: false,
    select: (_table, pivotExpr) => `${pivotExpr} AS pivot_key, time, ${columns}`,
  });
  const label = `newBehaviour:${q.events.pivot}`;
  if (union === '') return { label, sql: 'SELECT NULL AS pivot_key WHERE false', params: [], scope, weight: 'light' };
  // Dimension names and columns are constants of this file; the ASN is a number, compared as text.
  const values = (Object.entries(BEHAVIOUR_DIMENSIONS) as [BehaviourDimension, string][])
    .map(
      ([dimension, column]) =>
        `SELECT pivot_key, '${dimension}' AS dimension, CAST(${column} AS VARCHAR) AS value, time FROM u WHERE ${column} IS NOT NULL`,
    )
    .join('\n  UNION ALL\n  ');
  params.push(q.since, q.since, q.since, q.since, q.top);
  return {
    label,
    sql: `WITH u AS (
  ${union}
),
v AS (
  ${values}
),
g AS (
  SELECT pivot_key, dimension, value, min(time) AS first_seen, max(time) AS last_seen,
    count(CASE WHEN time >= ? THEN 1 END) AS n
  FROM v GROUP BY pivot_key, dimension, value
),
ranked AS (
  SELECT g.*, count(*) OVER (PARTITION BY pivot_key, dimension) AS seen_count,
    count(CASE WHEN first_seen >= ? THEN 1 END) OVER (PARTITION BY pivot_key, dimension) AS new_count,
    row_number() OVER (PARTITION BY pivot_key, dimension ORDER BY CASE WHEN first_seen >= ? THEN 0 ELSE 1 END, first_seen, value) AS rn
  FROM g
)
SELECT * FROM ranked WHERE rn = 1 OR (first_seen >= ? AND rn <= ?)
ORDER BY pivot_key, dimension, rn`,
    params,
    scope,
    weight: 'heavy',
  };
}
