/**
 * IndicatorContext (contextFor): what the lake knows of one indicator, by what it was found as.
 * The related lists follow the first match (for a CIDR range: all its addresses, through one
 * aggregate of their events). Findings, the verdict and the counts are those of every match's entity:
 * the findings naming any of them (src/api/verdict.ts weighs them).
 */
import type { IndicatorContextResolvers, IndicatorMatchResolvers } from '../../generated/graphql';
import type { EventPivot } from '../../queries/events';
import type { Dimension } from '../../queries/aggregate';
import type { NamedEntities } from '../../queries/findings';
import type { PivotName } from '../../queries/graph';
import { eventConnection, linkConnection } from '../connections';
import { eventColumnsOfList } from '../event-columns';
import type { RequestContext } from '../context';
import { offsetCursor } from '../ids';
import { checkFirst } from '../limits';
import {
  entityStub,
  type EntityModel,
  type EntityType,
  type IndicatorContextModel,
  type LinkConnectionModel,
  type LinkModel,
} from '../models';
import { verdictOf } from '../verdict';

const EMPTY: LinkConnectionModel = { edges: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 0 };

/** Which pivot answers "related X" for each kind of matched entity. */
const RELATED: Record<'identities' | 'ips' | 'resources' | 'sessions', Partial<Record<EntityType, PivotName>>> = {
  identities: { IPAddress: 'ipIdentities', Resource: 'resourceActors', UserAgent: 'userAgentIdentities', Account: 'accountIdentities' },
  ips: { Identity: 'identityIps', Session: 'sessionIps', Resource: 'resourceIps', IPAddress: 'ipPeersBoth' },
  resources: { Identity: 'identityResources', Session: 'sessionResources', IPAddress: 'ipResources' },
  sessions: { Identity: 'identitySessions', IPAddress: 'ipSessions', Resource: 'resourceSessions', Session: 'sessionChildren' },
};

/** For a CIDR range: what its addresses' events name, grouped by the dimension (one pushed-down aggregate). */
const RANGE_DIMENSION: Record<'identities' | 'resources' | 'sessions', { dimension: Dimension; type: EntityType; relation: string }> = {
  identities: { dimension: 'actor', type: 'Identity', relation: 'from_ip' },
  sessions: { dimension: 'session', type: 'Session', relation: 'from_ip' },
  resources: { dimension: 'resource', type: 'Resource', relation: 'accessed_from' },
};

/** A one-link connection to the entity itself (or a session's identity). */
function selfLink(c: IndicatorContextModel, relation: string, through: EntityModel, node: EntityModel): LinkConnectionModel {
  const link: LinkModel = {
    cursor: '',
    relation,
    firstSeen: through.firstSeen!,
    lastSeen: through.lastSeen!,
    eventCount: through.eventCount,
    sources: [],
    otherType: node.type,
    otherKey: node.key,
    node,
    window: c.window,
  };
  return { edges: [link], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 1 };
}

