/**
 * Sigma correlation rules → one statement each: `event_count` and `value_count` (a threshold of
 * events or of distinct values per group within a sliding timespan), `temporal` (every member
 * rule within the timespan) and `temporal_ordered` (in order). Member events are the union of the
 * member rules' matches; group-by fields resolve per member rule (with `aliases`). Each
 * qualifying event ends one candidate window; the runner merges overlapping windows of a group.
 *
 * Window functions (lag, max … OVER) and a self-join both engines run; durations compare with
 * date_diff in milliseconds, as parameters.
 */
import { resolveField } from './logsources';
import { MAX_EVIDENCE, UnsupportedRule } from './model';
import { scalarOf } from './detection';
import { EVENT_COLUMNS, eventWhere, orderKey, tableRef } from './events';
import { Frag, and, join, param, sql, windowParam } from './sql';
import type { DetectionRule } from './compile';
import type { RuleMeta } from './model';

export type CorrelationType = 'event_count' | 'value_count' | 'temporal' | 'temporal_ordered';

/** A correlation used as a member of another (Sigma's chaining: a burst of failures, then a success). */
export interface NestedCorrelation {
  meta: RuleMeta;
  spec: CorrelationSpec;
}

export type CorrelationMember = DetectionRule | NestedCorrelation;

const isNested = (m: CorrelationMember): m is NestedCorrelation => 'spec' in m;

export interface CorrelationSpec {
  type: CorrelationType;
  members: CorrelationMember[];
  groupBy: string[];
  /** group-by name → member rule (name or id) → that rule's field. */
  aliases: Record<string, Record<string, string>>;
  timespanMs: number;
  /** event_count / value_count: at least this many. */
  threshold: number | null;
  /** value_count: the field whose distinct values are counted. */
  valueField: string | null;
  line: number | null;
}

function memberField(spec: CorrelationSpec, member: CorrelationMember, name: string): string {
  const alias = spec.aliases[name];
  if (!alias) return name;
  const byRule = alias[member.meta.name ?? ''] ?? alias[member.meta.id];
  if (byRule === undefined)
    throw new UnsupportedRule(`aliases.${name}`, `names no field for member rule ${member.meta.name ?? member.meta.id}`, spec.line);
  return byRule;
}

function keyExpr(spec: CorrelationSpec, member: CorrelationMember, name: string): Frag {
  if (isNested(member)) {
    const inner = memberField(spec, member, name);
    const index = member.spec.groupBy.indexOf(inner);
    if (index < 0)
      throw new UnsupportedRule(
        `group-by ${name}`,
        `member correlation ${member.meta.name ?? member.meta.id} does not group by ${inner}`,
        spec.line,
      );
    return new Frag(`g${index}`);
  }
  const field = resolveField(member.target, memberField(spec, member, name));
  if (field.kind === 'unreachable')
    throw new UnsupportedRule(`group-by ${name}`, `in member rule ${member.meta.id}: ${field.reason}`, spec.line);
  const scalar = scalarOf(field);
  if (!scalar)
    throw new UnsupportedRule(`group-by ${name}`, `in member rule ${member.meta.id}: a list column cannot be a group key`, spec.line);
  return scalar;
}

