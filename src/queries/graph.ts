/**
 * SQL over the graph tables (graph_entities, graph_edges; see etl/graph.ts). Trino dialect.
 * Relation and node type names come from the lake contract (src/core/tables.ts RELATIONS), checked
 * by the compiler; values are parameters.
 */
import { type ACCESS_SOURCE_TYPES, type RELATIONS, RELATION_NAMES, type EntityType, type NodeType, type Relation } from '../core/tables';
import type { SqlParam } from '../engine/types';
import { ipv4Number, type Ipv4Range } from './events';
import { visibleNodes, type AccountScope, type Fragment } from './scope';
import { dayRange, nodeTypeSql, placeholders, relationSql, type Statement, type Window } from './sql';

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

export function entitiesByKeys(scope: AccountScope, type: EntityType, keys: readonly string[], window: Window): Statement {
  const days = dayRange(window);
  const visible = entityVisibility(scope, type, days);
  return {
    label: 'entitiesByKeys',
    sql: `${ENTITY_AGGREGATE}
  WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND type = ? AND id IN (${placeholders(keys.length)})${visible.sql}
  GROUP BY type, id`,
    params: [...days, type, ...keys, ...visible.params],
    scope,
    weight: 'light',
    days,
  };
}

/**
 * Resources a bare name may mean, for many names at once: the resource whose id is the name, or the
 * S3 bucket of that name in whatever AWS partition the lake holds it (`arn:aws:s3:::name`,
 * `arn:aws-cn:s3:::name`…): the partition comes from the data, not from this code.
 */
export function resourcesByName(scope: AccountScope, names: readonly string[], window: Window): Statement {
  const [fromDay, toDay] = dayRange(window);
  const restrict = entityVisibility(scope, 'Resource', [fromDay, toDay]);
  return {
    label: 'resourcesByName',
    sql: `${ENTITY_AGGREGATE}
  WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND type = ${nodeTypeSql('Resource')}
    AND (id IN (${placeholders(names.length)})
      OR (id LIKE 'arn:%:s3:::%' AND ${BUCKET_OF_ID} IN (${placeholders(names.length)})
          AND id = 'arn:' || split_part(id, ':', 2) || ':s3:::' || ${BUCKET_OF_ID}))${restrict.sql}
  GROUP BY type, id`,
    params: [fromDay, toDay, ...names, ...names, ...restrict.params],
    scope,
    weight: 'light',
    days: [fromDay, toDay],
  };
}
/**
 * Resources whose id ends in a name or id the caller gave without its ARN: an instance id
 * (`…:instance/i-0abc`), a secret or parameter name (`…:secret:prod/db`, `…:parameter/app/key`), a
 * function name (`…:function:payments`). The name must be a whole last part of the id (after a `/` or `:`).
 */
export function resourcesBySuffix(scope: AccountScope, name: string, window: Window): Statement {
  const [fromDay, toDay] = dayRange(window);
  const restrict = entityVisibility(scope, 'Resource', [fromDay, toDay]);
  const escaped = name.replace(/[\\%_]/g, (c) => `\\${c}`);
  return {
    label: 'resourcesBySuffix',
    sql: `${ENTITY_AGGREGATE}
  WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND type = ${nodeTypeSql('Resource')}
    AND (id LIKE ? ESCAPE '\\' OR id LIKE ? ESCAPE '\\')${restrict.sql}
  GROUP BY type, id ORDER BY id LIMIT 20`,
    params: [fromDay, toDay, `%/${escaped}`, `%:${escaped}`, ...restrict.params],
    scope,
    weight: 'light',
    days: [fromDay, toDay],
  };
}

/**
 * Addresses the lake saw in the window that fall in IPv4 ranges (compared as integers in SQL), or,
 * for IPv6 ranges (`ipv6: true`), every IPv6 address it saw, for the caller to test (at most `limit`).
 */
