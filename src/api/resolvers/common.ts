/** Helpers every resolver file shares: entity loading by key, and the plain values of attrs. */
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
};

/** Fields every entity type resolves alike. */
export const entityFields = {
  id: (e: EntityModel) => toGlobalId(e.type, e.key),
  firstSeen: (e: EntityModel) => e.firstSeen,
  lastSeen: (e: EntityModel) => e.lastSeen,
  eventCount: (e: EntityModel) => e.eventCount,
};