/** The union of member events: common columns, the member index, group keys g0…gn and the counted value. */
function memberEvents(spec: CorrelationSpec): Frag {
  const selects = spec.members.map((member, index) => {
    const keys = spec.groupBy.map((name, k) => sql`CAST(${keyExpr(spec, member, name)} AS VARCHAR) AS g${String(k)}`);
    let value = sql`CAST(NULL AS VARCHAR) AS val`;
    if (isNested(member)) {
      if (spec.valueField !== null)
        throw new UnsupportedRule(
          `condition.field ${spec.valueField}`,
          'value_count counts fields of events, not of correlations',
          spec.line,
        );
      // Each hit of the member correlation is one event here: at its end, carrying its evidence.
      const columns = join(
        [
          new Frag(
            `last_time AS time, concat(group_key, '@', CAST(last_time AS VARCHAR)) AS event_id, actor AS actor_id, session AS session_id, ip AS src_ip, account, region, resources, ${orderKey('last_time', 'group_key')} AS last_key`,
          ),
          sql`${String(index + 1)} AS member`,
          ...keys,
          value,
          new Frag('evidence'),
        ],
        ', ',
      );
      return sql`SELECT ${columns} FROM (${correlationStatement(member.spec, true)}) nested${String(index + 1)}`;
    }
    if (spec.valueField !== null) {
      const field = resolveField(member.target, memberField(spec, member, spec.valueField));
      const scalar = field.kind === 'unreachable' ? null : scalarOf(field);
      if (!scalar)
        throw new UnsupportedRule(
          `condition.field ${spec.valueField}`,
          field.kind === 'unreachable' ? field.reason : 'a list column cannot be counted',
          spec.line,
        );
      value = sql`CAST(${scalar} AS VARCHAR) AS val`;
    }
    const columns = join(
      [
        new Frag(EVENT_COLUMNS),
        new Frag(`${orderKey('time', 'event_id')} AS last_key`),
        sql`${String(index + 1)} AS member`,
        ...keys,
        value,
        new Frag('ARRAY[event_id] AS evidence'),
      ],
      ', ',
    );
    return sql`SELECT ${columns} FROM ${tableRef(member.target)} WHERE ${eventWhere(member.target, member.condition, 'lookbackFrom')}`;
  });
  return join(selects, ' UNION ALL ');
}

const groupCols = (spec: CorrelationSpec, alias = '') => spec.groupBy.map((_, k) => `${alias}g${k}`).join(', ');

function groupKeyText(spec: CorrelationSpec, alias: string): Frag {
  if (spec.groupBy.length === 0) return new Frag("'*'");
  const parts = spec.groupBy.map((name, k) => sql`${param(`${name}=`)}, ${alias}g${String(k)}`);
  return sql`concat(${join(parts, ", ' ', ")})`;
}

const partition = (spec: CorrelationSpec) => (spec.groupBy.length ? `PARTITION BY ${groupCols(spec)} ` : '');