export function addressesInRange(
  scope: AccountScope,
  ranges: readonly Ipv4Range[],
  ipv6: boolean,
  window: Window,
  limit: number,
): Statement {
  const [fromDay, toDay] = dayRange(window);
  const params: SqlParam[] = [fromDay, toDay];
  const parts = ranges.map((range) => {
    params.push(range.low, range.high);
    return `${ipv4Number('id')} BETWEEN ? AND ?`;
  });
  if (ipv6) parts.push("strpos(id, ':') > 0");
  // An address is visible when the scope's events sighted it in the window.
  const restrict = entityVisibility(scope, 'IPAddress', [fromDay, toDay]);
  params.push(...restrict.params, limit);
  return {
    label: 'addressesInRange',
    sql: `${ENTITY_AGGREGATE}
  WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND type = ${nodeTypeSql('IPAddress')}
    AND (${parts.length ? parts.join(' OR ') : 'false'})${restrict.sql}
  GROUP BY type, id ORDER BY max(last_seen) DESC, id LIMIT ?`,
    params,
    scope,
    weight: 'light',
    days: [fromDay, toDay],
  };
}

/** The bucket name of an S3 bucket ARN `arn:<partition>:s3:::<bucket>` (the sixth ':'-separated part). */
const BUCKET_OF_ID = "split_part(id, ':', 6)";

/**
 * Rows of graph_entities the scope may see: of its accounts (day by day) for the types the graph
 * attributes to an account, sighted in its events for the others (IPs, user agents).
 */
function entityVisibility(scope: AccountScope, type: EntityType, days: readonly [string, string]): Fragment {
  if (scope.isAll) return { sql: '', params: [] };
  if (type === 'IPAddress' || type === 'UserAgent') return visibleNodes(scope, type, 'id', days);
  return scope.restrict('account');
}

/** The same for rows of any type (a neighbour page's entity rows, whose types vary). */
function anyEntityVisibility(scope: AccountScope): Fragment {
  const restrict = scope.restrict('account');
  if (restrict.sql === '') return restrict;
  // Rows without an account are IPs and user agents, already kept only when sighted (visibleNodes).
  return { sql: ` AND (account IS NULL OR (true${restrict.sql}))`, params: restrict.params };
}

/** Entities of a type in the window, most recently seen first, one page (offset based). */
export function listEntities(
  scope: AccountScope,
  type: EntityType,
  window: Window,
  kind: string | null,
  offset: number,
  limit: number,
): Statement {
  const [fromDay, toDay] = dayRange(window);
  const restrict = entityVisibility(scope, type, [fromDay, toDay]);
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
    scope,
    weight: 'light',
    days: [fromDay, toDay],
  };
}

const IDENTITY = nodeTypeSql('Identity');
const SESSION = nodeTypeSql('Session');
const USES = relationSql('uses');

/**
 * Identity ids a caller's text may name: the id or ARN itself, a name, an access key it used, or
 * (for a role's principal id `AROA…:session-name`) the role session name. Ranked so the most exact
 * match wins.
 */
export function identityCandidates(
  scope: AccountScope,
  text: string,
  derivedRoleArn: string | null,
  window: Window,
  sessionName: string | null = null,
): Statement {
  const [fromDay, toDay] = dayRange(window);
  const visible = visibleNodes(scope, 'Identity', 'id', [fromDay, toDay]);
  return {
    label: 'identityCandidates',
    sql: `SELECT id, min(rank) AS rank FROM (
    SELECT id, CASE WHEN id = ? THEN 0 WHEN id = ? THEN 1 WHEN arn = ? THEN 2 ELSE 4 END AS rank
    FROM graph_entities
    WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND type = ${IDENTITY} AND (id = ? OR id = ? OR arn = ? OR name = ?)
    UNION ALL
    SELECT src_id AS id, 3 AS rank FROM graph_edges
    WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND src_type = ${IDENTITY} AND rel = ${USES} AND dst_type = ${SESSION} AND dst_id = ?
    UNION ALL
    SELECT e.src_id AS id, 5 AS rank FROM graph_edges e
    WHERE e.day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND e.src_type = ${IDENTITY} AND e.rel = ${USES} AND e.dst_type = ${SESSION}
      AND e.dst_id IN (SELECT s.id FROM graph_entities s
                       WHERE s.day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND s.type = ${SESSION} AND s.name = ?)
  ) c WHERE true${visible.sql} GROUP BY id ORDER BY rank, id LIMIT 5`,
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
      ...visible.params,
    ],
    scope,
    weight: 'light',
    days: [fromDay, toDay],
  };
}

