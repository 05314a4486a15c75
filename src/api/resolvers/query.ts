/** The entry points. */
import type { QueryResolvers } from '../../generated/graphql';
import { eventConnection, windowOf } from '../connections';
import { checkAddress } from '../filters';
import { offsetCursor, parseOffsetCursor } from '../ids';
import { indicatorContext } from '../indicator';
import { checkFirst, checkText } from '../limits';
import { loadNamed, mayBeIdentityId, nodeById, resolveIdentity, resolveResource } from '../lookups';
import { prefetchIdentityEvents } from '../prefetch';
import { checkArnText } from '../filters';
import type { LinkConnectionModel, LinkModel } from '../models';
import { findingConnection } from './finding';

export const Query: QueryResolvers = {
  node: (_p, args, ctx) => nodeById(ctx, args.id, windowOf(ctx, null, args.window)),
  identity: (_p, args, ctx, info) => {
    const text = checkArnText(args.id, 'id');
    const window = windowOf(ctx, null, args.window);
    // The identity's events keyed on the text start beside the look-up: one wave when the text is its id.
    if (mayBeIdentityId(text)) prefetchIdentityEvents(ctx, text, window, info);
    return resolveIdentity(ctx, text, window);
  },
  identities: async (_p, args, ctx): Promise<LinkConnectionModel> => {
    const window = windowOf(ctx, null, args.window);
    const first = checkFirst(args.first, ctx.limits);
    const kind = args.kind == null ? null : checkText(args.kind, 'kind');
    const page = await ctx.loaders.entityPage('Identity', window, kind, parseOffsetCursor(args.after), first + 1);
    const links = page.entities.map(({ entity, rank }): LinkModel => ({
      cursor: offsetCursor(rank),
      relation: 'seen',
      // Listed because seen in the window: the aggregate has first and last times.
      firstSeen: entity.firstSeen!,
      lastSeen: entity.lastSeen!,
      eventCount: entity.eventCount,
      sources: [],
      otherType: 'Identity',
      otherKey: entity.key,
      node: entity,
      window,
    }));
    const edges = links.slice(0, first);
    return {
      edges,
      pageInfo: { hasNextPage: links.length > first, endCursor: edges.at(-1)?.cursor ?? null },
      totalCount: page.total,
    };
  },
  ip: (_p, args, ctx) => loadNamed(ctx, 'IPAddress', checkAddress(args.address, 'address'), windowOf(ctx, null, args.window), 'ip'),
  resource: (_p, args, ctx) => resolveResource(ctx, checkArnText(args.id, 'id'), windowOf(ctx, null, args.window)),
  session: (_p, args, ctx) => loadNamed(ctx, 'Session', checkText(args.id, 'id'), windowOf(ctx, null, args.window), 'session'),
  account: (_p, args, ctx) => loadNamed(ctx, 'Account', checkText(args.id, 'id'), windowOf(ctx, null, args.window), 'account'),
  events: (_p, args, ctx) => eventConnection(ctx, 'none', '*', null, args),
  findings: (_p, args, ctx) => findingConnection(ctx, 'none', '*', null, args),
  contextFor: (_p, args, ctx) => indicatorContext(ctx, checkText(args.indicator.trim(), 'indicator'), windowOf(ctx, null, args.window)),
  lake: () => ({}),
};
