/**
 * The lake's own map: what it holds (time range, sources with their accounts and regions, records)
 * and how its records spread over time per source, account and region, so silence stands out. Read
 * from the graph step's coverage table (records per source, account, region and hour: a small
 * table), never by scanning the events, except at minute resolution, where the window the server
 * caps bounds the scan.
 */
import { coverageSql } from '../core/coverage';
import { TABLE_NAMES } from '../core/tables';
import type { SqlParam } from '../engine/types';
import { listedElsewhereSql } from './events';
import type { AccountScope } from './scope';
import { dayRange, type Statement, type Window } from './sql';
import type { TimeBucket } from './aggregate';

/** Per source: its accounts and regions, first and last record, and how many records. */
export interface LakeSourceRow {
  source: string;
  accounts: string[];
  regions: string[];
  first_event: Date;
  last_event: Date;
  records: number;
}

export function lakeSources(scope: AccountScope): Statement {
  const restrict = scope.restrict('account');
  return {
    label: 'lakeSources',
    sql: `SELECT source, array_sort(array_agg(DISTINCT account)) AS accounts, array_sort(array_agg(DISTINCT region)) AS regions,
    min(first_seen) AS first_event, max(last_seen) AS last_event, sum(records) AS records
  FROM graph_coverage WHERE records > 0${restrict.sql}
  GROUP BY source ORDER BY source`,
    params: [...restrict.params],
    scope,
    weight: 'light', // the coverage table: a few rows per source, account, region and hour
  };
}

/** One series (source, account, region) bucket as the statement returns it. */
export interface CoverageRow {
  source: string;
  account: string;
  region: string;
  bucket: Date;
  records: number;
  first_seen: Date;
  last_seen: Date;
}

/**
 * Records per source, account, region and bucket in the window. Hour and day buckets read the
 * coverage table, whose unit is the hour: a window's edges count whole hours (the hour `from` falls
 * in, up to the hour `to` falls in). Minute buckets count the events themselves.
 */
export function lakeCoverage(scope: AccountScope, window: Window, bucket: TimeBucket): Statement {
  const [fromDay, toDay] = dayRange(window);
  const restrict = scope.restrict('account');
  if (bucket !== 'minute') {
    return {
      label: `lakeCoverage:${bucket}`,
      sql: `SELECT source, account, region, date_trunc('${bucket}', hour) AS bucket, sum(records) AS records,
    min(first_seen) AS first_seen, max(last_seen) AS last_seen
  FROM graph_coverage
  WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND hour >= date_trunc('hour', ?) AND hour < ?${restrict.sql}
  GROUP BY source, account, region, date_trunc('${bucket}', hour)
  ORDER BY source, account, region, bucket`,
      params: [fromDay, toDay, window.from, window.to, ...restrict.params],
      scope,
      weight: 'light',
    };
  }
  const params: SqlParam[] = [];
  const legs = TABLE_NAMES.map((table) => {
    params.push(fromDay, toDay, window.from, window.to, ...restrict.params);
    return `SELECT source, account, region, time FROM ${table}
    WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND time >= ? AND time < ?${restrict.sql}${listedElsewhereSql(table, TABLE_NAMES, params, [fromDay, toDay])}`;
  });
  return {
    label: 'lakeCoverage:minute',
    sql: `SELECT source, account, region, date_trunc('minute', time) AS bucket, count(*) AS records, min(time) AS first_seen, max(time) AS last_seen
  FROM (
    ${legs.join('\n    UNION ALL\n    ')}
  ) records
  GROUP BY source, account, region, date_trunc('minute', time)
  ORDER BY source, account, region, bucket`,
    params,
    scope,
    weight: 'heavy', // reads the events themselves
  };
}

/**
 * The lake's last record no later than `notAfter`, for anchoring default windows on its real data:
 * a record dated in the future that was kept at ingest does not move the anchor.
 */
export function latestRecords(scope: AccountScope, notAfter: Date): Statement {
  const restrict = scope.restrict('account');
  return {
    label: 'latestRecords',
    sql: `SELECT max(last_seen) AS last_seen FROM graph_coverage WHERE hour <= ? AND records > 0${restrict.sql}`,
    params: [notAfter, ...restrict.params],
    scope,
    weight: 'light',
  };
}

/**
 * Silences of at least `minGapMinutes` per source, account and region between the window's events:
 * the statement `scoutql verify lake` reports its gaps with (src/core/coverage.ts), each table's leg
 * kept to the window's days and the caller's accounts. Rows as coverageFromRows reads them.
 */
export function lakeGaps(scope: AccountScope, window: Window, minGapMinutes: number): Statement {
  const [fromDay, toDay] = dayRange(window);
  const restrict = scope.restrict('account');
  const { sql, tables } = coverageSql(`day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND time >= ? AND time < ?${restrict.sql}`);
  const params: SqlParam[] = [];
  for (let i = 0; i < tables; i++) params.push(fromDay, toDay, window.from, window.to, ...restrict.params);
  params.push(minGapMinutes * 60);
  return { label: 'lakeGaps', sql, params, scope, weight: 'heavy' }; // reads the events themselves
}