/**
 * The identities a statement of identityCandidates names, with their entity rows, best match
 * first: the candidate lookup and the entity fetch in one round trip instead of two waves. Rows are
 * those of entitiesByKeys for the candidates the scope may see (plus `rank`), over the candidates' days and scope.
 */
export function identityCandidateEntities(candidates: Statement): Statement {
  const { scope } = candidates;
  const [fromDay, toDay] = candidates.days ?? [];
  if (!fromDay || !toDay) throw new Error('identityCandidateEntities: the candidates statement names no days');
  const visible = entityVisibility(scope, 'Identity', [fromDay, toDay]);
  return {
    label: 'identityCandidateEntities',
    sql: `WITH c AS (
  ${candidates.sql}
)
SELECT e.*, c.rank FROM c JOIN (
  ${ENTITY_AGGREGATE}
  WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND type = ${IDENTITY} AND id IN (SELECT id FROM c)${visible.sql}
  GROUP BY type, id
) e ON e.id = c.id
ORDER BY c.rank, c.id`,
    params: [...candidates.params, fromDay, toDay, ...visible.params],
    scope,
    weight: 'light',
    days: [fromDay, toDay],
  };
}

type Direction = 'out' | 'in';

/** A relation's node types at one end, as a union. */
type Ends<R extends Relation, End extends 'from' | 'to'> = (typeof RELATIONS)[R][End] extends infer E
  ? E extends readonly (infer U)[]
    ? U
    : E
  : never;
/** The named relations whose edges go from node type A to node type B. */
type RelationsBetween<A extends NodeType, B extends NodeType> = {
  [R in Relation]: A extends Ends<R, 'from'> ? (B extends Ends<R, 'to'> ? R : never) : never;
}[Relation];

type AccessSourceType = (typeof ACCESS_SOURCE_TYPES)[number];
/**
 * Resource access is every edge from an access source type to a Resource, the relation being the
 * action: the contract names no relation between those types (this fails to compile if it ever
 * does). An action can still be spelt like a relation: flow records' activity is `flow`, so the graph
 * holds `IPAddress -flow-> Resource` (the interface a flow used). Access legs leave out every
 * relation name, as the API always has, so such edges stay out of resource access.
 */
const ACCESS_EDGES_ARE_UNNAMED: [RelationsBetween<AccessSourceType, 'Resource'>] extends [never] ? true : false = true;
void ACCESS_EDGES_ARE_UNNAMED;

/** Follows named relations (an allow-list of the contract's RELATIONS between the pivot's types). */
interface NamedLeg<Rel extends Relation = Relation> {
  direction: Direction;
  rels: readonly Rel[];
  /** Relation reported to the caller, when it differs from the stored one (flow_out / flow_in). */
  label?: string;
}
/** Follows resource access: every edge between an access source type and a Resource. */
interface AccessLeg {
  direction: Direction;
  access: true;
}
type Leg = NamedLeg | AccessLeg;

/** The legs a pivot from F to T may take: named relations in the right direction, or access between the right types. */
type LegOf<F extends NodeType, T extends NodeType> =
  | (NamedLeg<RelationsBetween<F, T>> & { direction: 'out' })
  | (NamedLeg<RelationsBetween<T, F>> & { direction: 'in' })
  | (F extends AccessSourceType ? (T extends 'Resource' ? AccessLeg & { direction: 'out' } : never) : never)
  | (F extends 'Resource' ? (T extends AccessSourceType ? AccessLeg & { direction: 'in' } : never) : never);

export interface PivotSpec {
  from: NodeType;
  to: NodeType;
  legs: readonly Leg[];
}

/** A pivot whose legs the compiler checks against the contract's relations and node types. */
function pivot<const F extends NodeType, const T extends NodeType>(from: F, to: T, ...legs: LegOf<F, T>[]): PivotSpec {
  return { from, to, legs };
}

const ACCESS_OUT = { direction: 'out', access: true } as const;
const ACCESS_IN = { direction: 'in', access: true } as const;

