/**
 * SQL over the graph tables (graph_entities, graph_edges; see etl/graph.ts). Trino dialect.
 * Column and relation names come from the constants here; values are parameters.
 */
import type { SqlParam } from '../engine/types';
import type { EntityType, Window } from '../api/models';
import { accountRestriction, dayRange, placeholders, type Statement } from './sql';

/** Aggregate of an entity over the window's days; the day-by-day attrs are merged by the caller. */
const ENTITY_AGGREGATE = `SELECT type, id, max(kind) AS kind, max(provider) AS provider, max(account) AS account, max(name) AS name,
    max(arn) AS arn, min(first_seen) AS first_seen, max(last_seen) AS last_seen, sum(event_count) AS event_count,
    array_agg(attrs ORDER BY day) AS attrs_by_day
  FROM graph_entities`;

export interface EntityRow {
  type: string;
  id: string;
  kind: string | null;
  provider: string | null;
  account: string | null;
  name: string | null;
  arn: string | null;
  first_seen: Date | null;
  last_seen: Date | null;
  event_count: number | null;
  attrs_by_day: string[] | null;
  [k: string]: unknown;
}

export function entitiesByKeys(type: EntityType, keys: readonly string[], window: Window, accounts: readonly string[] | '*'): Statement {
  const [fromDay, toDay] = dayRange(window);
  const restrict = entityAccountRestriction(accounts);
  return {
    label: 'entitiesByKeys',
    sql: `${ENTITY_AGGREGATE}
  WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND type = ? AND id IN (${placeholders(keys.length)})${restrict.sql}
  GROUP BY type, id`,
    params: [fromDay, toDay, type, ...keys, ...restrict.params],
  };
}

/** Entities without an account (IPs, user agents) are visible to every caller. */
function entityAccountRestriction(accounts: readonly string[] | '*'): { sql: string; params: SqlParam[] } {
  const inner = accountRestriction('account', accounts);
  if (inner.sql === '') return inner;
  return { sql: ` AND (account IS NULL OR (true${inner.sql}))`, params: inner.params };
}

/** Entities of a type in the window, most recently seen first, one page (offset based). */
export function listEntities(
  type: EntityType,
  window: Window,
  kind: string | null,
  offset: number,
  limit: number,
  accounts: readonly string[] | '*',
): Statement {
  const [fromDay, toDay] = dayRange(window);
  const restrict = entityAccountRestriction(accounts);
  const params: SqlParam[] = [fromDay, toDay, type];
  let kindSql = '';
  if (kind !== null) {
    kindSql = ' AND kind = ?';
    params.push(kind);
  }
  params.push(...restrict.params, offset, offset + limit);
  return {
    label: 'listEntities',
    sql: `SELECT * FROM (
  SELECT e.*, row_number() OVER (ORDER BY last_seen DESC, id) AS rn, count(*) OVER () AS total FROM (
    ${ENTITY_AGGREGATE}
    WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND type = ?${kindSql}${restrict.sql}
    GROUP BY type, id
  ) e
) ranked WHERE rn > ? AND rn <= ? ORDER BY rn`,
    params,
  };
}

/**
 * Identity ids a caller's text may name: the id or ARN itself, a name, an access key it used, or
 * (for a role's principal id `AROA…:session-name`) the role session name. Ranked so the most exact
 * match wins.
 */
export function identityCandidates(
  text: string,
  derivedRoleArn: string | null,
  window: Window,
  sessionName: string | null = null,
): Statement {
  const [fromDay, toDay] = dayRange(window);
  return {
    label: 'identityCandidates',
    sql: `SELECT id, min(rank) AS rank FROM (
    SELECT id, CASE WHEN id = ? THEN 0 WHEN id = ? THEN 1 WHEN arn = ? THEN 2 ELSE 4 END AS rank
    FROM graph_entities
    WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND type = 'Identity' AND (id = ? OR id = ? OR arn = ? OR name = ?)
    UNION ALL
    SELECT src_id AS id, 3 AS rank FROM graph_edges
    WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND src_type = 'Identity' AND rel = 'uses' AND dst_type = 'Session' AND dst_id = ?
    UNION ALL
    SELECT e.src_id AS id, 5 AS rank FROM graph_edges e
    WHERE e.day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND e.src_type = 'Identity' AND e.rel = 'uses' AND e.dst_type = 'Session'
      AND e.dst_id IN (SELECT s.id FROM graph_entities s
                       WHERE s.day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND s.type = 'Session' AND s.name = ?)
  ) c GROUP BY id ORDER BY rank, id LIMIT 5`,
    params: [
      text,
      derivedRoleArn,
      text,
      fromDay,
      toDay,
      text,
      derivedRoleArn,
      text,
      text,
      fromDay,
      toDay,
      text,
      fromDay,
      toDay,
      fromDay,
      toDay,
      sessionName,
    ],
  };
}

