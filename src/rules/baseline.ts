/**
 * Baselines, a rule kind of ScoutQL's own in the Sigma file format (a `baseline:` block beside
 * an optional `detection:` filter):
 *
 *   first_seen  an entity (identity by default) does something with a value (source IP, region,
 *               user agent, API action…) it never did in the look-back window (default 30d);
 *               the entity must be known (seen at all) in that window, so new identities do not
 *               flood it. `max_seen: N` relaxes "never" to "at most N times" (rare).
 *   rare        the same test with the account as the default entity and `max_seen` default 2:
 *               values the account as a whole almost never sees.
 *   spike       per entity and value, events per bucket (default 1h) against the entity's own
 *               busiest bucket in the look-back: at least `min_count` and `factor` × that peak.
 *
 * History is read from the lake (the look-back before the window); one statement per rule.
 */
import { resolveField, type ResolvedField } from './logsources';
import { UnsupportedRule } from './model';
import { scalarOf } from './detection';
import { EVENT_COLUMNS, eventWhere, orderKey, tableRef } from './events';
import { TRUE, param, sql, windowParam, type Frag } from './sql';
import type { LogTarget } from './logsources';

export type BaselineType = 'first_seen' | 'rare' | 'spike';

export interface BaselineSpec {
  type: BaselineType;
  target: LogTarget;
  /** The optional detection filter. */
  condition: Frag | null;
  entity: string;
  value: string;
  lookbackMs: number;
  maxSeen: number;
  minHistory: number;
  bucketMs: number;
  factor: number;
  minCount: number;
  line: number | null;
}

/** Enrichments that arrive with the offline GeoIP data (round 2): named now so rules can say what they need. */
const GEOIP_FIELDS = new Set(['src_asn', 'src_as_org', 'src_country', 'src_is_cloud']);

function scalarField(target: LogTarget, name: string, role: string, line: number | null): Frag {
  if (GEOIP_FIELDS.has(name))
    throw new UnsupportedRule(`baseline.${role} ${name}`, 'needs the offline GeoIP / ASN data, which is not wired in yet', line);
  const field: ResolvedField = resolveField(target, name);
  if (field.kind === 'unreachable') throw new UnsupportedRule(`baseline.${role} ${name}`, field.reason, line);
  const scalar = scalarOf(field);
  if (!scalar) throw new UnsupportedRule(`baseline.${role} ${name}`, 'a list column cannot be a baseline key', line);
  return scalar;
}

export function baselineStatement(spec: BaselineSpec): Frag {
  const entity = scalarField(spec.target, spec.entity, 'entity', spec.line);
  const value = scalarField(spec.target, spec.value, 'value', spec.line);
  const table = tableRef(spec.target);
  const filter = spec.condition ?? TRUE;
  const base = sql`SELECT ${EVENT_COLUMNS}, ${orderKey('time', 'event_id')} AS last_key, CAST(${entity} AS VARCHAR) AS ent, CAST(${value} AS VARCHAR) AS val FROM ${table} WHERE ${eventWhere(spec.target, filter, 'lookbackFrom')}`;
  const from = windowParam('from');
  const hitColumns = sql`min(c.time) AS first_time, max(c.time) AS last_time, max_by(c.actor_id, c.last_key) AS actor, max_by(c.session_id, c.last_key) AS session,
      max_by(c.src_ip, c.last_key) AS ip, max_by(c.account, c.last_key) AS account, max_by(c.region, c.last_key) AS region, max_by(c.resources, c.last_key) AS resources,
      array_agg(c.event_id ORDER BY c.time, c.event_id) AS evidence, count(*) AS event_count`;

  if (spec.type === 'spike') {
    const bucket = sql`floor(to_unixtime(time) * 1000 / ${param(spec.bucketMs)})`;
    return sql`WITH base AS (SELECT b.*, ${bucket} AS bucket FROM (${base}) b WHERE ent IS NOT NULL AND val IS NOT NULL),
      peak AS (SELECT ent, val, max(n) AS peak FROM (SELECT ent, val, bucket, count(*) AS n FROM base WHERE time < ${from} GROUP BY ent, val, bucket) h GROUP BY ent, val),
      cur AS (SELECT c.*, count(*) OVER (PARTITION BY ent, val, bucket) AS n FROM base c WHERE time >= ${windowParam('from')})
      SELECT ${hitColumns}, concat(c.ent, ' ', c.val) AS group_key
      FROM cur c LEFT JOIN peak p ON p.ent = c.ent AND p.val = c.val
      WHERE c.n >= ${param(spec.minCount)} AND c.n >= ${param(spec.factor)} * coalesce(p.peak, 0)
      GROUP BY c.ent, c.val, c.bucket`;
  }
  // Whether the entity is known at all comes from every event of the source, not only the filtered ones.
  const known = sql`SELECT CAST(${entity} AS VARCHAR) AS ent, count(*) AS n FROM ${table} WHERE ${eventWhere(spec.target, TRUE, 'lookbackFrom')} AND time < ${windowParam('from')} GROUP BY 1`;
  return sql`WITH base AS (SELECT * FROM (${base}) b WHERE ent IS NOT NULL AND val IS NOT NULL),
    hist AS (SELECT ent, val, count(*) AS n FROM base WHERE time < ${from} GROUP BY ent, val),
    known AS (${known}),
    cur AS (SELECT * FROM base WHERE time >= ${windowParam('from')})
    SELECT ${hitColumns}, concat(c.ent, ' ', c.val) AS group_key
    FROM cur c JOIN known k ON k.ent = c.ent LEFT JOIN hist h ON h.ent = c.ent AND h.val = c.val
    WHERE k.n >= ${param(spec.minHistory)} AND coalesce(h.n, 0) <= ${param(spec.maxSeen)}
    GROUP BY c.ent, c.val`;
}