/** Every pivot the API offers, by name. The only source of relation and type names in edge SQL. */
export const PIVOTS = {
  identityIps: pivot('Identity', 'IPAddress', { direction: 'out', rels: ['from_ip'] }),
  identitySessions: pivot('Identity', 'Session', { direction: 'out', rels: ['uses'] }),
  identityIssuedSessions: pivot('Identity', 'Session', { direction: 'out', rels: ['issued'] }),
  identityResources: pivot('Identity', 'Resource', ACCESS_OUT),
  identityUserAgents: pivot('Identity', 'UserAgent', { direction: 'out', rels: ['user_agent'] }),
  identityRegions: pivot('Identity', 'Region', { direction: 'out', rels: ['in_region'] }),
  identityAccounts: pivot('Identity', 'Account', { direction: 'out', rels: ['in_account'] }),
  sessionIps: pivot('Session', 'IPAddress', { direction: 'out', rels: ['from_ip'] }),
  sessionResources: pivot('Session', 'Resource', ACCESS_OUT),
  sessionUserAgents: pivot('Session', 'UserAgent', { direction: 'out', rels: ['user_agent'] }),
  sessionChildren: pivot('Session', 'Session', { direction: 'in', rels: ['issued_by'] }),
  sessionParents: pivot('Session', 'Session', { direction: 'out', rels: ['issued_by'] }),
  ipIdentities: pivot('IPAddress', 'Identity', { direction: 'in', rels: ['from_ip'] }),
  ipSessions: pivot('IPAddress', 'Session', { direction: 'in', rels: ['from_ip'] }),
  ipIssuedSessions: pivot('IPAddress', 'Session', { direction: 'in', rels: ['issued_from_ip'] }),
  ipResources: pivot('IPAddress', 'Resource', ACCESS_OUT),
  ipPeersOut: pivot('IPAddress', 'IPAddress', { direction: 'out', rels: ['flow'], label: 'flow_out' }),
  ipPeersIn: pivot('IPAddress', 'IPAddress', { direction: 'in', rels: ['flow'], label: 'flow_in' }),
  ipPeersBoth: pivot(
    'IPAddress',
    'IPAddress',
    { direction: 'out', rels: ['flow'], label: 'flow_out' },
    { direction: 'in', rels: ['flow'], label: 'flow_in' },
  ),
  ipDomains: pivot('IPAddress', 'Domain', { direction: 'out', rels: ['queried'] }),
  domainIps: pivot('Domain', 'IPAddress', { direction: 'in', rels: ['queried'] }),
  resourceActors: pivot('Resource', 'Identity', ACCESS_IN),
  resourceSessions: pivot('Resource', 'Session', ACCESS_IN),
  resourceIps: pivot('Resource', 'IPAddress', ACCESS_IN),
  accountIdentities: pivot('Account', 'Identity', { direction: 'in', rels: ['in_account'] }),
  userAgentIdentities: pivot('UserAgent', 'Identity', { direction: 'in', rels: ['user_agent'] }),
  // Across sources (see etl/graph.ts CROSS_SOURCE_EDGES).
  identityFederatedSessions: pivot('Identity', 'Session', { direction: 'out', rels: ['federated_into'] }),
  identityFederatedRoles: pivot('Identity', 'Identity', { direction: 'out', rels: ['federated_into'] }),
  identityFederatedAs: pivot('Identity', 'Identity', { direction: 'out', rels: ['federated_as'] }),
  identityFederatedFrom: pivot('Identity', 'Identity', { direction: 'in', rels: ['federated_into', 'federated_as'] }),
  sessionFederatedFrom: pivot('Session', 'Identity', { direction: 'in', rels: ['federated_into'] }),
  resourceInterfaces: pivot('Resource', 'Resource', { direction: 'out', rels: ['has_interface'] }),
  resourceInstances: pivot('Resource', 'Resource', { direction: 'in', rels: ['has_interface'] }),
  resourceAddresses: pivot('Resource', 'IPAddress', { direction: 'out', rels: ['has_address'] }),
  resourceDomains: pivot('Resource', 'Domain', { direction: 'out', rels: ['queried'] }),
  ipInstances: pivot('IPAddress', 'Resource', { direction: 'in', rels: ['has_address'] }),
  ipResolvedFrom: pivot('IPAddress', 'Domain', { direction: 'in', rels: ['resolves_to'] }),
  domainResolvesTo: pivot('Domain', 'IPAddress', { direction: 'out', rels: ['resolves_to'] }),
} satisfies Record<string, PivotSpec>;
export type PivotName = keyof typeof PIVOTS;

