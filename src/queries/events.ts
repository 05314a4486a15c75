/**
 * SQL over the event tables: one union across the OCSF class tables, every column of every
 * table (NULL where a table lacks it), so one round trip returns complete events of any class.
 * Ordered by (time, event_id, table); pages by keyset cursor.
 */
import { TABLES, TABLE_NAMES, hasColumn, type ColumnType, type TableName } from '../core/tables';
import type { KeyedRead } from '../core/lookup-index';
import type { SqlParam } from '../engine/types';
import type { AccountScope } from './scope';
import { dayRange, nodeTypeSql, placeholders, relationSql, type Statement, type Window } from './sql';

/** Every column name across the event tables with its type, in a stable order. */
export const ALL_EVENT_COLUMNS: readonly { name: string; type: ColumnType }[] = (() => {
  const seen = new Map<string, ColumnType>();
  for (const table of TABLE_NAMES) for (const c of TABLES[table].columns) if (!seen.has(c.name)) seen.set(c.name, c.type);
  return [...seen].map(([name, type]) => ({ name, type }));
})();

/** What a page of events can be batched on: many values of one of these in one query. */
export type EventPivot = 'identity' | 'session' | 'ip' | 'resource' | 'instance' | 'none';

/**
 * Names matched without regard to case: exact names, and LIKE patterns (`*` of the caller already
 * turned into `%`, `%` `_` and `\` escaped with `\`), all lower-cased by the API (src/api/filters.ts).
 */
export interface NameMatch {
  exact: readonly string[];
  like: readonly string[];
}

/** An IPv4 range as the integers of its first and last address. */
export interface Ipv4Range {
  low: number;
  high: number;
}

/** Addresses: exact ones, and IPv4 ranges (an IPv6 range reaches SQL as the addresses the lake knows in it). */
export interface AddressMatch {
  exact: readonly string[];
  ranges: readonly Ipv4Range[];
}

export interface EventConditions {
  /** Identity id (actor_id), as resolved from any of its names. */
  identity?: string | null;
  session?: string | null;
  /** Source or destination address. */
  ip?: AddressMatch | null;
  resource?: string | null;
  actions?: NameMatch | null;
  services?: NameMatch | null;
  outcome?: string | null;
  errorCodes?: NameMatch | null;
  /** True: only failed calls that carry an error code; false: only those without one. */
  hasError?: boolean | null;
  readOnly?: boolean | null;
  source?: string | null;
  account?: string | null;
  region?: string | null;
  /** Lower-cased text searched in request parameters, user agents and URLs. */
  text?: string | null;
  /** For domain context: the query name or a name under it. */
  domain?: string | null;
  /** DNS names starting with this label sequence (a bucket's `name.s3.…` endpoints). */
  dnsNamePrefix?: string | null;
  /** The instance that made the request (flows, DNS queries). */
  instanceId?: string | null;
  /** Flows on any of these network interfaces. */
  interfaceIds?: readonly string[] | null;
  /**
   * Sign-ins (authentication rows) of any of these identities: one person in several providers.
   * AWS federation (AssumeRoleWithSAML…) is among them, as the CloudTrail source files it.
   */
  signInsOf?: readonly string[] | null;
  /** User agent exactly (a UserAgent entity's events). */
  userAgent?: string | null;
  /** Source address country (ISO 3166-1 alpha-2, upper case). */
  country?: string | null;
  /** Only these events (a finding's evidence). */
  eventIds?: readonly string[] | null;
}

export interface EventCursor {
  /** The event's time as the engine renders it (full precision), and its id and table. */
  timeKey: string;
  eventId: string;
  table: string;
}

/**
 * Columns of the contract a page reads besides those every row carries (EVENT_KEY_COLUMNS and the
 * partitions); `null` reads every column. Names not in the contract select nothing: the SQL is
 * spelt from ALL_EVENT_COLUMNS, never from this list.
 */
export type EventColumns = readonly string[] | null;

