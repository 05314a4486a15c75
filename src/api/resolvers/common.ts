/** Helpers every resolver file shares: entity loading by key, the plain values of attrs, an entity's events. */
import type { BehaviourDimension as GqlBehaviourDimension, TimeBucket as GqlTimeBucket } from '../../generated/graphql';
import { BEHAVIOUR_DIMENSIONS, type BehaviourDimension } from '../../queries/aggregate';
import { apiError } from '../errors';
import { eventConnection, windowOf, type EventArgs } from '../connections';
import type { EntityModel, EntityType, EventConnectionModel, Window } from '../models';
import type { RequestContext } from '../context';
import { toGlobalId } from '../ids';

export function loadEntity(
  ctx: RequestContext,
  type: EntityType,
  key: string | null | undefined,
  window: Window,
): Promise<EntityModel | null> {
  return key ? ctx.loaders.entity.load({ type, key, window }) : Promise.resolve(null);
}

export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
export const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
export const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export const EMPTY_EVENTS: EventConnectionModel = {
  edges: async () => [],
  pageInfo: async () => ({ hasNextPage: false, endCursor: null }),
  totalCount: async () => 0,
  aggregate: async () => ({ totalEvents: 0, totalGroups: 0, groups: [] }),
  newBehaviour: async () => [],
};

/**
 * An entity's events: those it acted in (identity, session), came from or went to (address), touched
 * (resource), were logged in (account) or carried (user agent).
 */
export function entityEvents(ctx: RequestContext, e: EntityModel, args: EventArgs): Promise<EventConnectionModel> {
  switch (e.type) {
    case 'Identity':
      return eventConnection(ctx, 'identity', e.key, e.window, args);
    case 'Session':
      return eventConnection(ctx, 'session', e.key, e.window, args);
    case 'IPAddress':
      return eventConnection(ctx, 'ip', e.key, e.window, args);
    case 'Resource':
      return eventConnection(ctx, 'resource', e.key, e.window, args);
    case 'Account':
      return eventConnection(ctx, 'none', '*', e.window, args, { extra: { account: e.key } });
    case 'UserAgent':
      return eventConnection(ctx, 'none', '*', e.window, args, { extra: { userAgent: e.key } });
  }
}

const BUCKET_MS = { MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 } as const;
/** Most buckets one histogram may have. */
export const MAX_BUCKETS = 5000;

/** How many buckets of this size a window spans, or BAD_USER_INPUT past MAX_BUCKETS. */
export function bucketCount(window: Window, bucket: GqlTimeBucket, argument: string): number {
  const size = BUCKET_MS[bucket];
  const first = Math.floor(window.from.getTime() / size);
  const last = Math.floor((window.to.getTime() - 1) / size);
  const count = last - first + 1;
  if (count > MAX_BUCKETS) {
    throw apiError(
      `${argument}: ${count} ${bucket.toLowerCase()} buckets in this window, more than ${MAX_BUCKETS}; narrow the window or use a larger bucket`,
      'BAD_USER_INPUT',
    );
  }
  return count;
}

/** Bucket starts of a window, in order (UTC; days start at midnight UTC). */
export function bucketStarts(window: Window, bucket: GqlTimeBucket): Date[] {
  const size = BUCKET_MS[bucket];
  const starts: Date[] = [];
  for (let t = Math.floor(window.from.getTime() / size) * size; t < window.to.getTime(); t += size) starts.push(new Date(t));
  return starts;
}

/** Fields every entity type resolves alike. */
export const entityFields = {
  id: (e: EntityModel) => toGlobalId(e.type, e.key),
  firstSeen: (e: EntityModel) => e.firstSeen,
  lastSeen: (e: EntityModel) => e.lastSeen,
  eventCount: (e: EntityModel) => e.eventCount,
  /** The entity's events per bucket: one aggregate statement, batched across entities. */
  activity: async (
    e: EntityModel,
    args: { bucket?: GqlTimeBucket | null; filter?: EventArgs['filter']; window?: EventArgs['window'] },
    ctx: RequestContext,
  ) => {
    const bucket = args.bucket ?? 'HOUR';
    const window = windowOf(ctx, e.window, args.window);
    const top = bucketCount(window, bucket, 'activity');
    const events = await entityEvents(ctx, e, { filter: args.filter, window: args.window, first: 0 });
    const aggregate = await events.aggregate({
      groupBy: [],
      bucket: bucket.toLowerCase() as 'minute' | 'hour' | 'day',
      distinct: [],
      order: 'time',
      top,
    });
    return aggregate.groups.map((g) => ({ start: g.bucket!, count: g.count, firstSeen: g.firstSeen, lastSeen: g.lastSeen }));
  },
  /** Values first seen in the window: the entity's events over the look-back and the window, one statement. */
  newBehaviour: async (
    e: EntityModel,
    args: { lookbackDays?: number | null; top?: number | null; window?: EventArgs['window'] },
    ctx: RequestContext,
  ) => {
    const lookbackDays = args.lookbackDays ?? 30;
    if (!Number.isInteger(lookbackDays) || lookbackDays < 1 || lookbackDays > MAX_LOOKBACK_DAYS)
      throw apiError(`lookbackDays must be a whole number from 1 to ${MAX_LOOKBACK_DAYS}`, 'BAD_USER_INPUT');
    const top = args.top ?? 10;
    if (!Number.isInteger(top) || top < 1) throw apiError('top must be a positive integer', 'BAD_USER_INPUT');
    if (top > ctx.limits.maxPageSize) throw apiError(`top must be at most ${ctx.limits.maxPageSize}`, 'PAGE_TOO_LARGE');
    const window = windowOf(ctx, e.window, args.window);
    const lookbackFrom = new Date(window.from.getTime() - lookbackDays * 86_400_000);
    // The window was checked against the cap; the look-back before it is bounded by MAX_LOOKBACK_DAYS.
    const events = await entityEvents(ctx, { ...e, window: { from: lookbackFrom, to: window.to } }, { first: 0 });
    const rows = await events.newBehaviour({ since: window.from, top });
    return (Object.keys(BEHAVIOUR_DIMENSIONS) as BehaviourDimension[]).map((dimension) => {
      const mine = rows.filter((r) => r.dimension === dimension);
      const fresh = mine.filter((r) => r.first_seen.getTime() >= window.from.getTime());
      return {
        dimension: dimension.toUpperCase() as GqlBehaviourDimension,
        window,
        lookbackFrom,
        seenCount: Number(mine[0]?.seen_count ?? 0),
        newCount: Number(mine[0]?.new_count ?? 0),
        values: fresh.map((r) => ({ value: r.value, firstSeen: r.first_seen, lastSeen: r.last_seen, eventCount: Number(r.n) })),
      };
    });
  },
};

/** The longest look-back `newBehaviour` reads before its window. */
export const MAX_LOOKBACK_DAYS = 90;
