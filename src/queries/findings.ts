/**
 * SQL over the findings table (src/core/tables.ts FINDINGS_TABLE): the API's lists of findings (all
 * of a window, or those naming an identity, session, address or resource) and the look-up detect
 * makes for findings an earlier run began.
 *
 * The table keeps one row per version of a finding (a finding seen again later gets a newer row with
 * the same finding_id); every list here takes the latest version of each finding within the window.
 */
import { FINDING_LEVELS, FINDINGS_TABLE, type FindingLevel, type FindingProduct } from '../core/tables';
import type { SqlParam } from '../engine/types';
import { dayRange, placeholders, type Statement, type Window } from './sql';
import type { AccountScope } from './scope';

/** Which findings: every key given must match. */
export interface FindingsFilter {
  /** This level or higher. */
  minLevel?: FindingLevel | null;
  /** An ATT&CK technique (T1078), which also matches its sub-techniques (T1078.004). */
  technique?: string | null;
  /** A rule id (ScoutQL), finding type (GuardDuty) or generator id (Security Hub). */
  rule?: string | null;
  product?: FindingProduct | null;
}

/** What a page of findings can be batched on. */
export type FindingsPivot = 'identity' | 'session' | 'ip' | 'resource' | 'account' | 'none';

/** Array columns come back as JSON text: exact on both engines (Athena prints arrays unquoted). */
const LIST_COLUMNS = new Set(FINDINGS_TABLE.columns.filter((c) => c.type === 'VARCHAR[]').map((c) => c.name));

/** Every column of a findings row, lists as JSON, plus its partitions and its time as the engine renders it. */
const SELECT_COLUMNS = [
  ...FINDINGS_TABLE.columns.map((c) => (LIST_COLUMNS.has(c.name) ? `CAST("${c.name}" AS JSON) AS "${c.name}"` : `"${c.name}"`)),
  'product',
  'account',
  'CAST("time" AS VARCHAR) AS time_key',
].join(', ');

const PIVOT_COLUMN: Record<Exclude<FindingsPivot, 'none' | 'resource'>, string> = {
  identity: 'actor_id',
  session: 'session_id',
  ip: 'src_ip',
  account: 'account',
};

function filterSql(filter: FindingsFilter, params: SqlParam[]): string {
  let sql = '';
  if (filter.minLevel) {
    const levels = FINDING_LEVELS.slice(FINDING_LEVELS.indexOf(filter.minLevel));
    sql += ` AND level IN (${placeholders(levels.length)})`;
    params.push(...levels);
  }
  if (filter.technique) {
    const technique = filter.technique.toUpperCase();
    sql += ' AND cardinality(filter(techniques, t -> t = ? OR t LIKE ?)) > 0';
    params.push(technique, `${technique.replace(/[%_]/g, '')}.%`);
  }
  if (filter.rule) {
    sql += ' AND rule_id = ?';
    params.push(filter.rule);
  }
  if (filter.product) {
    sql += ' AND product = ?';
    params.push(filter.product);
  }
  return sql;
}

/**
 * The latest version of each finding of the window (and of the pivot's keys), each tagged with the
 * pivot value it was found for.
 */
function latestVersions(scope: AccountScope, pivot: FindingsPivot, keys: readonly string[], window: Window, params: SqlParam[]): string {
  const [fromDay, toDay] = dayRange(window);
  let from: string = FINDINGS_TABLE.name;
  let pivotExpr = "'*'";
  if (pivot === 'resource') {
    from = `${FINDINGS_TABLE.name} CROSS JOIN UNNEST(resources) AS named(resource)`;
    pivotExpr = 'named.resource';
  } else if (pivot !== 'none') pivotExpr = PIVOT_COLUMN[pivot];
  let where = 'day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND "time" >= ? AND "time" < ?';
  params.push(fromDay, toDay, window.from, window.to);
  if (pivot !== 'none') {
    where += ` AND ${pivotExpr} IN (${placeholders(keys.length)})`;
    params.push(...keys);
  }
  const restrict = scope.restrict('account');
  where += restrict.sql;
  params.push(...restrict.params);
  return `SELECT * FROM (
    SELECT ${FINDINGS_TABLE.name}.*, ${pivotExpr} AS pivot_key,
      row_number() OVER (PARTITION BY ${pivotExpr}, product, finding_id ORDER BY "time" DESC) AS version_rank
    FROM ${from} WHERE ${where}
  ) versions WHERE version_rank = 1`;
}

/**
 * One page of findings per pivot value, newest first: `limit` rows from `offset` (+1 to tell whether
 * there is more), each with its rank (rn, 1-based) and the total for its pivot value.
 */
export function findingsPage(
  scope: AccountScope,
  pivot: FindingsPivot,
  keys: readonly string[],
  filter: FindingsFilter,
  window: Window,
  offset: number,
  limit: number,
): Statement {
  if (pivot !== 'none' && keys.length === 0)
    return { label: 'findings', sql: 'SELECT NULL AS pivot_key WHERE false', params: [], scope, weight: 'light' };
  const params: SqlParam[] = [];
  const latest = latestVersions(scope, pivot, keys, window, params);
  const filters = filterSql(filter, params);
  params.push(offset, offset + limit + 1);
  return {
    label: `findings:${pivot}`,
    sql: `SELECT * FROM (
  SELECT ${SELECT_COLUMNS}, pivot_key,
    row_number() OVER (PARTITION BY pivot_key ORDER BY "time" DESC, finding_id DESC, product) AS rn,
    count(*) OVER (PARTITION BY pivot_key) AS total
  FROM (${latest}) latest WHERE true${filters}
) ranked WHERE rn > ? AND rn <= ? ORDER BY pivot_key, rn`,
    params,
    scope,
    weight: 'light', // the findings table: one small row per hit, not events
  };
}

