/** Turning loader pages into Relay connections; argument checks live here so resolvers stay thin. */
import { TABLE_NAMES, type TableName } from '../core/tables';
import type {
  AggregateDimension,
  AggregateOrder as GqlAggregateOrder,
  EventFilter,
  TimeBucket as GqlTimeBucket,
  TimeWindow,
} from '../generated/graphql';
import type { Dimension } from '../queries/aggregate';
import type { EventColumns, EventConditions, EventPivot } from '../queries/events';
import type { PivotName } from '../queries/graph';
import type { RequestContext } from './context';
import { apiError } from './errors';
import { inRange, parseAddressInput, resolveFilter } from './filters';
import { jsonCursor, offsetCursor, parseJsonCursor, parseOffsetCursor } from './ids';
import { checkFirst, checkText, checkWindow, type ApiLimits } from './limits';
import type { AggregatePage, NeighbourKey } from './loaders';
import type {
  AggregateModel,
  AggregateSpec,
  EntityModel,
  EventConnectionModel,
  EventEdgeModel,
  LinkConnectionModel,
  PageInfoModel,
  Window,
} from './models';

/** The pivot's own window when given, else the window the parent entity was looked up in. */
export function windowOf(ctx: RequestContext, inherited: Window | null, given: TimeWindow | null | undefined): Window {
  if (given) return checkWindow(given, ctx.limits);
  return inherited ?? ctx.defaultWindow;
}

/** Arguments of a link list (a pivot's page of neighbours). */
export interface LinkArgs {
  first?: number | null;
  after?: string | null;
  window?: TimeWindow | null;
  action?: string | null;
}

/** The neighbour page linkConnection loads for these arguments (a first of 0 probes one link). */
export function linkKey(ctx: RequestContext, pivot: PivotName, from: { key: string; window: Window | null }, args: LinkArgs): NeighbourKey {
  const first = checkFirst(args.first, ctx.limits);
  const offset = parseOffsetCursor(args.after);
  const window = windowOf(ctx, from.window, args.window);
  const action = args.action == null ? null : checkText(args.action, 'action');
  return { pivot, key: from.key, window, action, offset, limit: first === 0 ? 1 : first };
}

export async function linkConnection(
  ctx: RequestContext,
  pivot: PivotName,
  from: EntityModel | { key: string; window: Window },
  args: LinkArgs,
): Promise<LinkConnectionModel> {
  const first = checkFirst(args.first, ctx.limits);
  const page = await ctx.loaders.neighbours.load(linkKey(ctx, pivot, from, args));
  if (first === 0) return { edges: [], pageInfo: { hasNextPage: page.links.length > 0, endCursor: null }, totalCount: page.total };
  const edges = page.links.slice(0, first);
  return { edges, pageInfo: { hasNextPage: page.links.length > first, endCursor: edges.at(-1)?.cursor ?? null }, totalCount: page.total };
}