/** What every page row carries whatever was asked: its order and cursor (time, id, table) and partitions. */
export const EVENT_KEY_COLUMNS: readonly string[] = ['time', 'event_id'];

export interface EventsQuery {
  pivot: EventPivot;
  /** Values of the pivot column; ignored for pivot 'none'. */
  keys: readonly string[];
  tables: readonly TableName[];
  conditions: EventConditions;
  window: Window;
  after: EventCursor | null;
  limit: number;
  descending: boolean;
  /** Columns the page reads (absent or null: all). Pages that differ only here batch into one statement. */
  columns?: EventColumns;
}

interface Leg {
  table: TableName;
  pivotExpr: string;
  from: string;
  /** Parameters of the FROM clause, in the order of its `?`s (they come before the WHERE clause's). */
  fromParams: SqlParam[];
  /** The FROM clause already keeps only the pivot's keys: no `pivotExpr IN (…)` in the WHERE clause. */
  keysInFrom?: boolean;
  extraWhere: string;
}

/**
 * An ec2 ARN `arn:<partition>:ec2:<region>:<account>:<resource>` split into the parts a row of the
 * lake can be matched on. The partition is whatever the ARN (data of the lake) says: rows carry no
 * partition, and matching on region, account and resource needs none.
 */
const ec2ArnParts = (arn: string, prefix: string) =>
  `split_part(${arn}, ':', 4) AS ${prefix}_region, split_part(${arn}, ':', 5) AS ${prefix}_account, split_part(${arn}, ':', 6) AS ${prefix}_resource`;
const isEc2Arn = (arn: string) => `split_part(${arn}, ':', 1) = 'arn' AND split_part(${arn}, ':', 3) = 'ec2'`;

/**
 * An instance's flows: the records of the network interfaces the graph ties to it (etl/graph.ts
 * `has_interface`) anywhere in the window, keyed by the instance ARN. Takes the window's first and
 * last day.
 */
const FLOWS_BY_INSTANCE = `network_activity JOIN (
    SELECT DISTINCT src_id AS instance_key, ${ec2ArnParts('dst_id', 'eni')} FROM graph_edges
    WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND src_type = ${nodeTypeSql('Resource')} AND rel = ${relationSql('has_interface')}
      AND dst_type = ${nodeTypeSql('Resource')} AND ${isEc2Arn('dst_id')}
  ) tied ON tied.eni_region = network_activity.region AND tied.eni_account = network_activity.account
    AND tied.eni_resource = 'network-interface/' || network_activity.interface_id`;

/** DNS queries an instance made, for the instance ARNs asked for (one `?` per ARN). */
const dnsByInstance = (keys: number) => `dns_activity JOIN (
    SELECT asked_key, ${ec2ArnParts('asked_key', 'instance')} FROM UNNEST(ARRAY[${placeholders(keys)}]) AS asked(asked_key)
    WHERE ${isEc2Arn('asked_key')}
  ) asked ON asked.instance_region = dns_activity.region AND asked.instance_account = dns_activity.account
    AND asked.instance_resource = 'instance/' || dns_activity.instance_id`;

/** The ways one table can match a pivot value (an IP matches as source or, for flows, as destination). */
function legsFor(table: TableName, q: EventsQuery, [fromDay, toDay]: [string, string]): Leg[] {
  const leg = (pivotExpr: string, from: string = table, extraWhere = ''): Leg => ({ table, pivotExpr, from, fromParams: [], extraWhere });
  switch (q.pivot) {
    case 'identity':
      return [leg('actor_id')];
    case 'session':
      return [leg('session_id')];
    case 'ip': {
      const legs = [leg('src_ip')];
      if (hasColumn(table, 'dst_ip')) legs.push(leg('dst_ip', table, ' AND (src_ip IS NULL OR src_ip <> dst_ip)'));
      return legs;
    }
    case 'resource':
      return [leg('res', `${table} CROSS JOIN UNNEST(resources) AS u(res)`)];
    case 'instance':
      if (table === 'network_activity') return [{ ...leg('tied.instance_key', FLOWS_BY_INSTANCE), fromParams: [fromDay, toDay] }];
      if (table === 'dns_activity')
        return [{ ...leg('asked.asked_key', dnsByInstance(q.keys.length)), fromParams: [...q.keys], keysInFrom: true }];
      return [];
    case 'none':
      return [leg("'*'")];
  }
}

