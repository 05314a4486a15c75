/** IndicatorContext (contextFor): what the graph knows of one indicator, by which pivot fits the entity it named. */
import type { IndicatorContextResolvers } from '../../generated/graphql';
import type { EventPivot } from '../../queries/events';
import type { PivotName } from '../../queries/graph';
import { eventConnection, linkConnection } from '../connections';
import type { RequestContext } from '../context';
import type { EntityType, IndicatorContextModel, LinkConnectionModel } from '../models';
import { contextFindings } from './finding';

const EMPTY: LinkConnectionModel = { edges: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 0 };

/** Which pivot answers "related X" for each kind of matched entity. */
const RELATED: Record<'identities' | 'ips' | 'resources' | 'sessions', Partial<Record<EntityType, PivotName>>> = {
  identities: { IPAddress: 'ipIdentities', Resource: 'resourceActors', UserAgent: 'userAgentIdentities', Account: 'accountIdentities' },
  ips: { Identity: 'identityIps', Session: 'sessionIps', Resource: 'resourceIps', IPAddress: 'ipPeersBoth' },
  resources: { Identity: 'identityResources', Session: 'sessionResources', IPAddress: 'ipResources' },
  sessions: { Identity: 'identitySessions', IPAddress: 'ipSessions', Resource: 'resourceSessions', Session: 'sessionChildren' },
};

function related(which: keyof typeof RELATED) {
  return async (c: IndicatorContextModel, args: { first?: number | null }, ctx: RequestContext): Promise<LinkConnectionModel> => {
    if (c.domain && which === 'ips') return linkConnection(ctx, 'domainIps', { key: c.domain, window: c.window }, args);
    if (!c.entity) return EMPTY;
    if (which === 'identities' && c.entity.type === 'Identity') {
      const e = c.entity;
      return {
        edges: [
          {
            cursor: '',
            relation: 'self',
            firstSeen: e.firstSeen!,
            lastSeen: e.lastSeen!,
            eventCount: e.eventCount,
            otherType: 'Identity',
            otherKey: e.key,
            node: e,
            window: c.window,
          },
        ],
        pageInfo: { hasNextPage: false, endCursor: null },
        totalCount: 1,
      };
    }
    if (which === 'identities' && c.entity.type === 'Session') {
      const identity =
        typeof c.entity.attrs.identity === 'string'
          ? await ctx.loaders.entity.load({ type: 'Identity', key: c.entity.attrs.identity, window: c.window })
          : null;
      if (!identity) return EMPTY;
      return {
        edges: [
          {
            cursor: '',
            relation: 'uses',
            firstSeen: c.entity.firstSeen!,
            lastSeen: c.entity.lastSeen!,
            eventCount: c.entity.eventCount,
            otherType: 'Identity',
            otherKey: identity.key,
            node: identity,
            window: c.window,
          },
        ],
        pageInfo: { hasNextPage: false, endCursor: null },
        totalCount: 1,
      };
    }
    const pivot = RELATED[which][c.entity.type];
    return pivot ? linkConnection(ctx, pivot, c.entity, args) : EMPTY;
  };
}

const EVENT_PIVOT: Partial<Record<EntityType, EventPivot>> = {
  Identity: 'identity',
  Session: 'session',
  IPAddress: 'ip',
  Resource: 'resource',
};

export const IndicatorContext: IndicatorContextResolvers = {
  indicator: (c) => c.indicator,
  kind: (c) => c.kind,
  found: async (c, _a, ctx) => {
    if (c.entity) return true;
    if (!c.domain) return false;
    const page = await linkConnection(ctx, 'domainIps', { key: c.domain, window: c.window }, { first: 1 });
    return page.totalCount > 0;
  },
  identity: (c) => (c.entity?.type === 'Identity' ? c.entity : null),
  session: (c) => (c.entity?.type === 'Session' ? c.entity : null),
  ip: (c) => (c.entity?.type === 'IPAddress' ? c.entity : null),
  resource: (c) => (c.entity?.type === 'Resource' ? c.entity : null),
  queriedBy: (c, args, ctx) => (c.domain ? linkConnection(ctx, 'domainIps', { key: c.domain, window: c.window }, args) : null),
  firstSeen: (c) => c.entity?.firstSeen ?? null,
  lastSeen: (c) => c.entity?.lastSeen ?? null,
  eventCount: (c) => c.entity?.eventCount ?? 0,
  identities: related('identities'),
  ips: related('ips'),
  resources: related('resources'),
  sessions: related('sessions'),
  findings: (c, args, ctx) => contextFindings(ctx, c.entity, c.window, args.first ?? 10),
  recentEvents: async (c, args, ctx) => {
    const first = args.first ?? 10;
    if (c.domain) {
      const page = await eventConnection(
        ctx,
        'none',
        '*',
        c.window,
        { first },
        { tables: ['dns_activity', 'http_activity'], descending: true, extra: { domain: c.domain } },
      );
      return (await page.edges()).map((e) => e.node);
    }
    const pivot = c.entity ? EVENT_PIVOT[c.entity.type] : undefined;
    if (!c.entity || !pivot) return [];
    const page = await eventConnection(ctx, pivot, c.entity.key, c.window, { first }, { descending: true });
    return (await page.edges()).map((e) => e.node);
  },
};
