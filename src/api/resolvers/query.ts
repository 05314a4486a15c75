/** The entry points. */
import type { QueryResolvers } from '../../generated/graphql';
import { eventConnection, windowOf } from '../connections';
import { checkAddress } from '../filters';
import { offsetCursor, parseOffsetCursor } from '../ids';
import { indicatorContext } from '../indicator';
import { checkFirst, checkText } from '../limits';
import { likelyResourceKey, loadNamed, mayBeIdentityId, nodeById, resolveIdentity, resolveResource } from '../lookups';
import { prefetchLists, resolversOf, type Followable } from '../prefetch';
import { Identity } from './identity';
import { IP_ADDRESS_LISTS } from './ip-address';
import { Resource } from './resource';
import { SESSION_LISTS, SESSION_NAMED } from './session';
import { checkArnText } from '../filters';
import type { LinkConnectionModel, LinkModel } from '../models';
import { findingConnection } from './finding';

/** Lists of an identity and of a resource that read only its key and window: started beside the look-up (src/api/prefetch.ts). */
const IDENTITY_LISTS = resolversOf(Identity, ['events', 'sessions', 'issuedSessions', 'ips', 'resources', 'userAgents', 'accounts']);
const RESOURCE_LISTS = resolversOf(Resource, [
  'actors',
  'sessions',
  'sourceIps',
  'events',
  'interfaces',
  'instances',
  'addresses',
  'domains',
]);

/** Second hops a started list answers too: its neighbours' lists and named entities (by neighbour type). */
const FOLLOWABLE: Readonly<Record<string, Followable>> = {
  IPAddress: { lists: IP_ADDRESS_LISTS },
  Session: { lists: SESSION_LISTS, named: SESSION_NAMED },
};

export const Query: QueryResolvers = {
  node: (_p, args, ctx) => nodeById(ctx, args.id, windowOf(ctx, null, args.window)),
  identity: (_p, args, ctx, info) => {
    const text = checkArnText(args.id, 'id');
    const window = windowOf(ctx, null, args.window);
    // The identity's lists keyed on the text start beside the look-up: one wave when the text is its id.
    if (mayBeIdentityId(text)) prefetchLists(ctx, info, 'Identity', text, window, IDENTITY_LISTS, FOLLOWABLE);
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
  resource: (_p, args, ctx, info) => {
    const text = checkArnText(args.id, 'id');
    const window = windowOf(ctx, null, args.window);
    // The resource's lists keyed on the key the look-up most likely finds start beside it.
    prefetchLists(ctx, info, 'Resource', likelyResourceKey(text), window, RESOURCE_LISTS, FOLLOWABLE);
    return resolveResource(ctx, text, window);
  },
  session: (_p, args, ctx) => loadNamed(ctx, 'Session', checkText(args.id, 'id'), windowOf(ctx, null, args.window), 'session'),
  account: (_p, args, ctx) => loadNamed(ctx, 'Account', checkText(args.id, 'id'), windowOf(ctx, null, args.window), 'account'),
  events: (_p, args, ctx) => eventConnection(ctx, 'none', '*', null, args),
  findings: (_p, args, ctx) => findingConnection(ctx, 'none', '*', null, args),
  contextFor: (_p, args, ctx) => indicatorContext(ctx, checkText(args.indicator.trim(), 'indicator'), windowOf(ctx, null, args.window)),
  lake: () => ({}),
};