export interface NeighbourRow extends EntityRow {
  /** Index of the request (neighbourPages) the row answers. */
  request: number;
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
  /** The log sources whose events make the link. */
  link_sources: string[] | null;
  rn: number;
  total: number;
}

/** One page of one pivot's neighbours for each of several entities: a part of a neighbour statement. */
export interface NeighbourRequest {
  pivot: PivotName;
  keys: readonly string[];
  /** Only links of this relation (the action, for resource access). */
  action: string | null;
  offset: number;
  limit: number;
  /** What the caller will ask next of this page's neighbours, answered by the same statement (see NeighbourFollow). */
  follow?: readonly NeighbourFollow[];
}

/**
 * A second hop answered by the statement of its first: either one page of a pivot for each
 * neighbour of the request's page (the pivot starts from the request's target type), with rows as
 * a request keyed on those neighbours would return; or the entity rows an attribute of the
 * neighbours names (a session's `identity`), as entitiesByKeys would return them, with `key_id`
 * null and no link. Their rows' `request` numbers run on after the requests', in the order of the
 * requests and then of their follows (followIndexes).
 */
export type NeighbourFollow =
  { pivot: PivotName; action: string | null; offset: number; limit: number } | { entity: EntityType; attr: NamingAttribute };

/** Attributes of a graph entity (its `attrs` JSON) that name another entity. */
export type NamingAttribute = 'identity';

/** The `request` number of each follow, per request: numbered after all the requests, in order. */
export function followIndexes(requests: readonly NeighbourRequest[]): number[][] {
  let next = requests.length;
  return requests.map((r) => (r.follow ?? []).map(() => next++));
}

/**
 * One page of neighbours for each of several entities, with the neighbours' own entity rows
 * joined in, so a pivot level costs one round trip.
 */
export function neighbours(
  scope: AccountScope,
  pivot: PivotName,
  keys: readonly string[],
  window: Window,
  action: string | null,
  offset: number,
  limit: number,
): Statement {
  return neighbourPages(scope, [{ pivot, keys, action, offset, limit }], window);
}

/** The SQL of one pivot's legs, keyed by `keySql` (a placeholder list or a sub-query of an earlier page). */
function pivotLegs(
  scope: AccountScope,
  index: number,
  pivotName: PivotName,
  keySql: string,
  keyParams: readonly SqlParam[],
  action: string | null,
  window: Window,
  params: SqlParam[],
): string[] {
  const [fromDay, toDay] = dayRange(window);
  const spec: PivotSpec = PIVOTS[pivotName];
  return spec.legs.map((leg) => {
    const [keyCol, keyType, otherCol, otherType] =
      leg.direction === 'out' ? ['src_id', 'src_type', 'dst_id', 'dst_type'] : ['dst_id', 'dst_type', 'src_id', 'src_type'];
    // Parameters in the order their `?` appear: the relation label (SELECT list), then the WHERE clause.
    const label = 'label' in leg ? leg.label : undefined;
    if (label) params.push(label);
    params.push(fromDay, toDay, window.from, window.to, spec.from, ...keyParams, spec.to);
    // Named legs follow their relations; access legs any edge between the types above but a named one.
    const rels = 'rels' in leg ? leg.rels : RELATION_NAMES;
    const relSql = ` AND rel ${'rels' in leg ? 'IN' : 'NOT IN'} (${placeholders(rels.length)})`;
    params.push(...rels);
    let actionSql = '';
    if (action !== null) {
      actionSql = ' AND rel = ?';
      params.push(action);
    }
    // Both ends must be visible to the scope: the neighbour returned, and the entity it is reached from.
    const visibleKey = visibleNodes(scope, spec.from, keyCol, [fromDay, toDay]);
    const visibleOther = visibleNodes(scope, spec.to, otherCol, [fromDay, toDay]);
    params.push(...visibleKey.params, ...visibleOther.params);
    // Per log source first: one link seen by two logs is one link. Its count is the sum of what the
    // logs saw for named relations (each log saw other events), and for resource access, where two
    // logs of one action record the same requests (CloudTrail and the S3 server access log), the
    // most any one log saw.
    const merged = 'rels' in leg ? 'sum(source_events)' : 'max(source_events)';
    // The request's index is a number of this code, not a caller's value.
    return `SELECT ${index} AS request, key_id, other_type, other_id, rel, min(link_first_seen) AS link_first_seen, max(link_last_seen) AS link_last_seen,
        ${merged} AS link_event_count, sum(link_bytes) AS link_bytes, sum(link_packets) AS link_packets,
        array_sort(array_agg(source) FILTER (WHERE source IS NOT NULL)) AS link_sources
      FROM (
        SELECT ${keyCol} AS key_id, ${otherType} AS other_type, ${otherCol} AS other_id, ${label ? 'CAST(? AS VARCHAR)' : 'rel'} AS rel, source,
          min(first_seen) AS link_first_seen, max(last_seen) AS link_last_seen, sum(event_count) AS source_events,
          sum(bytes) AS link_bytes, sum(packets) AS link_packets
        FROM graph_edges
        WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND last_seen >= ? AND first_seen < ?
          AND ${keyType} = ? AND ${keyCol} IN (${keySql}) AND ${otherType} = ?${relSql}${actionSql}${visibleKey.sql}${visibleOther.sql}
        GROUP BY ${keyCol}, ${otherType}, ${otherCol}, rel, source
      ) per_source
      GROUP BY key_id, other_type, other_id, rel`;
  });
}