/** Candidate windows (group keys, start_time, end_time) of the correlation, ending inside the window. */
function windows(spec: CorrelationSpec, nested: boolean): Frag {
  const span = param(spec.timespanMs);
  // A nested correlation reports every window of the range it reads; its parent keeps those ending in the run window.
  const endsFrom = nested ? 'lookbackFrom' : 'from';
  const inWindow = sql`time >= ${windowParam(endsFrom)}`;
  switch (spec.type) {
    case 'event_count': {
      const back = spec.threshold! - 1;
      if (back === 0)
        return sql`SELECT ${groupCols(spec)}${spec.groupBy.length ? ', ' : ''}time AS start_time, time AS end_time FROM ev WHERE ${inWindow}`;
      return sql`SELECT ${groupCols(spec)}${spec.groupBy.length ? ', ' : ''}start_time, time AS end_time FROM (
        SELECT ev.*, lag(time, ${String(back)}) OVER (${partition(spec)}ORDER BY time, event_id) AS start_time FROM ev
      ) lagged WHERE start_time IS NOT NULL AND date_diff('millisecond', start_time, time) <= ${span} AND ${inWindow}`;
    }
    case 'value_count': {
      const on = spec.groupBy.map((_, k) => `b.g${k} = a.g${k}`);
      return sql`SELECT ${groupCols(spec, 'a.')}${spec.groupBy.length ? ', ' : ''}min(b.time) AS start_time, a.time AS end_time FROM ev a JOIN ev b ON ${[...on, 'b.time <= a.time'].join(' AND ')}
        AND date_diff('millisecond', b.time, a.time) <= ${span}
        WHERE a.time >= ${windowParam(endsFrom)} AND b.val IS NOT NULL
        GROUP BY ${[...spec.groupBy.map((_, k) => `a.g${k}`), 'a.time', 'a.event_id', 'a.member'].join(', ')}
        HAVING count(DISTINCT b.val) >= ${param(spec.threshold)}`;
    }
    case 'temporal': {
      const lasts = spec.members.map(
        (_, k) =>
          `max(CASE WHEN member = ${k + 1} THEN time END) OVER (${partition(spec)}ORDER BY time, member, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS last${k + 1}`,
      );
      const names = spec.members.map((_, k) => `last${k + 1}`);
      return sql`SELECT ${groupCols(spec)}${spec.groupBy.length ? ', ' : ''}least(${names.join(', ')}) AS start_time, time AS end_time FROM (
        SELECT ev.*, ${lasts.join(', ')} FROM ev
      ) seen WHERE ${names.map((n) => `${n} IS NOT NULL`).join(' AND ')}
        AND date_diff('millisecond', least(${names.join(', ')}), time) <= ${span} AND ${inWindow}`;
    }
    case 'temporal_ordered': {
      // c1 = start of a chain at a member-1 event; ck = the latest chain start among earlier member-(k-1) events with a chain.
      let chain = sql`SELECT ev.*, CASE WHEN member = 1 THEN time END AS c1 FROM ev`;
      for (let k = 2; k <= spec.members.length; k++) {
        chain = sql`SELECT s.*, CASE WHEN member = ${String(k)} THEN max(CASE WHEN member = ${String(k - 1)} THEN c${String(k - 1)} END) OVER (${partition(spec)}ORDER BY time, member, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) END AS c${String(k)} FROM (${chain}) s`;
      }
      const last = `c${spec.members.length}`;
      return sql`SELECT ${groupCols(spec)}${spec.groupBy.length ? ', ' : ''}${last} AS start_time, time AS end_time FROM (${chain}) chained
        WHERE member = ${String(spec.members.length)} AND ${last} IS NOT NULL AND date_diff('millisecond', ${last}, time) <= ${span} AND ${inWindow}`;
    }
  }
}

/** How far before the window a correlation reads: its timespan, plus those of the correlations it chains. */
export function correlationLookbackMs(spec: CorrelationSpec): number {
  return spec.timespanMs + Math.max(0, ...spec.members.map((m) => (isNested(m) ? correlationLookbackMs(m.spec) : 0)));
}

export function correlationStatement(spec: CorrelationSpec, nested = false): Frag {
  if ((spec.type === 'temporal' || spec.type === 'temporal_ordered') && spec.members.length < 2)
    throw new UnsupportedRule(`correlation.type ${spec.type}`, 'needs at least two rules', spec.line);
  const notNull = spec.groupBy.map((_, k) => `g${k} IS NOT NULL`);
  const ev = sql`ev AS (SELECT * FROM (${memberEvents(spec)}) members${notNull.length ? ` WHERE ${notNull.join(' AND ')}` : ''})`;
  return nested ? everyWindow(spec, ev) : mergedWindows(spec, ev);
}

/**
 * The columns of a hit, aggregated over the events `v` of one window (or island) `w`. Evidence is
 * every distinct id in time order (array_distinct keeps first places: Trino's, and the DuckDB macro
 * in src/core/trino-compat.ts); a hit reported on its own keeps the first `maxEvidence`, the
 * count says how many there were (set_union: a count needs no order). A nested window keeps all: its parent counts them.
 */
function hitColumns(spec: CorrelationSpec, v: string, w: string, maxEvidence: number | null): Frag {
  const evidence = `array_distinct(flatten(array_agg(${v}evidence ORDER BY ${v}time, ${v}event_id)))`;
  return sql`${w}start_time AS first_time, ${w}end_time AS last_time, max_by(${v}actor_id, ${v}last_key) AS actor, max_by(${v}session_id, ${v}last_key) AS session,
      max_by(${v}src_ip, ${v}last_key) AS ip, max_by(${v}account, ${v}last_key) AS account, max_by(${v}region, ${v}last_key) AS region, max_by(${v}resources, ${v}last_key) AS resources,
      ${maxEvidence === null ? evidence : `slice(${evidence}, 1, ${String(maxEvidence)})`} AS evidence,
      cardinality(set_union(${v}evidence)) AS event_count, ${groupKeyText(spec, w)} AS group_key${spec.groupBy.map((_, k) => `, ${w}g${k} AS g${k}`).join('')}`;
}