/** `(lower(col) IN (…) OR lower(col) LIKE ? ESCAPE '\' …)` for a NameMatch. */
function nameMatchSql(column: string, match: NameMatch, params: SqlParam[]): string {
  const parts: string[] = [];
  if (match.exact.length > 0) {
    parts.push(`lower(${column}) IN (${placeholders(match.exact.length)})`);
    params.push(...match.exact);
  }
  for (const pattern of match.like) {
    parts.push(`lower(${column}) LIKE ? ESCAPE '\\'`);
    params.push(pattern);
  }
  return parts.length === 0 ? ' AND false' : ` AND (${parts.join(' OR ')})`;
}

/** An IPv4 address column as an integer (null for anything else: IPv6, a host name). */
export function ipv4Number(column: string): string {
  const octet = (n: number) => `try_cast(split_part(${column}, '.', ${n}) AS BIGINT)`;
  return `CASE WHEN regexp_like(${column}, '^[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}$') THEN ${octet(1)} * 16777216 + ${octet(2)} * 65536 + ${octet(3)} * 256 + ${octet(4)} END`;
}

/** Any of the columns holds one of the addresses or falls in one of the ranges. */
function addressMatchSql(columns: readonly string[], match: AddressMatch, params: SqlParam[]): string {
  const parts: string[] = [];
  for (const column of columns) {
    if (match.exact.length > 0) {
      parts.push(`${column} IN (${placeholders(match.exact.length)})`);
      params.push(...match.exact);
    }
    if (match.ranges.length > 0) {
      const number = ipv4Number(column);
      for (const range of match.ranges) {
        parts.push(`${number} BETWEEN ? AND ?`);
        params.push(range.low, range.high);
      }
    }
  }
  return parts.length === 0 ? ' AND false' : ` AND (${parts.join(' OR ')})`;
}

/** Columns a text search reads in a table: request parameters, user agents, URLs. */
function textColumns(table: TableName): string[] {
  return ['request_parameters', 'user_agent', 'url'].filter((c) => hasColumn(table, c));
}