/** `ranked` and `page` of a set of pivots' links (`agg`): rank and count per request and key, keep each request's page. */
function rankedPage(agg: string, requests: readonly { index: number; offset: number; limit: number }[], params: SqlParam[]): string {
  const pageSql = requests.map(({ index }) => `(request = ${index} AND rn > ? AND rn <= ?)`).join(' OR ');
  for (const { offset, limit } of requests) params.push(offset, offset + limit);
  return `SELECT * FROM (
    SELECT ${agg}.*, row_number() OVER (PARTITION BY request, key_id ORDER BY link_last_seen DESC, other_id, rel) AS rn,
           count(*) OVER (PARTITION BY request, key_id) AS total
    FROM ${agg}
  ) ranked WHERE ${pageSql}`;
}

/**
 * The pages of several neighbour requests (pivots, actions, pages) over one window in one
 * statement: each row's `request` is the index of its request. A resolver level that asks for
 * several lists of one entity (contextFor's identities, addresses, sessions and resources) then
 * costs one bind, one plan and one read of the neighbours' entity rows instead of one per list:
 * binding and planning, not reading the small graph files, is most of a neighbour statement's CPU.
 * Requests with follows also answer, in the same statement, what will be asked of their pages'
 * neighbours (NeighbourFollow): a pivot of two hops costs one round trip, not two.
 */
