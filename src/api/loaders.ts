/**
 * One set of DataLoaders per request. Keys that differ only in the entity they start from are
 * batched into one SQL statement (`… IN (?, ?, …)`), so a pivot of depth d costs about d round trips.
 * The few lookups that cannot batch (a root field's search, one event by id) run here too: this is
 * the one place the API hands SQL of src/queries to the engine.
 */
import DataLoader from 'dataloader';
import type { TableName } from '../core/tables';
import type { QueryEngine } from '../engine/types';
import {
  addressesInRange,
  entitiesByKeys,
  identityCandidateEntities,
  identityCandidates,
  listEntities,
  followIndexes,
  neighbourPages,
  type NamingAttribute,
  type NeighbourFollow,
  type NeighbourRequest,
  resourcesByName,
  resourcesBySuffix,
  type EntityRow,
  type NeighbourRow,
  type PivotName,
  PIVOTS,
} from '../queries/graph';
import {
  eventsAggregate,
  newBehaviour,
  type AggregateQuery,
  type AggregateRow,
  type NewBehaviourQuery,
  type NewBehaviourRow,
  type TimeBucket,
} from '../queries/aggregate';
import {
  eventByKey,
  eventsByIds,
  eventsCount,
  eventsPage,
  issuingEvent,
  type EventColumns,
  type EventsQuery,
  type Ipv4Range,
} from '../queries/events';
import {
  findingByKey,
  findingLevelsNaming,
  findingsNaming,
  findingsPage,
  type FindingsFilter,
  type FindingsPivot,
  type NamedEntities,
} from '../queries/findings';
import { latestRecords, lakeCoverage, lakeGaps, lakeSources, type CoverageRow, type LakeSourceRow } from '../queries/lake';
import type { Statement } from '../queries/sql';
import { AccountScope } from '../queries/scope';
import type { SqlRow } from '../engine/types';
import type { RequestContext } from './context';
import type { EntityModel, EntityType, EventRow, FindingRecord, LinkModel, Window } from './models';
import { findingFromRow, listOf } from './finding-rows';
import { offsetCursor } from './ids';

export interface EntityKey {
  type: EntityType;
  key: string;
  window: Window;
}

export interface NeighbourKey {
  pivot: PivotName;
  key: string;
  window: Window;
  action: string | null;
  offset: number;
  limit: number;
  /** What will be asked of the page's neighbours, answered by the page's own statement (not part of the cache key). */
  follow?: readonly FollowKey[];
}

/**
 * A second hop a list's statement answers too (NeighbourFollow): a page of a pivot for each
 * neighbour, as linkConnection keys it (the neighbour's key and window are the link's), or the
 * entity an attribute of each neighbour names.
 */
export type FollowKey = Omit<NeighbourKey, 'key' | 'window' | 'follow'> | { entity: EntityType; attr: NamingAttribute };

export interface NeighbourPage {
  links: LinkModel[];
  total: number;
}

export type EventsKey = Omit<EventsQuery, 'keys'> & { key: string };

/** An aggregate of one entity's (or the root's) events; keys differing only in `key` batch into one statement. */
export type AggregateKey = Omit<AggregateQuery, 'events'> & { events: Omit<EventsKey, 'after' | 'limit' | 'descending'> };

/** New behaviour of one entity's events (see newBehaviour); keys differing only in `key` batch into one statement. */
export type NewBehaviourKey = Omit<NewBehaviourQuery, 'events'> & { events: Omit<EventsKey, 'after' | 'limit' | 'descending'> };

export interface AggregatePage {
  rows: AggregateRow[];
  totalGroups: number;
  totalEvents: number;
}

/** A record by class, time and id: the other classes it is kept in are looked up in batches. */
export interface RecordKey {
  table: TableName;
  timeKey: string;
  eventId: string;
}

/** A row of an events page: the event, and the pivot value it was found for. */
type EventPageRow = EventRow & { pivot_key: string };