function conditionSql(table: TableName, c: EventConditions, params: SqlParam[]): string {
  let sql = '';
  const eq = (column: string, value: string | null | undefined) => {
    if (value == null) return;
    sql += ` AND ${column} = ?`;
    params.push(value);
  };
  eq('actor_id', c.identity);
  eq('session_id', c.session);
  eq('outcome', c.outcome);
  eq('source', c.source);
  eq('account', c.account);
  eq('region', c.region);
  eq('user_agent', c.userAgent);
  eq('src_country', c.country);
  if (c.actions != null) sql += nameMatchSql('activity', c.actions, params);
  if (c.services != null) sql += nameMatchSql('service', c.services, params);
  if (c.errorCodes != null) sql += nameMatchSql('error_code', c.errorCodes, params);
  if (c.hasError != null) sql += c.hasError ? ' AND error_code IS NOT NULL' : ' AND error_code IS NULL';
  if (c.readOnly != null) {
    // API calls say whether they only read. A sign-in is not read-only: it opens a session (and a
    // console sign-in, kept as a sign-in and as an API call, is listed as the sign-in, so asking for
    // writes must not drop it). Other classes (flows, DNS, HTTP) carry no such flag and match neither.
    if (hasColumn(table, 'read_only')) {
      sql += ' AND read_only = ?';
      params.push(c.readOnly);
    } else if (table !== 'authentication' || c.readOnly) sql += ' AND false';
  }
  if (c.ip != null) sql += addressMatchSql(hasColumn(table, 'dst_ip') ? ['src_ip', 'dst_ip'] : ['src_ip'], c.ip, params);
  if (c.resource != null) {
    sql += ' AND contains(resources, ?)';
    params.push(c.resource);
  }
  if (c.text != null) {
    const columns = textColumns(table);
    sql += ` AND (${columns.map((column) => `strpos(lower(${column}), ?) > 0`).join(' OR ')})`;
    for (let i = 0; i < columns.length; i++) params.push(c.text);
  }
  if (c.dnsNamePrefix != null) {
    if (!hasColumn(table, 'query_name')) sql += ' AND false';
    else {
      sql += ' AND query_name LIKE ?';
      params.push(`${c.dnsNamePrefix.replace(/[%_]/g, '')}.%`);
    }
  }
  if (c.signInsOf != null) {
    if (c.signInsOf.length === 0 || table !== 'authentication') sql += ' AND false';
    else {
      sql += ` AND actor_id IN (${placeholders(c.signInsOf.length)})`;
      params.push(...c.signInsOf);
    }
  }
  if (c.eventIds != null) {
    if (c.eventIds.length === 0) sql += ' AND false';
    else {
      sql += ` AND event_id IN (${placeholders(c.eventIds.length)})`;
      params.push(...c.eventIds);
    }
  }
  if (c.interfaceIds != null) {
    if (!hasColumn(table, 'interface_id') || c.interfaceIds.length === 0) sql += ' AND false';
    else {
      sql += ` AND interface_id IN (${placeholders(c.interfaceIds.length)})`;
      params.push(...c.interfaceIds);
    }
  }
  if (c.instanceId != null) {
    if (!hasColumn(table, 'instance_id')) sql += ' AND false';
    else eq('instance_id', c.instanceId);
  }
  if (c.domain != null) {
    const column = hasColumn(table, 'query_name') ? 'query_name' : hasColumn(table, 'host') ? 'host' : null;
    if (column === null) sql += ' AND false';
    else {
      sql += ` AND (${column} = ? OR ${column} LIKE ?)`;
      params.push(c.domain, `%.${c.domain.replace(/[%_]/g, '')}`);
    }
  }
  return sql;
}

/**
 * One record, one row. A record some sources keep in two classes (a console sign-in: an API call in
 * api_activity and a sign-in in authentication) is listed under its more specific class when a list
 * reads both; the other row stays reachable (`EventEdge.alsoRecordedAs`). The etl graph step counts
 * such a record once the same way.
 */
export const LISTED_UNDER: Partial<Record<TableName, TableName>> = { api_activity: 'authentication' };

/**
 * ` AND NOT EXISTS (…)` leaving out a table's rows that a statement reading `tables` counts under
 * their more specific class; nothing when that class is not read.
 *
 * `sameKey`: the leg keeps only rows whose `column` is one of `keys` (a pivot on identity, session
 * or address), so the other row of the same record has that value too (both rows of one record carry
 * the record's own actor, session and source address: `...core` in etl/sources/cloudtrail/parser.ts,
 * checked by test/api/lookup-index.test.ts). The look-up then reads only the specific class's rows of
 * those keys, and its files can be narrowed by the lookup index like the leg's (keyedRead): about
 * half the CPU of contextFor's event statement (bench/README.md).
 */
export function listedElsewhereSql(
  table: TableName,
  tables: readonly TableName[],
  params: SqlParam[],
  days: [string, string],
  sameKey?: { column: string; keys: readonly string[] },
): string {
  const specific = LISTED_UNDER[table];
  if (!specific || !tables.includes(specific)) return '';
  params.push(days[0], days[1]);
  let keyed = '';
  if (sameKey) {
    keyed = ` AND other.${sameKey.column} IN (${placeholders(sameKey.keys.length)})`;
    params.push(...sameKey.keys);
  }
  return ` AND NOT EXISTS (SELECT 1 FROM ${specific} other WHERE other.day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND other.event_id = ${table}.event_id AND other.time = ${table}.time${keyed})`;
}