/**
 * A nested correlation (a member of another): one row per candidate window, each with the events
 * inside it, since its parent orders and times them one by one. Its member events are the few a
 * member rule matches (denied calls, failed sign-ins), so the range join stays small.
 */
function everyWindow(spec: CorrelationSpec, ev: Frag): Frag {
  const on = [...spec.groupBy.map((_, k) => `v.g${k} = w.g${k}`), 'v.time BETWEEN w.start_time AND w.end_time'];
  const groupBy = [...spec.groupBy.map((_, k) => `w.g${k}`), 'w.start_time', 'w.end_time'];
  return sql`WITH ${ev},
    w AS (${windows(spec, true)})
    SELECT ${hitColumns(spec, 'v.', 'w.', null)}
    FROM w JOIN ev v ON ${and(on.map((c) => new Frag(c)))}
    GROUP BY ${groupBy.join(', ')}`;
}

/**
 * A correlation run on its own: overlapping candidate windows of a group are merged into islands
 * here (what runRule's mergeOverlapping would make of them: one hit per island, the union of the
 * windows' events), and each member event is placed in its island by one ordered pass over the
 * group's events, not by a range join of every window with every event of its group (quadratic in
 * a busy group: 329 s of 790 s at 535k events, bench/README.md). Islands are disjoint and in time
 * order, so an event is in the latest island that started at or before it, if that one has not ended.
 */
function mergedWindows(spec: CorrelationSpec, ev: Frag): Frag {
  const g = groupCols(spec);
  const gc = spec.groupBy.length ? `${g}, ` : '';
  const part = partition(spec);
  const byStart = `${part}ORDER BY start_time, end_time`;
  const keys = spec.groupBy.length
    ? ` JOIN (SELECT DISTINCT ${g} FROM islands) k ON ${spec.groupBy.map((_, k) => `k.g${k} = e.g${k}`).join(' AND ')}`
    : '';
  return sql`WITH ${ev},
    w AS (${windows(spec, false)}),
    opened AS (SELECT ${gc}start_time, end_time, CASE WHEN start_time <= max(end_time) OVER (${byStart} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) THEN 0 ELSE 1 END AS opens FROM w),
    numbered AS (SELECT ${gc}start_time, end_time, sum(opens) OVER (${byStart} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS island FROM opened),
    islands AS (SELECT ${gc}min(start_time) AS start_time, max(end_time) AS end_time FROM numbered GROUP BY ${gc}island),
    marked AS (
      SELECT ${spec.groupBy.map((_, k) => `e.g${k}, `).join('')}e.time, e.event_id, e.actor_id, e.session_id, e.src_ip, e.account, e.region, e.resources, e.last_key, e.evidence, 1 AS kind,
        CAST(NULL AS TIMESTAMP) AS island_start, CAST(NULL AS TIMESTAMP) AS island_end FROM ev e${keys}
      UNION ALL
      SELECT ${gc}start_time AS time, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0 AS kind, start_time, end_time FROM islands),
    placed AS (SELECT m.*, max(island_start) OVER (${part}ORDER BY time, kind ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS start_time,
        max(island_end) OVER (${part}ORDER BY time, kind ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS end_time FROM marked m)
    SELECT ${hitColumns(spec, '', '', MAX_EVIDENCE)}
    FROM placed
    WHERE kind = 1 AND end_time IS NOT NULL AND time <= end_time
    GROUP BY ${gc}start_time, end_time`;
}