export interface EventPage {
  rows: { table: TableName; row: EventRow; cursor: { timeKey: string; eventId: string; table: string } }[];
  hasMore: boolean;
}

export interface NameKey {
  name: string;
  window: Window;
}

export interface EntityPage {
  /** The page's entities with their rank (1-based) in the whole list. */
  entities: { entity: EntityModel; rank: number }[];
  total: number;
}

export interface FindingsKey {
  pivot: FindingsPivot;
  key: string;
  filter: FindingsFilter;
  window: Window;
  offset: number;
  limit: number;
}

export interface FindingsPage {
  /** The page's findings with their rank (1-based) in the whole list. */
  findings: { finding: FindingRecord; rank: number }[];
  total: number;
}

export interface Loaders {
  entity: DataLoader<EntityKey, EntityModel | null, string>;
  /** Pages of neighbours (only `load`: a prefetch hands resolvers a wrapper that adds follows). */
  neighbours: Pick<DataLoader<NeighbourKey, NeighbourPage, string>, 'load'>;
  events: DataLoader<EventsKey, EventPage, string>;
  eventsCount: DataLoader<EventsKey, number, string>;
  /** A resource by a bare name: its own id, else the S3 bucket of that name in any partition. */
  resourceByName: DataLoader<NameKey, EntityModel | null, string>;
  /** Identity ids a caller's text may name, best match first (see identityCandidates). */
  identityIds(text: string, derivedRoleArn: string | null, window: Window, sessionName?: string | null): Promise<string[]>;
  /** The same candidates' entities the caller may see, best match first, in one statement (and primed in `entity`). */
  identitiesNamed(text: string, derivedRoleArn: string | null, window: Window, sessionName?: string | null): Promise<EntityModel[]>;
  /** One page of the entities of a type seen in the window, most recently seen first. */
  entityPage(type: EntityType, window: Window, kind: string | null, offset: number, limit: number): Promise<EntityPage>;
  /** One event by table, time (as the engine renders it) and id; null when missing or not visible to the caller. */
  event(table: TableName, timeKey: string, eventId: string): Promise<EventRow | null>;
  aggregate: DataLoader<AggregateKey, AggregatePage, string>;
  /** Per dimension, the values an entity's events show first in the window (rows of newBehaviour, one pivot key). */
  newBehaviour: DataLoader<NewBehaviourKey, NewBehaviourRow[], string>;
  /** Rows of `table` with these records' ids, on their days (the caller matches id and time). */
  recordsIn: DataLoader<RecordKey & { in: TableName }, EventRow[], string>;
  /** The lake's sources (coverage table), once per request. */
  lakeSources(): Promise<LakeSourceRow[]>;
  lakeCoverage(window: Window, bucket: TimeBucket): Promise<CoverageRow[]>;
  /** Silences per source, account and region in the window (rows of src/core/coverage.ts's statement). */
  lakeGaps(window: Window, minGapMinutes: number): Promise<SqlRow[]>;
  /** Resources whose id ends in this name (instance id, secret or function name…). */
  resourcesBySuffix(name: string, window: Window): Promise<EntityModel[]>;
  /** Addresses of the lake in IPv4 ranges, or every IPv6 address (for the caller to test), most recent first. */
  addressesInRange(ranges: readonly Ipv4Range[], ipv6: boolean, window: Window, limit: number): Promise<EntityModel[]>;
  /** The api_activity event that issued a session's credentials, on the day of the issuance. */
  issuingEvent(issuedSessionId: string, eventId: string, day: string): Promise<EventRow | null>;
  /** Pages of findings (all of a window, or per identity, session, address, resource), batched by pivot value. */
  findings: DataLoader<FindingsKey, FindingsPage, string>;
  /** One finding version by product, id and time (node(id)); null when missing or not visible. */
  finding(product: string, findingId: string, timeKey: string): Promise<FindingRecord | null>;
  /** The newest findings naming any of these entities (contextFor), with their total; once per request and arguments. */
  findingsNaming(named: NamedEntities, window: Window, limit: number): Promise<{ findings: FindingRecord[]; total: number }>;
  /** How many findings name any of these entities, per level, with their rule ids; once per request and arguments. */
  findingLevels(named: NamedEntities, window: Window): Promise<FindingLevelCount[]>;
}