/** Per pivot, the columns a leg may keep its keys on that every class of a record carries alike. */
const SHARED_KEY_COLUMN: Partial<Record<EventPivot, readonly string[]>> = {
  identity: ['actor_id'],
  session: ['session_id'],
  ip: ['src_ip'],
};

/**
 * The key a leg of `table` can hand its look-up in the more specific class (listedElsewhereSql's
 * `sameKey`): when the leg keeps its keys on a column both classes carry alike; else none.
 */
function sameKeyOf(table: TableName, leg: Leg, q: EventsQuery): { column: string; keys: readonly string[] } | undefined {
  const specific = LISTED_UNDER[table];
  if (!specific || leg.keysInFrom || !SHARED_KEY_COLUMN[q.pivot]?.includes(leg.pivotExpr) || !hasColumn(specific, leg.pivotExpr))
    return undefined;
  return { column: leg.pivotExpr, keys: q.keys };
}

/** A typed NULL both dialects accept: Trino spells a list type array(varchar), DuckDB VARCHAR[]. */
function typedNull(type: ColumnType): string {
  return type === 'VARCHAR[]' ? 'CASE WHEN false THEN ARRAY[CAST(NULL AS VARCHAR)] END' : `CAST(NULL AS ${type})`;
}

/**
 * A row of a table with every column of the union (NULL where the table lacks one), or only the
 * `wanted` ones and the keys: a page that does not show `raw` never reads it (it is most of a file).
 */
function selectList(table: TableName, pivotExpr: string, wanted: EventColumns = null): string {
  const keep = wanted === null ? null : new Set([...EVENT_KEY_COLUMNS, ...wanted]);
  const columns = ALL_EVENT_COLUMNS.filter((c) => keep === null || keep.has(c.name)).map((c) =>
    hasColumn(table, c.name) ? `"${c.name}"` : `${typedNull(c.type)} AS "${c.name}"`,
  );
  return `${pivotExpr} AS pivot_key, '${table}' AS event_table, CAST(time AS VARCHAR) AS time_key, ${columns.join(', ')}, source, account, region`;
}

/** What each leg of the union selects: every column of every table (pages), or a few core ones (aggregates). */
export type UnionSelect = (table: TableName, pivotExpr: string) => string;

/**
 * The union of every (table, leg) of a query: the rows of the window matching the pivot keys and
 * conditions, each record once, in the scope's accounts. Parameters are pushed in `?` order.
 */
export function eventUnion(
  scope: AccountScope,
  q: EventsQuery,
  params: SqlParam[],
  options: { withCursor: boolean; select: UnionSelect } = { withCursor: false, select: selectList },
): string {
  const [fromDay, toDay] = dayRange(q.window);
  const parts: string[] = [];
  for (const table of q.tables) {
    for (const leg of legsFor(table, q, [fromDay, toDay])) {
      params.push(...leg.fromParams);
      let where = 'day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND time >= ? AND time < ?';
      params.push(fromDay, toDay, q.window.from, q.window.to);
      if (q.pivot !== 'none' && !leg.keysInFrom) {
        where += ` AND ${leg.pivotExpr} IN (${placeholders(q.keys.length)})`;
        params.push(...q.keys);
      }
      where += leg.extraWhere;
      where += conditionSql(table, q.conditions, params);
      const restrict = scope.restrict('account');
      where += restrict.sql;
      params.push(...restrict.params);
      where += listedElsewhereSql(table, q.tables, params, [fromDay, toDay], sameKeyOf(table, leg, q));
      if (options.withCursor && q.after) {
        // Keyset: strictly after (time, event_id, table) in the page order.
        const op = q.descending ? '<' : '>';
        where += ` AND (time ${op} CAST(? AS TIMESTAMP) OR (time = CAST(? AS TIMESTAMP) AND (event_id ${op} ? OR (event_id = ? AND '${table}' ${op} ?))))`;
        params.push(q.after.timeKey, q.after.timeKey, q.after.eventId, q.after.eventId, q.after.table);
      }
      parts.push(`SELECT ${options.select(table, leg.pivotExpr)} FROM ${leg.from} WHERE ${where}`);
    }
  }
  return parts.join('\n  UNION ALL\n  ');
}