/** One finding by product, id and the time of its version (node(id)). */
export function findingByKey(scope: AccountScope, product: string, findingId: string, timeKey: string): Statement {
  const restrict = scope.restrict('account');
  return {
    label: 'findingByKey',
    sql: `SELECT ${SELECT_COLUMNS}, '*' AS pivot_key FROM ${FINDINGS_TABLE.name}
  WHERE day = CAST(? AS DATE) AND product = ? AND finding_id = ? AND "time" = CAST(? AS TIMESTAMP)${restrict.sql} LIMIT 1`,
    params: [timeKey.slice(0, 10), product, findingId, timeKey, ...restrict.params],
    scope,
    weight: 'light',
  };
}

/**
 * ScoutQL findings of these rules and groups that an earlier run wrote and that were still going at
 * `since` (they began before the window and their last event is at or after `since`): a burst a run
 * sees going on is the same finding. Reads the days from `since` to the window's start.
 */
export function earlierFindings(
  scope: AccountScope,
  groups: readonly { ruleId: string; groupKey: string }[],
  since: Date,
  windowFrom: Date,
): Statement {
  if (groups.length === 0)
    return { label: 'earlierFindings', sql: 'SELECT NULL AS finding_id WHERE false', params: [], scope, weight: 'light' };
  const restrict = scope.restrict('account');
  const [fromDay, toDay] = dayRange({ from: since, to: new Date(windowFrom.getTime() + 1) });
  const pairs = groups.map(() => '(rule_id = ? AND group_key = ?)').join(' OR ');
  return {
    label: 'earlierFindings',
    sql: `SELECT finding_id, rule_id, group_key, first_seen, last_seen, CAST(evidence_event_ids AS JSON) AS evidence_event_ids, evidence_count, created_at
  FROM ${FINDINGS_TABLE.name}
  WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND product = 'scoutql' AND "time" < ? AND last_seen >= ? AND (${pairs})${restrict.sql}
  ORDER BY first_seen, finding_id`,
    params: [fromDay, toDay, windowFrom, since, ...groups.flatMap((g) => [g.ruleId, g.groupKey]), ...restrict.params],
    scope,
    weight: 'light',
  };
}

/** Entities by the findings column that names each kind: the matches of an indicator (contextFor). */
export interface NamedEntities {
  identity: readonly string[];
  session: readonly string[];
  ip: readonly string[];
  resource: readonly string[];
}

const NAMED_COLUMN: Record<Exclude<keyof NamedEntities, 'resource'>, string> = {
  identity: 'actor_id',
  session: 'session_id',
  ip: 'src_ip',
};

const isEmpty = (named: NamedEntities) => Object.values(named).every((keys: readonly string[]) => keys.length === 0);

/**
 * The latest version in the window of each finding that names any of the entities (its identity,
 * session, address or one of its resources): a finding naming two of them is one finding.
 */
function latestNaming(scope: AccountScope, named: NamedEntities, window: Window, params: SqlParam[]): string {
  const [fromDay, toDay] = dayRange(window);
  params.push(fromDay, toDay, window.from, window.to);
  const anyOf: string[] = [];
  for (const [kind, column] of Object.entries(NAMED_COLUMN) as [keyof typeof NAMED_COLUMN, string][]) {
    if (named[kind].length === 0) continue;
    anyOf.push(`${column} IN (${placeholders(named[kind].length)})`);
    params.push(...named[kind]);
  }
  if (named.resource.length > 0) {
    anyOf.push(`cardinality(filter(resources, r -> r IN (${placeholders(named.resource.length)}))) > 0`);
    params.push(...named.resource);
  }
  const restrict = scope.restrict('account');
  params.push(...restrict.params);
  return `SELECT * FROM (
    SELECT ${FINDINGS_TABLE.name}.*, row_number() OVER (PARTITION BY product, finding_id ORDER BY "time" DESC) AS version_rank
    FROM ${FINDINGS_TABLE.name}
    WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND "time" >= ? AND "time" < ? AND (${anyOf.join(' OR ')})${restrict.sql}
  ) versions WHERE version_rank = 1`;
}

/** The newest `limit` findings naming any of the entities, with the total (contextFor's findings). */
export function findingsNaming(scope: AccountScope, named: NamedEntities, window: Window, limit: number): Statement {
  if (isEmpty(named)) return { label: 'findingsNaming', sql: 'SELECT NULL AS pivot_key WHERE false', params: [], scope, weight: 'light' };
  const params: SqlParam[] = [];
  const latest = latestNaming(scope, named, window, params);
  params.push(limit);
  return {
    label: 'findingsNaming',
    sql: `SELECT * FROM (
  SELECT ${SELECT_COLUMNS}, '*' AS pivot_key,
    row_number() OVER (ORDER BY "time" DESC, finding_id DESC, product) AS rn,
    count(*) OVER () AS total
  FROM (${latest}) latest
) ranked WHERE rn <= ? ORDER BY rn`,
    params,
    scope,
    weight: 'light',
  };
}

/** How many findings name any of the entities, per level, with their rule ids (contextFor's verdict). */
export function findingLevelsNaming(scope: AccountScope, named: NamedEntities, window: Window): Statement {
  if (isEmpty(named)) return { label: 'findingLevels', sql: 'SELECT NULL AS level WHERE false', params: [], scope, weight: 'light' };
  const params: SqlParam[] = [];
  const latest = latestNaming(scope, named, window, params);
  return {
    label: 'findingLevels',
    sql: `SELECT level, count(*) AS findings, CAST(array_agg(DISTINCT rule_id) AS JSON) AS rules
  FROM (${latest}) latest GROUP BY level`,
    params,
    scope,
    weight: 'light',
  };
}