export interface FindingLevelCount {
  level: string;
  count: number;
  /** Rule ids (GuardDuty types, Security Hub generators) of the findings at this level, sorted. */
  rules: string[];
}

const windowKey = (w: Window) => `${w.from.toISOString()}/${w.to.toISOString()}`;

/** Groups keys by everything but the entity they start from, and runs one statement per group. */
function batchByGroup<K, V>(groupOf: (k: K) => string, run: (group: K[]) => Promise<(V | Error)[]>) {
  return async (keys: readonly K[]): Promise<(V | Error)[]> => {
    const groups = new Map<string, number[]>();
    keys.forEach((k, i) => {
      const g = groupOf(k);
      const list = groups.get(g);
      if (list) list.push(i);
      else groups.set(g, [i]);
    });
    const out = new Array<V | Error>(keys.length);
    await Promise.all(
      [...groups.values()].map(async (indexes) => {
        try {
          const values = await run(indexes.map((i) => keys[i]));
          indexes.forEach((i, j) => (out[i] = values[j]!));
        } catch (err) {
          for (const i of indexes) out[i] = err instanceof Error ? err : new Error(String(err));
        }
      }),
    );
    return out;
  };
}

/**
 * At most this many values of one list attribute (an identity's `names`) per entity and window. A
 * role assumed by thousands of instances or functions has a session name per caller: its names
 * per day grow without bound (86 KB a day measured) and merging them cost every request that
 * loads the identity. The first values in the graph's order (by day, then name) are kept.
 */
export const MAX_ATTR_VALUES = 100;

function mergeList(into: unknown, values: readonly unknown[]): unknown[] {
  const merged = new Set(Array.isArray(into) ? (into as unknown[]) : []);
  for (const value of values) {
    if (merged.size >= MAX_ATTR_VALUES) break;
    merged.add(value);
  }
  return [...merged];
}

export function entityFromRow(row: EntityRow, type: EntityType, window: Window): EntityModel {
  const attrs: Record<string, unknown> = {};
  const days: Record<string, unknown>[] = [];
  for (const text of row.attrs_by_day ?? []) {
    try {
      days.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      // a damaged attrs cell loses only its extras; the entity's columns still stand
    }
  }
  // The day a session was issued describes its issuance; apply it last so other days cannot blank it.
  days.sort((a, b) => Number(a.issued === true) - Number(b.issued === true));
  for (const day of days) {
    for (const [k, v] of Object.entries(day)) {
      if (Array.isArray(v)) attrs[k] = mergeList(attrs[k], v as unknown[]);
      else if (v !== null && v !== undefined) attrs[k] = v;
      else if (!(k in attrs)) attrs[k] = null;
    }
  }
  return {
    type,
    key: row.id,
    kind: row.kind,
    provider: row.provider,
    account: row.account,
    name: row.name,
    arn: row.arn,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    eventCount: Number(row.event_count ?? 0),
    attrs,
    window,
  };
}