type Direction = 'out' | 'in';
interface Leg {
  direction: Direction;
  /** Relations followed; null = any (resource access, where the relation is the action). */
  rels: readonly string[] | null;
  /** Relation reported to the caller, when it differs from the stored one (flow_out / flow_in). */
  label?: string;
}
export interface PivotSpec {
  from: EntityType;
  to: string;
  legs: readonly Leg[];
}

const ACCESS_RELS = null;
/** Every pivot the API offers, by name. The only source of relation and type names in edge SQL. */
export const PIVOTS = {
  identityIps: { from: 'Identity', to: 'IPAddress', legs: [{ direction: 'out', rels: ['from_ip'] }] },
  identitySessions: { from: 'Identity', to: 'Session', legs: [{ direction: 'out', rels: ['uses'] }] },
  identityIssuedSessions: { from: 'Identity', to: 'Session', legs: [{ direction: 'out', rels: ['issued'] }] },
  identityResources: { from: 'Identity', to: 'Resource', legs: [{ direction: 'out', rels: ACCESS_RELS }] },
  identityUserAgents: { from: 'Identity', to: 'UserAgent', legs: [{ direction: 'out', rels: ['user_agent'] }] },
  identityRegions: { from: 'Identity', to: 'Region', legs: [{ direction: 'out', rels: ['in_region'] }] },
  identityAccounts: { from: 'Identity', to: 'Account', legs: [{ direction: 'out', rels: ['in_account'] }] },
  sessionIps: { from: 'Session', to: 'IPAddress', legs: [{ direction: 'out', rels: ['from_ip'] }] },
  sessionResources: { from: 'Session', to: 'Resource', legs: [{ direction: 'out', rels: ACCESS_RELS }] },
  sessionUserAgents: { from: 'Session', to: 'UserAgent', legs: [{ direction: 'out', rels: ['user_agent'] }] },
  sessionChildren: { from: 'Session', to: 'Session', legs: [{ direction: 'in', rels: ['issued_by'] }] },
  sessionParents: { from: 'Session', to: 'Session', legs: [{ direction: 'out', rels: ['issued_by'] }] },
  ipIdentities: { from: 'IPAddress', to: 'Identity', legs: [{ direction: 'in', rels: ['from_ip'] }] },
  ipSessions: { from: 'IPAddress', to: 'Session', legs: [{ direction: 'in', rels: ['from_ip'] }] },
  ipIssuedSessions: { from: 'IPAddress', to: 'Session', legs: [{ direction: 'in', rels: ['issued_from_ip'] }] },
  ipResources: { from: 'IPAddress', to: 'Resource', legs: [{ direction: 'out', rels: ACCESS_RELS }] },
  ipPeersOut: { from: 'IPAddress', to: 'IPAddress', legs: [{ direction: 'out', rels: ['flow'], label: 'flow_out' }] },
  ipPeersIn: { from: 'IPAddress', to: 'IPAddress', legs: [{ direction: 'in', rels: ['flow'], label: 'flow_in' }] },
  ipPeersBoth: {
    from: 'IPAddress',
    to: 'IPAddress',
    legs: [
      { direction: 'out', rels: ['flow'], label: 'flow_out' },
      { direction: 'in', rels: ['flow'], label: 'flow_in' },
    ],
  },
  ipDomains: { from: 'IPAddress', to: 'Domain', legs: [{ direction: 'out', rels: ['queried'] }] },
  domainIps: { from: 'Domain' as EntityType, to: 'IPAddress', legs: [{ direction: 'in', rels: ['queried'] }] },
  resourceActors: { from: 'Resource', to: 'Identity', legs: [{ direction: 'in', rels: ACCESS_RELS }] },
  resourceSessions: { from: 'Resource', to: 'Session', legs: [{ direction: 'in', rels: ACCESS_RELS }] },
  resourceIps: { from: 'Resource', to: 'IPAddress', legs: [{ direction: 'in', rels: ACCESS_RELS }] },
  accountIdentities: { from: 'Account', to: 'Identity', legs: [{ direction: 'in', rels: ['in_account'] }] },
  userAgentIdentities: { from: 'UserAgent', to: 'Identity', legs: [{ direction: 'in', rels: ['user_agent'] }] },
  // Across sources (see etl/graph.ts CROSS_SOURCE_EDGES).
  identityFederatedSessions: { from: 'Identity', to: 'Session', legs: [{ direction: 'out', rels: ['federated_into'] }] },
  identityFederatedRoles: { from: 'Identity', to: 'Identity', legs: [{ direction: 'out', rels: ['federated_into'] }] },
  identityFederatedAs: { from: 'Identity', to: 'Identity', legs: [{ direction: 'out', rels: ['federated_as'] }] },
  identityFederatedFrom: { from: 'Identity', to: 'Identity', legs: [{ direction: 'in', rels: ['federated_into', 'federated_as'] }] },
  sessionFederatedFrom: { from: 'Session', to: 'Identity', legs: [{ direction: 'in', rels: ['federated_into'] }] },
  resourceInterfaces: { from: 'Resource', to: 'Resource', legs: [{ direction: 'out', rels: ['has_interface'] }] },
  resourceInstances: { from: 'Resource', to: 'Resource', legs: [{ direction: 'in', rels: ['has_interface'] }] },
  resourceAddresses: { from: 'Resource', to: 'IPAddress', legs: [{ direction: 'out', rels: ['has_address'] }] },
  resourceDomains: { from: 'Resource', to: 'Domain', legs: [{ direction: 'out', rels: ['queried'] }] },
  ipInstances: { from: 'IPAddress', to: 'Resource', legs: [{ direction: 'in', rels: ['has_address'] }] },
  ipResolvedFrom: { from: 'IPAddress', to: 'Domain', legs: [{ direction: 'in', rels: ['resolves_to'] }] },
  domainResolvesTo: { from: 'Domain' as EntityType, to: 'IPAddress', legs: [{ direction: 'out', rels: ['resolves_to'] }] },
} as const satisfies Record<string, PivotSpec>;
export type PivotName = keyof typeof PIVOTS;