async function rangeLinks(
  ctx: RequestContext,
  c: IndicatorContextModel,
  which: keyof typeof RANGE_DIMENSION,
  first: number,
): Promise<LinkConnectionModel> {
  const { dimension, type, relation } = RANGE_DIMENSION[which];
  const events = await eventConnection(ctx, 'none', '*', c.window, { filter: { ip: c.cidr!.range }, first: 0 });
  const aggregate = await events.aggregate({
    groupBy: [dimension],
    bucket: null,
    distinct: [],
    order: 'count_desc',
    top: Math.max(first, 1),
  });
  const groups = aggregate.groups.filter((g) => g.values[dimension] != null).slice(0, first);
  const edges = await Promise.all(
    groups.map(async (g, i): Promise<LinkModel> => {
      const key = g.values[dimension]!;
      const node = (await ctx.loaders.entity.load({ type, key, window: c.window })) ?? entityStub(type, key, c.window);
      return {
        cursor: offsetCursor(i + 1),
        relation,
        firstSeen: g.firstSeen,
        lastSeen: g.lastSeen,
        eventCount: g.count,
        sources: [],
        otherType: type,
        otherKey: key,
        node,
        window: c.window,
      };
    }),
  );
  return {
    edges,
    pageInfo: { hasNextPage: aggregate.totalGroups > edges.length, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: aggregate.totalGroups,
  };
}

function related(which: keyof typeof RELATED) {
  return async (c: IndicatorContextModel, args: { first?: number | null }, ctx: RequestContext): Promise<LinkConnectionModel> => {
    if (c.cidr) {
      if (which === 'ips') {
        const first = checkFirst(args.first, ctx.limits);
        const edges = c.cidr.addresses.slice(0, first).map((node, i) => ({
          cursor: offsetCursor(i + 1),
          relation: 'in_range',
          firstSeen: node.firstSeen!,
          lastSeen: node.lastSeen!,
          eventCount: node.eventCount,
          sources: [],
          otherType: 'IPAddress',
          otherKey: node.key,
          node,
          window: c.window,
        }));
        return {
          edges,
          pageInfo: { hasNextPage: c.cidr.addresses.length > first, endCursor: edges.at(-1)?.cursor ?? null },
          totalCount: c.cidr.addresses.length,
        };
      }
      return rangeLinks(ctx, c, which, checkFirst(args.first, ctx.limits));
    }
    if (c.domain && which === 'ips') return linkConnection(ctx, 'domainIps', { key: c.domain, window: c.window }, args);
    if (!c.entity) return EMPTY;
    if (which === 'identities' && c.entity.type === 'Identity') return selfLink(c, 'self', c.entity, c.entity);
    if (which === 'identities' && c.entity.type === 'Session') {
      const identity =
        typeof c.entity.attrs.identity === 'string'
          ? await ctx.loaders.entity.load({ type: 'Identity', key: c.entity.attrs.identity, window: c.window })
          : null;
      return identity ? selfLink(c, 'uses', c.entity, identity) : EMPTY;
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

const firstOf = (c: IndicatorContextModel, type: EntityType) => c.matches.find((m) => m.entity?.type === type)?.entity ?? null;

/** Which findings column names each kind of matched entity (accounts and domains have none). */
const NAMED_AS: Partial<Record<EntityType, keyof NamedEntities>> = {
  Identity: 'identity',
  Session: 'session',
  IPAddress: 'ip',
  Resource: 'resource',
};

/** The matches' entities by kind, sorted (one key per request for the findings statements). */
function namedEntities(c: IndicatorContextModel): NamedEntities {
  const named: Record<keyof NamedEntities, Set<string>> = { identity: new Set(), session: new Set(), ip: new Set(), resource: new Set() };
  for (const m of c.matches) {
    const kind = m.entity ? NAMED_AS[m.entity.type] : undefined;
    if (kind) named[kind].add(m.entity!.key);
  }
  const sorted = (keys: Set<string>) => [...keys].sort();
  return { identity: sorted(named.identity), session: sorted(named.session), ip: sorted(named.ip), resource: sorted(named.resource) };
}

const firstSeenOf = (c: IndicatorContextModel) =>
  c.cidr ? minDate(c.cidr.addresses.map((a) => a.firstSeen)) : (c.entity?.firstSeen ?? null);
const lastSeenOf = (c: IndicatorContextModel) => (c.cidr ? maxDate(c.cidr.addresses.map((a) => a.lastSeen)) : (c.entity?.lastSeen ?? null));
const eventCountOf = (c: IndicatorContextModel) =>
  c.cidr ? c.cidr.addresses.reduce((n, a) => n + a.eventCount, 0) : (c.entity?.eventCount ?? 0);

/** The workbench's page of a context (the /ui/ hash route agreed with the workbench). */
export function workbenchUrl(publicUrl: string | null, indicator: string, window: { from: Date; to: Date }): string {
  const query = new URLSearchParams({ from: window.from.toISOString(), to: window.to.toISOString() });
  return `${publicUrl ?? ''}/ui/#/context/${encodeURIComponent(indicator)}?${query.toString()}`;
}

export const IndicatorContext: IndicatorContextResolvers = {
  indicator: (c) => c.indicator,
  kind: (c) => c.kind,
  found: (c) => c.matches.length > 0,
  tried: (c) => c.tried,
  kindsFound: (c) => [...new Set(c.matches.map((m) => m.kind))],
  matches: (c) => c.matches,
  identity: (c) => firstOf(c, 'Identity'),
  session: (c) => firstOf(c, 'Session'),
  ip: (c) => firstOf(c, 'IPAddress'),
  resource: (c) => firstOf(c, 'Resource'),
  account: (c) => firstOf(c, 'Account'),
  queriedBy: (c, args, ctx) => (c.domain ? linkConnection(ctx, 'domainIps', { key: c.domain, window: c.window }, args) : null),
  firstSeen: firstSeenOf,
  lastSeen: lastSeenOf,
  eventCount: eventCountOf,
  identities: related('identities'),
  ips: related('ips'),
  resources: related('resources'),
  sessions: related('sessions'),
  findings: async (c, args, ctx) => {
    const { findings } = await ctx.loaders.findingsNaming(namedEntities(c), c.window, checkFirst(args.first ?? 10, ctx.limits));
    return findings.map((finding) => ({ finding, window: c.window }));
  },
  findingCount: async (c, _args, ctx) => (await ctx.loaders.findingLevels(namedEntities(c), c.window)).reduce((n, l) => n + l.count, 0),
  window: (c) => c.window,
  verdict: async (c, _args, ctx) =>
    verdictOf({
      found: c.matches.length > 0,
      foundAs: c.matches.map((m) => m.foundAs),
      eventCount: eventCountOf(c),
      firstSeen: firstSeenOf(c),
      lastSeen: lastSeenOf(c),
      levels: await ctx.loaders.findingLevels(namedEntities(c), c.window),
      lakeHasData: async () => (await ctx.loaders.lakeCoverage(c.window, 'day')).some((row) => Number(row.records) > 0),
    }),
  workbenchUrl: (c, _args, ctx) => workbenchUrl(ctx.publicUrl, c.indicator, c.window),
  recentEvents: async (c, args, ctx, info) => {
    const first = args.first ?? 10;
    let page;
    if (c.cidr) page = await eventConnection(ctx, 'none', '*', c.window, { first, filter: { ip: c.cidr.range } }, { descending: true });
    else if (c.domain)
      page = await eventConnection(
        ctx,
        'none',
        '*',
        c.window,
        { first },
        { tables: ['dns_activity', 'http_activity'], descending: true, extra: { domain: c.domain } },
      );
    else {
      const pivot = c.entity ? EVENT_PIVOT[c.entity.type] : undefined;
      if (!c.entity || !pivot) return [];
      page = await eventConnection(ctx, pivot, c.entity.key, c.window, { first }, { descending: true });
    }
    return (await page.edges(eventColumnsOfList(info))).map((e) => e.node);
  },
};

export const IndicatorMatch: IndicatorMatchResolvers = {
  kind: (m) => m.kind,
  foundAs: (m) => m.foundAs,
  entity: (m) => m.entity,
  domain: (m) => m.domain,
};

function minDate(dates: (Date | null)[]): Date | null {
  const known = dates.filter((d): d is Date => d !== null);
  return known.length ? new Date(Math.min(...known.map((d) => d.getTime()))) : null;
}

function maxDate(dates: (Date | null)[]): Date | null {
  const known = dates.filter((d): d is Date => d !== null);
  return known.length ? new Date(Math.max(...known.map((d) => d.getTime()))) : null;
}
