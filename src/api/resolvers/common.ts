/** Helpers every resolver file shares: entity loading by key, the plain values of attrs, an entity's events. */
import type { TimeBucket as GqlTimeBucket } from '../../generated/graphql';
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
};