/** Links filtered in memory (CIDR ranges SQL cannot test portably), paged over the filtered list. */
export async function filteredLinkConnection(
  ctx: RequestContext,
  pivot: PivotName,
  from: EntityModel,
  args: LinkArgs,
  keep: (otherKey: string) => boolean,
): Promise<LinkConnectionModel> {
  const first = checkFirst(args.first, ctx.limits);
  const offset = parseOffsetCursor(args.after);
  const window = windowOf(ctx, from.window, args.window);
  const action = args.action == null ? null : checkText(args.action, 'action');
  const scanLimit = ctx.limits.maxPageSize * 10;
  const page = await ctx.loaders.neighbours.load({ pivot, key: from.key, window, action, offset: 0, limit: scanLimit });
  const kept = page.links.filter((l) => keep(l.otherKey)).map((l, i) => ({ ...l, cursor: offsetCursor(i + 1) }));
  const edges = kept.slice(offset, offset + first);
  return {
    edges,
    pageInfo: { hasNextPage: kept.length > offset + first, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: kept.length,
  };
}

export interface EventArgs {
  filter?: EventFilter | null;
  first?: number | null;
  after?: string | null;
  window?: TimeWindow | null;
}

const DIMENSION_OF = {
  ACTION: 'action',
  SERVICE: 'service',
  ERROR_CODE: 'error_code',
  OUTCOME: 'outcome',
  ACTOR: 'actor',
  SESSION: 'session',
  SOURCE_IP: 'source_ip',
  REGION: 'region',
  ACCOUNT: 'account',
  USER_AGENT: 'user_agent',
  RESOURCE: 'resource',
  CLASS: 'class',
  SOURCE: 'source',
  COUNTRY: 'country',
} as const satisfies Record<AggregateDimension, Dimension>;

/** A GraphQL aggregate dimension as the query layer names it. */
export function dimensionOf(d: AggregateDimension): Dimension {
  return DIMENSION_OF[d];
}

/** The query layer's name of a dimension as the GraphQL enum spells it. */
export function dimensionEnum(d: Dimension): AggregateDimension {
  return (Object.keys(DIMENSION_OF) as AggregateDimension[]).find((k) => DIMENSION_OF[k] === d)!;
}

/** An aggregate's arguments, checked. */
export function aggregateSpec(
  args: {
    groupBy?: readonly AggregateDimension[] | null;
    bucket?: GqlTimeBucket | null;
    distinct?: readonly AggregateDimension[] | null;
    orderBy?: GqlAggregateOrder | null;
    top?: number | null;
  },
  limits: ApiLimits,
): AggregateSpec {
  const top = args.top ?? 20;
  if (!Number.isInteger(top) || top < 1) throw apiError('top must be a positive integer', 'BAD_USER_INPUT');
  if (top > limits.maxPageSize) throw apiError(`top must be at most ${limits.maxPageSize}`, 'PAGE_TOO_LARGE');
  const groupBy = [...new Set((args.groupBy ?? []).map(dimensionOf))];
  if (groupBy.length > 4) throw apiError('groupBy takes at most 4 dimensions', 'BAD_USER_INPUT');
  return {
    groupBy,
    bucket: args.bucket ? (args.bucket.toLowerCase() as Lowercase<GqlTimeBucket>) : null,
    distinct: [...new Set((args.distinct ?? []).map(dimensionOf))],
    order: args.orderBy === 'COUNT_ASC' ? 'count_asc' : args.orderBy === 'TIME' ? 'time' : 'count_desc',
    top,
  };
}

function aggregateModel(page: AggregatePage, spec: AggregateSpec): AggregateModel {
  return {
    totalEvents: page.totalEvents,
    totalGroups: page.totalGroups,
    groups: page.rows.map((row) => ({
      bucket: spec.bucket ? row.bucket : null,
      values: Object.fromEntries(spec.groupBy.map((d, i) => [d, row[`k${i}`] ?? null])),
      count: Number(row.n),
      firstSeen: row.first_seen,
      lastSeen: row.last_seen,
      distinct: spec.distinct.map((d, i) => ({ dimension: d, count: Number(row[`d${i}`]) })),
    })),
  };
}

export async function eventConnection(
  ctx: RequestContext,
  pivot: EventPivot,
  key: string,
  inherited: Window | null,
  args: EventArgs,
  options: { tables?: readonly TableName[]; descending?: boolean; extra?: EventConditions } = {},
): Promise<EventConnectionModel> {
  const first = checkFirst(args.first, ctx.limits);
  const window = windowOf(ctx, inherited, args.window);
  const { conditions, tables: filterTables } = await resolveFilter(ctx, args.filter, window);
  const tables = options.tables ? filterTables.filter((t) => options.tables!.includes(t)) : filterTables;
  let after = null;
  if (args.after) {
    const c = parseJsonCursor(args.after);
    const validTime = (x: unknown) => typeof x === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/.test(x);
    if (
      !Array.isArray(c) ||
      c.length !== 3 ||
      !c.every((x) => typeof x === 'string') ||
      !validTime(c[0]) ||
      !TABLE_NAMES.includes(c[2] as TableName)
    ) {
      throw apiError('after is not a cursor from this connection', 'BAD_USER_INPUT');
    }
    after = { timeKey: c[0], eventId: c[1], table: c[2] };
  }
  // An identity, session, resource or single address in the filter of a root list is the pivot it batches on.
  const root = pivot === 'none' && options.extra === undefined ? rootPivot(conditions) : null;
  const key_ = {
    pivot: root?.pivot ?? pivot,
    key: root?.key ?? key,
    tables,
    conditions: { ...conditions, ...options.extra },
    window,
    after,
    limit: Math.max(first, 1),
    descending: options.descending ?? false,
  };
  // Page and count are each fetched only if the document asks for them (a count alone is one query).
  // The page reads the columns its edges show; edges and pageInfo asked together are one statement
  // (the loader batches keys that differ only in their columns and reads the union).
  const page = async (columns: EventColumns): Promise<{ edges: EventEdgeModel[]; pageInfo: PageInfoModel }> => {
    const p = await ctx.loaders.events.load({ ...key_, columns });
    const edges = p.rows.slice(0, first).map((r) => ({
      cursor: jsonCursor([r.cursor.timeKey, r.cursor.eventId, r.cursor.table]),
      node: { table: r.table, row: r.row, window },
    }));
    return { edges, pageInfo: { hasNextPage: p.hasMore || p.rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
  };
  const { after: _after, limit: _limit, descending: _descending, ...events } = key_;
  void _after;
  void _limit;
  void _descending;
  return {
    edges: async (columns = null) => (await page(columns)).edges,
    // Cursors and hasNextPage need only the keys every row carries.
    pageInfo: async () => (await page([])).pageInfo,
    totalCount: () => ctx.loaders.eventsCount.load({ ...key_, after: null, limit: 0 }),
    aggregate: async (spec) => aggregateModel(await ctx.loaders.aggregate.load({ ...spec, events }), spec),
    newBehaviour: (spec) => ctx.loaders.newBehaviour.load({ ...spec, events }),
  };
}

/**
 * The most selective exact condition of a root `events` filter as the batching pivot: its column is
 * a sort key of the tables, so the engine reads fewer row groups. The condition itself is then
 * redundant and is dropped.
 */
function rootPivot(c: EventConditions): { pivot: EventPivot; key: string } | null {
  if (c.identity) return take(c, 'identity', 'identity', c.identity);
  if (c.session) return take(c, 'session', 'session', c.session);
  if (c.resource) return take(c, 'resource', 'resource', c.resource);
  if (c.ip && c.ip.exact.length === 1 && c.ip.ranges.length === 0) {
    const address = c.ip.exact[0];
    c.ip = null;
    return { pivot: 'ip', key: address };
  }
  return null;
}

function take(
  c: EventConditions,
  field: 'identity' | 'session' | 'resource',
  pivot: EventPivot,
  key: string,
): { pivot: EventPivot; key: string } {
  c[field] = null;
  return { pivot, key };
}

/** Parses CIDR ranges (v4 and v6; a bare address is a range of one) into a matcher; bad ranges are a user error. */
export function cidrMatcher(ranges: readonly string[]): (address: string) => boolean {
  const parsed = ranges.map((range, index) => {
    try {
      return parseAddressInput(range, `outside[${index}]`);
    } catch {
      throw apiError(`outside[${index}] is not a CIDR range (e.g. 10.0.0.0/8)`, 'BAD_USER_INPUT');
    }
  });
  return (address) => parsed.some((range) => inRange(range, address));
}