const nothing = (scope: AccountScope, label: string, sql: string): Statement => ({ label, sql, params: [], scope, weight: 'light' });

/**
 * Events of given entities (an identity's, a session's, an address's timeline) are light: the
 * files are sorted by actor and session and the filter keeps a few rows, so they cost about what a
 * graph lookup costs and must not queue behind whole-window scans. Events with no entity key
 * (a day's page, its count) read every row of the window: heavy.
 */
function scanWeight(q: EventsQuery): Statement['weight'] {
  const c = q.conditions;
  const keyed = q.pivot !== 'none' || Boolean(c.identity || c.session || c.resource || c.instanceId || c.eventIds?.length || c.ip);
  return keyed ? 'light' : 'heavy';
}

/**
 * The key every event-table read of the query filters on, for an engine to skip the files whose
 * lookup index lacks it (Statement.keyed): the pivot's keys (an identity's, session's or address's
 * events), else a session, identity or exact-address condition. Without a pivot, a table also read
 * unkeyed (the more specific class a record is listed under, looked up by event id:
 * listedElsewhereSql) is left out; a pivot's look-up there is keyed too (its `sameKey`).
 */
function keyedRead(q: EventsQuery): Pick<Statement, 'keyed'> {
  // The pivots whose keys every class of a record carries alike (SHARED_KEY_COLUMN): their look-ups can be keyed.
  const pivoted = SHARED_KEY_COLUMN[q.pivot] !== undefined;
  const days = dayRange(q.window);
  // A look-up by event id alone (no key handed to it) reads the whole window of its table.
  const lookedUpUnkeyed = (other: TableName) => !pivoted || legsFor(other, q, days).some((leg) => !sameKeyOf(other, leg, q));
  const tables = q.tables.filter((table) => !q.tables.some((other) => LISTED_UNDER[other] === table && lookedUpUnkeyed(other)));
  const keyed = (kind: KeyedRead['kind'], values: readonly string[]) =>
    values.length > 0 && tables.length > 0 ? { keyed: { kind, values: [...new Set(values)], tables } } : {};
  if (q.pivot === 'identity' || q.pivot === 'session' || q.pivot === 'ip') return keyed(q.pivot, q.keys);
  const c = q.conditions;
  if (c.session != null) return keyed('session', [c.session]);
  if (c.identity != null) return keyed('identity', [c.identity]);
  if (c.ip != null && c.ip.ranges.length === 0) return keyed('ip', c.ip.exact);
  return {};
}

/** One page (limit rows, +1 to know if there is more) per pivot value, of the events the scope may see. */
export function eventsPage(scope: AccountScope, q: EventsQuery): Statement {
  if (q.tables.length === 0) return nothing(scope, 'events', 'SELECT NULL AS pivot_key WHERE false');
  const params: SqlParam[] = [];
  const dir = q.descending ? 'DESC' : 'ASC';
  const select: UnionSelect = (table, pivotExpr) => selectList(table, pivotExpr, q.columns ?? null);
  const union = eventUnion(scope, q, params, { withCursor: true, select });
  if (union === '') return nothing(scope, 'events', 'SELECT NULL AS pivot_key WHERE false');
  params.push(q.limit + 1);
  const weight = scanWeight(q);
  if (q.pivot === 'none' || new Set(q.keys).size <= 1) {
    // One page for one key: a top-N the engine can stop early on, no ranking of the whole window.
    return {
      label: `events:${q.pivot}`,
      sql: `SELECT u.* FROM (
  ${union}
  ) u ORDER BY time ${dir}, event_id ${dir}, event_table ${dir} LIMIT ?`,
      params,
      scope,
      weight,
      days: dayRange(q.window),
      ...keyedRead(q),
    };
  }
  return {
    label: `events:${q.pivot}`,
    sql: `SELECT * FROM (
  SELECT u.*, row_number() OVER (PARTITION BY pivot_key ORDER BY time ${dir}, event_id ${dir}, event_table ${dir}) AS rn FROM (
  ${union}
  ) u
) ranked WHERE rn <= ? ORDER BY pivot_key, rn`,
    params,
    scope,
    weight,
    days: dayRange(q.window),
    ...keyedRead(q),
  };
}