/** Relations that are not resource access, so ACCESS pivots can exclude them. */
const STRUCTURAL_RELS = [
  'from_ip',
  'uses',
  'issued',
  'user_agent',
  'in_region',
  'in_account',
  'issued_by',
  'issued_from_ip',
  'flow',
  'queried',
  'federated_into',
  'federated_as',
  'has_interface',
  'has_address',
  'resolves_to',
];

export interface NeighbourRow extends EntityRow {
  key_id: string;
  other_type: string;
  other_id: string;
  rel: string;
  link_first_seen: Date;
  link_last_seen: Date;
  link_event_count: number;
  /** Flow links only: bytes and packets carried in the window. */
  link_bytes: number | null;
  link_packets: number | null;
  rn: number;
  total: number;
}

/**
 * One page of neighbours for each of several entities, with the neighbours' own entity rows
 * joined in, so a pivot level costs one round trip.
 */
export function neighbours(
  pivot: PivotName,
  keys: readonly string[],
  window: Window,
  action: string | null,
  offset: number,
  limit: number,
): Statement {
  const spec: PivotSpec = PIVOTS[pivot];
  const [fromDay, toDay] = dayRange(window);
  const orderedParams: SqlParam[] = [];
  const legSql = spec.legs.map((leg) => {
    const [keyCol, keyType, otherCol, otherType] =
      leg.direction === 'out' ? ['src_id', 'src_type', 'dst_id', 'dst_type'] : ['dst_id', 'dst_type', 'src_id', 'src_type'];
    // Parameters in the order their `?` appear: the relation label (SELECT list), then the WHERE clause.
    if (leg.label) orderedParams.push(leg.label);
    orderedParams.push(fromDay, toDay, window.from, window.to, spec.from, ...keys, spec.to);
    let relSql: string;
    if (leg.rels === null) {
      relSql = ` AND rel NOT IN (${placeholders(STRUCTURAL_RELS.length)})`;
      orderedParams.push(...STRUCTURAL_RELS);
    } else {
      relSql = ` AND rel IN (${placeholders(leg.rels.length)})`;
      orderedParams.push(...leg.rels);
    }
    if (action !== null) {
      relSql += ' AND rel = ?';
      orderedParams.push(action);
    }
    return `SELECT ${keyCol} AS key_id, ${otherType} AS other_type, ${otherCol} AS other_id, ${leg.label ? 'CAST(? AS VARCHAR)' : 'rel'} AS rel,
        min(first_seen) AS link_first_seen, max(last_seen) AS link_last_seen, sum(event_count) AS link_event_count,
        sum(bytes) AS link_bytes, sum(packets) AS link_packets
      FROM graph_edges
      WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND last_seen >= ? AND first_seen < ?
        AND ${keyType} = ? AND ${keyCol} IN (${placeholders(keys.length)}) AND ${otherType} = ?${relSql}
      GROUP BY ${keyCol}, ${otherType}, ${otherCol}, rel`;
  });
  orderedParams.push(offset, offset + limit, fromDay, toDay);
  return {
    label: `neighbours:${pivot}`,
    sql: `WITH agg AS (
    ${legSql.join('\n    UNION ALL\n    ')}
  ),
  ranked AS (
    SELECT agg.*, row_number() OVER (PARTITION BY key_id ORDER BY link_last_seen DESC, other_id, rel) AS rn,
           count(*) OVER (PARTITION BY key_id) AS total
    FROM agg
  ),
  page AS (SELECT * FROM ranked WHERE rn > ? AND rn <= ?),
  ent AS (
    ${ENTITY_AGGREGATE}
    WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND id IN (SELECT other_id FROM page)
    GROUP BY type, id
  )
SELECT page.*, ent.type, ent.id, ent.kind, ent.provider, ent.account, ent.name, ent.arn, ent.first_seen, ent.last_seen,
       ent.event_count, ent.attrs_by_day
FROM page LEFT JOIN ent ON ent.id = page.other_id AND ent.type = page.other_type
ORDER BY page.key_id, page.rn`,
    params: orderedParams,
  };
}