export function neighbourPages(scope: AccountScope, requests: readonly NeighbourRequest[], window: Window): Statement {
  if (requests.length === 0) throw new Error('neighbourPages: no request');
  const [fromDay, toDay] = dayRange(window);
  const params: SqlParam[] = [];
  const legSql = requests.flatMap((request, index) =>
    pivotLegs(scope, index, request.pivot, placeholders(request.keys.length), request.keys, request.action, window, params),
  );
  const pageSql = rankedPage(
    'agg',
    requests.map((r, index) => ({ index, offset: r.offset, limit: r.limit })),
    params,
  );
  const ctes = [`agg AS (\n    ${legSql.join('\n    UNION ALL\n    ')}\n  )`, `page AS (${pageSql})`];
  // Second hops: keyed on the first page's neighbours (the sub-query names only code constants).
  const indexes = followIndexes(requests);
  const hopLegs: string[] = [];
  const hopParams: SqlParam[] = [];
  const namedParams: SqlParam[] = [];
  const hopPages: { index: number; offset: number; limit: number }[] = [];
  const named: { index: number; sql: string }[] = [];
  const targetTypes = new Set<NodeType>(requests.map((r) => PIVOTS[r.pivot].to));
  requests.forEach((request, parent) => {
    const neighbourType = PIVOTS[request.pivot].to;
    const neighboursOf = `SELECT other_id FROM page WHERE request = ${parent} AND other_type = ${nodeTypeSql(neighbourType)}`;
    (request.follow ?? []).forEach((follow, i) => {
      const index = indexes[parent][i];
      if ('pivot' in follow) {
        if (PIVOTS[follow.pivot].from !== neighbourType)
          throw new Error(`neighbourPages: ${follow.pivot} does not start from ${request.pivot}'s ${neighbourType}`);
        hopLegs.push(...pivotLegs(scope, index, follow.pivot, neighboursOf, [], follow.action, window, hopParams));
        hopPages.push({ index, offset: follow.offset, limit: follow.limit });
        targetTypes.add(PIVOTS[follow.pivot].to);
      } else named.push({ index, sql: namedEntities(scope, follow, neighbourType, neighboursOf, [fromDay, toDay], namedParams) });
    });
  });
  let pages = 'page';
  if (hopLegs.length > 0) {
    ctes.push(`hop_agg AS (\n    ${hopLegs.join('\n    UNION ALL\n    ')}\n  )`);
    params.push(...hopParams);
    ctes.push(`hop_page AS (${rankedPage('hop_agg', hopPages, params)})`);
    ctes.push('pages AS (SELECT * FROM page UNION ALL SELECT * FROM hop_page)');
    pages = 'pages';
  }
  // Neighbours are of the requests' target types only: a constant filter the Parquet scan applies.
  const types = [...targetTypes].map(nodeTypeSql).join(', ');
  const entityRows = anyEntityVisibility(scope);
  params.push(fromDay, toDay, ...entityRows.params);
  ctes.push(`ent AS (
    ${ENTITY_AGGREGATE}
    WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND type IN (${types}) AND id IN (SELECT other_id FROM ${pages})${entityRows.sql}
    GROUP BY type, id
  )`);
  ctes.push(...named.map(({ index, sql }) => `named_${index} AS (${sql})`));
  params.push(...namedParams);
  // A named entity's row: no key, no link; its entity columns as entitiesByKeys returns them.
  const namedRows = named.map(
    ({ index }) => `
UNION ALL
SELECT ${index} AS request, NULL AS key_id, n.type AS other_type, n.id AS other_id, NULL AS rel, NULL AS link_first_seen, NULL AS link_last_seen,
       NULL AS link_event_count, NULL AS link_bytes, NULL AS link_packets, NULL AS link_sources, NULL AS rn, NULL AS total,
       n.type, n.id, n.kind, n.provider, n.account, n.name, n.arn, n.first_seen, n.last_seen, n.event_count, n.attrs_by_day
FROM named_${index} n`,
  );
  return {
    label: `neighbours:${[...new Set(requests.flatMap((r) => [r.pivot, ...(r.follow ?? []).map(followLabel)]))].join('+')}`,
    sql: `WITH ${ctes.join(',\n  ')}
SELECT page.*, ent.type, ent.id, ent.kind, ent.provider, ent.account, ent.name, ent.arn, ent.first_seen, ent.last_seen,
       ent.event_count, ent.attrs_by_day
FROM ${pages} page LEFT JOIN ent ON ent.id = page.other_id AND ent.type = page.other_type${namedRows.join('')}
ORDER BY request, key_id, rn`,
    params,
    scope,
    weight: 'light',
    days: [fromDay, toDay],
  };
}

function followLabel(follow: NeighbourFollow): string {
  return 'pivot' in follow ? follow.pivot : `${follow.attr}Entities`;
}

/**
 * The entities of `follow.entity`'s type that an attribute of the neighbours names, with the rows,
 * days and visibility of entitiesByKeys. The neighbours' rows are read without the scope's filter:
 * they only propose ids, each kept or not by the named type's own visibility.
 */
function namedEntities(
  scope: AccountScope,
  follow: { entity: EntityType; attr: NamingAttribute },
  neighbourType: NodeType,
  neighboursOf: string,
  days: readonly [string, string],
  params: SqlParam[],
): string {
  const visible = entityVisibility(scope, follow.entity, days);
  params.push(days[0], days[1], follow.entity, days[0], days[1], ...visible.params);
  // The JSON path is a constant of the code (NamingAttribute), not a caller's value.
  return `${ENTITY_AGGREGATE}
    WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND type = ?
      AND id IN (SELECT json_extract_scalar(attrs, '$.${follow.attr}') FROM graph_entities
                 WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND type = ${nodeTypeSql(neighbourType)} AND id IN (${neighboursOf}))${visible.sql}
    GROUP BY type, id`;
}