export function createLoaders(ctx: RequestContext): Loaders {
  const scope = ctx.scope;
  const run = async <R>(statement: Statement) => {
    // Every statement carries the scope it filters by: one built for another request's scope never runs.
    if (statement.scope !== scope) throw new Error(`statement ${statement.label} was not built for this request's account scope`);
    const options = { label: statement.label, signal: ctx.signal, weight: statement.weight, days: statement.days, keyed: statement.keyed };
    return (await ctx.engine.query(statement.sql, statement.params, options)).rows as unknown as R[];
  };

  const entity = new DataLoader<EntityKey, EntityModel | null, string>(
    batchByGroup(
      (k) => `${k.type}|${windowKey(k.window)}`,
      async (group) => {
        const { type, window } = group[0];
        const unique = [...new Set(group.map((k) => k.key))];
        const rows = await run<EntityRow>(entitiesByKeys(scope, type, unique, window));
        const byId = new Map(rows.map((r) => [r.id, entityFromRow(r, type, window)]));
        return group.map((k) => byId.get(k.key) ?? null);
      },
    ),
    { cacheKeyFn: (k) => `${k.type}|${windowKey(k.window)}|${k.key}` },
  );

  const neighbourLoader = new DataLoader<NeighbourKey, NeighbourPage, string>(
    // Every list of one window asked at once is one statement (contextFor's four lists, a level's pivots).
    batchByGroup(
      (k) => windowKey(k.window),
      async (group) => {
        const { window } = group[0];
        const requestOf = (k: NeighbourKey) => `${k.pivot}|${k.action}|${k.offset}|${k.limit}`;
        const requests = new Map<string, NeighbourRequest & { keys: string[]; follow: NeighbourFollow[] }>();
        for (const k of group) {
          let request = requests.get(requestOf(k));
          // One extra row tells whether there is a next page.
          if (!request)
            requests.set(
              requestOf(k),
              (request = { pivot: k.pivot, keys: [k.key], action: k.action, offset: k.offset, limit: k.limit + 1, follow: [] }),
            );
          else if (!request.keys.includes(k.key)) request.keys.push(k.key);
          for (const f of k.follow ?? []) {
            const follow = 'pivot' in f ? { ...f, limit: f.limit + 1 } : f;
            if (!request.follow.some((g) => JSON.stringify(g) === JSON.stringify(follow))) request.follow.push(follow);
          }
        }
        const list = [...requests.values()];
        const rows = await run<NeighbourRow>(neighbourPages(scope, list, window));
        const follows = followIndexes(list);
        const named = new Set(list.flatMap((r, i) => r.follow.flatMap((f, j) => ('entity' in f ? [follows[i][j]] : []))));
        const pages = new Map<string, NeighbourPage>();
        for (const row of rows) {
          const node = row.id !== null && row.id !== undefined ? entityFromRow(row, row.other_type as EntityType, window) : null;
          // The neighbour's entity came with the link: later lookups of it cost nothing.
          if (node) entity.prime({ type: node.type, key: node.key, window }, node);
          // An entity a neighbour's attribute names: no link.
          if (named.has(Number(row.request))) continue;
          const pageKey = `${Number(row.request)}|${row.key_id}`;
          let page = pages.get(pageKey);
          if (!page) pages.set(pageKey, (page = { links: [], total: Number(row.total) }));
          page.links.push({
            cursor: offsetCursor(Number(row.rn)),
            relation: row.rel,
            firstSeen: row.link_first_seen,
            lastSeen: row.link_last_seen,
            eventCount: Number(row.link_event_count),
            bytes: row.link_bytes == null ? null : Number(row.link_bytes),
            packets: row.link_packets == null ? null : Number(row.link_packets),
            sources: row.link_sources ?? [],
            otherType: row.other_type,
            otherKey: row.other_id,
            node,
            window,
          });
        }
        const pageOf = (request: number, key: string) => pages.get(`${request}|${key}`) ?? { links: [], total: 0 };
        // Each followed pivot's page of each neighbour (of the type it starts from) is its own key's answer.
        list.forEach((request, i) =>
          request.follow.forEach((follow, j) => {
            if (!('pivot' in follow)) return;
            const from = PIVOTS[follow.pivot].from;
            for (const key of request.keys)
              for (const link of pageOf(i, key).links)
                if (link.otherType === from)
                  neighbourLoader.prime(
                    {
                      pivot: follow.pivot,
                      key: link.otherKey,
                      window,
                      action: follow.action,
                      offset: follow.offset,
                      limit: follow.limit - 1,
                    },
                    pageOf(follows[i][j], link.otherKey),
                  );
          }),
        );
        return group.map((k) => pageOf(list.indexOf(requests.get(requestOf(k))!), k.key));
      },
    ),
    { cacheKeyFn: (k) => `${k.pivot}|${windowKey(k.window)}|${k.action}|${k.offset}|${k.limit}|${k.key}` },
  );

  // Keys differing only in the entity, or in the columns they read, batch into one statement.
  const eventsGroup = (k: EventsKey) => {
    const { key: _key, columns: _columns, ...rest } = k;
    void _key;
    void _columns;
    return JSON.stringify(rest);
  };
  const columnsKey = (columns: EventColumns | undefined) => (columns == null ? '*' : JSON.stringify([...columns].sort()));
  const toQuery = (group: EventsKey[]): EventsQuery => {
    const { key: _key, columns: _columns, ...rest } = group[0];
    void _key;
    void _columns;
    return { ...rest, keys: [...new Set(group.map((k) => k.key))] };
  };
  /** The columns a batch reads: every one any of its keys asked for, all of them if one asked for all. */
  const unionColumns = (group: EventsKey[]): EventColumns => {
    if (group.some((k) => k.columns == null)) return null;
    return [...new Set(group.flatMap((k) => k.columns ?? []))].sort();
  };

  const events = new DataLoader<EventsKey, EventPage, string>(
    batchByGroup(eventsGroup, async (group) => {
      const q = { ...toQuery(group), columns: unionColumns(group) };
      const rows = await run<EventPageRow>(eventsPage(scope, q));
      const pages = new Map<string, EventPage>();
      for (const row of rows) {
        const pivot = row.pivot_key;
        let page = pages.get(pivot);
        if (!page) pages.set(pivot, (page = { rows: [], hasMore: false }));
        if (page.rows.length >= q.limit) {
          page.hasMore = true;
          continue;
        }
        const table = row.event_table;
        page.rows.push({ table, row, cursor: { timeKey: row.time_key, eventId: row.event_id, table } });
      }
      return group.map((k) => pages.get(q.pivot === 'none' ? '*' : k.key) ?? { rows: [], hasMore: false });
    }),
    { cacheKeyFn: (k) => `${eventsGroup(k)}|${columnsKey(k.columns)}|${k.key}` },
  );

  const eventsCountLoader = new DataLoader<EventsKey, number, string>(
    batchByGroup(eventsGroup, async (group) => {
      const q = toQuery(group);
      const rows = await run<{ pivot_key: string; n: number }>(eventsCount(scope, { ...q, after: null }));
      const counts = new Map(rows.map((r) => [r.pivot_key, Number(r.n)]));
      return group.map((k) => counts.get(q.pivot === 'none' ? '*' : k.key) ?? 0);
    }),
    { cacheKeyFn: (k) => `${eventsGroup(k)}|${k.key}` },
  );

  const resourceByName = new DataLoader<NameKey, EntityModel | null, string>(
    batchByGroup(
      (k) => windowKey(k.window),
      async (group) => {
        const { window } = group[0];
        const names = [...new Set(group.map((k) => k.name))];
        const found = (await run<EntityRow>(resourcesByName(scope, names, window)))
          .map((row) => entityFromRow(row, 'Resource', window))
          .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        for (const node of found) entity.prime({ type: 'Resource', key: node.key, window }, node);
        // The name as an id first; else its bucket (the first partition by id, should a name be in several).
        const byName = (name: string) =>
          found.find((e) => e.key === name) ?? found.find((e) => e.key.startsWith('arn:') && e.key.endsWith(`:s3:::${name}`)) ?? null;
        return group.map((k) => byName(k.name));
      },
    ),
    { cacheKeyFn: (k) => `${windowKey(k.window)}|${k.name}` },
  );

  const firstEvent = async (statement: Statement) => (await run<EventRow>(statement))[0] ?? null;

  /** Keys that differ only in the entity batch together (aggregates, new behaviour). */
  const aggregateGroup = <K extends AggregateKey | NewBehaviourKey>(k: K): string => {
    const { events, ...rest } = k;
    const { key: _key, ...eventsRest } = events;
    void _key;
    return JSON.stringify({ ...rest, events: eventsRest });
  };
  const aggregate = new DataLoader<AggregateKey, AggregatePage, string>(
    batchByGroup(aggregateGroup, async (group) => {
      const { events, ...rest } = group[0];
      const { key: _key, ...eventsRest } = events;
      void _key;
      const keys = [...new Set(group.map((k) => k.events.key))];
      const rows = await run<AggregateRow>(eventsAggregate(scope, { ...rest, events: { ...eventsRest, keys } }));
      const pages = new Map<string, AggregatePage>();
      for (const row of rows) {
        let page = pages.get(row.pivot_key);
        if (!page)
          pages.set(row.pivot_key, (page = { rows: [], totalGroups: Number(row.total_groups), totalEvents: Number(row.total_events) }));
        page.rows.push(row);
      }
      return group.map((k) => pages.get(events.pivot === 'none' ? '*' : k.events.key) ?? { rows: [], totalGroups: 0, totalEvents: 0 });
    }),
    { cacheKeyFn: (k) => `${aggregateGroup(k)}|${k.events.key}` },
  );

  const newBehaviourLoader = new DataLoader<NewBehaviourKey, NewBehaviourRow[], string>(
    batchByGroup(aggregateGroup, async (group) => {
      const { events, ...rest } = group[0];
      const { key: _key, ...eventsRest } = events;
      void _key;
      const keys = [...new Set(group.map((k) => k.events.key))];
      const rows = await run<NewBehaviourRow>(newBehaviour(scope, { ...rest, events: { ...eventsRest, keys } }));
      return group.map((k) => rows.filter((r) => r.pivot_key === (events.pivot === 'none' ? '*' : k.events.key)));
    }),
    { cacheKeyFn: (k) => `${aggregateGroup(k)}|${k.events.key}` },
  );

  const recordsIn = new DataLoader<RecordKey & { in: TableName }, EventRow[], string>(
    batchByGroup(
      (k) => k.in,
      async (group) => {
        const table = group[0].in;
        const rows = await run<EventRow>(
          eventsByIds(
            scope,
            table,
            group.map((k) => ({ day: k.timeKey.slice(0, 10), eventId: k.eventId })),
          ),
        );
        return group.map((k) => rows.filter((r) => r.event_id === k.eventId && r.time_key === k.timeKey));
      },
    ),
    { cacheKeyFn: (k) => `${k.in}|${k.table}|${k.timeKey}|${k.eventId}` },
  );

  let sources: Promise<LakeSourceRow[]> | null = null;
  // contextFor's verdict, findings and counts read the same statements: each runs once per request.
  const memo = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, load: () => Promise<T>): Promise<T> => {
    if (!memo.has(key)) memo.set(key, load());
    return memo.get(key) as Promise<T>;
  };
  const namedKey = (named: NamedEntities, window: Window) => JSON.stringify([named, windowKey(window)]);

  const findingsGroup = (k: FindingsKey) => JSON.stringify([k.pivot, k.filter, windowKey(k.window), k.offset, k.limit]);
  const findings = new DataLoader<FindingsKey, FindingsPage, string>(
    batchByGroup(findingsGroup, async (group) => {
      const { pivot, filter, window, offset, limit } = group[0];
      const keys = [...new Set(group.map((k) => k.key))];
      const rows = await run<SqlRow>(findingsPage(scope, pivot, keys, filter, window, offset, limit));
      const pages = new Map<string, FindingsPage>();
      for (const row of rows) {
        const pivotKey = typeof row.pivot_key === 'string' ? row.pivot_key : '*';
        let page = pages.get(pivotKey);
        if (!page) pages.set(pivotKey, (page = { findings: [], total: Number(row.total) }));
        page.findings.push({ finding: findingFromRow(row), rank: Number(row.rn) });
      }
      return group.map((k) => pages.get(pivot === 'none' ? '*' : k.key) ?? { findings: [], total: 0 });
    }),
    { cacheKeyFn: (k) => `${findingsGroup(k)}|${k.key}` },
  );

  return {
    entity,
    neighbours: neighbourLoader,
    events,
    eventsCount: eventsCountLoader,
    resourceByName,
    identityIds: async (text, derivedRoleArn, window, sessionName = null) =>
      (await run<{ id: string }>(identityCandidates(scope, text, derivedRoleArn, window, sessionName))).map((r) => r.id),
    identitiesNamed: async (text, derivedRoleArn, window, sessionName = null) => {
      const rows = await run<EntityRow>(identityCandidateEntities(identityCandidates(scope, text, derivedRoleArn, window, sessionName)));
      return rows.map((row) => {
        const node = entityFromRow(row, 'Identity', window);
        entity.prime({ type: 'Identity', key: node.key, window }, node);
        return node;
      });
    },
    entityPage: async (type, window, kind, offset, limit) => {
      const rows = await run<EntityRow & { rn: number; total: number }>(listEntities(scope, type, window, kind, offset, limit));
      const entities = rows.map((row) => {
        const node = entityFromRow(row, type, window);
        entity.prime({ type, key: node.key, window }, node);
        return { entity: node, rank: Number(row.rn) };
      });
      return { entities, total: Number(rows[0]?.total ?? 0) };
    },
    event: (table, timeKey, eventId) => firstEvent(eventByKey(scope, table, timeKey, eventId)),
    aggregate,
    newBehaviour: newBehaviourLoader,
    recordsIn,
    lakeSources: () => (sources ??= run<LakeSourceRow>(lakeSources(scope))),
    lakeCoverage: (window, bucket) => run<CoverageRow>(lakeCoverage(scope, window, bucket)),
    lakeGaps: (window, minGapMinutes) => run<SqlRow>(lakeGaps(scope, window, minGapMinutes)),
    resourcesBySuffix: async (name, window) => {
      const found = (await run<EntityRow>(resourcesBySuffix(scope, name, window))).map((row) => entityFromRow(row, 'Resource', window));
      for (const node of found) entity.prime({ type: 'Resource', key: node.key, window }, node);
      return found;
    },
    addressesInRange: async (ranges, ipv6, window, limit) => {
      const found = (await run<EntityRow>(addressesInRange(scope, ranges, ipv6, window, limit))).map((row) =>
        entityFromRow(row, 'IPAddress', window),
      );
      for (const node of found) entity.prime({ type: 'IPAddress', key: node.key, window }, node);
      return found;
    },
    issuingEvent: (issuedSessionId, eventId, day) => firstEvent(issuingEvent(scope, issuedSessionId, eventId, day)),
    findings,
    finding: async (product, findingId, timeKey) => {
      const [row] = await run<SqlRow>(findingByKey(scope, product, findingId, timeKey));
      return row ? findingFromRow(row) : null;
    },
    findingsNaming: (named, window, limit) =>
      once(`findingsNaming|${namedKey(named, window)}|${limit}`, async () => {
        const rows = await run<SqlRow>(findingsNaming(scope, named, window, Math.max(limit, 1)));
        return { findings: rows.slice(0, limit).map(findingFromRow), total: Number(rows[0]?.total ?? 0) };
      }),
    findingLevels: (named, window) =>
      once(`findingLevels|${namedKey(named, window)}`, async () =>
        (await run<SqlRow>(findingLevelsNaming(scope, named, window))).map((row) => ({
          level: typeof row.level === 'string' ? row.level : 'medium',
          count: Number(row.findings),
          rules: listOf(row.rules).sort(),
        })),
      ),
  };
}

/**
 * The lake's last record no later than `notAfter` (its coverage table), over every account: the
 * anchor of default windows. Server-wide, outside any request; null for an empty lake.
 */
export async function lakeLastRecord(engine: QueryEngine, notAfter: Date): Promise<Date | null> {
  const statement = latestRecords(AccountScope.ALL, notAfter);
  const { rows } = await engine.query<{ last_seen: Date | null }>(statement.sql, statement.params, { label: statement.label });
  return rows[0]?.last_seen ?? null;
}