/** How many events the scope may see match, per pivot value (no cursor). */
export function eventsCount(scope: AccountScope, q: EventsQuery): Statement {
  if (q.tables.length === 0) return nothing(scope, 'eventsCount', 'SELECT NULL AS pivot_key, 0 AS n WHERE false');
  const params: SqlParam[] = [];
  const union = eventUnion(scope, q, params);
  if (union === '') return nothing(scope, 'eventsCount', 'SELECT NULL AS pivot_key, 0 AS n WHERE false');
  return {
    label: `eventsCount:${q.pivot}`,
    sql: `SELECT pivot_key, count(*) AS n FROM (\n  ${union}\n) u GROUP BY pivot_key`,
    params,
    scope,
    weight: scanWeight(q),
    days: dayRange(q.window),
    ...keyedRead(q),
  };
}

/**
 * `days` for a statement reading only the partitions of these days (the first and the last), when
 * every one is a calendar day; otherwise none, and the statement reads through the views as before
 * (a malformed day then fails or matches nothing exactly as it did).
 */
function boundedTo(days: readonly string[]): Pick<Statement, 'days'> {
  if (days.length === 0 || !days.every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))) return {};
  const sorted = [...days].sort();
  return { days: [sorted[0], sorted.at(-1)!] };
}

/** One event by table, time and id (for node(id) and the issuing event of a session). */
export function eventByKey(scope: AccountScope, table: TableName, timeKey: string, eventId: string): Statement {
  const restrict = scope.restrict('account');
  const day = timeKey.slice(0, 10);
  return {
    label: 'eventByKey',
    sql: `SELECT ${selectList(table, "'*'")} FROM ${table}
  WHERE day = CAST(? AS DATE) AND time = CAST(? AS TIMESTAMP) AND event_id = ?${restrict.sql} LIMIT 1`,
    params: [day, timeKey, eventId, ...restrict.params],
    scope,
    weight: 'light', // one day's partition, one id
    ...boundedTo([day]),
  };
}

/** An issuing call by the credentials it issued (day known from the session's issuance). */
export function issuingEvent(scope: AccountScope, issuedSessionId: string, eventId: string, day: string): Statement {
  const restrict = scope.restrict('account');
  return {
    label: 'issuingEvent',
    sql: `SELECT ${selectList('api_activity', "'*'")} FROM api_activity
  WHERE day = CAST(? AS DATE) AND issued_session_id = ? AND event_id = ?${restrict.sql} LIMIT 1`,
    params: [day, issuedSessionId, eventId, ...restrict.params],
    scope,
    weight: 'light',
    ...boundedTo([day]),
  };
}

/**
 * Rows of one table by event id on the days given (many at once): the other class a record is also
 * kept in (see LISTED_UNDER). The caller matches rows to its records by id and time.
 */
export function eventsByIds(scope: AccountScope, table: TableName, keys: readonly { day: string; eventId: string }[]): Statement {
  const days = [...new Set(keys.map((k) => k.day))];
  const ids = [...new Set(keys.map((k) => k.eventId))];
  const restrict = scope.restrict('account');
  return {
    label: 'eventsByIds',
    sql: `SELECT ${selectList(table, "'*'")} FROM ${table}
  WHERE day IN (${days.map(() => 'CAST(? AS DATE)').join(', ')}) AND event_id IN (${placeholders(ids.length)})${restrict.sql}`,
    params: [...days, ...ids, ...restrict.params],
    scope,
    weight: 'light', // a few days' partitions, a few ids
    ...boundedTo(days),
  };
}
